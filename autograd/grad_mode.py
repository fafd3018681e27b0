"""Grad mode: whether ops record the graph.

``no_grad()`` and ``enable_grad()`` work as context managers and as decorators,
and restore the previous state even when the block raises (DeZero's try/finally).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# Read on every op (``function.Function.apply``); a module global is the cheapest lookup.
_enabled = True


def is_grad_enabled() -> bool:
    """Return True when ops record the graph for backward.

    Example:
        >>> from gradkit.autograd import no_grad, is_grad_enabled
        >>> with no_grad():
        ...     is_grad_enabled()
        False
    """
    return _enabled


class _GradModeContext:
    """Base of the grad-mode context managers; usable as a decorator too."""

    _mode: bool

    def __enter__(self) -> None:
        global _enabled
        # a stack, not one attribute: the same instance may be entered again while open
        self.__dict__.setdefault("_prevs", []).append(_enabled)
        _enabled = self._mode

    def __exit__(self, *exc: object) -> None:
        global _enabled
        _enabled = self._prevs.pop()

    def __call__(self, fn: F) -> F:
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            global _enabled
            prev = _enabled
            _enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _enabled = prev

        return wrapper  # type: ignore[return-value]


class no_grad(_GradModeContext):
    """Context manager / decorator that disables graph recording.

    Example:
        >>> import gradkit as gk
        >>> x = gk.tensor([1.0, 2.0], requires_grad=True)
        >>> with gk.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    _mode = False


class enable_grad(_GradModeContext):
    """Context manager / decorator that enables graph recording (inside ``no_grad``).

    Example:
        >>> import gradkit as gk
        >>> x = gk.tensor(1.0, requires_grad=True)
        >>> with gk.no_grad():
        ...     with gk.autograd.enable_grad():
        ...         y = x * 2
        >>> y.requires_grad
        True
    """

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Turn graph recording on or off: at once when called, and only for the block as a context manager.

    As PyTorch's ``set_grad_enabled``: ``with set_grad_enabled(is_training):`` restores
    the previous state at the end of the block; a plain call changes it for good.

    Example:
        >>> from gradkit.autograd import set_grad_enabled, is_grad_enabled
        >>> with set_grad_enabled(False):
        ...     is_grad_enabled()
        False
        >>> is_grad_enabled()
        True
    """

    def __init__(self, mode: bool) -> None:
        global _enabled
        self._mode = bool(mode)
        self._prevs = [_enabled]
        _enabled = self._mode

    def __enter__(self) -> None:  # the call already set the mode; __exit__ restores the one before it
        pass

    def __call__(self, fn: F) -> F:
        global _enabled
        _enabled = self._prevs[0]  # used as a decorator: decorating must not change the mode now
        return super().__call__(fn)
