"""Reductions: sum, max, min, logsumexp (Functions); mean, var, std (composed);
softmax and log_softmax (fused for stability); argmax and argmin (no gradient).

Every reduction takes ``dim=None, keepdim=False`` (``axis=`` is an alias).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradkit.autograd import grad_mode
from gradkit.autograd.function import Function
from gradkit.autograd.ops.elementwise import const, where
from gradkit.autograd.ops.shape import wrap_dim
from gradkit.autograd.tensor import Tensor

def normalize_dims(dim: Any, ndim: int, axis: Any = None) -> tuple[int, ...] | None:
    """``dim`` (or its alias ``axis``) as a sorted tuple of non-negative axes; None means all."""
    if axis is not None:
        if dim is not None:
            raise TypeError("pass either dim or axis, not both")
        dim = axis
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    return tuple(sorted({wrap_dim(d, ndim) for d in dims}))


def kept_shape(shape: tuple[int, ...], dims: tuple[int, ...] | None) -> tuple[int, ...]:
    """``shape`` with the reduced dims set to 1 (the keepdim shape)."""
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _axis(dims: tuple[int, ...] | None, ndim: int) -> tuple[int, ...] | None:
    return None if dims is None or ndim == 0 else dims


class Sum(Function):
    """y = sum of x over dims;  dy/dx = 1 (the gradient is broadcast back)."""

    @staticmethod
    def forward(ctx: Function, x: Tensor, dims: tuple | None, keepdim: bool) -> np.ndarray:
        ctx.in_shape = x.data.shape
        ctx.dims = dims
        return np.add.reduce(x.data, axis=_axis(dims, x.data.ndim), keepdims=keepdim)  # (x.sum, minus a Python hop)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        return broadcast_back(grad, ctx.in_shape, ctx.dims), None, None


class Mean(Function):
    """y = sum of x over dims / n (n elements per mean);  dy/dx = 1/n (the gradient is broadcast back).

    One node for ``mean`` of a floating tensor (the usual last op of a loss), instead of a sum and a division.
    """

    @staticmethod
    def forward(ctx: Function, x: Tensor, dims: tuple | None, keepdim: bool, count: int) -> np.ndarray:
        ctx.in_shape = x.data.shape
        ctx.dims = dims
        ctx.count = count
        total = np.add.reduce(x.data, axis=_axis(dims, x.data.ndim), keepdims=keepdim)
        return total / np.asarray(count, dtype=total.dtype)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        if grad_mode._enabled:
            return broadcast_back(grad / ctx.count, ctx.in_shape, ctx.dims), None, None, None
        # a plain backward: g / n written over the input's shape in one ufunc call (a new array, as
        # PyTorch's expand-then-divide gives; np.broadcast_to would cost more than the division here)
        g = grad.data.reshape(kept_shape(ctx.in_shape, ctx.dims))
        out = np.empty(ctx.in_shape, g.dtype)
        np.true_divide(g, np.asarray(ctx.count, g.dtype), out=out)
        return Tensor._make(out), None, None, None


def broadcast_back(grad: Tensor, in_shape: tuple[int, ...], dims: tuple[int, ...] | None) -> Tensor:
    """A reduction's output gradient spread back over the input's shape (a broadcast view, not a copy)."""
    kept = kept_shape(in_shape, dims)
    if not grad_mode._enabled:  # a plain backward: the view of the array, no ops to record
        return Tensor._make(np.broadcast_to(grad.data.reshape(kept), in_shape))
    return grad.reshape(kept).expand(*in_shape)


class Max(Function):
    """y = max of x over dims;  dy/dx = 1/k at the k tied maxima, 0 elsewhere (ties split evenly).

    ``ufunc`` selects max or min (``np.max`` / ``np.min``).
    """

    @staticmethod
    def forward(ctx: Function, x: Tensor, dims: tuple | None, keepdim: bool, ufunc: Any = np.max) -> np.ndarray:
        if x.data.size == 0:
            raise ValueError(f"{ufunc.__name__}() of an empty tensor (shape {x.data.shape}) has no value: "
                             "the reduction has no identity")
        ctx.save_for_backward(x)
        ctx.dims = dims
        out = ufunc(x.data, axis=_axis(dims, x.data.ndim), keepdims=True)
        ctx.out = out
        return out if keepdim else out.reshape(kept_out_shape(x.data.shape, dims))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        x, = ctx.saved_tensors
        hit = x.data == ctx.out
        share = hit / hit.sum(axis=_axis(ctx.dims, x.data.ndim), keepdims=True)
        g = grad.reshape(ctx.out.shape)
        return g * const(share, grad), None, None, None


def kept_out_shape(shape: tuple[int, ...], dims: tuple[int, ...] | None) -> tuple[int, ...]:
    """The output shape of a reduction without keepdim."""
    if dims is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in dims)


class LogSumExp(Function):
    """y = log(sum(exp(x))) over dims, computed as m + log(sum(exp(x - m)));  dy/dx = exp(x - y).

    A slice that is all -inf gives y = -inf and gradient 0 (not NaN).
    """

    keeps_output = True

    @staticmethod
    def forward(ctx: Function, x: Tensor, dims: tuple | None, keepdim: bool) -> np.ndarray:
        ctx.save_for_backward(x)
        ctx.dims = dims
        axis = _axis(dims, x.data.ndim)
        m = x.data.max(axis=axis, keepdims=True) if x.data.size else np.zeros(())
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) slices: shift by 0 instead
        with np.errstate(divide="ignore"):  # log(0) = -inf for all -inf slices, by design
            out = np.log(np.exp(x.data - m).sum(axis=axis, keepdims=True)) + m
        ctx.kshape = out.shape
        return out if keepdim else out.reshape(kept_out_shape(x.data.shape, dims))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        x, = ctx.saved_tensors
        out = ctx.output.reshape(ctx.kshape)
        out = where(np.isfinite(out.data), out, 0.0)  # exp(-inf - 0) = 0: gradient 0 on all -inf slices
        return grad.reshape(ctx.kshape) * (x - out).exp(), None, None


class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max)) along dim;  dx = y * (g - sum(g * y))."""

    keeps_output = True

    @staticmethod
    def forward(ctx: Function, x: Tensor, dim: int) -> np.ndarray:
        ctx.dim = dim
        e = np.exp(x.data - x.data.max(axis=dim, keepdims=True))
        return e / e.sum(axis=dim, keepdims=True)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        y = ctx.output
        gy = grad * y
        return gy - y * gy.sum(ctx.dim, keepdim=True), None


