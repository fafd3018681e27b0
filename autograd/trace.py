"""Backward replay: watch the chain rule run, node by node, in the engine's order.

``trace_backward(loss)`` runs the engine's own walk (``engine.run_backward``
with an observer, writing nothing) and records, for every node, the upstream
gradient, the gradient sent to each input and, for elementwise ops, the local
derivative. The result prints as a table and draws one frame per step (the
drawing of ``draw.py`` with the current node highlighted and the gradients
sent so far on the edges).

Example:
    >>> import gradkit as gk
    >>> from gradkit.autograd.trace import trace_backward
    >>> x = gk.tensor(2.0, requires_grad=True, name="x")
    >>> t = trace_backward(x * x + x)
    >>> [s.op for s in t.steps], t.leaf_grads["x"].item()
    (['Add', 'Mul'], 5.0)
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from gradkit.autograd import engine
from gradkit.autograd.draw import (DEFAULT_MAX_NODES, _check_options, _check_outputs, _Decor, _drawing_class,
                                   _dot_lines, _Model, _names_of, _walk, format_array)
from gradkit.autograd.function import Function
from gradkit.autograd.tensor import Tensor

ELEMENTWISE_OPS = frozenset({"Add", "Sub", "Mul", "Div", "Neg", "Pow", "Exp", "Log", "Sqrt", "Sin", "Cos", "Tanh",
                             "Sigmoid", "Relu", "Abs", "Clamp", "Maximum", "Minimum", "Where", "Cast"})


class TraceSend:
    """One gradient sent by a backward step: to which input, how much, and the local derivative."""

    __slots__ = ("arg", "grad", "local", "source", "target")

    def __init__(self, arg: int, target: str, source: int, grad: np.ndarray | None,
                 local: np.ndarray | None) -> None:
        self.arg = arg            # the forward argument's position
        self.target = target      # label of the input (parameter name or '[n3] Add')
        self.source = source      # item index of the input in the drawing (-1 beyond max_nodes)
        self.grad = grad          # gradient sent, summed to the input's shape (None: nothing sent)
        self.local = local        # d output / d input elementwise (elementwise ops only), else None

    def __repr__(self) -> str:
        return f"TraceSend(to={self.target!r}, grad={None if self.grad is None else format_array(self.grad)})"


class TraceStep:
    """One node run by the backward engine: its upstream gradient and what it sent to each input."""

    __slots__ = ("item", "node", "op", "sends", "step", "upstream")

    def __init__(self, step: int, item: int, node: str, op: str, upstream: np.ndarray | None) -> None:
        self.step = step          # 1-based position in the engine's order
        self.item = item          # item index in the drawing (-1 beyond max_nodes)
        self.node = node          # label, e.g. '[n1] Add'
        self.op = op
        self.upstream = upstream  # d(output of the trace)/d(this node's output); None when nothing reached it
        self.sends: list[TraceSend] = []

    def __repr__(self) -> str:
        upstream = None if self.upstream is None else format_array(self.upstream)
        return f"TraceStep({self.step}, {self.node!r}, upstream={upstream})"


class BackwardTrace:
    """A recorded backward pass: steps in the engine's order, printable as a table, drawable frame by frame.

    Attributes:
        steps: list of :class:`TraceStep`.
        leaf_grads: ``{label: gradient}`` of every leaf reached (the ``.grad`` a backward would add).
    """

    def __init__(self, model: _Model, steps: list[TraceStep], leaf_grads: dict[str, np.ndarray],
                 rankdir: str, modules: str | None) -> None:
        self.steps, self.leaf_grads = steps, leaf_grads
        self._model, self._rankdir = model, rankdir
        self._modules = "cluster" if modules == "collapse" else modules  # frames label edges inside modules

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"<BackwardTrace: {len(self.steps)} steps, leaves {list(self.leaf_grads)}>"

    def __str__(self) -> str:
        return self.table()

    def table(self) -> str:
        """The steps as a text table: node, upstream gradient, and per input the local derivative and grad sent."""
        def fmt(a: np.ndarray | None) -> str:
            return "-" if a is None else " ".join(format_array(a).split())

        rows = [("step", "node", "upstream grad", "input", "local deriv", "grad sent")]
        for s in self.steps:
            head = (str(s.step), s.node, fmt(s.upstream) if s.upstream is not None else "(none reached)")
            if not s.sends:
                rows.append(head + ("", "", ""))
            for j, e in enumerate(s.sends):
                rows.append((head if j == 0 else ("", "", "")) + (e.target, fmt(e.local), fmt(e.grad)))
        widths = [max(len(r[c]) for r in rows) for c in range(6)]
        lines = ["  ".join(r[c].ljust(widths[c]) for c in range(6)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append("")
        lines.append("leaf gradients: " + ", ".join(f"{k}={fmt(v)}" for k, v in self.leaf_grads.items()))
        return "\n".join(lines)

    def frame(self, step: int) -> Any:
        """The drawing at ``step`` (1-based): the current node highlighted, gradients so far on edges and nodes.

        Raises:
            IndexError: step outside 1..len(trace).
        """
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 1 <= step <= len(self.steps):
            raise IndexError(f"step must be an int in 1..{len(self.steps)} (the trace's steps), got {step!r}")
        model = self._model
        decor = _Decor()
        leaf_sum: dict[int, np.ndarray] = {}
        for s in self.steps[:step]:
            now = s.step == step
            if s.item >= 0 and s.upstream is not None:
                decor.lines[s.item] = [f"upstream grad={format_array(s.upstream)}"]
            for e in s.sends:
                if e.grad is None or s.item < 0:
                    continue
                src = model.more if e.source < 0 else e.source
                text = format_array(e.grad)
                if e.local is not None and e.local.size == 1 and s.upstream.size == 1:
                    text = f"{format_array(s.upstream)} × {format_array(e.local)} = {text}"
                decor.edge_labels[(src, s.item, e.arg)] = (text, "#d62728" if now else "#888888")
                if e.source >= 0 and model.items[e.source].kind in ("param", "const"):
                    leaf_sum[e.source] = e.grad if e.source not in leaf_sum else leaf_sum[e.source] + e.grad
        for i, g in leaf_sum.items():
            decor.lines[i] = [f"grad={format_array(g)}"]
        cur = self.steps[step - 1]
        decor.current = cur.item if cur.item >= 0 else None
        up = "nothing reached it" if cur.upstream is None else f"upstream grad {format_array(cur.upstream)}"
        decor.title = f"backward step {step}/{len(self.steps)}: {cur.node} ({up})"
        return _drawing_class()(body=_dot_lines(model, self._rankdir, self._modules, False, decor))

    def frames(self) -> list:
        """One drawing per step (see :meth:`frame`)."""
        return [self.frame(i) for i in range(1, len(self.steps) + 1)]


def _local_derivative(op: str, raw: Tensor, upstream: Tensor) -> np.ndarray | None:
    """gradient sent / upstream for elementwise ops, where defined everywhere (no zero upstream)."""
    if op not in ELEMENTWISE_OPS or raw.data.shape != upstream.data.shape:
        return None
    up = upstream.data.astype(np.float64)
    if not (np.isfinite(up).all() and (up != 0).all()):
        return None
    with np.errstate(all="ignore"):
        return raw.data.astype(np.float64) / up


def trace_backward(output: Tensor, gradient: Any = None, params: Mapping[str, Tensor] | Iterable | None = None,
                   show_data: bool = True, rankdir: str = "TB", modules: str | None = "cluster",
                   max_nodes: int | None = DEFAULT_MAX_NODES) -> BackwardTrace:
    """Replay the backward pass of ``output`` node by node, in the engine's order, recording every gradient.

    Each step is one node: the upstream gradient dL/d(node output), and per
    input the gradient sent (summed to the input's shape) and, for elementwise
    ops, the local derivative (sent / upstream: the chain rule
    ``sent = upstream * local``). The order is the engine's (consumer counting,
    last-ready first). Nothing is changed: no ``.grad`` is written, no buffer
    is freed (tensor hooks are not run), so ``output.backward()`` still works.

    Args:
        output: the tensor to differentiate (a scalar unless ``gradient`` is given).
        gradient: d(loss)/d(output), as for ``Tensor.backward``.
        params, show_data, rankdir, modules, max_nodes: as in :func:`draw_graph`
            (for the frames; "collapse" draws clusters instead).

    Returns:
        BackwardTrace: ``print(trace)`` shows the table; ``trace.frame(k)`` the
        k-th step as a drawing; ``trace.leaf_grads`` the leaves' gradients.

    Raises:
        TypeError: output is not a Tensor.
        RuntimeError: output does not require grad, or an earlier backward freed
            the graph (run the trace first, or backward with retain_graph=True).

    Example:
        >>> import gradkit as gk
        >>> x = gk.tensor(1.0, requires_grad=True, name="x")
        >>> y = gk.tensor(-3.0, requires_grad=True, name="y")
        >>> z = gk.tensor(4.0, requires_grad=True, name="z")
        >>> t = trace_backward((x + y) * z)
        >>> [(s.op, s.upstream.item()) for s in t.steps]
        [('Mul', 1.0), ('Add', 4.0)]
        >>> {k: v.item() for k, v in t.leaf_grads.items()}
        {'z': -2.0, 'x': 4.0, 'y': 4.0}
    """
    _check_outputs((output,))
    _check_options(rankdir, modules, max_nodes)
    if not output._requires_grad:
        raise RuntimeError("trace_backward: the output does not require grad (it was made from tensors without "
                           "requires_grad=True, or under no_grad): there is no backward to trace")
    model, index = _walk((output,), _names_of(params), show_data, False, max_nodes)

    def label(obj: Any) -> tuple[int, str]:
        i = index.get(id(obj), -1)
        if i < 0:
            return -1, obj.name if isinstance(obj, Function) else (obj.name or "tensor")
        item = model.items[i]
        return i, item.title if item.kind != "op" else f"[{item.id}] {item.title}"

    if output.grad_fn is None:  # a leaf: its gradient is the seed
        _, name = label(output)
        seed = engine._seed_gradient(output, gradient)
        return BackwardTrace(model, [], {name or "output": seed.data.copy()}, rankdir, modules)
    for node in engine._order([output.grad_fn]):
        if node._released:
            raise RuntimeError(f"trace_backward needs the graph, but an earlier backward freed it (at "
                               f"{node.name}): trace before calling backward(), or call "
                               "backward(retain_graph=True)")
    steps: list[TraceStep] = []
    leaf_grads: dict[int, np.ndarray] = {}
    leaf_label: dict[int, str] = {}

    def record(node: Function, upstream: Tensor | None, sends: list) -> None:
        i, name = label(node)
        step = TraceStep(len(steps) + 1, i, name, node.name, None if upstream is None else upstream.data.copy())
        steps.append(step)
        for k, parent, raw, sent in sends:
            local = None if raw is None else _local_derivative(node.name, raw, upstream)
            src, target = label(parent)
            step.sends.append(TraceSend(k, target, src, None if sent is None else sent.data.copy(), local))
            if isinstance(parent, Tensor) and sent is not None:
                key = id(parent)
                leaf_grads[key] = sent.data.copy() if key not in leaf_grads else leaf_grads[key] + sent.data
                leaf_label.setdefault(key, target or f"leaf {len(leaf_label)}")

    # the engine's own walk, with nothing written: no .grad, no hooks, no freed buffers
    engine.run_backward((output,), None if gradient is None else (gradient,), retain_graph=True,
                        create_graph=False, observer=record)
    named: dict[str, np.ndarray] = {}
    for key, g in leaf_grads.items():
        name = leaf_label[key]
        named[name if name not in named else f"{name} ({len(named)})"] = g
    return BackwardTrace(model, steps, named, rankdir, modules)
