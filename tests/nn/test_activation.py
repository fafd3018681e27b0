"""Activations: values and gradients against PyTorch (float64), gradcheck, stability, modules."""
from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.autograd import gradcheck, gradgradcheck
from gradkit.nn import functional as F

# name, gradkit function, torch.nn.functional name and kwargs (one row per activation and setting)
ACTIVATIONS = [
    ("relu", lambda x: F.relu(x), "relu", {}),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), "leaky_relu", {"negative_slope": 0.2}),
    ("leaky_relu_default", lambda x: F.leaky_relu(x), "leaky_relu", {}),
    ("elu", lambda x: F.elu(x), "elu", {}),
    ("elu_alpha", lambda x: F.elu(x, 0.5), "elu", {"alpha": 0.5}),
    ("sigmoid", lambda x: F.sigmoid(x), "sigmoid", {}),
    ("tanh", lambda x: F.tanh(x), "tanh", {}),
    ("softplus", lambda x: F.softplus(x), "softplus", {}),
    ("softplus_beta", lambda x: F.softplus(x, beta=2.0, threshold=3.0), "softplus", {"beta": 2.0, "threshold": 3.0}),
    ("softmax", lambda x: F.softmax(x, 1), "softmax", {"dim": 1}),
    ("log_softmax", lambda x: F.log_softmax(x, 1), "log_softmax", {"dim": 1}),
    ("log_softmax_dim0", lambda x: F.log_softmax(x, 0), "log_softmax", {"dim": 0}),
]
IDS = [row[0] for row in ACTIVATIONS]


def _against_torch(fn, torch_name, kwargs, x, seed=0):
    torch = pytest.importorskip("torch")
    g = gk.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    out, ref = fn(g), getattr(torch.nn.functional, torch_name)(t, **kwargs)
    u = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(gk.tensor(u))
    ref.backward(torch.tensor(u))
    return out.data, ref.detach().numpy(), g.grad.data, t.grad.numpy()


@pytest.mark.parametrize("name, fn, torch_name, kwargs", ACTIVATIONS, ids=IDS)
def test_activation_matches_torch(name, fn, torch_name, kwargs):
    x = np.random.default_rng(1).standard_normal((4, 5)) * 3
    x[0, :3] = [0.0, 1.5, -1.5]  # the kink at 0 and the softplus_beta threshold (2 * 1.5 = 3)
    y, y_ref, g, g_ref = _against_torch(fn, torch_name, kwargs, x)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-15)


# piecewise-linear ones left out: their first derivative is a constant mask times the upstream gradient, with
# no graph to differentiate (PyTorch keeps one, whose derivative is zeros)
CURVED = [row for row in ACTIVATIONS if not row[0].startswith(("relu", "leaky_relu"))]


