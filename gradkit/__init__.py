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

__all__ = ["__version__", "Tensor", "tensor", "no_grad", "manual_seed", "autograd", "nn", "optim", "data"]

_SUBPACKAGES = ("nn", "optim", "data")


def __getattr__(name: str):  # ``gk.nn`` imports nn on first use: ``import gradkit`` stays quick
    if name in _SUBPACKAGES:
        import importlib
        return importlib.import_module(f"gradkit.{name}")
    raise AttributeError(f"module 'gradkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBPACKAGES))
