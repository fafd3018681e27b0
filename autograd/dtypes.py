"""Default floating dtype (float32, as PyTorch) and dtype helpers."""
from __future__ import annotations

from typing import Any

import numpy as np

_default_dtype = np.dtype(np.float32)


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype that Python floats and float lists become (float32 or float64).

    Example:
        >>> import numpy as np, gradkit as gk
        >>> gk.autograd.set_default_dtype(np.float64)
        >>> gk.tensor(1.0).dtype
        dtype('float64')
        >>> gk.autograd.set_default_dtype(np.float32)
    """
    global _default_dtype
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"default dtype must be a floating point dtype (float32 or float64), got {dt}")
    _default_dtype = dt


def get_default_dtype() -> np.dtype:
    """Return the default floating dtype (float32 unless changed)."""
    return _default_dtype


def is_floating(dtype: np.dtype) -> bool:
    """True for floating dtypes, the only ones that can require gradients."""
    return dtype.kind == "f"
