"""Drawing the compute graph: Graphviz pictures and a text tree (the backward replay is in ``trace.py``).

``draw_graph(*outputs)`` walks the graph behind ``outputs`` iteratively (a
breadth-first walk with a seen set, so a 10**5-op chain needs no recursion)
and returns a ``graphviz.Digraph``. One drawn node per op (its output's
shape, value and gradient are shown on it) and one per leaf tensor; edges run
in data-flow direction, inputs to outputs. Node ids (``n0``, ``n1``, ...) are
assigned in walk order, never from ``id()``, so the same graph always gives
the same DOT text (snapshot tests can compare it byte for byte).

Roles are coloured: leaves that require grad (parameters) light blue boxes,
tensors that do not (data, constants) grey dashed boxes, ops white ellipses,
the outputs green with a double border. A tensor holding NaN or inf (in its
value or gradient) is outlined red. With ``grad_colors`` the fill encodes the
gradient's root-mean-square: blue below 1e-6 (vanishing), orange above 1e3
(exploding). Op nodes made inside ``nn.Module`` calls (``node.scope``) are
boxed per call (``modules="cluster"``) or drawn as one node per call
(``modules="collapse"``).

Only strings are kept: drawing holds no reference to the graph after it
returns and changes no gradient, version or buffer. Graphviz (the Python
package and its ``dot`` program) is needed only to build and render the
Digraph; ``graph_text`` (a text tree, or the DOT source) works without it.

Example:
    >>> import gradkit as gk
    >>> from gradkit.autograd.draw import graph_text
    >>> x = gk.tensor(1.0, requires_grad=True, name="x")
    >>> y = gk.tensor(-3.0, requires_grad=True, name="y")
    >>> z = gk.tensor(4.0, requires_grad=True, name="z")
    >>> f = (x + y) * z
    >>> f.backward(retain_graph=True)  # keeps x + y alive, so its shape can be shown
    >>> print(graph_text(f, show_grad=True))
    [n0] Mul  () float32  (output)
    ├── [n1] Add  () float32
    │   ├── [n3] x  () float32  grad=4.0
    │   └── [n4] y  () float32  grad=4.0
    └── [n2] z  () float32  grad=-2.0
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from gradkit.autograd.function import Function
from gradkit.autograd.tensor import Tensor

DEFAULT_MAX_NODES = 400          # more than this and a picture stops teaching anything
SMALL_ARRAY = 16                 # arrays up to this many elements are printed (abbreviated), larger ones summarised
VANISHING_GRAD = 1e-6            # grad_colors: rms(grad) below this is coloured as vanishing
EXPLODING_GRAD = 1e3             # grad_colors: rms(grad) above this is coloured as exploding
TEXT_DEPTH = 32                  # graph_text indents at most this many levels (deeper lines start with '⋯')
RANKDIRS = ("TB", "LR", "BT", "RL")
MODULE_MODES = (None, "cluster", "collapse")
OP_ATTRIBUTES = ("dims", "dim", "lo", "hi", "index")  # op settings worth showing on the node, if the op has them

FILL = {"op": "white", "param": "#cfe2ff", "const": "#eeeeee", "output": "#c7f0c2", "module": "#fff3cd",
        "more": "white", "vanishing": "#9ecae1", "exploding": "#fdae6b", "current": "#ffd54f"}
SHAPE = {"op": "ellipse", "param": "box", "const": "box", "module": "box3d", "more": "note"}
INSTALL_GRAPHVIZ = ("Install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
                    "`conda install -c conda-forge graphviz`, or the installer from https://graphviz.org/download/ "
                    "(Windows: add its bin folder to PATH)")


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz ``dot`` program (or the ``graphviz`` Python package) is not installed."""


