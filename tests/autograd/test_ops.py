"""Per-op tests, driven by the op table: forward vs numpy, gradients vs finite differences
(first and second order, hypothesis-drawn shapes with broadcasting), gradients vs PyTorch,
and float32 preservation."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import gradkit.autograd as ag
from gradkit.autograd.testing import assert_gradients_match, broadcastable_shapes, shapes, tensors
from tests.autograd.op_table import OPS, Op
from tests.hypothesis_budget import examples

MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)),
                 ((2, 2, 3), (2, 3, 1)), ((1, 2, 3), (2, 3, 2)), ((3,), (2, 3, 2)), ((2, 2, 3), (3,))]


def input_shapes(op: Op) -> st.SearchStrategy:
    """The strategy of input-shape tuples for an op's ``shapes`` kind."""
    n = len(op.domains)
    if op.shapes == "broadcast":
        return broadcastable_shapes(n)
    if op.shapes == "matmul":
        return st.sampled_from(MATMUL_SHAPES)
    single = {
        "any": shapes(),
        "same": shapes(),
        "min1d": shapes(min_dims=1),
        "same_min1d": shapes(min_dims=1),
        "min2d": shapes(min_dims=2),
        "min1d_2rows": shapes(min_dims=1, min_side=2),
    }[op.shapes]
    return single.map(lambda s: (s,) * n)


def draw_inputs(data: st.DataObject, op: Op, dtype=np.float64) -> list[ag.Tensor]:
    shape_tuple = data.draw(input_shapes(op), label="shapes")
    inputs = [data.draw(tensors(shape=s, dtype=dtype, elements=d, unique=op.unique), label=f"input {i}")
              for i, (s, d) in enumerate(zip(shape_tuple, op.domains))]
    if op.unique and len(inputs) == 2:  # no ties between the two inputs either (maximum, minimum)
        assume(np.all(np.abs(inputs[0].data - inputs[1].data) > 1e-3))
    return inputs


ids = [op.name for op in OPS]
hyp = settings(max_examples=examples(12), deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.mark.parametrize("op", OPS, ids=ids)
@hyp
@given(data=st.data())
def test_forward_matches_numpy(op: Op, data: st.DataObject) -> None:
    inputs = draw_inputs(data, op)
    out = op.fn(*inputs)
    expected = op.ref(*[t.data for t in inputs])
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert out.shape == np.shape(expected)


@pytest.mark.parametrize("op", OPS, ids=ids)
@hyp
@given(data=st.data())
def test_gradients_match_finite_differences(op: Op, data: st.DataObject) -> None:
    inputs = draw_inputs(data, op)
    assert_gradients_match(op.fn, *inputs, second_order=op.smooth)


def _torch_inputs(op: Op, seed: int):
    """Deterministic inputs of every shape kind, as float64 arrays inside each input's domain."""
    rng = np.random.default_rng(seed)
    shape_sets = {
        "broadcast": [((2, 1, 3), (4, 1)), ((3,), (2, 3)), ((), (2,))],
        "matmul": MATMUL_SHAPES,
    }.get(op.shapes, [(s,) * len(op.domains) for s in [(2, 3, 4), (3, 4), (5,)][:2 if op.shapes == "min2d" else 3]])
    for shape_tuple in shape_sets:
        arrays = []
        for s, d in zip(shape_tuple, op.domains):
            a = rng.uniform(0.2, 2.0, size=s) if d == "positive" else rng.uniform(-2, 2, size=s)
            if d == "nonzero":
                a = np.where(np.abs(a) < 0.1, 0.5, a)
            if d == "grid":  # distinct values, no ties
                a = rng.permutation(np.arange(int(np.prod(s))) / 10 - 1).reshape(s) + 0.01 * len(arrays)
            arrays.append(np.asarray(a, dtype=np.float64))
        yield arrays


@pytest.mark.parametrize("op", OPS, ids=ids)
def test_gradients_match_torch(op: Op) -> None:
    torch = pytest.importorskip("torch")
    torch_fn = op.torch_fn or op.fn
    for arrays in _torch_inputs(op, seed=len(op.name)):
        ours = [ag.Tensor(a, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        out, ref = op.fn(*ours), torch_fn(*theirs)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
        upstream = np.random.default_rng(0).standard_normal(out.shape)
        out.backward(ag.Tensor(upstream))
        ref.backward(torch.tensor(upstream))
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert a.grad is not None and a.grad.shape == a.shape, f"input {i}"
            np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=f"input {i}")


@pytest.mark.parametrize("op", OPS, ids=ids)
def test_float32_stays_float32(op: Op) -> None:
    for arrays in _torch_inputs(op, seed=1):
        inputs = [ag.Tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
        out = op.fn(*inputs)
        assert out.dtype == np.float32
        out.sum().backward()
        for t in inputs:
            assert t.grad.dtype == np.float32 and t.grad.shape == t.shape


@pytest.mark.parametrize("op", [op for op in OPS if op.shapes == "broadcast"], ids=lambda o: o.name)
@settings(max_examples=examples(15), deadline=None)
@given(data=st.data())
def test_broadcast_gradients_are_sums_over_broadcast_axes(op: Op, data: st.DataObject) -> None:
    """Every input's grad has exactly its input's shape (AG-04), checked against an explicitly broadcast copy."""
    inputs = draw_inputs(data, op)
    out_shape = np.broadcast_shapes(*[t.shape for t in inputs])
    op.fn(*inputs).sum().backward()
    expanded = [ag.Tensor(np.broadcast_to(t.data, out_shape).copy(), requires_grad=True) for t in inputs]
    op.fn(*expanded).sum().backward()
    for t, e in zip(inputs, expanded):
        assert t.grad.shape == t.shape
        lead = e.grad.ndim - t.ndim
        summed = e.grad.data.sum(axis=tuple(range(lead)))
        summed = summed.sum(axis=tuple(i for i, s in enumerate(t.shape) if s == 1), keepdims=True)
        np.testing.assert_allclose(t.grad.data, summed.reshape(t.shape), rtol=1e-12, atol=1e-12)
