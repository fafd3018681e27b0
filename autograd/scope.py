"""Scopes: label the nodes made inside a block, so drawings can box them (one box per module call).

``nn.Module.__call__`` opens a scope named like ``Linear(64→10)``; every node
created inside records the stack of open scopes in ``node.scope`` (outermost
first). Each call is a distinct :class:`Scope` object, so a module called twice
gives two boxes.

Example:
    >>> import gradkit as gk
    >>> from gradkit.autograd.scope import named_scope
    >>> x = gk.tensor(1.0, requires_grad=True)
    >>> with named_scope("square"):
    ...     y = x * x
    >>> [s.label for s in y.grad_fn.scope]
    ['square']
"""
from __future__ import annotations

from typing import Any, Callable

# The open scopes, outermost first; None when no scope is open (the cheap check in Function.apply).
current: tuple["Scope", ...] | None = None


class Scope:
    """One entered scope: a label and, optionally, the object (module) it belongs to.

    ``label`` may be given as a function, called the first time it is read:
    modules are called far more often than they are drawn. ``nn.Module.__call__``
    makes its scopes without ``__init__``, setting only ``owner``: such a scope asks
    its owner (``owner._scope_label()``) when its label is first read.
    """

    __slots__ = ("_label", "owner")

    def __init__(self, label: "str | Callable[[], str]", owner: Any = None) -> None:
        self._label, self.owner = label, owner

    @property
    def label(self) -> str:
        try:
            label = self._label
        except AttributeError:  # a module call's scope: only the owner is set
            label = self.owner._scope_label
        if callable(label):
            label = label()
        self._label = label
        return label

    def __repr__(self) -> str:
        return f"Scope({self.label!r})"


class named_scope:
    """Context manager: nodes created inside record this scope."""

    __slots__ = ("scope", "_prev")

    def __init__(self, label: "str | Callable[[], str]", owner: Any = None) -> None:
        self.scope = Scope(label, owner)

    def __enter__(self) -> Scope:
        global current
        self._prev = current
        current = (self.scope,) if current is None else current + (self.scope,)
        return self.scope

    def __exit__(self, *exc: object) -> None:
        global current
        current = self._prev