# ---------------------------------------------------------------------------------------------------- formatting
def format_array(a: Any) -> str:
    """A value as shown in a label: scalars in full, small arrays abbreviated, large ones as statistics.

    Example:
        >>> import numpy as np
        >>> format_array(np.float32(0.1)), format_array(np.arange(3.0))
        ('0.1', '[0, 1, 2]')
        >>> format_array(np.arange(100.0))
        'mean=49.5 std=28.87 min=0 max=99'
    """
    a = np.asarray(a)
    if a.size == 1:
        return str(a.reshape(-1)[0])
    if a.size == 0:
        return "[]"
    if a.ndim == 1 and a.size <= SMALL_ARRAY and a.dtype.kind in "biuf":  # fast path (array2string is slow)
        return "[" + ", ".join(format(v, ".4g") if a.dtype.kind == "f" else str(v) for v in a.tolist()) + "]"
    if a.size <= SMALL_ARRAY:
        return np.array2string(a, precision=4, separator=", ", threshold=SMALL_ARRAY, edgeitems=3,
                               max_line_width=60)
    with np.errstate(all="ignore"):
        v = a.astype(np.float64) if a.dtype.kind in "biuf" else a
        finite = np.isfinite(v)
        n_bad = v.size - int(finite.sum())
        note = ""
        if n_bad:
            n_nan = int(np.isnan(v).sum())
            note = ", ".join(s for s in (f"{n_nan} nan" if n_nan else "",
                                         f"{n_bad - n_nan} inf" if n_bad - n_nan else "") if s)
            v = v[finite]
            if v.size == 0:
                return f"all non-finite ({note})"
        stats = f"mean={v.mean():.4g} std={v.std():.4g} min={v.min():.4g} max={v.max():.4g}"
    return f"{stats} ({note})" if note else stats


def _nonfinite(a: np.ndarray | None) -> bool:
    if a is None or a.dtype.kind not in "fc":
        return False
    if a.size == 1 and a.dtype.kind == "f":  # the common case in lecture graphs, without numpy's call overhead
        return not math.isfinite(a.reshape(-1)[0])
    return not np.isfinite(a).all()


_DTYPE_NAMES: dict = {}


def _meta(a: np.ndarray) -> str:
    """'(2, 3) float32' (dtype names cached: numpy's str(dtype) is slow)."""
    name = _DTYPE_NAMES.get(a.dtype)
    if name is None:
        name = _DTYPE_NAMES[a.dtype] = str(a.dtype)
    return f"{a.shape} {name}"


def _rms(a: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        return float(np.sqrt(np.mean(np.square(a.astype(np.float64))))) if a.size else 0.0


_HTML_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;", ord("'"): "&#39;",
                 ord("\n"): "<BR/>", **{c: f"\\x{c:02x}" for c in (*range(32), 127) if c != ord("\n")}}


def _html(text: str) -> str:
    """Escape text for an HTML-like Graphviz label (every metacharacter; newlines become line breaks).

    Example:
        >>> _html('a<b> & "c"')
        'a&lt;b&gt; &amp; &quot;c&quot;'
    """
    return text.translate(_HTML_ESCAPES)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# ---------------------------------------------------------------------------------------------------- graph model
class _Item:
    """One drawn node, as strings only (no reference to the graph survives the walk)."""

    __slots__ = ("attrs", "bad", "data", "grad", "id", "kind", "meta", "output", "rms", "scope", "title")

    def __init__(self, id: str, kind: str, title: str) -> None:
        self.id, self.kind, self.title = id, kind, title
        self.attrs = ""       # op settings, e.g. "dims=(1,)"
        self.meta = ""        # "(2, 3) float32"
        self.data = None      # formatted value (show_data)
        self.grad = None      # formatted gradient (show_grad)
        self.output = False
        self.bad = ""         # "nan/inf in value" etc.
        self.rms = None       # rms of the gradient (grad_colors)
        self.scope: tuple = ()  # ((key, label), ...) outermost first

    def lines(self) -> list[str]:
        out = [x for x in (self.attrs, self.meta) if x]
        if self.data is not None:
            out.append(f"data={self.data}")
        if self.grad is not None:
            out.append(f"grad={self.grad}")
        if self.bad:
            out.append(f"⚠ {self.bad}")
        return out


class _Model:
    """The walked graph: items in walk order and edges (src, dst, argument index), all by item index."""

    def __init__(self) -> None:
        self.items: list[_Item] = []
        self.edges: list[tuple[int, int, int]] = []
        self.hidden = 0          # nodes beyond max_nodes
        self.more: int | None = None  # index of the '… N more nodes' item


