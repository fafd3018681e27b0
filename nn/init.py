"""Weight initialisation with PyTorch's formulas (``torch.nn.init``), in place, from gradkit's generator.

Every function fills a Tensor in place without recording a graph and returns
it. Randomness comes from ``gradkit.autograd.random.default_generator()`` (so
``gk.manual_seed`` reproduces it) unless a ``generator`` is passed.

Fan-based initialisers (xavier, kaiming, lecun) need a tensor of at least 2
dimensions: fan_in = shape[1] * receptive field, fan_out = shape[0] * receptive
field, receptive field = prod(shape[2:]). On a 0-d or 1-d tensor they raise
ValueError; on a zero-element tensor they warn and do nothing, as PyTorch.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from gradkit.autograd import random as gk_random
from gradkit.autograd.grad_mode import no_grad
from gradkit.autograd.tensor import Tensor

_LINEAR_GAINS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "sigmoid")
_NONLINEARITIES = _LINEAR_GAINS + ("tanh", "relu", "leaky_relu", "selu")


def _check(tensor: Any, fn: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.{fn} expects a gradkit Tensor, got {type(tensor).__name__}")
    return tensor


def _fill(tensor: Tensor, values: Any) -> Tensor:
    with no_grad():
        tensor.copy_(np.asarray(values, dtype=tensor.dtype) if np.ndim(values) else values)
    return tensor


def _gen(generator: np.random.Generator | None) -> np.random.Generator:
    return gk_random.default_generator() if generator is None else generator


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table).

    linear/conv/sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2 / (1 + slope²)); selu: 3/4.

    Args:
        nonlinearity: one of linear, conv1d, conv2d, conv3d, conv_transpose1d/2d/3d, sigmoid, tanh, relu,
            leaky_relu, selu.
        param: the negative slope of leaky_relu (default 0.01).

    Raises:
        ValueError: unknown nonlinearity or a non-numeric slope.

    Example:
        >>> from gradkit import nn
        >>> round(nn.init.calculate_gain("tanh"), 4)
        1.6667
    """
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity!r}; valid options: {', '.join(_NONLINEARITIES)}")


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` = (shape[1] * receptive, shape[0] * receptive), receptive = prod(shape[2:]).

    Raises:
        ValueError: the tensor has fewer than 2 dimensions.

    Example:
        >>> import gradkit as gk
        >>> gk.nn.init.calculate_fan_in_and_fan_out(gk.autograd.zeros(4, 3))
        (3, 4)
    """
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                         f"(got shape {tuple(tensor.shape)}); a bias or other 1-d tensor needs uniform_/normal_/"
                         "constant_ with an explicit range")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _empty(tensor: Tensor) -> bool:
    calculate_fan_in_and_fan_out(tensor)  # the dimension check comes first
    if tensor.size == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", UserWarning, stacklevel=3)
        return True
    return False


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: np.random.Generator | None = None) -> Tensor:
    """Fill with U(a, b).

    Example:
        >>> import gradkit as gk
        >>> w = gk.nn.init.uniform_(gk.autograd.zeros(100), -1, 1)
        >>> bool((w.numpy() >= -1).all() and (w.numpy() < 1).all())
        True
    """
    _check(tensor, "uniform_")
    if not a <= b:
        raise ValueError(f"uniform_ expects a <= b, got a={a}, b={b}")
    return _fill(tensor, _gen(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: np.random.Generator | None = None) -> Tensor:
    """Fill with N(mean, std²).

    Example:
        >>> import gradkit as gk
        >>> gk.nn.init.normal_(gk.autograd.zeros(2, 3), std=0.1).shape
        (2, 3)
    """
    _check(tensor, "normal_")
    if std < 0:
        raise ValueError(f"normal_ expects std >= 0, got std={std}")
    return _fill(tensor, _gen(generator).normal(mean, std, size=tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``.

    Example:
        >>> import gradkit as gk
        >>> gk.nn.init.constant_(gk.autograd.zeros(2), 0.5).tolist()
        [0.5, 0.5]
    """
    _check(tensor, "constant_")
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0.

    Example:
        >>> import gradkit as gk
        >>> gk.nn.init.zeros_(gk.autograd.ones(2)).tolist()
        [0.0, 0.0]
    """
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1.

    Example:
        >>> import gradkit as gk
        >>> gk.nn.init.ones_(gk.autograd.zeros(2)).tolist()
        [1.0, 1.0]
    """
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).

    Raises:
        ValueError: fewer than 2 dimensions.

    Example:
        >>> import gradkit as gk
        >>> w = gk.nn.init.xavier_uniform_(gk.autograd.zeros(3, 5))
        >>> bool(abs(w.numpy()).max() <= (6 / 8) ** 0.5)
        True
    """
    _check(tensor, "xavier_uniform_")
    if _empty(tensor):
        return tensor
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill(tensor, _gen(generator).uniform(-bound, bound, size=tensor.shape))


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """Glorot normal: N(0, std²), std = gain * sqrt(2 / (fan_in + fan_out)).

    Raises:
        ValueError: fewer than 2 dimensions.

    Example:
        >>> import gradkit as gk
        >>> gk.nn.init.xavier_normal_(gk.autograd.zeros(3, 5)).shape
        (3, 5)
    """
    _check(tensor, "xavier_normal_")
    if _empty(tensor):
        return tensor
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill(tensor, _gen(generator).normal(0.0, std, size=tensor.shape))


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: np.random.Generator | None = None) -> Tensor:
    """He uniform: U(-b, b), b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).

    Args:
        tensor: at least 2-d.
        a: negative slope of the rectifier after this layer (leaky_relu only).
        mode: "fan_in" (preserve forward variance) or "fan_out" (backward).
        nonlinearity: name for :func:`calculate_gain` ("relu" or "leaky_relu" recommended).

    Raises:
        ValueError: fewer than 2 dimensions, unknown mode or nonlinearity.

    Example:
        >>> import gradkit as gk
        >>> w = gk.nn.init.kaiming_uniform_(gk.autograd.zeros(4, 6), nonlinearity="relu")
        >>> bool(abs(w.numpy()).max() <= 1.0)
        True
    """
    _check(tensor, "kaiming_uniform_")
    if _empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return _fill(tensor, _gen(generator).uniform(-bound, bound, size=tensor.shape))


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: np.random.Generator | None = None) -> Tensor:
    """He normal: N(0, std²), std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a).

    Raises:
        ValueError: fewer than 2 dimensions, unknown mode or nonlinearity.

    Example:
        >>> import gradkit as gk
        >>> gk.nn.init.kaiming_normal_(gk.autograd.zeros(4, 6), mode="fan_out").shape
        (4, 6)
    """
    _check(tensor, "kaiming_normal_")
    if _empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return _fill(tensor, _gen(generator).normal(0.0, std, size=tensor.shape))


def lecun_normal_(tensor: Tensor, generator: np.random.Generator | None = None) -> Tensor:
    """LeCun normal (for SELU networks): N(0, 1 / fan_in), not truncated.

    Raises:
        ValueError: fewer than 2 dimensions.

    Example:
        >>> import gradkit as gk
        >>> gk.nn.init.lecun_normal_(gk.autograd.zeros(4, 6)).shape
        (4, 6)
    """
    _check(tensor, "lecun_normal_")
    if _empty(tensor):
        return tensor
    std = 1.0 / math.sqrt(_fan(tensor, "fan_in"))
    return _fill(tensor, _gen(generator).normal(0.0, std, size=tensor.shape))
