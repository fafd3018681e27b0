"""Indexing: ``t[index]`` (basic and integer-array), its adjoint (scatter-add), and ``t[index] = v``.

Repeated integer indices accumulate their gradients (``np.add.at``), so
``x[[0, 0]].sum()`` gives ``x.grad[0] == 2``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradkit.autograd import grad_mode
from gradkit.autograd.function import Function
from gradkit.autograd.tensor import Tensor


def to_index(index: Any) -> Any:
    """Turn Tensors and lists inside an index into numpy arrays."""
    if isinstance(index, tuple):
        for i in index:
            if isinstance(i, (Tensor, list, tuple)):
                return tuple(to_index(i) for i in index)
        return index  # slices, ints, arrays, None, Ellipsis: as they are (``h[:, 0]``)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray([i.data if isinstance(i, Tensor) else i for i in index])
    return index


def _is_basic(index: Any) -> bool:
    """True when the index has no arrays (slices, ints, None, Ellipsis): no element is hit twice."""
    for i in (index if isinstance(index, tuple) else (index,)):
        if not (i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer))):
            return False
    return True


class GetItem(Function):
    """y = x[index];  dx = zeros with g added at index (repeats accumulate)."""

    @staticmethod
    def forward(ctx: Function, x: Tensor, index: Any) -> np.ndarray:
        ctx.in_shape = x.data.shape
        ctx.index = index
        return x.data[index]

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        if not grad_mode._enabled:  # a plain backward: the scatter on the array, no node to record
            return Tensor._make(index_add_array(grad.data, ctx.in_shape, ctx.index)), None
        return IndexAdd.apply(grad, ctx.in_shape, ctx.index), None


def index_add_array(values: np.ndarray, shape: tuple, index: Any) -> np.ndarray:
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeated indices accumulate)."""
    out = np.zeros(shape, dtype=values.dtype)
    if _is_basic(index):
        out[index] = values
    else:
        np.add.at(out, index, values)
    return out


class IndexAdd(Function):
    """y = zeros(shape) with x added at index (the adjoint of GetItem);  dx = g[index]."""

    @staticmethod
    def forward(ctx: Function, x: Tensor, shape: tuple, index: Any) -> np.ndarray:
        ctx.index = index
        return index_add_array(x.data, shape, index)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        return GetItem.apply(grad, ctx.index), None, None


class IndexPut(Function):
    """y = x with y[index] = v;  dx = g with index zeroed,  dv = g[index] (summed to v's shape)."""

    @staticmethod
    def forward(ctx: Function, x: Tensor, index: Any, v: Tensor) -> np.ndarray:
        ctx.index = index
        out = x.data.copy()
        out[index] = v.data
        return out

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        gx = gv = None
        if ctx.needs_input_grad[0]:
            keep = np.ones(grad.shape, dtype=grad.data.dtype)
            keep[ctx.index] = 0
            gx = grad * Tensor._make(keep)
        if ctx.needs_input_grad[2]:
            gv = GetItem.apply(grad, ctx.index)
        return gx, None, gv


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with numpy semantics (basic slicing, integer arrays, boolean masks)."""
    index = to_index(index)
    try:
        return GetItem.apply(x, index)
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {tuple(x.shape)})") from None


def index_put(x: Tensor, index: Any, value: Any) -> Tensor:
    """A copy of ``x`` with ``x[index] = value`` (differentiable in both)."""
    index = to_index(index)
    value = value if isinstance(value, Tensor) else Tensor(value, dtype=x.dtype)
    return IndexPut.apply(x, index, value)