def _names_of(params: Any) -> dict[int, str]:
    """``{id(tensor): name}`` from a mapping or an iterable of (name, tensor) pairs."""
    if params is None:
        return {}
    pairs = params.items() if isinstance(params, Mapping) else params
    names: dict[int, str] = {}
    try:
        for entry in pairs:
            name, t = entry
            if not isinstance(t, Tensor):
                raise TypeError(f"params: the entry {name!r} is a {type(t).__name__}, expected a Tensor "
                                "(pass e.g. dict(model.named_parameters()))")
            names[id(t)] = str(name)
    except (TypeError, ValueError) as e:
        if isinstance(e, TypeError) and str(e).startswith("params:"):
            raise
        raise TypeError(f"params must be a mapping name -> Tensor or an iterable of (name, Tensor) pairs, "
                        f"got {type(params).__name__}") from None
    return names


def _check_outputs(outputs: tuple) -> None:
    if not outputs:
        raise ValueError("draw the graph of at least one Tensor: draw_graph(loss) or draw_graph(out1, out2)")
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"outputs must be Tensors, got {type(t).__name__} at position {i}")


def _check_options(rankdir: str, modules: str | None, max_nodes: int | None) -> None:
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    if modules not in MODULE_MODES:
        raise ValueError(f"modules must be one of {MODULE_MODES}, got {modules!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int or None (no limit), got {max_nodes!r}")


def _describe_tensor(item: _Item, t: Tensor, show_data: bool, show_grad: bool) -> None:
    item.meta = _meta(t.data)
    if show_data:
        item.data = format_array(t.data)
    grad = None if t.grad is None else t.grad.data
    if show_grad and (grad is not None or t._requires_grad and t.grad_fn is None):
        item.grad = "None" if grad is None else format_array(grad)
        item.rms = None if grad is None else _rms(grad)
    bad = [w for w, a in (("value", t.data), ("grad", grad)) if _nonfinite(a)]
    if bad:
        item.bad = "nan/inf in " + " and ".join(bad)


def _walk(outputs: tuple, names: dict[int, str], show_data: bool, show_grad: bool,
          max_nodes: int | None) -> tuple[_Model, dict[int, int]]:
    """Breadth-first walk from the outputs; returns the model and ``{id(node or tensor): item index}``."""
    model = _Model()
    index: dict[int, int] = {}   # id(obj) -> item index, or -1 when beyond max_nodes
    keep: list = []              # holds the walked objects while ids are in use (dropped on return)
    objs: list = []              # item index -> walked object (None for the '… more' note)
    scopes: dict[int, tuple] = {}  # item index -> tuple of Scope objects (ops)
    queue: deque = deque()

    def visit(obj: Any, key: Any = None, out: Tensor | None = None) -> int:
        # ``out``: for an op, the tensor that led here (an output given, or a consumer's input), which is
        # its output unless written in place since; an op refers to its output itself only when
        # watched or ``keeps_output``
        key = id(obj) if key is None else key
        got = index.get(key)
        if got is not None:
            return got
        keep.append(obj)
        queue.append(obj)
        if max_nodes is not None and len(model.items) - (model.more is not None) >= max_nodes:
            model.hidden += 1
            index[key] = -1
            return -1
        i = len(model.items)
        index[key] = i
        if isinstance(obj, Function):
            item = _Item(f"n{i}", "op", obj.name)
            settings = obj.__dict__
            if settings:
                item.attrs = " ".join(f"{a}={_short(repr(settings[a]), 40)}" for a in OP_ATTRIBUTES
                                      if settings.get(a) is not None)
            kept = obj._out() if obj._out is not None else None
            out = kept if kept is not None else out
            if out is not None and out.grad_fn is obj:
                name = names.get(id(out)) or out.name
                if name:
                    item.title = f"{_short(name)} = {obj.name}"
                _describe_tensor(item, out, show_data, show_grad)
            if obj.scope:
                scopes[i] = obj.scope
        else:
            kind = "param" if obj._requires_grad else "const"
            name = names.get(id(obj)) or obj.name
            if not name and kind == "const" and obj.data.size == 1:
                name = format_array(obj.data)
            item = _Item(f"n{i}", kind, _short(name or ""))
            _describe_tensor(item, obj, show_data, show_grad)
        model.items.append(item)
        objs.append(obj)
        return i

    for t in outputs:
        i = visit(t.grad_fn if t.grad_fn is not None else t, out=t)
        if i >= 0:
            model.items[i].output = True
    while queue:
        obj = queue.popleft()
        if not isinstance(obj, Function):
            continue
        dst = index[id(obj)]
        inputs = obj.inputs  # None once a backward released the node: constants are then unknown
        for k, p in enumerate(obj.parents):
            key = None
            if p is None:
                if inputs is None or not isinstance(inputs[k], Tensor):
                    continue
                p = inputs[k]
                if p.data.size == 1 and not (names.get(id(p)) or p.name):
                    # an unnamed number is a literal of the formula, drawn beside each op using it
                    # (``y * 2 + x * 2`` shows two 2s even where both ops read one cached constant)
                    key = (id(p), id(obj), k)
            src = visit(p, key, inputs[k] if inputs is not None and isinstance(p, Function) else None)
            if dst >= 0:
                if src < 0:
                    if model.more is None:
                        model.more = len(model.items)
                        model.items.append(_Item("more", "more", ""))
                        objs.append(None)
                    src = model.more
                model.edges.append((src, dst, k))
    if model.more is not None:
        model.items[model.more].title = f"… {model.hidden} more nodes"
        model.items[model.more].meta = f"(max_nodes={max_nodes})"
    _assign_scopes(model, scopes, objs)
    return model, index


