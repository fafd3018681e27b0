"""Dropout: inverted dropout (kept units scaled by 1/(1-p) in training, identity in evaluation)."""
from __future__ import annotations

import numbers

from gradkit.autograd import random as gk_random
from gradkit.autograd.ops.elementwise import const
from gradkit.autograd.tensor import Tensor
from gradkit.nn.module import Module


def _check_p(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p): y = x * m / (1-p), m ~ Bernoulli(1-p).

    The mask comes from gradkit's default generator, so ``gk.manual_seed`` reproduces it.
    ``p = 1`` gives zeros (no division by zero); ``training=False`` or ``p = 0`` returns
    ``input`` itself.

    Args:
        input: any shape.
        p: probability of zeroing an element, in [0, 1].
        training: apply dropout (False: identity).
        inplace: accepted for PyTorch compatibility; gradkit never drops in place.

    Raises:
        ValueError: p outside [0, 1].

    Example:
        >>> import gradkit as gk
        >>> from gradkit.nn import functional as F
        >>> _ = gk.manual_seed(0)
        >>> sorted(set(F.dropout(gk.autograd.ones(1000), p=0.5).tolist()))
        [0.0, 2.0]
    """
    p = _check_p(p)
    if not training or p == 0.0:
        return input
    if not isinstance(input, Tensor):
        input = Tensor(input)
    keep = gk_random.default_generator().random(input.shape) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)  # p = 1: all dropped, no 1/0
    return input * const(keep * scale, input)


class Dropout(Module):
    """Inverted dropout: in training zero elements with probability ``p`` and scale the rest by 1/(1-p).

    In evaluation mode (``model.eval()``) it is the identity, so no rescaling is needed at test time.

    Args:
        p: probability of an element to be zeroed (default 0.5).
        inplace: accepted for PyTorch compatibility (ignored).

    Raises:
        ValueError: p outside [0, 1].

    Example:
        >>> import gradkit as gk
        >>> from gradkit import nn
        >>> drop = nn.Dropout(0.2).eval()
        >>> drop(gk.autograd.ones(3)).tolist()
        [1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = _check_p(p)
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"

    def _scope_label(self) -> str:
        return f"Dropout(p={self.p})"