class LogSoftmax(Function):
    """y = x - logsumexp(x) along dim;  dx = g - exp(y) * sum(g)."""

    keeps_output = True

    @staticmethod
    def forward(ctx: Function, x: Tensor, dim: int) -> np.ndarray:
        ctx.dim = dim
        shifted = x.data - x.data.max(axis=dim, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        y = ctx.output
        return grad - y.exp() * grad.sum(ctx.dim, keepdim=True), None


def _one_dim(dim: Any, ndim: int, name: str) -> int:
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name} expects one integer dim, got {dim!r}")
    return normalize_dims(dim, ndim)[0]  # type: ignore[index]


def sum(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all dims when None).

    Example:
        >>> import gradkit as gk
        >>> gk.tensor([[1.0, 2.0], [3.0, 4.0]]).sum(dim=0).tolist()
        [4.0, 6.0]
    """
    return Sum.apply(x, normalize_dims(dim, x.ndim, axis), keepdim)


def mean(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
    """Mean over ``dim``: sum / count.  The mean of an empty tensor is NaN (as numpy and PyTorch)."""
    dims = normalize_dims(dim, x.ndim, axis)
    count = x.data.size if dims is None else int(np.prod([x.shape[d] for d in dims]))
    if count == 0:  # 0 * nan: NaN without a 0/0 warning, and still a node, so backward gives x's (empty) shape
        return Sum.apply(x, dims, keepdim) * float("nan")
    if x.data.dtype.kind != "f":  # an integer mean is a float64 number (true division), with no gradient
        return Sum.apply(x, dims, keepdim) / count
    return Mean.apply(x, dims, keepdim, count)


def var(x: Tensor, dim: Any = None, keepdim: bool = False, *, correction: int = 1, unbiased: bool | None = None,
        axis: Any = None) -> Tensor:
    """Variance over ``dim``: sum((x - mean)**2) / (n - correction); ``correction=1`` (default) is unbiased.

    With n - correction <= 0 (one element, unbiased) the result and its gradient are NaN
    and a UserWarning says so, as PyTorch (whose result is inf instead where the values
    differ and n - correction is 0 or less: sum / max(0, n - correction)).
    """
    if unbiased is not None:
        correction = int(unbiased)
    dims = normalize_dims(dim, x.ndim, axis)
    count = x.data.size if dims is None else int(np.prod([x.shape[d] for d in dims]))
    d = x - mean(x, dims, keepdim=True)
    if count - correction <= 0:
        warnings.warn(f"var(): degrees of freedom is <= 0 ({count} elements, correction={correction}): "
                      "the result is NaN; pass correction=0 for the biased estimate", UserWarning, stacklevel=2)
        return sum(d * d, dims, keepdim) * float("nan")  # not / 0: no numpy warning in forward or backward
    return sum(d * d, dims, keepdim) / (count - correction)


def std(x: Tensor, dim: Any = None, keepdim: bool = False, *, correction: int = 1, unbiased: bool | None = None,
        axis: Any = None) -> Tensor:
    """Standard deviation: sqrt(var); its gradient is 0 where the std is 0 (constant data), as PyTorch."""
    v = var(x, dim, keepdim, correction=correction, unbiased=unbiased, axis=axis)
    positive = v.data > 0
    if positive.all():
        return v.sqrt()
    # sqrt'(0) = inf times d = 0 would give NaN: mask the input of sqrt (the where-with-a-pole pattern)
    return where(positive, where(positive, v, 1.0).sqrt(), v * 0.0)


def max(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:  # noqa: A001
    """Largest value over ``dim`` (values only, like ``torch.amax``); ties split the gradient evenly."""
    return Max.apply(x, normalize_dims(dim, x.ndim, axis), keepdim, np.max)


def min(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:  # noqa: A001
    """Smallest value over ``dim`` (values only, like ``torch.amin``); ties split the gradient evenly."""
    return Max.apply(x, normalize_dims(dim, x.ndim, axis), keepdim, np.min)


def logsumexp(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
    """log(sum(exp(x))) over ``dim``, without overflow."""
    return LogSumExp.apply(x, normalize_dims(dim, x.ndim, axis), keepdim)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, shifted by the max for stability."""
    return Softmax.apply(x, _one_dim(dim, x.ndim, "softmax"))


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """log(softmax(x)) along ``dim`` computed as x - logsumexp(x): [1000, -1000] gives [0, -2000]."""
    return LogSoftmax.apply(x, _one_dim(dim, x.ndim, "log_softmax"))


def _arg(fn: Any, x: Tensor, dim: Any, keepdim: bool, axis: Any) -> Tensor:
    if axis is not None:
        dim = axis
    if dim is None:
        out = fn(x.data.reshape(-1))
        return Tensor._make(np.asarray(out).reshape((1,) * x.ndim if keepdim else ()))
    return Tensor._make(fn(x.data, axis=_one_dim(dim, x.ndim, fn.__name__), keepdims=keepdim))


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None) -> Tensor:
    """Index of the largest value (flattened when dim is None); int64, no gradient."""
    return _arg(np.argmax, x, dim, keepdim, axis)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None) -> Tensor:
    """Index of the smallest value (flattened when dim is None); int64, no gradient."""
    return _arg(np.argmin, x, dim, keepdim, axis)