def _assign_scopes(model: _Model, scopes: dict[int, tuple], objs: list) -> None:
    """Give ops their scope path, and put each parameter in the innermost module call that owns and alone uses it.

    ``objs[i]`` is the walked object of item ``i`` (alive for the duration of the walk only).
    """
    if not scopes:
        return
    keys: dict[int, int] = {}  # id(Scope) -> stable key (first-seen order)
    for i, path in sorted(scopes.items()):
        model.items[i].scope = tuple((keys.setdefault(id(s), len(keys)), s.label) for s in path)
    consumers: dict[int, list[tuple]] = {}
    for src, dst, _ in model.edges:
        if model.items[src].kind == "param":
            consumers.setdefault(src, []).append(scopes.get(dst, ()))
    owned: dict[int, set] = {}

    def owns(owner: Any, leaf: Tensor) -> bool:
        if owner is None:  # a bare named_scope: it owns the parameters only it uses
            return True
        if id(owner) not in owned:
            try:
                owned[id(owner)] = {id(p) for p in owner.parameters()}
            except (TypeError, AttributeError):  # an owner without a usable parameters(): it owns nothing
                owned[id(owner)] = set()
        return id(leaf) in owned[id(owner)]

    for t_index, paths in consumers.items():
        common = paths[0]
        for p in paths[1:]:
            n = 0
            while n < min(len(common), len(p)) and common[n] is p[n]:
                n += 1
            common = common[:n]
        for depth in range(len(common), 0, -1):
            if owns(common[depth - 1].owner, objs[t_index]):
                model.items[t_index].scope = tuple((keys[id(s)], s.label) for s in common[:depth])
                break


# ---------------------------------------------------------------------------------------------------- DOT text
class _Decor:
    """Frame extras for a backward replay: a highlighted item, extra label lines, edge labels, a title."""

    def __init__(self) -> None:
        self.current: int | None = None
        self.lines: dict[int, list[str]] = {}
        self.edge_labels: dict[tuple[int, int, int], tuple[str, str]] = {}  # edge -> (text, colour)
        self.title = ""


