"""Activation functions and their Module wrappers.

relu, sigmoid, tanh, softmax and log_softmax are autograd's own ops (reused,
not rewritten); leaky_relu and prelu are compositions of ``where``; elu and
softplus are Functions, because their stable forward forms (``expm1`` of
``min(x, 0)``, ``logaddexp``) need numpy functions autograd does not expose.
Every backward is written with gradkit ops, so double backward works.

Subgradient choices (as PyTorch): relu'(0) = 0, leaky_relu'(0) = prelu'(0) =
negative slope, elu'(0) = alpha, softplus switches to the identity where
beta * x > threshold.

Example:
    >>> import gradkit as gk
    >>> from gradkit.nn import activation as A
    >>> A.leaky_relu(gk.tensor([-2.0, 3.0]), 0.5).tolist()
    [-1.0, 3.0]
"""
from __future__ import annotations

import numpy as np

from gradkit.autograd import grad_mode
from gradkit.autograd.dtypes import get_default_dtype
from gradkit.autograd.function import Function
from gradkit.autograd.ops import log_softmax, relu, sigmoid, softmax, tanh, where
from gradkit.autograd.tensor import Tensor
from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter

__all__ = [
    "relu", "leaky_relu", "prelu", "elu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax",
    "ReLU", "LeakyReLU", "PReLU", "ELU", "Sigmoid", "Tanh", "Softplus", "Softmax", "LogSoftmax",
]


# ---------------------------------------------------------------------------- functions
def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """Leaky ReLU: ``x`` where x > 0, else ``negative_slope * x``.

    Args:
        input: any shape.
        negative_slope: slope for x <= 0 (the gradient at 0 is this slope, as PyTorch).

    Returns:
        Tensor of the input's shape.

    Example:
        >>> import gradkit as gk
        >>> leaky_relu(gk.tensor([-1.0, 2.0]), 0.5).tolist()
        [-0.5, 2.0]
    """
    return where(input.data > 0, input, input * negative_slope)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Parametric ReLU: ``x`` where x > 0, else ``weight * x``, one slope per channel.

    The channel dimension is dim 1 (dim 0 for a 1-D input); a one-element
    weight is shared by all channels.

    Args:
        input: (N, C, ...) or (C,) tensor.
        weight: (C,) or (1,) slopes.

    Returns:
        Tensor of the input's shape.

    Raises:
        ValueError: weight has more than one element and its size differs from the channel count.

    Example:
        >>> import gradkit as gk
        >>> prelu(gk.tensor([[-2.0, -2.0]]), gk.tensor([0.5, 0.25])).tolist()
        [[-1.0, -0.5]]
    """
    if weight.ndim > 1:
        raise ValueError(f"prelu weight must be 1-D (num_parameters,), got shape {tuple(weight.shape)}")
    n = weight.size
    if n == 1:
        w = weight.reshape(())
    else:
        ch = 1 if input.ndim >= 2 else 0
        if input.ndim == 0 or input.shape[ch] != n:
            raise ValueError(f"prelu: weight has {n} parameters but the input of shape {tuple(input.shape)} has "
                             f"{input.shape[ch] if input.ndim else 0} channels (dim {ch}); use num_parameters=1 "
                             "or the channel count")
        w = weight.reshape((n,) + (1,) * (input.ndim - ch - 1))
    return where(input.data > 0, input, w * input)


class EluFunction(Function):
    """y = x for x > 0, alpha (exp(x) - 1) otherwise;  dy/dx = 1 for x > 0, else y + alpha.

    The exponential only ever sees min(x, 0), so large positive x cannot overflow.
    """

    keeps_output = True

    @staticmethod
    def forward(ctx: Function, x: Tensor, alpha: float) -> np.ndarray:
        ctx.alpha = alpha
        ctx.pos = x.data > 0
        return np.where(ctx.pos, x.data, alpha * np.expm1(np.minimum(x.data, 0)))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        # elu'(0) = alpha (PyTorch's x <= 0 branch); y + alpha is differentiable through the output
        y = ctx.output
        if grad_mode._enabled:  # recording a second-order graph: elu''(0) = 0 as in PyTorch (its x < 0),
            y = where(y.data != 0, y, y.detach())  # so y (0 exactly at x = 0) enters as a constant there
        return where(ctx.pos, grad, grad * (y + ctx.alpha)), None


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit: ``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise.

    Args:
        input: any shape.
        alpha: value approached as x -> -inf.

    Returns:
        Tensor of the input's shape (finite for any finite input).

    Example:
        >>> import gradkit as gk
        >>> [round(v, 4) for v in elu(gk.tensor([-1.0, 1e4])).tolist()]
        [-0.6321, 10000.0]
    """
    return EluFunction.apply(input, float(alpha))


