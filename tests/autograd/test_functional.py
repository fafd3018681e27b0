"""Functional API: grad, jacobian, hessian, hvp (compared with torch.autograd.functional when torch imports)."""
from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import grad, hessian, hvp, jacobian


def t64(values, requires_grad=False):
    return gk.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


X0 = np.array([0.3, -1.2, 2.0])
Y0 = np.array([[0.5, 1.5], [-0.7, 0.2], [1.1, -0.4]])


# ---------------------------------------------------------------- grad
def test_grad_returns_gradients_without_touching_dot_grad():
    x = t64(X0, True)
    g, = grad((x ** 3).sum(), x)
    np.testing.assert_allclose(g.data, 3 * X0 ** 2, rtol=1e-12)
    assert x.grad is None and not g.requires_grad


def test_grad_with_respect_to_a_non_leaf():
    x = t64(X0, True)
    h = x.exp()
    y = (h * h).sum()
    gh, gx = grad(y, (h, x))
    np.testing.assert_allclose(gh.data, 2 * np.exp(X0), rtol=1e-12)
    np.testing.assert_allclose(gx.data, 2 * np.exp(2 * X0), rtol=1e-12)


def test_grad_unused_input_raises_unless_allow_unused():
    x, z = t64(X0, True), t64([1.0], True)
    with pytest.raises(RuntimeError, match=r"input 1.*not have been used.*allow_unused=True"):
        grad((x * 2).sum(), (x, z))
    gx, gz = grad((x * 2).sum(), (x, z), allow_unused=True)
    assert gz is None
    np.testing.assert_array_equal(gx.data, [2.0, 2.0, 2.0])


def test_grad_refuses_inputs_that_do_not_require_grad():
    x = t64(X0, True)
    with pytest.raises(RuntimeError, match=r"input 0.*does not require grad"):
        grad((x * 2).sum(), t64(X0))


def test_grad_outputs_count_must_match():
    x = t64(X0, True)
    with pytest.raises(ValueError, match="2 entries.*1 outputs"):
        grad(x * 2, x, grad_outputs=(t64(X0), t64(X0)))


def test_grad_with_grad_outputs_is_a_vector_jacobian_product():
    x = t64(X0, True)
    v = t64([1.0, -2.0, 0.5])
    g, = grad(x.sin(), x, grad_outputs=v)
    np.testing.assert_allclose(g.data, np.cos(X0) * v.data, rtol=1e-12)


def test_grad_create_graph_gives_differentiable_gradients():
    x = t64(X0, True)
    g, = grad((x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad
    g2, = grad(g.sum(), x)
    np.testing.assert_allclose(g2.data, 6 * X0, rtol=1e-12)


def test_grad_frees_the_graph_unless_retained():
    x = t64(X0, True)
    y = (x.exp() * x).sum()
    grad(y, x, retain_graph=True)
    grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph"):
        grad(y, x)


def test_grad_of_several_outputs_sums_their_contributions():
    x = t64(X0, True)
    g, = grad([(x * x).sum(), (3 * x).sum()], x)
    np.testing.assert_allclose(g.data, 2 * X0 + 3, rtol=1e-12)


# ---------------------------------------------------------------- jacobian, hessian, hvp
def test_jacobian_shapes_and_values_analytic():
    x = t64(X0)
    J = jacobian(lambda t: t * t, x)
    assert J.shape == (3, 3) and not x.requires_grad
    np.testing.assert_allclose(J.data, np.diag(2 * X0), rtol=1e-12)
    Js = jacobian(lambda a, b: a * b.sum(), (x, t64(Y0)))
    assert isinstance(Js, tuple) and Js[0].shape == (3, 3) and Js[1].shape == (3, 3, 2)
    np.testing.assert_allclose(Js[1].data, np.broadcast_to(X0[:, None, None], (3, 3, 2)), rtol=1e-12)


def test_jacobian_of_a_constant_output_is_zero():
    J = jacobian(lambda t: gk.tensor(np.ones(2)), t64(X0))
    assert J.shape == (2, 3) and not J.data.any()


def test_hessian_and_hvp_analytic():
    x = t64(X0)
    H = hessian(lambda t: (t ** 3).sum() + (t[0] * t[1]), x)
    expected = np.diag(6 * X0)
    expected[0, 1] = expected[1, 0] = 1.0
    np.testing.assert_allclose(H.data, expected, rtol=1e-12)
    v = t64([1.0, 0.5, -2.0])
    value, hv = hvp(lambda t: (t ** 3).sum() + (t[0] * t[1]), x, v)
    np.testing.assert_allclose(hv.data, expected @ v.data, rtol=1e-12)
    assert value.item() == pytest.approx((X0 ** 3).sum() + X0[0] * X0[1])


def test_hessian_refuses_non_scalar_functions():
    with pytest.raises(RuntimeError, match=r"scalar output.*\(3,\)"):
        hessian(lambda t: t * t, t64(X0))


def test_hvp_checks_v_shapes():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        hvp(lambda t: (t * t).sum(), t64(X0), t64([1.0, 2.0]))


def test_jacobian_hessian_hvp_match_torch():
    torch = pytest.importorskip("torch")
    taf = torch.autograd.functional
    x, y = t64(X0), t64(Y0)
    tx, ty = torch.tensor(X0), torch.tensor(Y0)

    def vec(t):
        return (t * t).sin() * t.sum()

    def two(a, b):
        return (a.unsqueeze(-1) * b).tanh().sum(0) + b.exp().mean()

    def scalar(t):
        return (t ** 3).sum() + (t.sin() * t).sum() ** 2

    def scalar2(a, b):
        return ((a.unsqueeze(-1) * b) ** 2).sum() + (a.exp() * a).sum() * b.sum()

    np.testing.assert_allclose(jacobian(vec, x).data, taf.jacobian(vec, tx).numpy(), rtol=1e-10)
    for ours, ref in zip(jacobian(two, (x, y)), taf.jacobian(two, (tx, ty))):
        np.testing.assert_allclose(ours.data, ref.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(hessian(scalar, x).data, taf.hessian(scalar, tx).numpy(), rtol=1e-10)
    ours_h, ref_h = hessian(scalar2, (x, y)), taf.hessian(scalar2, (tx, ty))
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(ours_h[i][j].data, ref_h[i][j].numpy(), rtol=1e-10, atol=1e-13)
    v = np.array([0.2, -1.0, 0.7])
    _, ours_hv = hvp(scalar, x, t64(v))
    _, ref_hv = taf.hvp(scalar, tx, torch.tensor(v))
    np.testing.assert_allclose(ours_hv.data, ref_hv.numpy(), rtol=1e-10)


def test_jacobian_does_not_change_caller_tensors():
    x = t64(X0, True)
    before = x.data.copy()
    jacobian(lambda t: t.exp(), x)
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None