def _collapse(model: _Model) -> tuple[list[tuple[int, _Item]], list[tuple[int, int, int]]]:
    """One node per innermost module call (with the parameters only it uses); other items unchanged."""
    parents = {key for item in model.items for key, _ in item.scope[:-1]}
    group_of: dict[int, int] = {}   # item index -> representative item index
    rep_of_key: dict[int, int] = {}
    members: dict[int, list[_Item]] = {}
    for i, item in enumerate(model.items):
        if item.scope and item.scope[-1][0] not in parents and item.kind in ("op", "param"):
            rep = rep_of_key.setdefault(item.scope[-1][0], i)
            group_of[i] = rep
            members.setdefault(rep, []).append(item)
    nodes: list[tuple[int, _Item]] = []
    for i, item in enumerate(model.items):
        rep = group_of.get(i)
        if rep is None:
            nodes.append((i, item))
        elif rep == i:
            group = members[rep]
            node = _Item(item.id, "module", group[0].scope[-1][1])
            node.scope = group[0].scope[:-1]
            n_ops = sum(m.kind == "op" for m in group)
            node.attrs = f"{n_ops} op{'s' * (n_ops != 1)}"
            node.meta = "\n".join(f"{m.title} {m.meta}".strip() + ("" if m.rms is None else f" rms(grad)={m.rms:.3g}")
                                  for m in group if m.kind == "param")
            node.output = any(m.output for m in group)
            node.bad = next((m.bad for m in group if m.bad), "")
            rms = [m.rms for m in group if m.rms is not None]
            node.rms = max(rms) if rms else None
            nodes.append((i, node))
    edges, seen = [], set()
    for src, dst, k in model.edges:
        s2, d2 = group_of.get(src, src), group_of.get(dst, dst)
        if s2 != d2 and (s2, d2) not in seen:
            seen.add((s2, d2))
            edges.append((s2, d2, k))
    return nodes, edges


def _node_line(item: _Item, grad_colors: bool, extra: list[str], current: bool) -> str:
    parts = ([f"<B>{_html(item.title)}</B>"] if item.title else []) + [_html(x) for x in item.lines() + extra]
    fill = FILL["output"] if item.output else FILL[item.kind]
    if grad_colors and item.rms is not None:
        if item.rms < VANISHING_GRAD:
            fill = FILL["vanishing"]
        elif not item.rms <= EXPLODING_GRAD:  # also NaN
            fill = FILL["exploding"]
    style = "filled,dashed" if item.kind == "const" else "dashed" if item.kind == "more" else "filled"
    attrs = [f"label=<{'<BR/>'.join(parts) or ' '}>", f"shape={SHAPE[item.kind]}", f'style="{style}"',
             f'fillcolor="{FILL["current"] if current else fill}"']
    if item.output:
        attrs.append("peripheries=2")
    if item.bad:
        attrs.append("color=red fontcolor=red penwidth=2")
    elif current:
        attrs.append('color="#d62728" penwidth=3')
    return f"{item.id} [{' '.join(attrs)}]"


def _dot_lines(model: _Model, rankdir: str, modules: str | None, grad_colors: bool,
               decor: _Decor | None = None) -> list[str]:
    """The body of the DOT text, as ``graphviz.Digraph(body=...)`` takes it (tab-indented lines)."""
    if modules == "collapse":
        nodes, edges = _collapse(model)
    else:
        nodes, edges = list(enumerate(model.items)), model.edges
    decor = decor or _Decor()
    graph = [f'rankdir={rankdir} fontname="Helvetica,Arial,sans-serif"']
    notes = [decor.title] if decor.title else []
    if grad_colors:
        notes.append(f"fill: blue = rms(grad) < {VANISHING_GRAD:g} (vanishing), "
                     f"orange = rms(grad) > {EXPLODING_GRAD:g} (exploding)")
    if notes:
        graph.append(f"label=<{'<BR/>'.join(_html(n) for n in notes)}> labelloc=t")
    lines = [f"\tgraph [{' '.join(graph)}]\n",
             '\tnode [fontname="Helvetica,Arial,sans-serif" fontsize=10 margin="0.1,0.04"]\n',
             '\tedge [fontname="Helvetica,Arial,sans-serif" fontsize=9]\n']
    # clusters: a tree of scope paths (one box per module call); unscoped items sit at the top level
    tree: dict = {"items": [], "children": {}}
    for i, item in nodes:
        node = tree
        for key, label in (item.scope if modules else ()):
            node = node["children"].setdefault(key, {"items": [], "children": {}, "label": label})
        node["items"].append(_node_line(item, grad_colors, decor.lines.get(i, []), decor.current == i))
    stack: list[tuple[str, Any, int]] = [("body", tree, 1)]
    while stack:
        what, node, depth = stack.pop()
        if what == "close":
            lines.append("\t" * (depth - 1) + "}\n")
        elif what == "open":
            key, label = node
            lines.append("\t" * (depth - 1) + f"subgraph cluster_{key} {{\n")
            lines.append("\t" * depth + f'label=<{_html(label)}> style="rounded,dashed" color="#777777" '
                         'fontname="Helvetica,Arial,sans-serif" fontsize=10\n')
        else:
            lines.extend("\t" * depth + x + "\n" for x in node["items"])
            for key in sorted(node["children"], reverse=True):
                child = node["children"][key]
                stack += [("close", None, depth + 1), ("body", child, depth + 1),
                          ("open", (key, child["label"]), depth + 1)]
    for src, dst, k in edges:
        label = decor.edge_labels.get((src, dst, k))
        attr = f' [label=<{_html(label[0])}> color="{label[1]}" fontcolor="{label[1]}"]' if label else ""
        lines.append(f"\t{model.items[src].id} -> {model.items[dst].id}{attr}\n")
    return lines


