"""Elementwise functions: exp, log, sqrt, sin, cos, tanh, sigmoid, relu, abs, clamp,
maximum, minimum, where, and the dtype cast.

Subgradient choices (marked where made): relu'(0) = 0, |x|'(0) = 0, clamp passes
the gradient at the bounds, ties in maximum/minimum split it evenly.
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from gradkit.autograd import anomaly, grad_mode
from gradkit.autograd.function import Function, formula
from gradkit.autograd.tensor import Tensor


def const(array: np.ndarray, like: Tensor) -> Tensor:
    """A constant tensor for backward formulas: a bool mask as it is (``float * bool`` keeps the
    float dtype, without a converted copy), other arrays in ``like``'s dtype."""
    return Tensor._make(array if array.dtype == bool else array.astype(like.data.dtype, copy=False))


def _relu_array(a: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0)


# backward formulas (see ``formula``): written once, run on arrays or on tensors
def _dtanh(g: Any, y: Any) -> Any:
    return g * (1 - y * y)


def _dsqrt(g: Any, y: Any) -> Any:
    return g / (2 * y)


def _dsigmoid(g: Any, y: Any) -> Any:
    return g * (y * (1 - y))


def _drelu(g: Any, x: Any) -> Any:
    return g * (x > 0)


class Exp(Function):
    """y = exp(x);  dy/dx = y."""

    keeps_output = True

    @staticmethod
    def forward(ctx: Function, x: Tensor) -> np.ndarray:
        return np.exp(x.data)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return formula(operator.mul, grad, ctx.output)


class Log(Function):
    """y = log(x);  dy/dx = 1/x."""

    @staticmethod
    def forward(ctx: Function, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log(x.data)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        x, = ctx.saved_tensors
        return formula(operator.truediv, grad, x)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1/(2y)  (inf at x = 0, as PyTorch)."""

    keeps_output = True

    @staticmethod
    def forward(ctx: Function, x: Tensor) -> np.ndarray:
        return np.sqrt(x.data)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return formula(_dsqrt, grad, ctx.output)


class Sin(Function):
    """y = sin(x);  dy/dx = cos(x)."""

    @staticmethod
    def forward(ctx: Function, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.sin(x.data)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        x, = ctx.saved_tensors
        return grad * x.cos()


class Cos(Function):
    """y = cos(x);  dy/dx = -sin(x)."""

    @staticmethod
    def forward(ctx: Function, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.cos(x.data)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        x, = ctx.saved_tensors
        return -grad * x.sin()


class Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y**2."""

    keeps_output = True

    @staticmethod
    def forward(ctx: Function, x: Tensor) -> np.ndarray:
        return np.tanh(x.data)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return formula(_dtanh, grad, ctx.output)


class Sigmoid(Function):
    """y = 1/(1 + exp(-x));  dy/dx = y (1 - y)."""

    keeps_output = True

    @staticmethod
    def forward(ctx: Function, x: Tensor) -> np.ndarray:
        # exp(-log(1 + exp(-x))) never overflows: sigmoid(-1000) = 0 without a warning
        return np.exp(-np.logaddexp(0, -x.data))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return formula(_dsigmoid, grad, ctx.output)


class Relu(Function):
    """y = max(x, 0);  dy/dx = 1 for x > 0, else 0 (relu'(0) = 0, PyTorch's choice)."""

    @staticmethod
    def forward(ctx: Function, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return _relu_array(x.data)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        x, = ctx.saved_tensors
        if grad_mode._enabled or anomaly._enabled:  # recorded (see ``formula``)
            return _drelu(grad, x)
        # the mask as 0.0/1.0 in grad's dtype, then multiplied by grad in place: numpy's float * bool
        # loop casts as it goes (twice float * float on small arrays), and the mask is a fresh array
        # (one array less; -10% at (32, 256), -32% at (256, 256); the product is the same)
        g = grad.data
        mask = (x.data > 0).astype(g.dtype)
        mask *= g
        return Tensor._make(mask)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at x = 0)."""

    @staticmethod
    def forward(ctx: Function, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.abs(x.data)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        x, = ctx.saved_tensors
        return grad * const(np.sign(x.data), grad)


class Clamp(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi (bounds included, as PyTorch), else 0."""

    @staticmethod
    def forward(ctx: Function, x: Tensor, lo: float | None, hi: float | None) -> np.ndarray:
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x.data, lo, hi)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        x, = ctx.saved_tensors
        inside = np.ones(x.data.shape, dtype=bool)
        if ctx.lo is not None:
            inside &= x.data >= ctx.lo
        if ctx.hi is not None:
            inside &= x.data <= ctx.hi
        return grad * const(inside, grad), None, None


class Maximum(Function):
    """z = max(x, y) elementwise;  the larger input gets the gradient, ties split it evenly."""

    @staticmethod
    def forward(ctx: Function, x: Tensor, y: Tensor) -> np.ndarray:
        ctx.save_for_backward(x, y)
        return np.maximum(x.data, y.data)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        x, y = ctx.saved_tensors
        share_x = (x.data > y.data) + 0.5 * (x.data == y.data)  # tie: half each
        return grad * const(share_x, grad), grad * const(1 - share_x, grad)


