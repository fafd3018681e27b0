"""Arithmetic ops: + - * / ** and unary minus, with numpy broadcasting.

Backwards return the broadcast-shaped gradient; the engine sums it back to
each input's shape (``shape.sum_to``), so no op here reduces by itself.
"""
from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np

from gradkit.autograd import anomaly, dtypes, grad_mode
from gradkit.autograd.function import Function, formula
from gradkit.autograd.tensor import Tensor


# Constant tensors made for Python numbers, by (value, type, dtype): ``y * 0.5`` in a loop makes one
# constant, not one per call. They are only ever read (inputs and saved tensors of nodes). Zero is not
# cached, as 0.0 == -0.0 would share one entry; the table is emptied when it grows past _MAX_CONSTANTS.
_CONSTANTS: dict = {}
_MAX_CONSTANTS = 1024


def _constant(x: float | int | bool, dtype: Any) -> Tensor:
    key = (x, type(x), dtype)
    t = _CONSTANTS.get(key)
    if t is None:
        t = Tensor._make(np.array(x, dtype=dtype))
        if x != 0:
            if len(_CONSTANTS) >= _MAX_CONSTANTS:
                _CONSTANTS.clear()
            _CONSTANTS[key] = t
    return t


def as_tensor_like(x: Any, ref: Tensor) -> Tensor:
    """Make a constant Tensor of ``x``; a Python number takes ``ref``'s dtype (NEP 50, as PyTorch).

    So ``float32_tensor * 2.5`` stays float32, while a numpy float64 scalar or
    array keeps float64 and promotes the result.
    """
    if isinstance(x, Tensor):
        return x
    tx = type(x)
    if tx is float or tx is int or tx is bool:
        dtype = ref.data.dtype
        kind = dtype.kind
        if kind == "f" or (kind in "iu" and tx is not float) or (kind == "b" and tx is bool):
            return _constant(x, dtype)
        return _constant(x, dtypes.get_default_dtype()) if tx is float else Tensor._make(np.array(x))
    return Tensor(x)


def operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as Tensors (Python numbers adopt the other's dtype).

    An integer tensor meeting a floating one takes its dtype (PyTorch's rule:
    int64 * float32 is float32, where numpy would give float64); bool needs no cast.
    """
    if isinstance(a, Tensor):
        b = as_tensor_like(b, a)
    elif isinstance(b, Tensor):
        a = as_tensor_like(a, b)
    else:
        a = Tensor(a)
        b = as_tensor_like(b, a)
    da, db = a.data.dtype, b.data.dtype
    if da is db:  # the usual case: one dtype, nothing to decide
        return a, b
    ka, kb = da.kind, db.kind  # (bool needs no cast: numpy keeps float * bool float)
    if ka == "f" and kb in "iu":
        b = Tensor._make(b.data.astype(da))
    elif kb == "f" and ka in "iu":
        a = Tensor._make(a.data.astype(db))
    return a, b


def unrecorded_arrays(a: Any, b: Any) -> tuple | None:
    """The two operands as numpy values when numpy's own promotion gives gradkit's dtype, else None.

    That is two tensors of one dtype, a float tensor and a bool mask, or a float tensor
    and a Python number. Called when no node is needed -- grad mode off, as inside
    every backward pass without create_graph, and anomaly mode off (the caller checks) --
    ``a * b`` is then just the numpy product (the op's forward, minus bookkeeping).
    """
    ta, tb = type(a), type(b)
    if ta is Tensor:
        da = a.data
        if tb is Tensor:
            db = b.data
            if da.dtype is db.dtype or (db.dtype.kind == "b" and da.dtype.kind == "f"):  # float * mask
                return da, db
            return None
        return (da, b) if (tb is float or tb is int) and da.dtype.kind == "f" else None
    if tb is Tensor and (ta is float or ta is int) and b.data.dtype.kind == "f":
        return a, b.data
    return None


class Add(Function):
    """z = x + y;  dz/dx = 1,  dz/dy = 1."""

    @staticmethod
    def forward(ctx: Function, x: Tensor, y: Tensor) -> np.ndarray:
        return x.data + y.data

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        return grad, grad


class Sub(Function):
    """z = x - y;  dz/dx = 1,  dz/dy = -1."""

    @staticmethod
    def forward(ctx: Function, x: Tensor, y: Tensor) -> np.ndarray:
        return x.data - y.data

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = x * y;  dz/dx = y,  dz/dy = x."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx: Function, x: Tensor, y: Tensor) -> np.ndarray:
        # save only what the other input's gradient needs: ``b *= 2`` must not save b itself
        need_x, need_y = ctx.needs_input_grad
        ctx.save_for_backward(x if need_y else None, y if need_x else None)
        return x.data * y.data

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        x, y = ctx.saved_tensors
        return (formula(operator.mul, grad, y) if y is not None else None,
                formula(operator.mul, grad, x) if x is not None else None)


class Div(Function):
    """z = x / y;  dz/dx = 1/y,  dz/dy = -x/y**2, computed as -(x/y)/y (y**2 leaves float range first)."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx: Function, x: Tensor, y: Tensor) -> np.ndarray:
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, y)
        return x.data / y.data

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        x, y = ctx.saved_tensors
        gx = formula(operator.truediv, grad, y) if ctx.needs_input_grad[0] else None
        gy = -grad * (x / y) / y if x is not None else None  # not x / y**2: y*y overflows or underflows
        return gx, gy


class Neg(Function):
    """z = -x;  dz/dx = -1."""

    @staticmethod
    def forward(ctx: Function, x: Tensor) -> np.ndarray:
        return -x.data

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return -grad


class Pow(Function):
    """z = x ** y;  dz/dx = y x**(y-1),  dz/dy = z log(x).

    Conventions (PyTorch's): dz/dx = 0 where y == 0 (also at x = 0, not NaN); dz/dy = 0
    where x == 0 and y >= 0; a negative base gives NaN only in dz/dy, which is
    computed only when the exponent requires grad.
    """

    keeps_output = True

    @staticmethod
    def forward(ctx: Function, x: Tensor, y: Tensor) -> np.ndarray:
        ctx.save_for_backward(x, y)
        return np.power(x.data, y.data)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        x, y = ctx.saved_tensors
        gx = gy = None
        # 0 ** -1 and log(0) are masked below, log(base < 0) is NaN by design: no numpy warnings
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                gx = grad * y * x ** (y - 1)
                zero_exp = (y.data == 0) & (x.data == 0)  # 0 * 0**-1 = nan: mask only there (d/dy stays exact)
                if zero_exp.any():
                    gx = where(zero_exp, 0.0, gx)
            if ctx.needs_input_grad[1]:
                gy = grad * ctx.output * x.log()
                zero_base = (x.data == 0) & (y.data >= 0)
                if zero_base.any():
                    gy = where(zero_base, 0.0, gy)
        return gx, gy


def binary(fn: type[Function], a: Any, b: Any, ufunc: Callable | None = None) -> Tensor:
    """Apply the binary op ``fn`` to two operands (Python numbers adopt the tensor's dtype).

    With ``ufunc`` (the op's numpy forward), a call that needs no node (see
    :func:`unrecorded_arrays`) is just that ufunc on the arrays.
    """
    same = type(a) is Tensor and type(b) is Tensor and a.data.dtype is b.data.dtype  # the usual case
    if ufunc is not None and not (grad_mode._enabled or anomaly._enabled):
        if same:
            return Tensor._make(ufunc(a.data, b.data))
        raw = unrecorded_arrays(a, b)
        if raw is not None:
            return Tensor._make(ufunc(*raw))
    if not same:  # ``y * 0.5`` and ``1 - y`` make their constant directly (as operands() would, minus two calls)
        ta, tb = type(a), type(b)
        if ta is Tensor and (tb is float or tb is int) and a.data.dtype.kind == "f":
            b = _constant(b, a.data.dtype)
        elif tb is Tensor and (ta is float or ta is int) and b.data.dtype.kind == "f":
            a = _constant(a, b.data.dtype)
        else:
            a, b = operands(a, b)
    return fn.apply(a, b)


def unary(fn: type[Function], x: Tensor, array_fn: Callable) -> Tensor:
    """Apply the one-input op ``fn`` to ``x``; ``array_fn`` is its forward on the array.

    When no node is needed -- grad mode off (every backward pass without create_graph)
    or ``x`` needing no gradient, and anomaly mode off -- that is all the call does.
    """
    if type(x) is Tensor and not ((grad_mode._enabled and x._requires_grad) or anomaly._enabled):
        return Tensor._make(array_fn(x.data))
    return fn.apply(x)


def add(a: Any, b: Any) -> Tensor:
    """Elementwise sum with broadcasting: ``a + b``."""
    return binary(Add, a, b, np.add)


def sub(a: Any, b: Any) -> Tensor:
    """Elementwise difference with broadcasting: ``a - b``."""
    return binary(Sub, a, b, np.subtract)


def mul(a: Any, b: Any) -> Tensor:
    """Elementwise product with broadcasting: ``a * b``."""
    return binary(Mul, a, b, np.multiply)


def div(a: Any, b: Any) -> Tensor:
    """Elementwise true division with broadcasting: ``a / b``.

    Integer (or bool) operands on both sides divide in the default float dtype, as in
    PyTorch (``arange(4) / 2`` is float32; numpy's true division would give float64).
    """
    if not (_floating(a) or _floating(b)):
        a = Tensor._make(np.asarray(a.data if isinstance(a, Tensor) else a, dtype=dtypes.get_default_dtype()))
    return binary(Div, a, b, np.true_divide)


def _floating(x: Any) -> bool:
    return type(x) is float or (isinstance(x, Tensor) and dtypes.is_floating(x.data.dtype))


def neg(a: Tensor) -> Tensor:
    """``-a``."""
    return unary(Neg, a, np.negative)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001  (torch.pow)
    """Elementwise power with broadcasting: ``a ** b`` (either may be a tensor)."""
    return binary(Pow, a, b)


def compare(ufunc: Callable, a: Any, b: Any) -> Tensor:
    """A comparison (``<``, ``==``, ...) as a bool tensor; comparisons carry no gradient."""
    a, b = operands(a, b)
    return Tensor._make(ufunc(a.data, b.data))


from gradkit.autograd.ops.elementwise import where  # noqa: E402  (Pow's masks)
