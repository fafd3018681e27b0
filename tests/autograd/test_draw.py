"""Tests of autograd.draw: draw_graph's DOT text (nodes, edges, labels), rendering with `dot`, graph_text,
and the VZ rows of RELIABILITY.md (VZ-01..VZ-06)."""
from __future__ import annotations

import gc
import re
import shutil
import subprocess
import sys
import weakref

import numpy as np
import pytest

import gradkit.autograd as ag
from gradkit.autograd import draw
from gradkit.autograd.draw import FILL, GraphvizNotFoundError, draw_graph, format_array, graph_text
from gradkit.autograd.trace import trace_backward
from gradkit.autograd.scope import named_scope

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` program not installed")
NODE = re.compile(r"^\s*(n\d+|more) \[(.*)\]$", re.MULTILINE)
EDGE = re.compile(r"^\s*(n\d+|more) -> (n\d+)", re.MULTILINE)


# ------------------------------------------------------------------------------------------------ helpers
def nodes(src: str) -> dict[str, str]:
    """{node id: its attribute text} of a DOT source."""
    return {m.group(1): m.group(2) for m in NODE.finditer(src)}


def edges(src: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in EDGE.finditer(src)]


def node_with(src: str, text: str) -> str:
    """The id of the one node whose attributes contain ``text``."""
    hits = [i for i, attrs in nodes(src).items() if text in attrs]
    assert len(hits) == 1, f"{text!r} is in {len(hits)} node labels"
    return hits[0]


def svg_node_count(graph) -> int:
    return graph.pipe(format="svg", encoding="utf-8").count('class="node"')


def lecture():
    """f = (x + y) * z at x=1, y=-3, z=4 (df/dx = df/dy = z = 4, df/dz = x + y = -2)."""
    x = ag.tensor(1.0, requires_grad=True, name="x")
    y = ag.tensor(-3.0, requires_grad=True, name="y")
    z = ag.tensor(4.0, requires_grad=True, name="z")
    return x, y, z, (x + y) * z


NEURON = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}


def neuron(lib, **kw):
    """The sigmoid neuron 1 / (1 + exp(-(w0*x0 + w1*x1 + w2))) in gradkit (lib=ag) or torch."""
    if lib is ag:
        t = {k: ag.tensor(v, requires_grad=True, dtype=np.float64, name=k) for k, v in NEURON.items()}
    else:
        t = {k: lib.tensor(v, requires_grad=True, dtype=lib.float64) for k, v in NEURON.items()}
    f = 1 / (1 + (-(t["w0"] * t["x0"] + t["w1"] * t["x1"] + t["w2"])).exp())
    return t, f


def scoped_mlp(seed: int = 0):
    """A 3-layer MLP built under named_scope, one scope per layer call (what nn.Module.__call__ opens)."""
    rng = np.random.default_rng(seed)
    sizes = [4, 8, 8, 3]
    x = ag.tensor(rng.normal(size=(5, 4)), name="x")
    params, h = {}, x
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        w = ag.tensor(rng.normal(size=(a, b)), requires_grad=True)
        bias = ag.tensor(np.zeros(b), requires_grad=True)
        params[f"{i}.weight"], params[f"{i}.bias"] = w, bias
        with named_scope(f"Linear({a}→{b})"):
            h = h @ w + bias
        if i < 2:
            with named_scope("ReLU"):
                h = h.relu()
    return params, (h * h).mean()


# ------------------------------------------------------------------------------------------------ lecture graph
def test_lecture_graph_nodes_edges_and_labels():
    *_, f = lecture()
    src = draw_graph(f).source
    assert len(nodes(src)) == 5 and len(edges(src)) == 4  # Mul, Add, x, y, z; x,y->Add, Add,z->Mul
    mul, add = node_with(src, "<B>Mul</B>"), node_with(src, "<B>Add</B>")
    xs, ys, zs = (node_with(src, f"<B>{n}</B>") for n in "xyz")
    assert set(edges(src)) == {(xs, add), (ys, add), (add, mul), (zs, mul)}
    assert "() float32" in nodes(src)[xs]
    assert "grad=" not in src and "data=" not in src


def test_lecture_graph_values_and_grads_on_request():
    x, y, z, f = lecture()
    f.backward(retain_graph=True)
    src = draw_graph(f, show_data=True, show_grad=True).source
    assert x.grad.item() == 4.0 and y.grad.item() == 4.0 and z.grad.item() == -2.0
    assert "data=1.0<BR/>grad=4.0" in nodes(src)[node_with(src, "<B>x</B>")]
    assert "data=-3.0<BR/>grad=4.0" in nodes(src)[node_with(src, "<B>y</B>")]
    assert "data=4.0<BR/>grad=-2.0" in nodes(src)[node_with(src, "<B>z</B>")]
    assert "data=-2.0" in nodes(src)[node_with(src, "<B>Add</B>")]
    assert "data=-8.0" in nodes(src)[node_with(src, "<B>Mul</B>")]


def test_roles_are_visually_distinct():
    *_, f = lecture()
    c = ag.tensor(2.0, name="c")  # a leaf that does not require grad
    out = f * c
    out.name = "out"
    src = draw_graph(out).source
    attrs = nodes(src)
    out, leaf, const, op = (attrs[node_with(src, t)] for t in ("out = Mul", "<B>x</B>", "<B>c</B>", "<B>Add</B>"))
    styles = {frozenset(re.findall(r'(shape=\w+|fillcolor="[^"]+"|style="[^"]+"|peripheries=2)', a))
              for a in (out, leaf, const, op)}
    assert len(styles) == 4
    assert "peripheries=2" in out and f'fillcolor="{FILL["output"]}"' in out
    assert f'fillcolor="{FILL["param"]}"' in leaf and "dashed" in const


def test_names_from_params_override_tensor_names_and_accept_named_parameters_iterators():
    x, y, _, f = lecture()
    src = draw_graph(f, params={"first": x, "second": y}).source
    assert "<B>first</B>" in src and "<B>second</B>" in src and "<B>z</B>" in src and "<B>x</B>" not in src
    src2 = draw_graph(f, params=iter([("first", x), ("second", y)])).source
    assert src2 == src


def test_a_number_used_by_two_ops_is_drawn_beside_each_but_a_named_constant_once():
    x = ag.tensor(1.5, requires_grad=True, name="x")
    src = draw_graph(x * 2.0 + x * 2.0).source  # both Muls read one cached constant 2
    assert sum("<B>2.0</B>" in label for label in nodes(src).values()) == 2
    c = ag.tensor(np.ones(3), name="c")
    src = draw_graph((x * c + x * c).sum()).source
    assert sum("<B>c</B>" in label for label in nodes(src).values()) == 1


def test_intermediate_tensor_names_and_op_settings_are_shown():
    a = ag.tensor(np.ones((2, 3)), requires_grad=True, name="a")
    s = a.sum(dim=1)
    s.name = "row_sums"
    src = draw_graph(s.sum()).source
    label = nodes(src)[node_with(src, "row_sums = Sum")]
    assert "dims=(1,)" in label and "(2,) float64" in label


# ------------------------------------------------------------------------------------------------ sigmoid neuron
def test_sigmoid_neuron_graph_and_grads_match_torch():
    torch = pytest.importorskip("torch")
    t, f = neuron(ag)
    f.backward(retain_graph=True)
    tt, tf = neuron(torch)
    tf.backward()
    src = draw_graph(f, show_data=True, show_grad=True).source
    # 8 ops (Mul Mul Add Add Neg Exp Add Div), 5 leaves, the constants 1 (in 1 + ...) and 1 (in 1 / ...)
    assert len(nodes(src)) == 15
    assert len(edges(src)) == 14  # two per binary op (7), one per unary op (Neg, Exp)
    for op, n in {"Mul": 2, "Add": 3, "Neg": 1, "Exp": 1, "Div": 1}.items():
        assert src.count(f"<B>{op}</B>") == n
    for k in NEURON:
        assert t[k].grad.item() == pytest.approx(tt[k].grad.item(), rel=1e-12)
        assert f"grad={format_array(t[k].grad.data)}" in nodes(src)[node_with(src, f"<B>{k}</B>")]
    assert f"data={format_array(np.float64(tf.item()))}" in nodes(src)[node_with(src, "<B>Div</B>")]


# ------------------------------------------------------------------------------------------------ modules
def test_scoped_mlp_clusters_one_box_per_module_call_with_its_parameters():
    params, loss = scoped_mlp()
    src = draw_graph(loss, params=params).source
    assert src.count("subgraph cluster_") == 5  # 3 Linear calls + 2 ReLU calls
    assert src.count("label=<Linear(4→8)>") == 1 and src.count("label=<ReLU>") == 2
    start = src.index("label=<Linear(4→8)>")
    box = src[start:src.index("}", start)]
    assert "<B>0.weight</B>" in box and "<B>0.bias</B>" in box and "<B>MatMul</B>" in box
    assert "<B>1.weight</B>" not in box
    plain = draw_graph(loss, params=params, modules=None).source
    assert "subgraph" not in plain and len(nodes(plain)) == len(nodes(src))


def test_scoped_mlp_collapses_each_module_call_to_one_node():
    params, loss = scoped_mlp()
    src = draw_graph(loss, params=params, modules="collapse").source
    labels = list(nodes(src).values())
    assert sum("box3d" in a for a in labels) == 5
    assert "MatMul" not in src and "<B>Linear(8→3)</B>" in src and "2.weight (8, 3) float64" in src
    # x -> L1 -> ReLU -> L2 -> ReLU -> L3, each connection drawn once
    e = edges(src)
    assert len(e) == len(set(e))
    x, l1, l2 = (node_with(src, f"<B>{t}</B>") for t in ("x", "Linear(4→8)", "Linear(8→8)"))
    relus = [i for i, a in nodes(src).items() if "<B>ReLU</B>" in a]
    assert (x, l1) in e and any((l1, r) in e and (r, l2) in e for r in relus)


def test_nn_mlp_if_available():
    nn = pytest.importorskip("gradkit.nn")
    if not all(hasattr(nn, n) for n in ("Sequential", "Linear", "ReLU", "MSELoss")):
        pytest.skip("gradkit.nn layers not available yet")
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
    loss = nn.MSELoss()(model(ag.randn(5, 4)), ag.zeros(5, 3))
    params = dict(model.named_parameters())
    src = draw_graph(loss, params=params).source
    for name in params:
        assert f"<B>{name}</B>" in src
    assert "Linear(4→8)" in src and "Linear(8→3)" in src
    collapsed = draw_graph(loss, params=params, modules="collapse").source
    modules = [a for a in nodes(collapsed).values() if "box3d" in a]
    assert sum("<B>Linear(" in a or "<B>ReLU</B>" in a for a in modules) == 5
    assert "MatMul" not in collapsed and "0.weight (8, 4) float32" in collapsed
    if shutil.which("dot"):
        g = draw_graph(loss, params=params)
        assert svg_node_count(g) == len(nodes(g.source))


# ------------------------------------------------------------------------------------------------ flags
def test_nan_and_inf_are_flagged_red():
    a = ag.tensor([np.nan, 1.0], requires_grad=True, name="a")
    b = ag.tensor([1.0, 2.0], requires_grad=True, name="b")
    src = draw_graph(a * 2 + b).source
    assert "color=red" in nodes(src)[node_with(src, "<B>a</B>")]
    assert "color=red" in nodes(src)[node_with(src, "<B>Mul</B>")]  # its output holds the NaN too
    assert "color=red" not in nodes(src)[node_with(src, "<B>b</B>")]
    b.grad = ag.tensor([np.inf, 0.0])
    src = draw_graph(b * 1.0, show_grad=True).source
    assert "nan/inf in grad" in nodes(src)[node_with(src, "<B>b</B>")]


def test_grad_colors_mark_vanishing_and_exploding_gradients():
    small = ag.tensor(1.0, requires_grad=True, name="small")
    big = ag.tensor(1.0, requires_grad=True, name="big")
    fine = ag.tensor(1.0, requires_grad=True, name="fine")
    out = small * 1e-8 + big * 1e5 + fine
    out.backward(retain_graph=True)
    src = draw_graph(out, show_grad=True, grad_colors=True).source
    fill = {n: re.search(r'fillcolor="([^"]+)"', nodes(src)[node_with(src, f"<B>{n}</B>")]).group(1)
            for n in ("small", "big", "fine")}
    assert fill == {"small": FILL["vanishing"], "big": FILL["exploding"], "fine": FILL["param"]}
    assert "vanishing" in src and "exploding" in src
    assert FILL["vanishing"] not in draw_graph(out, show_grad=True).source


def test_graph_of_a_create_graph_gradient_draws_like_any_other():
    x = ag.tensor(2.0, requires_grad=True, name="x")
    (g,) = ag.grad(x ** 3, x, create_graph=True)
    src = draw_graph(g, show_data=True).source
    assert "data=12.0" in nodes(src)[[i for i, a in nodes(src).items() if "peripheries=2" in a][0]]
    assert "<B>Pow</B>" in src and "<B>Mul</B>" in src and "<B>x</B>" in src
    if shutil.which("dot"):
        assert svg_node_count(draw_graph(g)) == len(nodes(src))


# ------------------------------------------------------------------------------------------------ rendering
@needs_dot
@pytest.mark.parametrize("build", ["lecture", "neuron", "mlp"])
def test_svg_has_one_node_per_dot_node(build, tmp_path):
    out = {"lecture": lambda: lecture()[3], "neuron": lambda: neuron(ag)[1], "mlp": lambda: scoped_mlp()[1]}[build]()
    g = draw_graph(out, show_data=True)
    path = g.render(tmp_path / "graph", format="svg")
    svg = open(path, encoding="utf-8").read()
    assert svg.count('class="node"') == len(nodes(g.source)) > 0
    assert svg.count('class="edge"') == len(edges(g.source))


# ------------------------------------------------------------------------------------------------ graph_text
def test_graph_text_tree_and_dot_without_graphviz():
    *_, f = lecture()
    text = graph_text(f)
    assert text.splitlines()[0].startswith("[n0] Mul") and "(output)" in text
    assert all(f"] {n}  () float32" in text for n in "xyz")
    assert graph_text(f, format="dot") == draw_graph(f).source
    w = ag.tensor([1.0, 2.0], requires_grad=True, name="w")
    assert "[n2] w  (see above)" in graph_text((w * w).sum())


# ------------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, exc, words", [
    ({"rankdir": "XY"}, ValueError, ["rankdir", "'XY'", "'LR'"]),
    ({"modules": "boxes"}, ValueError, ["modules", "'boxes'", "'collapse'"]),
    ({"max_nodes": 0}, ValueError, ["max_nodes", "0"]),
    ({"params": 3}, TypeError, ["params", "int"]),
    ({"params": {"w": 1.0}}, TypeError, ["'w'", "float"]),
])
def test_bad_options(kwargs, exc, words):
    *_, f = lecture()
    with pytest.raises(exc) as e:
        draw_graph(f, **kwargs)
    assert all(w in str(e.value) for w in words)


def test_bad_outputs_and_format():
    with pytest.raises(ValueError, match="at least one Tensor"):
        draw_graph()
    with pytest.raises(TypeError, match="float at position 1"):
        draw_graph(ag.tensor(1.0), 2.0)
    with pytest.raises(ValueError, match="'tree' or 'dot'"):
        graph_text(ag.tensor(1.0), format="svg")


def test_format_array():
    assert format_array(np.float32(0.1)) == "0.1" and format_array(np.array([[-2.0]])) == "-2.0"
    assert format_array(np.array([1.0, 2.5, -1 / 3])) == "[1, 2.5, -0.3333]"
    assert format_array(np.array([[1.0, 2.0], [3.0, 4.0]])) == "[[1., 2.],\n [3., 4.]]"
    assert format_array(np.array([True, False])) == "[True, False]"
    a = np.random.default_rng(0).normal(size=(10, 10))
    assert format_array(a) == f"mean={a.mean():.4g} std={a.std():.4g} min={a.min():.4g} max={a.max():.4g}"
    b = a.copy()
    b[0, :3] = [np.nan, np.inf, -np.inf]
    fin = b[np.isfinite(b)]
    assert format_array(b) == (f"mean={fin.mean():.4g} std={fin.std():.4g} min={fin.min():.4g} "
                               f"max={fin.max():.4g} (1 nan, 2 inf)")
    assert format_array(np.full(20, np.nan)) == "all non-finite (20 nan)"
    assert format_array(np.full(20, 1e300)).startswith("mean=1e+300")  # no overflow warning in std


# ------------------------------------------------------------------------------------------------ VZ rows
def test_vz01_import_and_text_work_without_graphviz(monkeypatch):
    code = ("import sys; sys.modules['graphviz'] = None\n"
            "import gradkit, gradkit.autograd as ag\n"
            "from gradkit.autograd.draw import graph_text, draw_graph\n"
            "x = ag.tensor(1.0, requires_grad=True, name='x')\n"
            "print(graph_text(x * x)); print(graph_text(x * x, format='dot'))\n"
            "try:\n    draw_graph(x * x)\nexcept RuntimeError as e:\n    print('ERR', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "[n0] Mul" in out.stdout and "digraph {" in out.stdout
    assert "ERR drawing needs the graphviz Python package: pip install graphviz" in out.stdout
    monkeypatch.setitem(sys.modules, "graphviz", None)
    monkeypatch.setattr(draw, "_DRAWING", None)
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        draw_graph(ag.tensor(1.0))


def test_vz01_missing_dot_program_says_how_to_install(monkeypatch, tmp_path):
    pytest.importorskip("graphviz")
    *_, f = lecture()
    g = draw_graph(f)
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on PATH
    for call in (lambda: g.render(tmp_path / "g", format="svg"), lambda: g.pipe(format="png")):
        with pytest.raises(GraphvizNotFoundError) as e:
            call()
        msg = str(e.value)
        assert all(w in msg for w in ("`dot`", "apt-get install graphviz", "brew install graphviz", "conda",
                                      ".source", "graph_text"))
    assert g.source.startswith("digraph {")


NASTY = 'a{b}|c<d>"e"\\f\ng&h\'i\x01'


def test_vz02_labels_are_escaped():
    assert draw._html(NASTY) == "a{b}|c&lt;d&gt;&quot;e&quot;\\f<BR/>g&amp;h&#39;i\\x01"
    t = ag.tensor(np.ones((2, 3)), requires_grad=True, name=NASTY)
    with named_scope(NASTY):
        y = (t * 2).sum()
    src = draw_graph(y, params={NASTY + "2": t}).source
    assert f"<B>{draw._html(NASTY + '2')}</B>" in src and f"label=<{draw._html(NASTY)}>" in src
    for label in re.findall(r"label=<(.*?)>(?: |$)", src, re.MULTILINE):  # only our own tags inside labels
        assert set(re.findall(r"</?([A-Za-z]+)", label)) <= {"B", "BR"}
    assert '"e"' not in src and "\n\t" + "g&h" not in src


@needs_dot
def test_vz02_dot_parses_escaped_labels():
    t = ag.tensor(np.ones((2, 3)), requires_grad=True, name=NASTY)
    with named_scope(NASTY):
        y = (t * 2).sum()
    g = draw_graph(y, show_data=True)
    svg = g.pipe(format="svg", encoding="utf-8")  # raises CalledProcessError if dot rejects the text
    assert "c&lt;d&gt;" in svg and svg.count('class="node"') == len(nodes(g.source))


def test_vz03_long_chain_is_walked_iteratively_and_truncated_with_a_note():
    n = 20_000  # 20x the recursion limit
    x = ag.tensor(1.0, requires_grad=True, name="x")
    y = x
    for _ in range(n):
        y = -y
    src = draw_graph(y, max_nodes=100).source
    assert len(nodes(src)) == 101 and f"… {n + 1 - 100} more nodes" in src
    assert ("more", "n99") in edges(src) and len(edges(src)) == 100
    full = graph_text(y, max_nodes=None, format="dot")
    assert len(nodes(full)) == n + 1 and len(edges(full)) == n
    text = graph_text(y, max_nodes=None)
    assert len(text.splitlines()) == n + 1 and max(map(len, text.splitlines())) < 200
    assert "more nodes" in graph_text(y)  # the default limit applies to text too


def test_vz03_truncation_counts_hidden_nodes_of_a_branching_graph():
    rng = np.random.default_rng(0)
    leaves = [ag.tensor(rng.normal(size=3), requires_grad=True) for _ in range(50)]
    out = leaves[0]
    for t in leaves[1:]:
        out = (out * t).tanh()
    total = len(nodes(graph_text(out, max_nodes=None, format="dot")))
    src = draw_graph(out, max_nodes=40).source
    assert len(nodes(src)) == 41 and f"… {total - 40} more nodes" in src


def test_vz04_shared_subexpressions_drawn_once_with_every_edge():
    x = ag.tensor(2.0, requires_grad=True, name="x")
    y = ag.tensor(3.0, requires_grad=True, name="y")
    a = x * y
    b, c = a + a, a * x
    src = draw_graph(b, c).source
    assert len(nodes(src)) == 5  # Add, Mul (c), Mul (a), x, y
    assert len(edges(src)) == 6  # a->Add twice, a->c, x->c, x->a, y->a
    add = node_with(src, "<B>Add</B>")
    assert sum(1 for e in edges(src) if e[1] == add) == 2
    assert sum("peripheries=2" in v for v in nodes(src).values()) == 2
    assert draw_graph(b, c, b).source == src  # an output given twice is still one node
    assert "(see above)" in graph_text(b, c)


def test_vz05_drawing_has_no_side_effects_and_holds_no_references():
    x, y, z, f = lecture()
    f.backward(retain_graph=True)
    before = [(t._version, t.grad.item()) for t in (x, y, z)]
    draw_graph(f, show_data=True, show_grad=True)
    graph_text(f, show_grad=True)
    assert [(t._version, t.grad.item()) for t in (x, y, z)] == before
    assert not f.grad_fn._released and f.grad_fn.inputs is not None
    w = ag.tensor(np.ones(3), requires_grad=True)
    h = w * 2
    loss = h.sum()
    alive = weakref.ref(h)
    kept = (draw_graph(loss, show_data=True), graph_text(loss), trace_backward(loss))
    del h, loss
    gc.collect()
    assert alive() is None and kept[0].source


def test_vz05_draws_after_backward_released_the_graph():
    t, f = neuron(ag)
    before = draw_graph(f).source
    f.backward()
    assert f.grad_fn.inputs is None  # released
    src = draw_graph(f, show_grad=True).source
    assert len(nodes(src)) == len(nodes(before)) - 2  # the constants 1 and 1 are no longer known
    for op in ("Mul", "Add", "Neg", "Exp", "Div"):
        assert src.count(f"<B>{op}</B>") == before.count(f"<B>{op}</B>")
    exp, neg = node_with(src, "<B>Exp</B>"), node_with(src, "<B>Neg</B>")
    assert (neg, exp) in edges(src)  # op -> op
    assert f"grad={format_array(t['w0'].grad.data)}" in src


def test_vz06_same_graph_same_dot_text():
    def build(seed):
        params, loss = scoped_mlp(seed)
        return draw_graph(loss, params=params, show_data=True).source
    first, second = build(1), build(1)
    assert first == second
    assert sorted(int(i[1:]) for i in nodes(first)) == list(range(len(nodes(first))))  # ids by walk order
    *_, f = lecture()
    assert draw_graph(f).source == draw_graph(f).source
    assert trace_backward(f).frame(1).source == trace_backward(f).frame(1).source
