"""Shape ops: reshape, permute, expand and its adjoint sum_to, cat; and the ones
composed from them (view, flatten, transpose, squeeze, unsqueeze, stack).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from gradkit.autograd import anomaly, grad_mode
from gradkit.autograd.function import Function
from gradkit.autograd.tensor import Tensor


def _shape_arg(shape: tuple) -> tuple:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    """y = x with a new shape (same elements, row-major);  dx = g reshaped back."""

    @staticmethod
    def forward(ctx: Function, x: Tensor, shape: tuple) -> np.ndarray:
        ctx.in_shape = x.data.shape
        try:
            return x.data.reshape(shape)
        except ValueError:
            raise RuntimeError(f"shape {list(shape)} is invalid for input of size {x.data.size} "
                               f"(shape {tuple(x.data.shape)})") from None

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        return Reshape.apply(grad, ctx.in_shape), None


class Permute(Function):
    """y = x with its dims reordered;  dx = g with the inverse order."""

    @staticmethod
    def forward(ctx: Function, x: Tensor, dims: tuple) -> np.ndarray:
        ctx.dims = dims
        return np.transpose(x.data, dims)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        return Permute.apply(grad, tuple(np.argsort(ctx.dims))), None


class Expand(Function):
    """y = x broadcast to ``shape`` (a read-only view);  dx = g summed back to x's shape."""

    @staticmethod
    def forward(ctx: Function, x: Tensor, shape: tuple) -> np.ndarray:
        ctx.in_shape = x.data.shape
        try:
            return np.broadcast_to(x.data, shape)
        except ValueError:
            raise RuntimeError(f"cannot expand a tensor of shape {tuple(x.data.shape)} to shape {shape}") from None

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        return sum_to(grad, ctx.in_shape), None


class SumTo(Function):
    """y = x summed down to ``shape`` (the adjoint of expand);  dx = g expanded back.

    Sums the leading axes x has and ``shape`` lacks, then, keeping dims, each axis
    where ``shape`` has size 1 (DeZero's ``sum_to``, MyGrad's ``reduce_broadcast``).
    """

    @staticmethod
    def forward(ctx: Function, x: Tensor, shape: tuple, node: Any = None) -> np.ndarray:
        ctx.in_shape = x.data.shape
        return _sum_to_array(x.data, shape, node)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        return Expand.apply(grad, ctx.in_shape), None, None


class Cat(Function):
    """y = the inputs joined along ``dim``;  each input's gradient is its slice of g."""

    @staticmethod
    def forward(ctx: Function, *tensors: Tensor, dim: int = 0) -> np.ndarray:
        arrays = [t.data for t in tensors]
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] for a in arrays]
        try:
            return np.concatenate(arrays, axis=dim)
        except ValueError:
            raise RuntimeError("cat: tensors must have the same shape except in the concatenating dimension "
                               f"{dim}; got shapes {[tuple(a.shape) for a in arrays]}") from None

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        grads, start = [], 0
        lead = (slice(None),) * ctx.dim
        for size, need in zip(ctx.sizes, ctx.needs_input_grad):
            grads.append(grad[lead + (slice(start, start + size),)] if need else None)
            start += size
        return tuple(grads)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """The same elements in a new shape (one size may be -1).

    Example:
        >>> import gradkit as gk
        >>> gk.autograd.arange(6).reshape(2, -1).shape
        (2, 3)
    """
    return Reshape.apply(x, _shape_arg(shape))


view = reshape


