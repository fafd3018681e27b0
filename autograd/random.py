"""The one random generator behind ``randn``, ``rand``, ``nn.init``, ``nn.Dropout`` and shuffling.

Components given their own ``seed`` use ``np.random.default_rng(seed)`` instead;
numpy's global random state is never used or changed.
"""
from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed gradkit's default generator and return it.

    Example:
        >>> import gradkit as gk
        >>> _ = gk.manual_seed(0); a = gk.autograd.randn(3)
        >>> _ = gk.manual_seed(0); b = gk.autograd.randn(3)
        >>> bool((a == b).all())
        True
    """
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator() -> np.random.Generator:
    """Return the generator that ``manual_seed`` seeds."""
    return _generator


def get_rng_state() -> dict:
    """Return the default generator's state (a JSON-compatible dict) for checkpoints."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state returned by :func:`get_rng_state`."""
    _generator.bit_generator.state = state
