"""BatchNorm1d and LayerNorm against PyTorch (float64), gradchecks, running statistics, edge cases."""
from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.autograd import gradcheck, gradgradcheck
from gradkit.nn import functional as F


def _pair(torch, num_features=3, **kw):
    ours = nn.BatchNorm1d(num_features, **kw).double()
    theirs = torch.nn.BatchNorm1d(num_features, **kw).double()
    if ours.affine:
        rng = np.random.default_rng(5)
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(rng.normal(size=num_features) + 1))
            theirs.bias.copy_(torch.tensor(rng.normal(size=num_features)))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_training_steps_match_pytorch_nn08(shape, momentum):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, momentum=momentum)
    rng = np.random.default_rng(0)
    for step in range(4):
        x_np = rng.normal(loc=step, scale=1 + step, size=shape)
        g_np = rng.normal(size=shape)
        x, tx = gk.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
        y, ty = ours(x), theirs(tx)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        y.backward(gk.tensor(g_np))
        ty.backward(torch.tensor(g_np))
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-11)
        for name in ("weight", "bias"):
            np.testing.assert_allclose(getattr(ours, name).grad.data, getattr(theirs, name).grad.numpy(),
                                       rtol=1e-9, atol=1e-11)
        ours.zero_grad()
        theirs.zero_grad()
    for key, value in theirs.state_dict().items():  # running mean, unbiased running var, counter
        np.testing.assert_allclose(ours.state_dict()[key].data, value.numpy(), rtol=1e-12)
    assert int(ours.num_batches_tracked.item()) == 4
    ours.eval()
    theirs.eval()
    x_np = rng.normal(size=shape)
    np.testing.assert_allclose(ours(gk.tensor(x_np)).data, theirs(torch.tensor(x_np)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def test_batchnorm_eval_grads_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch)
    ours(gk.tensor(np.random.default_rng(1).normal(size=(8, 3))))
    theirs(torch.tensor(np.random.default_rng(1).normal(size=(8, 3))))
    ours.eval()
    theirs.eval()
    x_np = np.random.default_rng(2).normal(size=(5, 3))
    x, tx = gk.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    ours(x).sum().backward()
    theirs(tx).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-12)


def test_batchnorm_without_running_stats_or_affine_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, affine=False, track_running_stats=False)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    x_np = np.random.default_rng(3).normal(size=(5, 3))
    ours.eval()
    theirs.eval()  # no running stats: batch statistics even in eval
    np.testing.assert_allclose(ours(gk.tensor(x_np)).data, theirs(torch.tensor(x_np)).numpy(), rtol=1e-10)


def test_batch_of_one_in_training_raises_nn07():
    torch = pytest.importorskip("torch")
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError) as ours:
        bn(gk.autograd.randn(1, 3))
    with pytest.raises(ValueError) as theirs:
        torch.nn.BatchNorm1d(3)(torch.randn(1, 3))
    assert str(theirs.value).split(" torch.Size")[0] in str(ours.value)
    assert "drop_last" in str(ours.value) and "(1, 3)" in str(ours.value)
    assert int(bn.num_batches_tracked.item()) == 0  # a rejected batch changes nothing
    bn.eval()
    assert bn(gk.autograd.randn(1, 3)).shape == (1, 3)  # eval with batch 1 works
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(gk.autograd.randn(1, 3, 1))
    assert nn.BatchNorm1d(3)(gk.autograd.randn(1, 3, 2)).shape == (1, 3, 2)  # 2 values per channel


def test_eval_output_independent_of_batch_mates_nn08():
    bn = nn.BatchNorm1d(4).double()
    for _ in range(3):
        bn(gk.tensor(np.random.default_rng(0).normal(size=(16, 4))))
    bn.eval()
    batch = np.random.default_rng(1).normal(size=(10, 4))
    full = bn(gk.tensor(batch)).data
    for i in (0, 7):
        np.testing.assert_array_equal(bn(gk.tensor(batch[i:i + 1])).data[0], full[i])


def test_constant_feature_gives_finite_output_and_grads_nn09():
    x = gk.tensor(np.column_stack([np.full(6, 3.0), np.arange(6.0)]), requires_grad=True)
    bn = nn.BatchNorm1d(2).double()
    y = bn(x)
    assert np.isfinite(y.data).all() and np.allclose(y.data[:, 0], 0)
    (y * y).sum().backward()
    assert np.isfinite(x.grad.data).all() and np.isfinite(bn.weight.grad.data).all()