@pytest.mark.parametrize("name, fn, torch_name, kwargs", CURVED, ids=[row[0] for row in CURVED])
def test_activation_second_derivative_matches_torch(name, fn, torch_name, kwargs):
    """Double backward (a gradient penalty's) against PyTorch, kinks included: where the second derivative
    jumps (ELU at 0, softplus at its threshold) finite differences see neither side; PyTorch's side is the
    reference (a layer norm over one feature makes every input exactly 0)."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((4, 5)) * 3
    x[0, :4] = [0.0, -0.0, 1.5, -1.5]
    g, t = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    u = np.random.default_rng(4).standard_normal(x.shape)
    first, = gk.autograd.grad(fn(g), g, gk.tensor(u), create_graph=True)
    t_first, = torch.autograd.grad(getattr(torch.nn.functional, torch_name)(t, **kwargs), t, torch.tensor(u),
                                   create_graph=True)
    (first * first).sum().backward()
    (t_first * t_first).sum().backward()
    np.testing.assert_allclose(g.grad.data, t.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, fn, torch_name, kwargs", ACTIVATIONS, ids=IDS)
def test_activation_stable_at_huge_inputs(name, fn, torch_name, kwargs):
    # pytest turns RuntimeWarning (overflow/invalid) into errors, so warning-free is asserted too
    x = np.array([[1e4, -1e4, 0.5], [-1e4, 1e4, -0.5]])
    y, y_ref, g, g_ref = _against_torch(fn, torch_name, kwargs, x)
    assert np.isfinite(y).all() and np.isfinite(g).all()
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, fn, torch_name, kwargs", ACTIVATIONS, ids=IDS)
def test_activation_gradcheck(name, fn, torch_name, kwargs):
    x = np.random.default_rng(2).standard_normal((3, 4))
    x[np.abs(x) < 0.05] = 0.3  # keep finite differences away from kinks
    t = gk.tensor(x, requires_grad=True)
    assert gradcheck(fn, t)
    assert gradgradcheck(fn, t)


def test_activation_keeps_float32():
    x = gk.tensor([[-2.0, 0.5, 30.0]])
    for _, fn, _, _ in ACTIVATIONS:
        assert fn(x).dtype == np.float32


def test_softplus_threshold_switch_nn06():
    x = gk.tensor([1000.0, -1000.0], dtype="float64", requires_grad=True)
    y = F.softplus(x)
    y.sum().backward()
    assert y.tolist() == [1000.0, 0.0]
    assert x.grad.tolist() == [1.0, 0.0]


def test_softplus_no_threshold_is_exact_log_sum_exp():
    x = gk.tensor([25.0, -25.0], dtype="float64")
    np.testing.assert_allclose(F.softplus(x, threshold=None).data, np.logaddexp(0, x.data), rtol=1e-15)


def test_softplus_rejects_zero_beta():
    with pytest.raises(ValueError, match="beta"):
        F.softplus(gk.tensor([1.0]), beta=0)
    with pytest.raises(ValueError, match="beta"):
        nn.Softplus(beta=0)


def test_elu_large_positive_no_overflow():
    x = gk.tensor([800.0, 1e4], dtype="float64", requires_grad=True)
    y = F.elu(x)
    y.sum().backward()
    assert y.tolist() == [800.0, 1e4] and x.grad.tolist() == [1.0, 1.0]


def test_elu_float32_large_input_no_overflow():
    assert F.elu(gk.tensor([100.0, -100.0])).tolist() == [100.0, -1.0]


# ---------------------------------------------------------------------------- PReLU
@pytest.mark.parametrize("num_parameters, shape", [(1, (4, 3)), (3, (4, 3)), (3, (2, 3, 5)), (1, (6,))])
def test_prelu_input_and_weight_grads_match_torch(num_parameters, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    w = rng.uniform(0.1, 0.5, num_parameters)
    m = nn.PReLU(num_parameters).double()
    m.weight.data[...] = w
    ref = torch.nn.PReLU(num_parameters).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(w))
    g, t = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    u = rng.standard_normal(shape)
    out, out_ref = m(g), ref(t)
    out.backward(gk.tensor(u))
    out_ref.backward(torch.tensor(u))
    np.testing.assert_allclose(out.data, out_ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(g.grad.data, t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(m.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-12)


def test_prelu_gradcheck_weight():
    rng = np.random.default_rng(4)
    x = gk.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    w = gk.tensor([0.2, 0.7], dtype="float64", requires_grad=True)
    assert gradcheck(F.prelu, (x, w))
    assert gradgradcheck(F.prelu, (x, w))


def test_prelu_defaults_and_bad_sizes():
    m = nn.PReLU()
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert m.weight.tolist() == [0.25] and m.weight.dtype == np.float32
    assert nn.PReLU(2, init=0.1).weight.tolist() == pytest.approx([0.1, 0.1])
    with pytest.raises(ValueError, match=r"weight has 3 parameters.*\(4, 2\).*2 channels"):
        F.prelu(gk.tensor(np.ones((4, 2))), gk.tensor([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="num_parameters must be a positive integer, got 0"):
        nn.PReLU(0)


# ---------------------------------------------------------------------------- modules
MODULES = [
    (nn.ReLU(), lambda x: F.relu(x), "ReLU()"),
    (nn.LeakyReLU(0.3), lambda x: F.leaky_relu(x, 0.3), "LeakyReLU(negative_slope=0.3)"),
    (nn.ELU(alpha=0.5), lambda x: F.elu(x, 0.5), "ELU(alpha=0.5)"),
    (nn.Sigmoid(), lambda x: F.sigmoid(x), "Sigmoid()"),
    (nn.Tanh(), lambda x: F.tanh(x), "Tanh()"),
    (nn.Softplus(beta=2, threshold=5), lambda x: F.softplus(x, 2, 5), "Softplus(beta=2, threshold=5)"),
    (nn.Softmax(dim=0), lambda x: F.softmax(x, 0), "Softmax(dim=0)"),
    (nn.LogSoftmax(dim=1), lambda x: F.log_softmax(x, 1), "LogSoftmax(dim=1)"),
    (nn.PReLU(), lambda x: F.prelu(x, gk.tensor([0.25])), "PReLU(num_parameters=1)"),
]


@pytest.mark.parametrize("module, fn, text", MODULES, ids=[t for _, _, t in MODULES])
def test_module_forward_equals_function_and_repr(module, fn, text):
    x = gk.tensor(np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32))
    np.testing.assert_array_equal(module(x).data, fn(x).data)
    assert repr(module) == text


def test_default_leaky_slope_matches_torch_default():
    assert nn.LeakyReLU().negative_slope == 0.01
    assert F.leaky_relu(gk.tensor([-1.0], dtype="float64")).item() == -0.01


def test_parameter_free_activations_have_no_parameters():
    for module, _, _ in MODULES[:-1]:
        assert list(module.parameters()) == []
