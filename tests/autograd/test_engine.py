"""Backward engine: accumulation, ordering, broadcasting, errors, deep and wide graphs, memory
(AG-01..AG-12, AG-34..AG-36)."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import tracemalloc
import weakref

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings

import gradkit as gk
from gradkit.autograd import Function, no_grad
from gradkit.autograd.tensor import Tensor
from tests.hypothesis_budget import examples


def leaf(values, dtype="float64") -> Tensor:
    return gk.tensor(values, dtype=dtype, requires_grad=True)


class CountedIdentity(Function):
    """y = x; counts how often its backward runs (AG-02, AG-11)."""

    calls = 0

    @staticmethod
    def forward(ctx, x):
        return x.data.copy()

    @staticmethod
    def backward(ctx, grad):
        CountedIdentity.calls += 1
        return grad


@pytest.fixture
def counted():
    CountedIdentity.calls = 0
    return CountedIdentity


# ---------------------------------------------------------------- AG-01..AG-03 accumulation and identity
def test_leaf_used_twice_accumulates_every_path():
    x = leaf([1.5, -2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * x.data)
    y = leaf([1.5, -2.0])
    (y + y).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [2.0, 2.0])


def test_a_leaf_on_many_paths_sums_in_place_without_touching_upstream_gradients():
    x = leaf([1.0, -2.0])
    seed = gk.tensor([1.0, 10.0], dtype="float64")
    y = x + x * 2.0 + x * x + x  # passthrough (Add) and fresh (Mul) contributions, in both orders
    y.backward(seed)
    np.testing.assert_array_equal(x.grad.data, seed.data * (1 + 2 + 2 * x.data + 1))
    np.testing.assert_array_equal(seed.data, [1.0, 10.0])  # the seed reached x unchanged, twice


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3 + 2, 3 + 4])


def test_reused_non_leaf_backward_runs_once_after_all_consumers(counted):
    a = leaf(1.0)
    b = counted.apply(a + a)
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0
    assert counted.calls == 1


def test_diamond_sums_every_path_and_runs_the_shared_node_once(counted):
    x = leaf(2.0)
    h = counted.apply(x * 3)
    y = h.exp() * 0 + h * h + h.sin()  # h has four consumer edges
    y.backward()
    assert counted.calls == 1
    hv = 6.0
    assert x.grad.item() == pytest.approx(3 * (2 * hv + np.cos(hv)), rel=1e-14)


def test_fan_in_of_ten_thousand_consumers_runs_the_shared_node_once(counted):
    x = leaf([0.5, 1.0])
    h = counted.apply(x)
    total = gk.autograd.stack([h * 1.0 for _ in range(10_000)]).sum()
    total.backward()
    assert counted.calls == 1
    np.testing.assert_array_equal(x.grad.data, [10_000.0, 10_000.0])


def test_equal_valued_leaves_are_distinct_by_identity():
    w1, w2 = leaf(3.0), leaf(3.0)
    (w1 + w2).backward()
    assert w1.grad.item() == 1.0 and w2.grad.item() == 1.0
    w3, w4 = leaf(3.0), leaf(3.0)
    (w3 * w4).backward()
    assert w3.grad.item() == 3.0 and w4.grad.item() == 3.0


# ---------------------------------------------------------------- AG-04 broadcasting
@pytest.mark.parametrize("sa, sb", [((1,), (5, 4)), ((4, 1), (1, 4)), ((3,), (2, 3)), ((2, 1, 4, 1), (2, 1, 4, 64)),
                                    ((), (7,)), ((5, 1, 3), (1,))])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_broadcast_gradients_have_input_shape_and_sum_over_broadcast_axes(sa, sb, op):
    rng = np.random.default_rng(0)
    a_np = rng.uniform(0.5, 2.0, sa)
    b_np = rng.uniform(0.5, 2.0, sb)
    a, b = leaf(a_np), leaf(b_np)
    out = {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b}[op]
    out.sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb
    shape = np.broadcast_shapes(sa, sb)
    ones = np.ones(shape)
    da = {"add": ones, "sub": ones, "mul": ones * b_np, "div": ones / b_np}[op]
    db = {"add": ones, "sub": -ones, "mul": ones * a_np, "div": -a_np / b_np ** 2 * ones}[op]

    def reduce_to(g, s):
        while g.ndim > len(s):
            g = g.sum(axis=0)
        return g.sum(axis=tuple(i for i, n in enumerate(s) if n == 1), keepdims=True).reshape(s)

    np.testing.assert_allclose(a.grad.data, reduce_to(da, sa), rtol=1e-12)
    np.testing.assert_allclose(b.grad.data, reduce_to(db, sb), rtol=1e-12)


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3))
@settings(max_examples=examples(25), deadline=None)
def test_broadcast_gradient_shapes_property(shapes):
    sa, sb = shapes.input_shapes
    a, b = leaf(np.full(sa, 2.0)), leaf(np.full(sb, 3.0))
    (a * b).sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb
    n_out = int(np.prod(shapes.result_shape))
    # each input element receives the other's value once per output element it was broadcast to
    np.testing.assert_array_equal(a.grad.data, np.full(sa, 3.0 * n_out / max(int(np.prod(sa)), 1)))
    np.testing.assert_array_equal(b.grad.data, np.full(sb, 2.0 * n_out / max(int(np.prod(sb)), 1)))


def test_backward_formula_returning_an_unreducible_gradient_names_op_and_shapes():
    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x.data * 2

        @staticmethod
        def backward(ctx, grad):
            return Tensor._make(np.ones((3, 5)))

    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"BadShape.*\(3, 5\).*\(2,\)"):
        BadShape.apply(x).sum().backward()


# ---------------------------------------------------------------- AG-05..AG-09 errors
def test_backward_on_non_scalar_without_gradient_says_scalar_and_shape():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(RuntimeError, match=r"scalar.*\(2, 2\)"):
        (x * 2).backward()


def test_backward_with_wrong_shape_gradient_names_both_shapes():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"expected shape \(3,\).*got \(10, 2\)"):
        (x * 2).backward(np.ones((10, 2)))


def test_backward_with_explicit_gradient_gives_vector_jacobian_product():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).backward(gk.tensor([1.0, 0.5, -1.0], dtype="float64"))
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, -6.0])


def test_gradient_of_another_dtype_is_cast_to_the_output_dtype():
    x = leaf([1.0, 2.0], dtype="float32")
    (x * 2).backward(np.ones(2, dtype=np.float64))
    assert x.grad.dtype == np.float32


def test_second_backward_without_retain_graph_raises_and_names_the_fix():
    x = leaf(2.0)
    y = x.exp() * x
    y.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_doubles_leaf_grads_without_double_counting_intermediates():
    x = leaf(2.0)
    h = x * x
    h.retain_grad()
    y = h * x  # x**3, the micrograd#53 case (27 then 45)
    y.backward(retain_graph=True)
    assert x.grad.item() == 12.0 and h.grad.item() == 2.0
    y.backward()
    assert x.grad.item() == 24.0 and h.grad.item() == 4.0
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_backward_of_tensor_built_under_no_grad_raises():
    x = leaf([1.0, 2.0])
    with no_grad():
        y = (x * 2).sum()
    assert y.grad_fn is None and not y.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        gk.tensor(1.0).backward()


@pytest.mark.parametrize("values", [[1, 2], [True, False]])
def test_int_and_bool_tensors_refuse_requires_grad(values):
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients"):
        gk.tensor(values, requires_grad=True)
    t = gk.tensor(values)
    with pytest.raises(RuntimeError, match=rf"only floating point.*{t.dtype}"):
        t.requires_grad_()


def test_backward_of_a_leaf_accumulates_the_seed():
    x = leaf(3.0)
    x.backward()
    assert x.grad.item() == 1.0


# ---------------------------------------------------------------- AG-10..AG-12 deep graphs and cycles
def test_chain_of_100k_ops_backpropagates_without_recursion(gc_off):
    x = leaf(1.0)
    y = x * 1.0
    first = weakref.ref(y.grad_fn)
    for _ in range(50_000):  # 2 ops per step: 10**5 nodes (10**6 is in the opt-in reliability suite)
        y = y * 1.0001 + 0.0
    limit = sys.getrecursionlimit()
    assert limit <= 10_000  # the default: no test raised it
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 50_000, rel=1e-9)
    del y  # freeing the deep chain neither recurses nor needs the cyclic gc
    assert first() is None


def test_backward_returning_the_wrong_number_of_gradients_is_named():
    class TwoGrads(Function):
        @staticmethod
        def forward(ctx, x):
            return x.data.copy()

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(RuntimeError, match=r"TwoGrads returned an incorrect number of gradients \(expected 1, got 2\)"):
        TwoGrads.apply(leaf([1.0])).sum().backward()


def test_manual_cycle_raises_instead_of_looping():
    x = leaf(1.0)
    y = x * 2.0
    z = y * 3.0
    y.grad_fn.parents = (z.grad_fn, None)  # z's node now feeds y's node, which feeds z's
    with pytest.raises(RuntimeError, match="cycle"):
        z.backward()


# ---------------------------------------------------------------- AG-30, AG-34 memory and aliasing
@pytest.fixture
def gc_off():
    was = gc.isenabled()
    gc.disable()
    yield
    if was:
        gc.enable()


def test_backward_frees_intermediates_and_dropping_output_frees_graph(gc_off):
    x = leaf(np.full(250_000, 0.5))  # 2 MB per array
    h1 = x.exp()
    h2 = h1 * x
    h3 = h2.tanh()
    refs = [weakref.ref(t) for t in (h1, h2, h3)]
    node_ref = weakref.ref(h3.grad_fn)
    loss = h3.sum()
    del h1, h2, h3
    assert all(r() is not None for r in refs)  # the graph keeps them for backward
    loss.backward()
    assert all(r() is None for r in refs), "released graph still holds intermediate tensors"
    assert node_ref() is not None  # nodes remain (loss.grad_fn chain) but without arrays
    del loss
    assert node_ref() is None, "a reference cycle keeps the graph alive without gc"


class AliveProbe(Function):
    """y = x; its backward records which of ``AliveProbe.refs`` (weak references) still resolve."""

    refs: list = []
    alive: list = []

    @staticmethod
    def forward(ctx, x):
        return x.data.copy()

    @staticmethod
    def backward(ctx, grad):
        AliveProbe.alive.append([r() is not None for r in AliveProbe.refs])
        return grad


def test_activations_are_freed_during_backward_as_soon_as_their_last_consumer_has_run(gc_off):
    # x -> probe -> h1 -> ... -> h5 -> sum: the probe's backward runs last, after every consumer of h1..h5
    x = leaf(np.ones(1000))
    h = AliveProbe.apply(x)
    AliveProbe.refs, AliveProbe.alive = [], []
    for _ in range(5):
        h = h * 1.5  # Mul keeps its input only as the node's input (its saved operand is the constant)
        AliveProbe.refs.append(weakref.ref(h))
    loss = h.sum()
    del h
    loss.backward()
    assert AliveProbe.alive == [[False] * 5], "the walk kept activations whose consumers had all run"
    np.testing.assert_allclose(x.grad.data, 1.5 ** 5)


def test_peak_memory_of_backward_stays_flat_when_each_step_frees_an_activation_and_adds_a_gradient(gc_off):
    # h = x * w1 * ... * w5 on 2 MB arrays: walking back, each Mul adds a 2 MB parameter gradient (kept to the
    # end) and is the last consumer of a 2 MB activation. Freed as it goes, the walk stays within a few arrays
    # of where it started; holding the activations to the end would peak at 5 gradients (10 MB) above it.
    ws = [leaf(np.full(250_000, 1.0)) for _ in range(5)]
    tracemalloc.start()
    try:
        h = leaf(np.full(250_000, 1.0))
        for w in ws:
            h = h * w
        loss = h.sum()
        del h
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        loss.backward()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < 3 * 2_000_000 + 500_000, f"backward peaked {peak / 1e6:.1f} MB above the graph it started from"


def test_outputs_read_by_backward_or_watched_by_hooks_survive_the_release_of_their_consumers(gc_off):
    # Each of t and h is consumed by a two-input Mul whose other input is a chain the walk runs first (the
    # stack is last in, first out), so by the time tanh's backward reads t, and h's node looks h up for its
    # hook, the Mul that held them has been released and other nodes have run since.
    x, x2, x3 = leaf([0.5, -1.0]), leaf([0.3, 0.2]), leaf([1.0, -2.0])
    seen = []
    h = x * 2
    h.register_hook(lambda g: seen.append(g.tolist()))
    s = x2 * 2 * 2 * 2
    t = (h * s).tanh()  # tanh's backward reads its own output
    s2 = x3 * 3 * 3
    y = (t * s2).sum()
    del h, s, t, s2
    y.backward()
    a, b, d = 2 * np.array([0.5, -1.0]), 8 * np.array([0.3, 0.2]), 9 * np.array([1.0, -2.0])
    t = np.tanh(a * b)
    dh = d * (1 - t * t) * b
    np.testing.assert_allclose(seen, [dh], rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, 2 * dh, rtol=1e-12)
    np.testing.assert_allclose(x3.grad.data, 9 * t, rtol=1e-12)


def test_graph_memory_returns_to_baseline_without_gc(gc_off):
    x = leaf(np.full(500_000, 0.25))  # 4 MB per array
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        loss = ((x.exp() * x).sigmoid() + x.sqrt()).log().mean()
        held = tracemalloc.get_traced_memory()[0] - base
        loss.backward()
        after_backward = tracemalloc.get_traced_memory()[0] - base
        grad_bytes = x.grad.data.nbytes
        del loss
        after_drop = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert held > 5 * 4_000_000  # the forward graph really held several 4 MB arrays
    assert after_backward < grad_bytes + 1_000_000
    assert after_drop < grad_bytes + 100_000


def test_graph_without_backward_is_freed_when_output_dropped(gc_off):
    x = leaf(np.ones(1000))
    y = (x * 2).exp()
    r = weakref.ref(y.grad_fn)
    del y
    assert r() is None


def test_inplace_op_in_graph_leaves_no_reference_cycle(gc_off):
    x = leaf(np.ones(1000))
    h = x * 2
    h += 1  # h becomes the Add node's output while being its input
    node, tensor = weakref.ref(h.grad_fn), weakref.ref(h)
    del h
    assert node() is None and tensor() is None


def test_leaf_grads_never_alias_each_other_or_the_upstream_gradient():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    seed = gk.tensor([1.0, 1.0], dtype="float64")
    (a + b).backward(seed)
    assert not np.shares_memory(a.grad.data, b.grad.data)
    assert not np.shares_memory(a.grad.data, seed.data)
    a.grad.data += 10
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(seed.data, [1.0, 1.0])


def test_leaf_grads_never_alias_with_create_graph():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward(create_graph=True)
    assert a.grad is not b.grad and not np.shares_memory(a.grad.data, b.grad.data)


def test_reshape_grad_does_not_alias_upstream():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    seed = gk.tensor(np.ones((2, 2)))
    x.reshape(2, 2).backward(seed)
    assert not np.shares_memory(x.grad.data, seed.data)


class Doubled(Function):
    """y = 2x, with a backward that returns a new array each time (``fresh_gradients``)."""

    fresh_gradients = True
    returned: list = []

    @staticmethod
    def forward(ctx, x):
        return x.data * 2

    @staticmethod
    def backward(ctx, grad):
        g = grad.data * 2
        Doubled.returned.append(g)
        return Tensor._make(g)


def test_a_fresh_gradient_becomes_the_leaf_grad_without_a_copy():
    x = leaf([1.0, 2.0])
    Doubled.returned.clear()
    Doubled.apply(x).sum().backward()
    assert x.grad.data is Doubled.returned[0]  # handed over, not copied
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


class DoubledTransposed(Doubled):
    """Doubled for a matrix, whose backward returns a transposed view of its new array."""

    @staticmethod
    def backward(ctx, grad):
        Doubled.returned.append((grad.data.T * 2).T)  # column-major, as Linear's dW for its weight
        return Tensor._make(Doubled.returned[-1])


def test_a_fresh_gradient_that_is_a_view_of_its_own_new_array_is_handed_over_too():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    Doubled.returned.clear()
    DoubledTransposed.apply(x).sum().backward()
    assert x.grad.data is Doubled.returned[0] and x.grad.data.flags.f_contiguous
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 2.0))


def test_a_view_of_an_upstream_gradient_is_still_copied():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    seed = gk.tensor(np.ones((2, 2)))
    x.T.backward(seed)  # Permute (not fresh) passes a view of the seed on
    assert not np.shares_memory(x.grad.data, seed.data)


def test_a_fresh_gradient_seen_by_a_hook_is_copied_into_grad():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(seen.append)
    Doubled.apply(x).sum().backward()
    assert not np.shares_memory(x.grad.data, seen[0].data)


def test_gradients_handed_over_are_not_shared_and_accumulate_across_backwards():
    w, b = leaf([[1.0, 2.0], [3.0, 4.0]]), leaf([0.5, -0.5])
    x = gk.tensor([[1.0, 1.0], [2.0, 0.0]], dtype="float64", requires_grad=True)
    loss = gk.nn.functional.linear(x, w, b).sum() + (x * w).sum()
    loss.backward(retain_graph=True)
    first = [t.grad.data.copy() for t in (w, b, x)]
    grads = [t.grad.data for t in (w, b, x)]
    assert not any(np.shares_memory(p, q) for i, p in enumerate(grads) for q in grads[i + 1:])
    loss.backward()  # accumulates in place into the arrays handed over the first time
    for t, g in zip((w, b, x), first):
        np.testing.assert_allclose(t.grad.data, 2 * g)


# ---------------------------------------------------------------- AG-36 determinism
_PROGRAM = """
import numpy as np, gradkit as gk
rng = np.random.default_rng(3)
w = gk.tensor(rng.standard_normal((8, 8)), requires_grad=True)
x = gk.tensor(rng.standard_normal((16, 8)))
h = x
for i in range(6):
    h = (h @ w).tanh() + h * 0.5 + (h @ w).sigmoid()
