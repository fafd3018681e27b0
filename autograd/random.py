"""The one random generator behind ``randn``, ``rand``, ``nn.init``, ``nn.Dropout`` and shuffling.

Components given their own ``seed`` use ``np.random.default_rng(seed)`` instead;
numpy's global random state is never used or changed. ``fork_rng(seed)`` runs a
block with its own seeded generator, local to the running thread (a context
variable), so parallel folds in threads (joblib's threading backend, an
in-process Dask cluster) cannot draw from one another's generator.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Iterator

import numpy as np

_generator = np.random.default_rng()
# The generator of the innermost ``fork_rng`` block in this thread/context, if any.
_forked: ContextVar[np.random.Generator | None] = ContextVar("gradkit_forked_generator", default=None)


def manual_seed(seed: int) -> np.random.Generator:
    """Seed gradkit's default generator (inside ``fork_rng``: that block's generator) and return it.

    Example:
        >>> import gradkit as gk
        >>> _ = gk.manual_seed(0); a = gk.autograd.randn(3)
        >>> _ = gk.manual_seed(0); b = gk.autograd.randn(3)
        >>> bool((a == b).all())
        True
    """
    global _generator
    generator = np.random.default_rng(seed)
    if _forked.get() is not None:
        _forked.set(generator)
    else:
        _generator = generator
    return generator


def default_generator() -> np.random.Generator:
    """Return the generator that ``manual_seed`` seeds (the ``fork_rng`` block's, inside one)."""
    forked = _forked.get()
    return _generator if forked is None else forked


@contextlib.contextmanager
def fork_rng(seed: int) -> Iterator[np.random.Generator]:
    """Run a block with its own generator ``default_rng(seed)``; the default generator is untouched.

    Example:
        >>> import gradkit as gk
        >>> from gradkit.autograd.random import fork_rng
        >>> with fork_rng(1):
        ...     a = gk.autograd.randn(2)
        >>> with fork_rng(1):
        ...     b = gk.autograd.randn(2)
        >>> bool((a == b).all())
        True
    """
    token = _forked.set(np.random.default_rng(seed))
    try:
        yield _forked.get()
    finally:
        _forked.reset(token)


def get_rng_state() -> dict:
    """Return the default generator's state (a JSON-compatible dict) for checkpoints."""
    return default_generator().bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state returned by :func:`get_rng_state`."""
    default_generator().bit_generator.state = state
