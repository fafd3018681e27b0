"""Linear: forward/backward against PyTorch, fused single node, gradcheck, init, shape errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.autograd import gradcheck, gradgradcheck
from gradkit.nn import functional as F


def _t64(rng: np.random.Generator, *shape: int) -> gk.Tensor:
    return gk.tensor(rng.normal(size=shape), requires_grad=True)


@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_pytorch_forward_and_grads(x_shape, bias):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    layer = nn.Linear(3, 2, bias=bias).double()
    tlayer = torch.nn.Linear(3, 2, bias=bias).double()
    layer.load_state_dict({k: v.detach().numpy() for k, v in tlayer.state_dict().items()})
    x_np = rng.normal(size=x_shape)
    g_np = rng.normal(size=x_shape[:-1] + (2,))
    x = gk.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    y, ty = layer(x), tlayer(tx)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    y.backward(gk.tensor(g_np))
    ty.backward(torch.tensor(g_np))
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.weight.grad.data, tlayer.weight.grad.numpy(), rtol=1e-12, atol=1e-14)
    if bias:
        np.testing.assert_allclose(layer.bias.grad.data, tlayer.bias.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_functional_linear_is_one_node_and_passes_gradcheck():
    rng = np.random.default_rng(2)
    x, w, b = _t64(rng, 4, 3), _t64(rng, 2, 3), _t64(rng, 2)
    y = F.linear(x, w, b)
    assert y.grad_fn.name == "Linear" and y.grad_fn.parents == (x, w, b)
    assert gradcheck(F.linear, (x, w, b))
    assert gradgradcheck(F.linear, (x, w, b))
    x3 = _t64(rng, 2, 2, 3)
    assert gradcheck(F.linear, (x3, w, b)) and gradgradcheck(F.linear, (x3, w, b))
    assert gradcheck(lambda x, w: F.linear(x, w), (x, w))


def test_linear_weight_is_column_major_and_its_gradient_and_updates_keep_that_order():
    """W (out, in) is stored column-major, so x @ W.T is numpy's fastest matrix product for it; dW comes in
    the weight's order (one sweep for the update). A row-major weight (assigned by the user) works alike."""
    rng = np.random.default_rng(5)
    x = gk.tensor(rng.normal(size=(4, 3)))
    layer = nn.Linear(3, 2).double()
    opt = gk.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    assert layer.weight.data.flags.f_contiguous
    for _ in range(2):
        opt.zero_grad()
        layer(x).sum().backward()
        assert layer.weight.grad.data.flags.f_contiguous
        opt.step()
    assert layer.weight.data.flags.f_contiguous
    expected_grad = np.ones((4, 2)).T @ x.data
    np.testing.assert_allclose(layer.weight.grad.data, expected_grad, rtol=1e-12)
    row_major = nn.Linear(3, 2).double()
    row_major.weight = nn.Parameter(np.ascontiguousarray(layer.weight.data))
    row_major.bias = nn.Parameter(layer.bias.data.copy())
    y = row_major(x)
    np.testing.assert_allclose(y.data, layer(x).data, rtol=1e-12)
    y.sum().backward()
    assert row_major.weight.grad.data.flags.c_contiguous
    np.testing.assert_allclose(row_major.weight.grad.data, expected_grad, rtol=1e-12)


def test_linear_grads_only_where_needed():
    x = gk.autograd.randn(4, 3)  # no grad
    layer = nn.Linear(3, 2)
    layer(x).sum().backward()
    assert x.grad is None and layer.weight.grad.shape == (2, 3) and layer.bias.grad.shape == (2,)
    with gk.no_grad():
        assert layer(x).grad_fn is None


def test_linear_shape_mismatch_names_both_shapes_nn01():
    torch = pytest.importorskip("torch")
    layer = nn.Linear(3, 4)
    with pytest.raises(RuntimeError) as ours:
        layer(gk.autograd.randn(2, 5))
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.Linear(3, 4)(torch.randn(2, 5))
    assert "mat1 and mat2 shapes cannot be multiplied (2x5 and 3x4)" in str(ours.value)
    assert str(theirs.value) in str(ours.value)
    with pytest.raises(RuntimeError, match=r"\(6x5 and 3x4\)"):
        layer(gk.autograd.randn(2, 3, 5))
    with pytest.raises(RuntimeError, match="bias must have shape"):
        F.linear(gk.autograd.randn(2, 3), layer.weight, gk.autograd.randn(3))


def test_linear_default_init_follows_pytorch_bounds():
    _ = gk.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(in), 1/sqrt(in))
    w, b = layer.weight.data, layer.bias.data
    assert w.shape == (300, 400) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.02)
    assert np.abs(b).max() <= bound and abs(b.mean()) < 0.1 * bound
    _ = gk.manual_seed(0)
    np.testing.assert_array_equal(nn.Linear(400, 300).weight.data, w)  # seeded: reproducible


def test_reset_parameters_redraws():
    layer = nn.Linear(5, 5)
    before = layer.weight.data.copy()
    layer.reset_parameters()
    assert not np.array_equal(before, layer.weight.data)


def test_linear_rejects_bad_sizes_and_identity_passes_through():
    with pytest.raises(ValueError, match="in_features must be a non-negative int"):
        nn.Linear(-1, 2)
    x = gk.autograd.randn(2, 2)
    assert nn.Identity(3, foo=1)(x) is x


def test_linear_gradients_hold_for_any_batch_shape():
    from hypothesis import given
    from hypothesis import strategies as st

    @given(batch=st.lists(st.integers(1, 3), min_size=0, max_size=2), n_in=st.integers(1, 3),
           n_out=st.integers(1, 3), seed=st.integers(0, 2 ** 16))
    def check(batch, n_in, n_out, seed):
        rng = np.random.default_rng(seed)
        x, w, b = _t64(rng, *batch, n_in), _t64(rng, n_out, n_in), _t64(rng, n_out)
        assert F.linear(x, w, b).shape == tuple(batch) + (n_out,)
        assert gradcheck(F.linear, (x, w, b))

    check()
