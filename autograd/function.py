"""Function: the base of every op, built-in or user-written.

A Function subclass pairs ``forward`` (numpy in, numpy out) with ``backward``
(gradkit ops, so a backward can itself be differentiated). ``apply`` runs
forward and, when an input requires grad, makes the instance a node of the
graph: it keeps its inputs, its parents (the nodes or leaves the gradients go
to) and what forward saved. A backward that reads ``ctx.output`` needs
``keeps_output = True`` on its class: only such nodes (and nodes whose output
has hooks, retains its grad or is an input of ``grad()``) refer to their output.

Example (a custom op):
    >>> import gradkit as gk
    >>> from gradkit.autograd import Function
    >>> class Cube(Function):
    ...     '''y = x**3;  dy/dx = 3 x**2.'''
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x.data ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         x, = ctx.saved_tensors
    ...         return grad * 3 * x ** 2
    >>> x = gk.tensor(2.0, requires_grad=True)
    >>> Cube.apply(x).backward()
    >>> x.grad.item()
    12.0
"""
from __future__ import annotations

import traceback
import weakref
from typing import Any

import numpy as np

from gradkit.autograd import anomaly, grad_mode, scope
from gradkit.autograd.tensor import Tensor


_NOTHING_NEEDED = [(False,) * n for n in range(8)]  # needs_input_grad of unrecorded calls, made once
_PAIRS = (((False, False), (False, True)), ((True, False), (True, True)))  # ... of binary ops: _PAIRS[a][b]
_ONE = (True,)  # ... of a recorded unary op