class SoftplusFunction(Function):
    """y = log(1 + exp(beta x)) / beta, or x where beta x > threshold;  dy/dx = sigmoid(beta x), or 1.

    ``threshold=None`` never switches (the exact, stable log-sum-exp form for
    every x; the logistic losses use it).
    """

    @staticmethod
    def forward(ctx: Function, x: Tensor, beta: float, threshold: float | None) -> np.ndarray:
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        bx = x.data * beta
        ctx.linear = None if threshold is None else bx > threshold
        y = np.logaddexp(0, bx) / beta  # log(exp(0) + exp(bx)): no overflow for any bx
        return y if ctx.linear is None else np.where(ctx.linear, x.data, y).astype(x.data.dtype, copy=False)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        x, = ctx.saved_tensors
        s = sigmoid(x * ctx.beta)
        if ctx.linear is None:
            return grad * s, None, None
        if grad_mode._enabled:  # recording a second-order graph: sigmoid(beta x) at beta x = threshold itself
            s = where(x.data * ctx.beta < ctx.threshold, s, s.detach())  # is a constant, as in PyTorch (its <)
        return where(ctx.linear, grad, grad * s), None, None


def softplus(input: Tensor, beta: float = 1.0, threshold: float | None = 20.0) -> Tensor:
    """Smooth ReLU: ``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``.

    The switch is PyTorch's: beyond it softplus equals x to within float precision.

    Args:
        input: any shape.
        beta: sharpness.
        threshold: linear above this value of ``beta * x`` (None: never).

    Returns:
        Tensor of the input's shape.

    Raises:
        ValueError: beta is 0.

    Example:
        >>> import gradkit as gk
        >>> [round(v, 4) for v in softplus(gk.tensor([-1000.0, 0.0, 1000.0])).tolist()]
        [0.0, 0.6931, 1000.0]
    """
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero, got 0")
    return SoftplusFunction.apply(input, float(beta), None if threshold is None else float(threshold))


# ---------------------------------------------------------------------------- modules
class ReLU(Module):
    """Applies relu elementwise: ``max(x, 0)``.

    Shape: any -> same.

    Example:
        >>> import gradkit as gk
        >>> ReLU()(gk.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return relu(input)


class LeakyReLU(Module):
    """Applies :func:`leaky_relu` elementwise: ``x`` if x > 0 else ``negative_slope * x``.

    Args:
        negative_slope: slope for x <= 0.

    Example:
        >>> LeakyReLU(0.2)
        LeakyReLU(negative_slope=0.2)
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, input: Tensor) -> Tensor:
        return leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


def _float_dtype(dtype: object) -> np.dtype:
    """``dtype`` as a numpy dtype, gradkit's default float dtype when None."""
    return np.dtype(get_default_dtype() if dtype is None else dtype)


class PReLU(Module):
    """Applies :func:`prelu` with learnable slopes: ``x`` if x > 0 else ``a * x``.

    Args:
        num_parameters: 1 (one slope shared by all channels) or the channel count (dim 1 of the input).
        init: initial slope.
        dtype: parameter dtype (default: gradkit's default dtype).

    Attributes:
        weight: Parameter of shape (num_parameters,).

    Raises:
        ValueError: num_parameters < 1.

    Example:
        >>> m = PReLU(3)
        >>> m, m.weight.tolist()
        (PReLU(num_parameters=3), [0.25, 0.25, 0.25])
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype: object = None) -> None:
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, (int, np.integer)) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive integer, got {num_parameters!r}")
        self.num_parameters = int(num_parameters)
        self.init = init
        self.weight = Parameter(np.empty(self.num_parameters, dtype=_float_dtype(dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Set every slope to ``init``."""
        self.weight.data[...] = self.init

    def forward(self, input: Tensor) -> Tensor:
        return prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """Applies :func:`elu` elementwise: ``x`` if x > 0 else ``alpha * (exp(x) - 1)``.

    Args:
        alpha: limit for x -> -inf.

    Example:
        >>> ELU(alpha=0.5)
        ELU(alpha=0.5)
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, input: Tensor) -> Tensor:
        return elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Sigmoid(Module):
    """Applies the logistic function ``1 / (1 + exp(-x))`` elementwise (overflow-free).

    Example:
        >>> import gradkit as gk
        >>> Sigmoid()(gk.tensor([0.0])).tolist()
        [0.5]
    """

    def forward(self, input: Tensor) -> Tensor:
        return sigmoid(input)


class Tanh(Module):
    """Applies ``tanh(x)`` elementwise.

    Example:
        >>> import gradkit as gk
        >>> Tanh()(gk.tensor([0.0])).tolist()
        [0.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return tanh(input)


class Softplus(Module):
    """Applies :func:`softplus`: ``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``.

    Args:
        beta: sharpness.
        threshold: linear above this value of beta * x.

    Example:
        >>> Softplus(beta=2)
        Softplus(beta=2, threshold=20)
    """

    def __init__(self, beta: float = 1, threshold: float = 20) -> None:
        super().__init__()
        if beta == 0:
            raise ValueError("Softplus: beta must be non-zero, got 0")
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """Applies ``exp(x) / sum(exp(x))`` along ``dim`` (rows sum to 1).

    Args:
        dim: the dimension to normalise (required: there is no safe implicit choice).

    Example:
        >>> import gradkit as gk
        >>> Softmax(dim=1)(gk.tensor([[0.0, 0.0]])).tolist()
        [[0.5, 0.5]]
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Applies ``x - logsumexp(x)`` along ``dim`` (log-probabilities, stable for any logits).

    Args:
        dim: the dimension to normalise.

    Example:
        >>> import gradkit as gk
        >>> LogSoftmax(dim=-1)(gk.tensor([1000.0, -1000.0])).tolist()
        [0.0, -2000.0]
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
