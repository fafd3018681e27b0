"""Tensor factories: zeros, ones, full, zeros_like, ones_like, randn, rand, arange, eye.

Each accepts ``dtype=`` (default: the default float dtype, float32) and
``requires_grad=``; random ones draw from gradkit's generator (``manual_seed``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradkit.autograd import dtypes
from gradkit.autograd.random import default_generator
from gradkit.autograd.tensor import Tensor


def _shape(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"sizes must be non-negative integers, got shape {shape}")
    return tuple(int(s) for s in shape)


def _wrap(array: np.ndarray, requires_grad: bool, name: str | None = None) -> Tensor:
    t = Tensor._make(array)
    t.name = name
    if requires_grad:
        t.requires_grad = True
    return t


def _dt(dtype: Any) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros.

    Example:
        >>> import gradkit as gk
        >>> gk.autograd.zeros(2, 3).shape
        (2, 3)
    """
    return _wrap(np.zeros(_shape(shape), dtype=_dt(dtype)), requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _wrap(np.ones(_shape(shape), dtype=_dt(dtype)), requires_grad)


def full(shape: Any, value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``value``."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _wrap(np.full(_shape(shape), value, dtype=_dt(dtype)), requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``t``'s shape and dtype."""
    return _wrap(np.zeros(t.shape, dtype=t.dtype if dtype is None else dtype), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``t``'s shape and dtype."""
    return _wrap(np.ones(t.shape, dtype=t.dtype if dtype is None else dtype), requires_grad)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from gradkit's generator."""
    return _wrap(default_generator().standard_normal(_shape(shape)).astype(_dt(dtype)), requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) from gradkit's generator."""
    return _wrap(default_generator().random(_shape(shape)).astype(_dt(dtype)), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from start (or 0) to end, exclusive; integer arguments give int64 (as PyTorch).

    Example:
        >>> import gradkit as gk
        >>> gk.autograd.arange(3).tolist()
        [0, 1, 2]
    """
    if end is None:
        start, end = 0, start
    if dtype is None and all(isinstance(v, (int, np.integer)) for v in (start, end, step)):
        dtype = np.int64
    return _wrap(np.arange(start, end, step, dtype=_dt(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix."""
    return _wrap(np.eye(n, m, dtype=_dt(dtype)), requires_grad)