def permute(x: Tensor, *dims: Any) -> Tensor:
    """Reorder the dims: ``y.shape[i] == x.shape[dims[i]]``."""
    given = _shape_arg(dims)
    dims = tuple(wrap_dim(d, x.ndim) for d in given)
    if sorted(dims) != list(range(x.ndim)):
        raise RuntimeError(f"permute: dims {given} are not a permutation of the {x.ndim} dims of shape "
                           f"{tuple(x.shape)}")
    return Permute.apply(x, dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims."""
    dim0, dim1 = wrap_dim(dim0, x.ndim), wrap_dim(dim1, x.ndim)
    if x.ndim == 0:  # the one dim a 0-d tensor accepts (0 or -1) swapped with itself
        return x
    dims = list(range(x.ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(x, tuple(dims))


def expand(x: Tensor, *shape: Any) -> Tensor:
    """Broadcast to ``shape`` without copying; -1 keeps a size."""
    shape = _shape_arg(shape)
    lead = len(shape) - x.ndim
    for i, s in enumerate(shape):
        if s < -1 or (s == -1 and i < lead):
            raise RuntimeError(f"expand: size {s} at dim {i} of {tuple(shape)} is not allowed for shape "
                               f"{tuple(x.shape)} (-1 keeps an existing size; new leading dims need a size >= 0)")
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    if shape == x.data.shape:
        return x
    return Expand.apply(x, shape)


def _sum_to_array(a: np.ndarray, shape: tuple, node: Any = None) -> np.ndarray:
    xs = a.shape
    lead = len(xs) - len(shape)
    if lead > 0 and xs[lead:] == shape:  # only leading dims to drop (a bias's gradient): the common case
        return np.add.reduce(a, axis=0 if lead == 1 else tuple(range(lead)))  # (a.sum, minus a Python hop)
    if lead < 0 or any(s != 1 and s != xs[lead + i] for i, s in enumerate(shape)):
        where = f"{node.name} returned a gradient" if node is not None else "cannot sum a tensor"
        raise RuntimeError(f"{where} of shape {tuple(xs)} that cannot be summed to the input's shape "
                           f"{tuple(shape)}")
    inner = tuple(i for i, s in enumerate(shape) if s == 1 and xs[lead + i] != 1)
    if not (lead or inner):  # nothing to sum (shape == a.shape): a view, as reshape gives
        return a.reshape(shape)
    out = a.sum(axis=tuple(range(lead))) if lead else a  # the leading axes go,
    return out.sum(axis=inner, keepdims=True) if inner else out  # size-1 axes stay: a new array, not a view


def sum_to(x: Tensor, shape: tuple, node: Any = None) -> Tensor:
    """Sum ``x`` down to ``shape`` (undo a broadcast); ``node`` names the op in the error."""
    shape = tuple(shape)
    if x.data.shape == shape:
        return x
    if type(x) is Tensor and not ((grad_mode._enabled and x._requires_grad) or anomaly._enabled):
        # no node needed (every backward pass without create_graph): just the sum, a new array
        return Tensor._make(_sum_to_array(x.data, shape, node))
    return SumTo.apply(x, shape, node)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    s, e = wrap_dim(start_dim, x.ndim), wrap_dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError(f"flatten() has invalid args: start_dim cannot come after end_dim "
                           f"(start_dim={start_dim}, end_dim={end_dim} of a {x.ndim}-d tensor)")
    if x.ndim == 0:
        return reshape(x, 1)
    shape = x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:]
    return reshape(x, shape)


def squeeze(x: Tensor, dim: int | None = None) -> Tensor:
    """Drop size-1 dims (only ``dim`` when given, if it has size 1)."""
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        d = wrap_dim(dim, x.ndim)
        shape = x.shape if x.ndim == 0 or x.shape[d] != 1 else x.shape[:d] + x.shape[d + 1:]
    return reshape(x, shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim`` (negative counts from the end of the result)."""
    d = wrap_dim(dim, x.ndim + 1)
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def wrap_dim(dim: int, ndim: int) -> int:
    """``dim`` of an ``ndim``-d tensor as a non-negative axis; IndexError (PyTorch's message) outside
    [-ndim, ndim - 1]. A 0-d tensor accepts 0 and -1, as in PyTorch."""
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim})")
    return dim % rank


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim.

    Example:
        >>> import gradkit as gk
        >>> gk.autograd.cat([gk.tensor([1.0]), gk.tensor([2.0, 3.0])]).tolist()
        [1.0, 2.0, 3.0]
    """
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat expects a non-empty list of tensors")
    ndim = tensors[0].ndim
    if ndim == 0:
        raise RuntimeError("zero-dimensional tensor cannot be concatenated")
    return Cat.apply(*tensors, dim=wrap_dim(dim, ndim))


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shape tensors along a new dim."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack expects a non-empty list of tensors")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, got shapes {sorted(shapes)}")
    d = wrap_dim(dim, tensors[0].ndim + 1)
    return Cat.apply(*[unsqueeze(t, d) for t in tensors], dim=d)