class Function:
    """Base class of graph nodes; subclass with ``forward`` and ``backward`` staticmethods.

    ``forward(ctx, *args)`` receives the arguments as given to ``apply`` (Tensors
    stay Tensors) and returns a numpy array. ``backward(ctx, grad)`` receives the
    gradient of the output as a Tensor and returns one gradient (Tensor or None)
    per forward argument; a gradient may have the broadcast shape, the engine sums
    it back to the input's shape.
    """

    __slots__ = ("inputs", "parents", "needs_input_grad", "_saved", "_saved_versions", "_out", "_released",
                 "scope", "__dict__", "__weakref__")
    # Rarely set state: class defaults, overridden in the instance's __dict__ when set.
    _out_version = 0  # the output's version when it became the output (see _rebase_output)
    _trace = None     # the creation stack, recorded in anomaly mode

    #: True for ops whose ``backward`` reads ``ctx.output``: only their nodes keep a weak reference
    #: to the output tensor. (A weak reference per node costs its creation, one more object for the
    #: cyclic GC to walk in a big graph, and work when the tensor dies.)
    keeps_output = False

    #: True for ops whose ``backward`` computes every gradient into a new array that nothing else
    #: keeps (``grad * y``), as opposed to passing ``grad`` itself on (``Add``) or returning a cached
    #: array. The engine then makes such an array a leaf's ``.grad`` without copying it.
    fresh_gradients = False

    # True (set on the instance) once the output has hooks, retains its gradient or is an input of
    # ``grad()``: only then does the engine look the output tensor up while walking.
    _watched = False

    @staticmethod
    def forward(ctx: "Function", *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError("Function subclasses must implement forward(ctx, *args)")

    @staticmethod
    def backward(ctx: "Function", *grad_outputs: Tensor) -> Any:
        raise NotImplementedError("Function subclasses must implement backward(ctx, grad)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        """Run forward; record the node when grad mode is on and an input requires grad."""
        node = cls.__new__(cls)
        parents = None
        if grad_mode._enabled:
            # one pass over the arguments (the hottest loop of the forward): which inputs need a
            # gradient, and where each one's gradient goes (its node, or the leaf itself)
            n_args = len(args)
            if n_args == 2:  # binary ops, the most common case, without building tuples up
                a, b = args
                need_a = isinstance(a, Tensor) and a._requires_grad
                need_b = isinstance(b, Tensor) and b._requires_grad
                needs = _PAIRS[need_a][need_b]
                if need_a or need_b:
                    parents = ((a.grad_fn or a) if need_a else None, (b.grad_fn or b) if need_b else None)
            elif n_args == 1:  # unary ops
                a = args[0]
                if isinstance(a, Tensor) and a._requires_grad:
                    needs, parents = _ONE, (a.grad_fn or a,)
                else:
                    needs = _NOTHING_NEEDED[1]
            elif n_args == 3:  # Linear (x, weight, bias), where, clamp
                a, b, c = args
                need_a = isinstance(a, Tensor) and a._requires_grad
                need_b = isinstance(b, Tensor) and b._requires_grad
                need_c = isinstance(c, Tensor) and c._requires_grad
                if need_a or need_b or need_c:
                    needs = (need_a, need_b, need_c)
                    parents = ((a.grad_fn or a) if need_a else None, (b.grad_fn or b) if need_b else None,
                               (c.grad_fn or c) if need_c else None)
                else:
                    needs = _NOTHING_NEEDED[3]
            else:
                needs = parents = ()
                for a in args:
                    if isinstance(a, Tensor) and a._requires_grad:
                        parents += (a.grad_fn or a,)
                        needs += (True,)
                    else:
                        parents += (None,)
                        needs += (False,)
                if True not in needs:
                    parents = None
        else:
            needs = _NOTHING_NEEDED[len(args)] if len(args) < 8 else (False,) * len(args)
        node.needs_input_grad = needs
        node._saved = None
        node._released = False
        if anomaly._enabled:
            node._trace = traceback.extract_stack()[:-2]
        data = cls.forward(node, *args, **kwargs)
        out = Tensor._make(data, parents is not None)
        base = out.data.base
        if base is not None:  # a view (indexing, reshape, transpose): see _note_view
            for a in args:
                if isinstance(a, Tensor) and (base is a.data or base is a.data.base):
                    _note_view(out, a, node if parents is not None else None)
                    break
        if parents is not None:
            node.inputs = args
            node.parents = parents
            node._out = weakref.ref(out) if cls.keeps_output else None
            node.scope = scope.current  # the module calls this op ran inside (for drawing)
            out.grad_fn = node
        if node._trace is not None:
            anomaly.check_forward(node, args, out.data)
        return out

    # ------------------------------------------------------------------ ctx API
    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors for backward; an in-place change to one of them makes backward raise."""
        if True not in self.needs_input_grad:  # not recorded (no_grad, or inside a backward): nothing to keep
            return
        self._saved = tensors
        versions = None  # None: every saved tensor is at version 0 (no in-place write yet, the usual case)
        for t in tensors:
            if t is not None and t._vc is not None:
                versions = tuple([0 if t is None else t._version for t in tensors])
                break
        self._saved_versions = versions

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``, checked against in-place changes."""
        if self._released:
            raise_released(self)
        if self._saved is None:
            return ()
        versions = self._saved_versions
        for i, t in enumerate(self._saved):
            if t is not None and t._vc is not None:
                version = 0 if versions is None else versions[i]
                if t._vc[0] != version:
                    raise_modified(self, t, f"saved tensor {i}", version)
        return self._saved

    @property
    def output(self) -> Tensor:
        """This node's output tensor (held weakly, so node and output form no cycle; needs ``keeps_output``)."""
        if self._released:
            raise_released(self)
        if not self.keeps_output:  # (a watched node refers to its output too, but only the flag promises it)
            raise RuntimeError(f"{self.name}: ctx.output is kept only for Functions whose class sets "
                               "keeps_output = True (set it on the Function whose backward reads ctx.output)")
        out = self._out()
        if out is None:
            raise RuntimeError(f"{type(self).__name__}: its output tensor no longer exists")
        if out._version != self._out_version:
            raise_modified(self, out, "its output", self._out_version)
        return out

    def _watch(self, tensor: Tensor) -> None:
        """Have the engine look up ``tensor``, this node's output, when the node runs (its hooks,
        ``retain_grad``, or an input of ``grad()``)."""
        self._watched = True
        if self._out is None:
            self._out = weakref.ref(tensor)

    def _rebase_output(self, tensor: Tensor) -> None:
        """Make ``tensor`` this node's output (in-place ops write their result into an existing tensor)."""
        self._out = weakref.ref(tensor)
        self._out_version = tensor._version

    def _release(self) -> None:
        """Drop what forward saved and the inputs: backward without retain_graph frees the graph's arrays."""
        self._released = True
        self._saved = None
        self.inputs = None
        d = self.__dict__
        if d:  # arrays some ops keep as attributes (masks, indices)
            for key in [k for k, v in d.items() if isinstance(v, np.ndarray)]:
                del d[key]

    @property
    def name(self) -> str:
        """The op's name as drawn and reported (class name)."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name} node>"


def _note_view(view: Tensor, base: Tensor, creator: Function | None) -> None:
    """``view``'s array is a view of ``base``'s: they share the version counter (an in-place write
    through either is seen by nodes that saved the other), and, in grad mode, an in-place write
    through one reaches the other's graph (``views.py``; ``creator``, the recorded node that made
    the view, is where that write unhooks ``base``)."""
    view._vc = base._version_counter()
    view._view_of = base
    if creator is not None:
        view._view_creator = creator
    if grad_mode._enabled:
        if base._views is None:
            base._views = weakref.WeakSet()
        base._views.add(view)


def formula(fn: Any, a: Tensor, b: Tensor) -> Tensor:
    """``fn(a, b)``: a backward formula written with operators numpy and gradkit share.

    With no graph to record -- grad mode off, as in every backward pass without
    ``create_graph``, and anomaly mode off -- it runs on the arrays (one numpy
    expression, one Tensor made); otherwise on the tensors, recorded for the next order.

    Example (Tanh's backward):
        >>> import gradkit as gk
        >>> g, y = gk.tensor([1.0, 2.0]), gk.tensor([0.5, 0.0])
        >>> formula(lambda g, y: g * (1 - y * y), g, y).tolist()
        [0.75, 2.0]
    """
    if grad_mode._enabled or anomaly._enabled:
        return fn(a, b)
    return Tensor._make(fn(a.data, b.data))


def raise_released(node: Function) -> None:
    raise RuntimeError(
        f"Trying to backward through the graph a second time (through {node.name}), or to directly access "
        "saved tensors after they have already been freed. Saved intermediate values of the graph are freed "
        "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
        "through the graph a second time or if you need to access saved tensors after calling backward.")


def raise_modified(node: Function, t: Tensor, what: str, version: int) -> None:
    label = f" {t.name!r}" if t.name else ""
    raise RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"{what} of {node.name}, a tensor{label} of shape {tuple(t.shape)}, is at version {t._version}; "
        f"expected version {version} instead. Compute the in-place change on a copy (or before the op).")