def _drawing_class() -> type:
    """``graphviz.Digraph`` whose render/pipe turn a missing ``dot`` into an error that says how to install it."""
    global _DRAWING
    if _DRAWING is not None:
        return _DRAWING
    try:
        import graphviz
    except ImportError:
        raise GraphvizNotFoundError(
            "drawing needs the graphviz Python package: pip install graphviz (a dependency of gradkit), and the "
            f"Graphviz program for rendering. {INSTALL_GRAPHVIZ}. Without it, graph_text(...) gives the graph as a "
            "text tree, or as DOT source with format='dot'.") from None

    def not_found(e: Exception, fmt: Any) -> GraphvizNotFoundError:
        return GraphvizNotFoundError(
            f"cannot render the drawing{f' to {fmt}' if fmt else ''}: the Graphviz program `dot` was not found on "
            f"PATH ({e}). {INSTALL_GRAPHVIZ}. The DOT text is still available as `.source`, and "
            "graph_text(...) prints the graph as a text tree.")

    class GraphDrawing(graphviz.Digraph):
        """A ``graphviz.Digraph`` (displays inline in Jupyter) with a clear error when Graphviz is missing."""

        def pipe(self, format: str | None = None, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().pipe(format, *args, **kwargs)
            except graphviz.ExecutableNotFound as e:
                raise not_found(e, format or self.format) from None

        def render(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().render(*args, **kwargs)
            except graphviz.ExecutableNotFound as e:
                raise not_found(e, kwargs.get("format") or self.format) from None

    _DRAWING = GraphDrawing
    return GraphDrawing


_DRAWING: type | None = None


# ---------------------------------------------------------------------------------------------------- public
def draw_graph(*outputs: Tensor, params: Mapping[str, Tensor] | Iterable | None = None, show_data: bool = False,
               show_grad: bool = False, rankdir: str = "TB", modules: str | None = "cluster",
               grad_colors: bool = False, max_nodes: int | None = DEFAULT_MAX_NODES) -> Any:
    """Draw the compute graph behind ``outputs`` as a ``graphviz.Digraph``.

    Nodes: one per op (name, settings such as ``dims``, and its output's shape
    and dtype; after a backward that freed the graph, only for outputs still
    known: those drawn, watched ones and those of ``keeps_output`` ops) and one
    per leaf tensor (name, shape, dtype); edges from inputs
    to outputs (node ids by walk order, so the DOT text is stable). Shared
    subgraphs are drawn once; several outputs share one drawing.

    Args:
        *outputs: the tensors whose graph to draw.
        params: names for tensors, e.g. ``dict(model.named_parameters())`` (or
            the ``named_parameters()`` iterator); otherwise ``Tensor.name`` is used.
        show_data: show values (scalars in full, arrays up to 16 elements
            abbreviated, larger ones as mean/std/min/max).
        show_grad: show ``.grad`` of leaves (and of non-leaves that retain it).
        rankdir: layout direction, one of "TB", "LR", "BT", "RL".
        modules: "cluster" boxes the ops of each ``nn.Module`` call (``node.scope``),
            "collapse" draws each innermost module call as one node, None ignores scopes.
        grad_colors: with ``show_grad``, fill nodes by rms(grad): blue below
            1e-6 (vanishing), orange above 1e3 (exploding).
        max_nodes: draw at most this many nodes (nearest the outputs first); the
            rest are summarised in one '… N more nodes' node. None for no limit.

    Returns:
        graphviz.Digraph: shows inline in Jupyter; ``.render(path, format="svg")``
        writes a file, ``.source`` is the DOT text.

    Raises:
        TypeError: an output is not a Tensor, or ``params`` is not name -> Tensor.
        ValueError: no outputs, or a bad ``rankdir``, ``modules`` or ``max_nodes``.
        GraphvizNotFoundError: the graphviz Python package is missing (rendering
            without the ``dot`` program raises it too, with install instructions).

    Example:
        >>> import gradkit as gk
        >>> x = gk.tensor(2.0, requires_grad=True, name="x")
        >>> g = draw_graph(x * x + 1, show_data=True)
        >>> g.source.count("->"), "Mul" in g.source, "data=5.0" in g.source
        (4, True, True)
    """
    _check_outputs(outputs)
    _check_options(rankdir, modules, max_nodes)
    cls = _drawing_class()
    model, _ = _walk(outputs, _names_of(params), show_data, show_grad, max_nodes)
    return cls(body=_dot_lines(model, rankdir, modules, grad_colors and show_grad))


def graph_text(*outputs: Tensor, params: Mapping[str, Tensor] | Iterable | None = None, show_data: bool = False,
               show_grad: bool = False, max_nodes: int | None = DEFAULT_MAX_NODES, format: str = "tree",
               rankdir: str = "TB", modules: str | None = "cluster", grad_colors: bool = False) -> str:
    """The graph behind ``outputs`` as plain text, without Graphviz.

    ``format="tree"`` prints an indented tree from each output to the leaves (a
    node reached again prints ``(see above)``); ``format="dot"`` gives the DOT
    source, identical to ``draw_graph(...).source`` with the same options.

    Args:
        *outputs, params, show_data, show_grad, max_nodes: as in :func:`draw_graph`.
        format: "tree" or "dot".
        rankdir, modules, grad_colors: as in :func:`draw_graph` (used by "dot").

    Returns:
        str: the text.

    Raises:
        ValueError: an unknown ``format`` (and as :func:`draw_graph`).

    Example:
        >>> import gradkit as gk
        >>> w = gk.tensor([1.0, 2.0], requires_grad=True, name="w")
        >>> print(graph_text((w * w).sum()))
        [n0] Sum  () float32  (output)
        └── [n1] Mul  (2,) float32
            ├── [n2] w  (2,) float32
            └── [n2] w  (see above)
    """
    _check_outputs(outputs)
    _check_options(rankdir, modules, max_nodes)
    if format not in ("tree", "dot"):
        raise ValueError(f"format must be 'tree' or 'dot', got {format!r}")
    model, _ = _walk(outputs, _names_of(params), show_data, show_grad, max_nodes)
    if format == "dot":
        return "digraph {\n" + "".join(_dot_lines(model, rankdir, modules, grad_colors and show_grad)) + "}\n"
    return _tree_text(model)


def _tree_text(model: _Model) -> str:
    inputs_of: dict[int, list[int]] = {}
    for src, dst, _ in model.edges:
        inputs_of.setdefault(dst, []).append(src)
    roots = [i for i, item in enumerate(model.items) if item.output]
    out: list[str] = []
    printed: set[int] = set()
    stack = [(i, "", "") for i in reversed(roots)]
    while stack:
        i, head, tail = stack.pop()
        item = model.items[i]
        if i in printed and item.kind != "more":
            out.append(f"{head}[{item.id}] {item.title}  (see above)")
            continue
        printed.add(i)
        words = [item.title] + item.lines()
        if item.kind == "op" and item.scope:
            words.append(f"in {item.scope[-1][1]}")
        if item.output:
            words.append("(output)")
        text = "  ".join(w.replace("\n", " ") for w in words if w)
        out.append(f"{head}{text}" if item.kind == "more" else f"{head}[{item.id}] {text}")
        kids = inputs_of.get(i, [])
        if len(tail) >= 4 * TEXT_DEPTH:  # keep deep graphs' lines short: drop the outermost levels
            tail = "⋯ " + tail[len(tail) - 4 * (TEXT_DEPTH - 1):]
        for n, k in reversed(list(enumerate(kids))):
            last = n == len(kids) - 1
            stack.append((k, tail + ("└── " if last else "├── "), tail + ("    " if last else "│   ")))
    return "\n".join(out)