@pytest.mark.parametrize("shape", [(5, 3), (3, 3, 2)])
def test_functional_batch_norm_gradcheck_and_gradgradcheck(shape):
    rng = np.random.default_rng(4)
    x = gk.tensor(rng.normal(size=shape), requires_grad=True)
    w = gk.tensor(rng.normal(size=3) + 1, requires_grad=True)
    b = gk.tensor(rng.normal(size=3), requires_grad=True)

    def fn(x, w, b):
        return F.batch_norm(x, None, None, w, b, training=True)

    assert gradcheck(fn, (x, w, b)) and gradgradcheck(fn, (x, w, b))
    assert fn(x, w, b).grad_fn.name == "BatchNorm"  # one fused node
    rm, rv = gk.tensor(rng.normal(size=3)), gk.tensor(rng.uniform(0.5, 2, size=3))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), (x, w, b))


def test_fused_batch_norm_equals_composed_reference():
    rng = np.random.default_rng(6)
    x_np = rng.normal(size=(7, 3))
    x = gk.tensor(x_np, requires_grad=True)
    w = gk.tensor(rng.normal(size=3), requires_grad=True)
    y = F.batch_norm(x, None, None, w, None, training=True)
    xr = gk.tensor(x_np, requires_grad=True)
    centered = xr - xr.mean(0, keepdim=True)
    ref = centered / ((centered * centered).mean(0, keepdim=True) + 1e-5).sqrt() * w
    np.testing.assert_allclose(y.data, ref.data, rtol=1e-12)
    g = gk.tensor(rng.normal(size=(7, 3)))
    y.backward(g)
    ref.backward(g)
    np.testing.assert_allclose(x.grad.data, xr.grad.data, rtol=1e-9, atol=1e-12)


def test_batchnorm_bad_input_shapes():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 3\).*\(4, 5\)"):
        bn(gk.autograd.randn(4, 5))
    with pytest.raises(ValueError, match="got \\(4,\\)"):
        bn(gk.autograd.randn(4))
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        nn.BatchNorm1d(0)
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(2, momentum=2.0)


@pytest.mark.parametrize("normalized_shape,shape", [(4, (3, 4)), ((2, 4), (3, 2, 4))])
def test_layernorm_matches_pytorch(normalized_shape, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    ours = nn.LayerNorm(normalized_shape).double()
    theirs = torch.nn.LayerNorm(normalized_shape).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.normal(size=theirs.weight.shape)))
        theirs.bias.copy_(torch.tensor(rng.normal(size=theirs.bias.shape)))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x_np = rng.normal(size=shape)
    x, tx = gk.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.normal(size=shape)
    y.backward(gk.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ours.bias.grad.data, theirs.bias.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_layer_norm_gradchecks_and_errors():
    rng = np.random.default_rng(8)
    x = gk.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    w = gk.tensor(rng.normal(size=4), requires_grad=True)
    assert gradcheck(lambda x, w: F.layer_norm(x, (4,), w), (x, w))
    assert gradgradcheck(lambda x, w: F.layer_norm(x, (4,), w), (x, w))
    with pytest.raises(ValueError, match=r"normalized_shape \[5\].*\[3, 4\]"):
        F.layer_norm(x, (5,))
    with pytest.raises(ValueError, match="normalized_shape must be"):
        nn.LayerNorm(0)
    assert nn.LayerNorm(4, elementwise_affine=False).weight is None


def test_reset_running_stats_and_parameters():
    bn = nn.BatchNorm1d(3)
    bn(gk.autograd.randn(8, 3) * 5 + 2)
    bn.weight.data[:] = 3.0
    bn.reset_parameters()
    assert np.all(bn.running_mean.data == 0) and np.all(bn.running_var.data == 1)
    assert int(bn.num_batches_tracked.item()) == 0
    assert np.all(bn.weight.data == 1) and np.all(bn.bias.data == 0)
    no_bias = nn.BatchNorm1d(3, bias=False)
    assert no_bias.bias is None and "bias=False" in repr(no_bias)