loss = (h.logsumexp(dim=1) + h.max(dim=1)).mean()
loss.backward()
"""


def _run_program() -> bytes:
    scope: dict = {}
    exec(_PROGRAM, scope)  # noqa: S102  (a fixed, test-local program)
    return scope["w"].grad.data.tobytes()


def test_gradients_are_bitwise_identical_across_runs():
    assert _run_program() == _run_program()


def test_gradients_are_bitwise_identical_across_processes_with_different_hash_seeds():
    code = _PROGRAM + "import sys; sys.stdout.write(w.grad.data.tobytes().hex())"
    outs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        outs.append(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                   check=True, timeout=120).stdout)
    assert outs[0] == outs[1] == _run_program().hex()


def test_leaf_hook_runs_once_with_the_summed_gradient():
    x = leaf(3.0)
    seen = []
    x.register_hook(lambda g: seen.append(g.item()))
    (x * x + x).backward()  # three contributions reach x
    assert seen == [7.0] and x.grad.item() == 7.0
    y = leaf(3.0)
    y.register_hook(lambda g: g.clamp(-1.0, 1.0))  # nonlinear: per-contribution clipping would give 3
    (y * y + y).backward()
    assert y.grad.item() == 1.0


# ---------------------------------------------------------------------------- output references
class ExpReadingOutput(Function):
    """y = exp(x), whose backward reads ctx.output."""

    @staticmethod
    def forward(ctx, x):
        return np.exp(x.data)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.output


class ExpKeepingOutput(ExpReadingOutput):
    keeps_output = True


def test_ctx_output_needs_keeps_output_and_says_so():
    x = gk.tensor([0.0, 1.0], requires_grad=True, dtype=np.float64)
    with pytest.raises(RuntimeError, match="keeps_output = True"):
        ExpReadingOutput.apply(x).sum().backward()
    ExpKeepingOutput.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp([0.0, 1.0]))


def test_only_watched_outputs_and_keeps_output_ops_are_referenced_by_their_node():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y, z = x * 2, (x * 3).exp()
    assert y.grad_fn._out is None  # a plain node keeps no (weak) reference to its output
    assert z.grad_fn._out() is z   # Exp's backward reads its output
    seen = []
    y.register_hook(seen.append)   # a hook makes the engine look the output up: the node now refers to it
    assert y.grad_fn._out() is y
    w = x * 4
    w.retain_grad()
    assert w.grad_fn._out() is w
    (y + z + w).sum().backward()
    assert len(seen) == 1 and w.grad.tolist() == [1.0, 1.0]
    v = x * 5
    (gx,) = gk.autograd.grad((v * v).sum(), [v])  # a grad() input is looked up too
    np.testing.assert_allclose(gx.data, 2 * v.data)
