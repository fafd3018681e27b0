"""Matrix product with numpy's ``matmul`` rules (1-d operands, batch broadcasting)."""
from __future__ import annotations

from typing import Any

import numpy as np

from gradkit.autograd import anomaly, grad_mode
from gradkit.autograd.function import Function
from gradkit.autograd.ops.arithmetic import unrecorded_arrays
from gradkit.autograd.tensor import Tensor


class MatMul(Function):
    """Z = A @ B;  dA = G @ B^T,  dB = A^T @ G  (batch dims summed back by the engine).

    A 1-d A is a row vector and a 1-d B a column vector, whose added dim is
    dropped from Z (numpy/PyTorch); the backward re-inserts it.
    """

    fresh_gradients = True

    @staticmethod
    def forward(ctx: Function, a: Tensor, b: Tensor) -> np.ndarray:
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        ctx.a_ndim, ctx.b_ndim = a.data.ndim, b.data.ndim
        return a.data @ b.data

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        a, b = ctx.saved_tensors
        if ctx.a_ndim > 1 and ctx.b_ndim > 1 and not grad_mode._enabled:
            # the usual backward (no create_graph) of a matrix product: the formulas on the arrays
            g = grad.data
            return (Tensor._make(g @ _mT(b.data)) if b is not None else None,
                    Tensor._make(_mT(a.data) @ g) if a is not None else None)
        if ctx.a_ndim == 1 and ctx.b_ndim == 1:  # dot product
            return (grad * b if b is not None else None, grad * a if a is not None else None)
        g = grad.unsqueeze(-2) if ctx.a_ndim == 1 else grad
        if ctx.b_ndim == 1:
            g = g.unsqueeze(-1)
        ga = gb = None
        if b is not None:  # dA = G @ B^T
            b2 = b.unsqueeze(-1) if ctx.b_ndim == 1 else b
            ga = g @ b2.mT
            if ctx.a_ndim == 1:
                ga = ga.squeeze(-2)
        if a is not None:  # dB = A^T @ G
            a2 = a.unsqueeze(0) if ctx.a_ndim == 1 else a
            gb = a2.mT @ g
            if ctx.b_ndim == 1:
                gb = gb.squeeze(-1)
        return ga, gb


def _mT(a: np.ndarray) -> np.ndarray:
    """The last two axes swapped (``.T`` for a matrix: an attribute, where np.swapaxes is a Python call)."""
    return a.T if a.ndim == 2 else np.swapaxes(a, -1, -2)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product ``a @ b`` (batched, with 1-d cases as numpy).

    Raises:
        RuntimeError: a 0-d operand, or inner sizes that differ (both shapes named).

    Example:
        >>> import gradkit as gk
        >>> (gk.tensor([[1.0, 2.0]]) @ gk.tensor([[3.0], [4.0]])).tolist()
        [[11.0]]
    """
    a = a if isinstance(a, Tensor) else Tensor(a)
    b = b if isinstance(b, Tensor) else Tensor(b)
    if a.data.ndim == 0 or b.data.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.data.ndim}D and "
                           f"{b.data.ndim}D")
    inner_b = b.data.shape[-2] if b.data.ndim > 1 else b.data.shape[0]
    if a.data.shape[-1] != inner_b:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, a.data.shape))} and "
                           f"{'x'.join(map(str, b.data.shape))})")
    if not (grad_mode._enabled or anomaly._enabled) and unrecorded_arrays(a, b) is not None:
        # no node needed (a backward pass without create_graph)
        return Tensor._make(a.data @ b.data)
    return MatMul.apply(a, b)
