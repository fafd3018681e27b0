"""gradkit: reverse-mode automatic differentiation on numpy, with nn, optim and data.

Example:
    >>> import gradkit as gk
    >>> x = gk.tensor(2.0, requires_grad=True)
    >>> y = x * x + 3 * x
    >>> y.backward()
    >>> x.grad.item()
    7.0
"""
from __future__ import annotations

__version__ = "0.1.0"

from gradkit import autograd
from gradkit.autograd import Tensor, manual_seed, no_grad, tensor
from gradkit import nn, optim, data  # noqa: E402  (subpackages depend on autograd)

__all__ = ["__version__", "Tensor", "tensor", "no_grad", "manual_seed", "autograd", "nn", "optim", "data"]
