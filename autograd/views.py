"""In-place writes through views: the base's graph sees the write (PyTorch's ``CopySlices``).

A view (``b[0:2]``, ``b.T``, ``b.reshape(3, 1)``) shares its base's memory, so ``v += w``
changes ``b`` as well. ``Function.apply`` records the tensor a view's array came from
(``view._view_of``); after a recorded in-place op on a view, :func:`write_through` gives the
base a node of its own::

    b_new = b_old with the view's elements replaced by v_new      (index_put at their positions)

and repeats for the base's base. Gradients reaching ``b`` afterwards flow to ``v_new`` (so
to ``w`` and ``v_old``), and the overwritten elements send nothing to ``b_old``. The base's
other views made in grad mode (``_views``, weakly held) are re-derived from ``b_new``, as their
values may have changed too. The view's elements are found in the base by their memory
addresses, so every strided view works.

Example:
    >>> import gradkit as gk
    >>> x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> b = x * 1
    >>> v = b[:2]
    >>> v *= 10
    >>> b.sum().backward()
    >>> x.grad.tolist()
    [10.0, 10.0, 1.0]
"""
from __future__ import annotations

import numpy as np

from gradkit.autograd import ops
from gradkit.autograd.tensor import Tensor


def _addresses(a: np.ndarray) -> np.ndarray:
    """The memory address of every element of ``a``, in ``a``'s shape."""
    addr = np.full(a.shape, a.__array_interface__["data"][0], dtype=np.int64)
    for axis, (n, stride) in enumerate(zip(a.shape, a.strides)):
        addr += (np.arange(n, dtype=np.int64) * stride).reshape((n,) + (1,) * (a.ndim - axis - 1))
    return addr


def flat_positions(view: np.ndarray, base: np.ndarray) -> np.ndarray:
    """C-order positions in ``base`` of ``view``'s elements, in ``view``'s C order.

    ``view``'s memory must lie within ``base``'s (a view made from it).

    Example:
        >>> b = np.arange(6.0).reshape(2, 3)
        >>> flat_positions(b[:, 1:].T, b).tolist()
        [1, 4, 2, 5]
    """
    base_addr = _addresses(base).reshape(-1)
    order = np.argsort(base_addr, kind="stable")
    sorted_addr = base_addr[order]
    view_addr = _addresses(view).reshape(-1)
    found = np.minimum(np.searchsorted(sorted_addr, view_addr), max(sorted_addr.size - 1, 0))
    if view_addr.size and (not sorted_addr.size or not np.array_equal(sorted_addr[found], view_addr)):
        raise RuntimeError(f"an array of shape {view.shape} said to be a view of one of shape {base.shape} "
                           "has elements outside it")
    return order[found]


def _stand_in(t: Tensor) -> Tensor:
    """A tensor for ``t``'s current node and values: what the new base node takes as an input
    (``t`` itself would make a reference cycle through ``_view_of``)."""
    s = Tensor._make(t.data, t._requires_grad)
    s.grad_fn = t.grad_fn
    return s


def _unhook(view: Tensor, base: Tensor, old: Tensor) -> None:
    """The node that made ``view`` takes ``base`` as an input; ``base`` is about to stand for a node
    downstream of it, so that node takes ``old`` (``base`` as it is now) instead: no reference cycle."""
    creator = view._view_creator
    if creator is not None and creator.inputs is not None:
        creator.inputs = tuple(old if t is base else t for t in creator.inputs)


def write_through(view: Tensor) -> None:
    """After a recorded in-place op on ``view``, rebase each tensor it is a view of onto a node that
    takes the view's new values at the view's positions, and re-derive their other views from it
    (see the module docstring)."""
    base = view._view_of
    while base is not None:
        old = _stand_in(base)
        _unhook(view, base, old)
        positions = flat_positions(view.data, base.data)
        flat = ops.index_put(old.reshape(-1), positions, _stand_in(view).reshape(-1))
        base._become_output(flat.reshape(base.data.shape).grad_fn)
        _refresh_views(base, skip=view)
        view, base = base, base._view_of


def _refresh_views(base: Tensor, skip: Tensor | None) -> None:
    """Make every view of ``base`` (but ``skip``), and theirs, read from ``base``'s current node: their
    values may have changed with it (``v2 = b[1:3]`` after ``b[0:2] *= w``)."""
    flat = None  # base's values as one flat tensor, made once for all its views
    for view in list(base._views or ()):
        if view is skip:
            continue
        if flat is None:
            flat = _stand_in(base).reshape(-1)
        positions = flat_positions(view.data, base.data)
        view._become_output(flat[positions].reshape(view.data.shape).grad_fn)
        _refresh_views(view, None)