class Minimum(Function):
    """z = min(x, y) elementwise;  the smaller input gets the gradient, ties split it evenly."""

    @staticmethod
    def forward(ctx: Function, x: Tensor, y: Tensor) -> np.ndarray:
        ctx.save_for_backward(x, y)
        return np.minimum(x.data, y.data)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        x, y = ctx.saved_tensors
        share_x = (x.data < y.data) + 0.5 * (x.data == y.data)  # tie: half each
        return grad * const(share_x, grad), grad * const(1 - share_x, grad)


class Where(Function):
    """z = x where cond else y;  dz/dx = cond,  dz/dy = not cond.

    A NaN or inf in the unselected branch's own backward still reaches the
    input (0 * inf = nan): mask the input first, e.g. ``sqrt(where(x > 0, x, 1))``.
    """

    @staticmethod
    def forward(ctx: Function, cond: np.ndarray, x: Tensor, y: Tensor) -> np.ndarray:
        ctx.cond = cond
        return np.where(cond, x.data, y.data)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        zero = Tensor._make(np.zeros((), dtype=grad.data.dtype))
        cond = ctx.cond
        return (None,
                Where.apply(cond, grad, zero) if ctx.needs_input_grad[1] else None,
                Where.apply(cond, zero, grad) if ctx.needs_input_grad[2] else None)


class Cast(Function):
    """y = x as another dtype;  dy/dx = 1 (the gradient is cast back)."""

    @staticmethod
    def forward(ctx: Function, x: Tensor, dtype: np.dtype) -> np.ndarray:
        ctx.in_dtype = x.data.dtype
        return x.data.astype(dtype)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        return Cast.apply(grad, ctx.in_dtype), None


def exp(x: Tensor) -> Tensor:
    """Elementwise e**x."""
    return unary(Exp, x, np.exp)


def log(x: Tensor) -> Tensor:
    """Elementwise natural logarithm."""
    return unary(Log, x, np.log)


def sqrt(x: Tensor) -> Tensor:
    """Elementwise square root."""
    return unary(Sqrt, x, np.sqrt)


def sin(x: Tensor) -> Tensor:
    """Elementwise sine."""
    return unary(Sin, x, np.sin)


def cos(x: Tensor) -> Tensor:
    """Elementwise cosine."""
    return unary(Cos, x, np.cos)


def tanh(x: Tensor) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return unary(Tanh, x, np.tanh)


def sigmoid(x: Tensor) -> Tensor:
    """Elementwise logistic function 1/(1+exp(-x)), overflow-free."""
    return Sigmoid.apply(x)


def relu(x: Tensor) -> Tensor:
    """Elementwise max(x, 0)."""
    return unary(Relu, x, _relu_array)


def abs(x: Tensor) -> Tensor:  # noqa: A001  (torch.abs)
    """Elementwise absolute value."""
    return unary(Abs, x, np.abs)


def sign(x: Tensor) -> Tensor:
    """Elementwise sign (-1, 0 or 1); carries no gradient (its derivative is 0 almost everywhere)."""
    return Tensor._make(np.sign(x.data))


def clamp(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Elementwise clip into [min, max] (either bound may be None)."""
    if min is None and max is None:
        raise ValueError("clamp needs at least one of min and max")
    return Clamp.apply(x, min, max)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum with broadcasting; ties split the gradient evenly."""
    return binary(Maximum, a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum with broadcasting; ties split the gradient evenly."""
    return binary(Minimum, a, b)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` is true, else ``b`` (broadcasting); ``cond`` carries no gradient.

    Both branches are computed everywhere, and the unselected branch's backward
    still runs (0 * inf = nan): mask the input of an op with a pole, not only its output.

    Example:
        >>> import gradkit as gk
        >>> x = gk.tensor([-1.0, 0.0, 4.0], requires_grad=True)
        >>> safe = gk.autograd.where(x > 0, x, 1.0)  # mask the input first
        >>> y = gk.autograd.where(x > 0, safe.sqrt(), x)
        >>> y.sum().backward()
        >>> y.tolist(), x.grad.tolist()
        ([-1.0, 0.0, 2.0], [1.0, 1.0, 0.25])
    """
    cond = np.asarray(cond.data if isinstance(cond, Tensor) else cond, dtype=bool)
    a, b = operands(a, b)
    return Where.apply(cond, a, b)


def cast(x: Tensor, dtype: Any) -> Tensor:
    """``x`` converted to ``dtype`` (``x`` itself when it already has it); differentiable."""
    dtype = np.dtype(dtype)
    if x.data.dtype == dtype:
        return x
    return Cast.apply(x, dtype)


from gradkit.autograd.ops.arithmetic import binary, operands, unary  # noqa: E402
