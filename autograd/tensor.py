"""Tensor: a numpy array that remembers the op that made it.

A Tensor holds its values in ``.data`` (a numpy array), and, when it requires
grad and was computed by an op, that op's node in ``.grad_fn``. ``backward()``
walks those nodes in reverse topological order (``engine.py``) and accumulates
``.grad`` into the leaves. Every operator and method below delegates to the op
table in ``gradkit.autograd.ops``, where each op is one ``Function`` subclass.

In-place safety (PyTorch's version counters): in-place ops (``+=``, ``t[i] = v``,
``zero_()``, ...) bump a counter shared by a tensor, its views and its detached
copies, and a node whose saved values changed refuses to backward. Writing into
``.data`` (or an array from ``from_numpy``) bypasses the counter: it is the escape
hatch optimizers use on leaves, and after a forward it silently changes what
backward sees. ``.numpy()`` therefore returns a read-only view.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence, Union

import numpy as np

from gradkit.autograd import dtypes, grad_mode

TensorLike = Union["Tensor", np.ndarray, float, int, bool, Sequence]
_new = object.__new__  # Tensor._make's allocator, looked up once


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert ``data`` to a fresh numpy array following the dtype rules of API.md."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.array(data)  # numpy values keep their dtype
    arr = np.array(data)
    if arr.dtype.kind == "f":  # Python floats become the default dtype
        arr = arr.astype(dtypes.get_default_dtype(), copy=False)
    elif arr.dtype.kind not in "biuf":
        raise TypeError(f"cannot make a Tensor from {type(data).__name__} (numpy dtype {arr.dtype})")
    return arr


class RemovableHandle:
    """Returned by ``register_hook`` (and a Module's ``register_forward_hook``): ``remove()`` unregisters
    the hook; as a context manager, the hook is removed when the block ends."""

    __slots__ = ("_hooks", "_fn")

    def __init__(self, hooks: list, fn: Callable) -> None:
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Args:
        data: array-like values; Python floats become the default dtype (float32),
            numpy arrays keep their dtype. The values are copied.
        requires_grad: record ops on this tensor so ``backward()`` fills ``.grad``.
            Only floating point tensors can require gradients.
        dtype: numpy dtype to convert to.
        name: label used by ``draw_graph`` and in error messages.

    Example:
        >>> import gradkit as gk
        >>> x, y, z = (gk.tensor(v, requires_grad=True) for v in (1.0, -3.0, 4.0))
        >>> f = (x + y) * z
        >>> f.backward()
        >>> x.grad.item(), y.grad.item(), z.grad.item()
        (4.0, 4.0, -2.0)
    """

    # Every tensor sets the three slots; the attributes below are class-level defaults that an
    # instance overrides (in its __dict__, made on first write) only when it gets a gradient, a
    # name, an in-place write or a view, or hooks: most op outputs never do, so making one is cheap.
    __slots__ = ("data", "_requires_grad", "grad_fn", "__dict__", "__weakref__")
    grad: "Tensor | None" = None
    name: str | None = None
    _vc: list | None = None  # version counter, shared with views (see ``_version``)
    _view_of: "Tensor | None" = None  # the tensor whose array this one's is a view of (see views.py)
    _views: Any = None  # WeakSet of the views made of this tensor in grad mode (see views.py)
    _view_creator: Any = None  # the node that made this view from _view_of, when recorded (see views.py)
    _retains_grad = False
    _hooks: list | None = None
    __array_ufunc__ = None  # numpy defers to Tensor's reflected operators: ``ndarray * Tensor`` -> Tensor

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> None:
        self.data = _to_array(data, dtype)
        self.grad_fn = None
        if name is not None:
            self.name = name
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _make(data: np.ndarray, requires_grad: bool = False) -> "Tensor":
        """Wrap an array without copying or checks (the ops' fast path; a staticmethod and
        ``object.__new__``: no class binding or lookup, ~15% of the cost of making a tensor)."""
        t = _new(Tensor)
        if type(data) is not np.ndarray:  # numpy returns scalars from 0-d arithmetic
            data = np.asarray(data)
        t.data = data
        t._requires_grad = requires_grad
        t.grad_fn = None
        return t

    # ------------------------------------------------------------------ attributes
    @property
    def _version(self) -> int:
        """In-place write counter, shared with ``detach()``-ed tensors and views of the same array (PyTorch's)."""
        vc = self._vc
        return 0 if vc is None else vc[0]

    @_version.setter
    def _version(self, value: int) -> None:
        self._version_counter()[0] = value

    def _version_counter(self) -> list:
        """The one-element list holding the version, made on first need (most tensors are never written)."""
        if self._vc is None:
            self._vc = [0]
        return self._vc

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.data.dtype.kind != "f":
            raise RuntimeError(
                f"only floating point tensors can require gradients (got dtype {self.data.dtype})")
        if not value and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf tensors; use detach() instead")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (their ``.grad`` is filled by backward)."""
        return self.grad_fn is None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        """Number of elements (numpy's ``size``; ``numel()`` is the PyTorch spelling)."""
        return self.data.size

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    @property
    def T(self) -> "Tensor":
        """All dimensions reversed (the transpose of a matrix)."""
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self) -> "Tensor":
        """The last two dimensions swapped (batched matrix transpose)."""
        return self.transpose(-2, -1)

    def numpy(self) -> np.ndarray:
        """Return a read-only view of the values (write through ``.data`` or in-place ops instead).

        Read-only so that a write cannot silently invalidate values saved for backward.
        """
        view = self.data.view()
        view.flags.writeable = False
        return view

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"a Tensor with {self.data.size} elements cannot be converted to a Python scalar")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> "Tensor":
        """A tensor sharing the values (and the in-place version counter), cut from the graph.

        No gradient flows through it; an in-place write to it still makes a node
        that saved the original refuse to backward, as the values it saved changed.
        """
        t = Tensor._make(self.data)
        t._vc = self._version_counter()
        return t

    def to(self, dtype: Any) -> "Tensor":
        """Differentiable dtype conversion (a copy; self when the dtype already matches)."""
        return ops.cast(self, dtype)

    astype = to

    def float(self) -> "Tensor":
        return ops.cast(self, np.float32)

    def double(self) -> "Tensor":
        return ops.cast(self, np.float64)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, prefix="tensor(")
        extra = ""
        if self.data.dtype != dtypes.get_default_dtype() and self.data.dtype.kind == "f" or self.data.dtype.kind != "f":
            extra += f", dtype={self.data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{type(self.grad_fn).__name__}>"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        if self.name:
            extra += f", name={self.name!r}"
        return f"tensor({body}{extra})"

    # Identity hashing, so tensors key dicts (optimizer state) although == is elementwise.
    __hash__ = object.__hash__

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.data.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient: TensorLike | None = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        Args:
            gradient: d(loss)/d(self), required unless self is a scalar (then 1).
            retain_graph: keep the saved buffers so backward can run again.
            create_graph: record the backward pass, for higher-order gradients.

        Raises:
            RuntimeError: self does not require grad, is not a scalar and no gradient
                was given, or the graph was already freed by an earlier backward.
        """
        engine.backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph)

    def register_hook(self, hook: Callable[["Tensor"], "Tensor | None"]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        if self.grad_fn is not None:
            self.grad_fn._watch(self)
        return RemovableHandle(self._hooks, hook)

    def retain_grad(self) -> None:
        """Make backward fill ``.grad`` of this non-leaf tensor too."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
        self._retains_grad = True
        if self.grad_fn is not None:
            self.grad_fn._watch(self)

    # ------------------------------------------------------------------ in place
    def _check_inplace(self) -> None:
        """Refuse in-place writes that the graph could not follow: into a leaf that requires grad
        (or a view of one), or into a view made under ``no_grad`` of a tensor in a graph; and writes into
        read-only memory, with a message that says why it is read-only."""
        if not self.data.flags.writeable:
            raise RuntimeError(
                f"cannot write in place into a tensor of shape {tuple(self.shape)} whose array is read-only: an "
                "expand()ed view (more than one element refers to a single memory location) or a read-only numpy "
                "array; clone() it first")
        if not grad_mode._enabled:
            return
        t = self
        while t is not None:
            if t._requires_grad and t.grad_fn is None:
                what = "a leaf tensor" if t is self else "a view of a leaf tensor"
                raise RuntimeError(
                    f"{what}{f' {t.name!r}' if t.name else ''} that requires grad is being used in an "
                    "in-place operation; wrap the update in `with no_grad():`")
            if t._requires_grad and not self._requires_grad:
                raise RuntimeError(
                    f"a view made under no_grad of a tensor of shape {tuple(t.shape)} that requires grad is "
                    "being modified in place with grad mode on: the tensor's graph cannot see the write; make "
                    "the view with grad mode on, or write under no_grad")
            t = t._view_of

    def _inplace(self, op: Callable[[Any, Any], "Tensor"], other: Any) -> "Tensor":
        """``self = op(self, other)`` writing into self's array (PyTorch's in-place semantics).

        The version counter goes up, so a node that saved this tensor refuses to
        backward with the new values; when recorded, self becomes the op's output.
        """
        self._check_inplace()
        out = op(self, other)
        if out.data.shape != self.data.shape:
            raise RuntimeError(f"output with shape {self.data.shape} doesn't match the broadcast shape "
                               f"{out.data.shape}")
        node = out.grad_fn
        if node is not None:
            # self becomes the node's output, so the node refers to self's old values through a copy:
            # as an input, self would form a self <-> node cycle (freed only by gc), and as a saved
            # tensor it would hold the new values (``b *= w`` needs the old b for dw)
            old = Tensor._make(self.data.copy(), self._requires_grad)
            old.grad_fn = self.grad_fn
            node.inputs = tuple(old if a is self else a for a in node.inputs)
            if node._saved is not None and any(t is self for t in node._saved):
                versions = node._saved_versions or (0,) * len(node._saved)
                node._saved_versions = tuple(0 if t is self else v for t, v in zip(node._saved, versions))
                node._saved = tuple(old if t is self else t for t in node._saved)
        self.data[...] = out.data
        self._version += 1
        if node is not None:
            self._become_output(node)
            if self._view_of is not None:  # the tensors this one is a view of changed too
                views.write_through(self)
        return self

    def _become_output(self, node: Any) -> None:
        """Rebase: self (whose array already holds the values) now stands for ``node``'s output."""
        node._rebase_output(self)
        self.grad_fn = node
        if self._hooks or self._retains_grad:
            node._watch(self)
        self._requires_grad = True

    def __iadd__(self, other: Any) -> "Tensor":
        return self._inplace(ops.add, other)

    def __isub__(self, other: Any) -> "Tensor":
        return self._inplace(ops.sub, other)

    def __imul__(self, other: Any) -> "Tensor":
        return self._inplace(ops.mul, other)

    def __itruediv__(self, other: Any) -> "Tensor":
        return self._inplace(ops.div, other)

    def zero_(self) -> "Tensor":
        """Fill with zeros in place."""
        return self.fill_(0)

    def fill_(self, value: float) -> "Tensor":
        """Fill with ``value`` in place (recorded like ``self[...] = value``: no gradient reaches the old values)."""
        self[...] = value
        return self

    def copy_(self, src: TensorLike) -> "Tensor":
        """Copy values from ``src`` (broadcast, cast to self's dtype) in place; recorded like ``self[...] = src``."""
        self[...] = src
        return self

    def __setitem__(self, index: Any, value: TensorLike) -> None:
        """``self[index] = value`` in place; in a graph, recorded as ``index_put`` (PyTorch's semantics)."""
        if self.grad_fn is not None or (isinstance(value, Tensor) and value._requires_grad and grad_mode._enabled):
            self._inplace(lambda t, v: ops.index_put(t, index, v), value)  # (checks, as every in-place op)
            return
        self._check_inplace()
        self.data[ops.indexing.to_index(index)] = value.data if isinstance(value, Tensor) else value
        self._version += 1

    # ------------------------------------------------------------------ operators (op table: ops/__init__.py)
    # + - * / @, unary minus and the common elementwise methods (exp log sqrt tanh sigmoid relu) are
    # the op functions themselves, set at the end of this file: ``a * b`` calls ``ops.mul(a, b)``
    # with no method call in between (the hottest path of every forward).
    def __radd__(self, other: Any) -> "Tensor":
        return ops.add(other, self)

    def __rsub__(self, other: Any) -> "Tensor":
        return ops.sub(other, self)

    def __rmul__(self, other: Any) -> "Tensor":
        return ops.mul(other, self)

    def __rtruediv__(self, other: Any) -> "Tensor":
        return ops.div(other, self)

    def __pow__(self, other: Any) -> "Tensor":
        return ops.pow(self, other)

    def __rpow__(self, other: Any) -> "Tensor":
        return ops.pow(other, self)

    def __rmatmul__(self, other: Any) -> "Tensor":
        return ops.matmul(other, self)

    def __pos__(self) -> "Tensor":
        return self

    def __abs__(self) -> "Tensor":
        return ops.abs(self)

    def __getitem__(self, index: Any) -> "Tensor":
        return ops.getitem(self, index)

    # comparisons carry no gradient
    def __lt__(self, other: Any) -> "Tensor":
        return ops.compare(np.less, self, other)

    def __le__(self, other: Any) -> "Tensor":
        return ops.compare(np.less_equal, self, other)

    def __gt__(self, other: Any) -> "Tensor":
        return ops.compare(np.greater, self, other)

    def __ge__(self, other: Any) -> "Tensor":
        return ops.compare(np.greater_equal, self, other)

    def __eq__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return ops.compare(np.equal, self, other)

    def __ne__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return ops.compare(np.not_equal, self, other)

    # ------------------------------------------------------------------ methods (op table: ops/__init__.py)
    def sin(self) -> "Tensor":
        return ops.sin(self)

    def cos(self) -> "Tensor":
        return ops.cos(self)

    def abs(self) -> "Tensor":
        return ops.abs(self)

    def sign(self) -> "Tensor":
        return ops.sign(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> "Tensor":
        return ops.clamp(self, min, max)

    clip = clamp

    def pow(self, exponent: Any) -> "Tensor":
        return ops.pow(self, exponent)

    def matmul(self, other: Any) -> "Tensor":
        return ops.matmul(self, other)

    def sum(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> "Tensor":
        return ops.sum(self, dim, keepdim, axis=axis)

    def mean(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> "Tensor":
        return ops.mean(self, dim, keepdim, axis=axis)

    def var(self, dim: Any = None, keepdim: bool = False, *, correction: int = 1, unbiased: bool | None = None,
            axis: Any = None) -> "Tensor":
        return ops.var(self, dim, keepdim, correction=correction, unbiased=unbiased, axis=axis)

    def std(self, dim: Any = None, keepdim: bool = False, *, correction: int = 1, unbiased: bool | None = None,
            axis: Any = None) -> "Tensor":
        return ops.std(self, dim, keepdim, correction=correction, unbiased=unbiased, axis=axis)

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> "Tensor":
        return ops.max(self, dim, keepdim, axis=axis)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> "Tensor":
        return ops.min(self, dim, keepdim, axis=axis)

    def argmax(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None) -> "Tensor":
        return ops.argmax(self, dim, keepdim, axis=axis)

    def argmin(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None) -> "Tensor":
        return ops.argmin(self, dim, keepdim, axis=axis)

    def logsumexp(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> "Tensor":
        return ops.logsumexp(self, dim, keepdim, axis=axis)

    def softmax(self, dim: int = -1) -> "Tensor":
        return ops.softmax(self, dim)

    def log_softmax(self, dim: int = -1) -> "Tensor":
        return ops.log_softmax(self, dim)

    def all(self) -> bool:
        return bool(self.data.all())

    def any(self) -> bool:
        return bool(self.data.any())

    def reshape(self, *shape: Any) -> "Tensor":
        return ops.reshape(self, *shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        return ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        return ops.transpose(self, dim0, dim1)

    def permute(self, *dims: Any) -> "Tensor":
        return ops.permute(self, *dims)

    def squeeze(self, dim: int | None = None) -> "Tensor":
        return ops.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> "Tensor":
        return ops.unsqueeze(self, dim)

    def expand(self, *shape: Any) -> "Tensor":
        return ops.expand(self, *shape)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> Tensor:
    """Make a Tensor (a copy of ``data``); same arguments as :class:`Tensor`.

    Example:
        >>> import gradkit as gk
        >>> gk.tensor([1.0, 2.0]).dtype
        dtype('float32')
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap ``array`` without copying (changes to one show in the other).

    Example:
        >>> import numpy as np, gradkit as gk
        >>> a = np.zeros(2); t = gk.autograd.from_numpy(a); a[0] = 5
        >>> t.tolist()
        [5.0, 0.0]
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array)


# The op table and the engine import Tensor: bind them after the class (tinygrad's mlops pattern).
from gradkit.autograd import engine, ops, views  # noqa: E402

Tensor.__add__, Tensor.__sub__, Tensor.__mul__, Tensor.__truediv__ = ops.add, ops.sub, ops.mul, ops.div
Tensor.__matmul__, Tensor.__neg__ = ops.matmul, ops.neg
Tensor.exp, Tensor.log, Tensor.sqrt, Tensor.tanh, Tensor.sigmoid, Tensor.relu = (
    ops.exp, ops.log, ops.sqrt, ops.tanh, ops.sigmoid, ops.relu)
