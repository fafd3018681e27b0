"""SGD: the lecture forms its docstring maps onto arguments give the same trajectories."""
from __future__ import annotations

import numpy as np
import pytest

from gradkit.autograd.tensor import Tensor
from gradkit.optim import SGD

GRADS = [np.random.default_rng(k).normal(size=3) for k in range(15)]
THETA0 = np.array([0.5, -1.0, 2.0])


def _run_sgd(**kwargs) -> list[np.ndarray]:
    w = Tensor(THETA0.copy(), requires_grad=True)
    opt = SGD([w], **kwargs)
    out = []
    for g in GRADS:
        w.grad = Tensor(g)
        opt.step()
        out.append(w.data.copy())
    return out


def test_averaged_momentum_form_is_momentum_beta_dampening_beta() -> None:
    """v = βv + (1−β)g, θ −= γv, with the first v = g (PyTorch's buffer start)."""
    beta, lr = 0.8, 0.1
    theta, v, expected = THETA0.copy(), None, []
    for g in GRADS:
        v = g.copy() if v is None else beta * v + (1 - beta) * g
        theta = theta - lr * v
        expected.append(theta)
    np.testing.assert_allclose(_run_sgd(lr=lr, momentum=beta, dampening=beta), expected, rtol=1e-12)
    # the documented caveat: the v0 = 0 form differs at the first step
    assert not np.allclose(_run_sgd(lr=lr, momentum=beta, dampening=beta)[0], THETA0 - lr * (1 - beta) * GRADS[0])


def test_heavy_ball_and_sutskever_forms_are_plain_momentum() -> None:
    rho, lr = 0.9, 0.05
    theta_hb, v_hb, heavy_ball = THETA0.copy(), np.zeros(3), []
    theta_sk, v_sk, sutskever = THETA0.copy(), np.zeros(3), []
    for g in GRADS:
        v_hb = rho * v_hb + g
        theta_hb = theta_hb - lr * v_hb
        heavy_ball.append(theta_hb)
        v_sk = rho * v_sk - lr * g
        theta_sk = theta_sk + v_sk
        sutskever.append(theta_sk)
    ours = _run_sgd(lr=lr, momentum=rho)
    np.testing.assert_allclose(ours, heavy_ball, rtol=1e-12)
    np.testing.assert_allclose(ours, sutskever, rtol=1e-12)


def test_nesterov_form() -> None:
    mu, lr = 0.9, 0.05
    theta, b, expected = THETA0.copy(), None, []
    for g in GRADS:
        b = g.copy() if b is None else mu * b + g
        theta = theta - lr * (g + mu * b)
        expected.append(theta)
    np.testing.assert_allclose(_run_sgd(lr=lr, momentum=mu, nesterov=True), expected, rtol=1e-12)


def test_weight_decay_is_l2_penalty_gradient() -> None:
    lam, lr = 0.3, 0.1
    theta, expected = THETA0.copy(), []
    for g in GRADS:
        theta = theta - lr * (g + lam * theta)  # ∇(λ/2‖θ‖²) = λθ
        expected.append(theta)
    np.testing.assert_allclose(_run_sgd(lr=lr, weight_decay=lam), expected, rtol=1e-12)


@pytest.mark.parametrize("kwargs", [{"momentum": 0.0}, {"momentum": 0.9, "dampening": 0.5}])
def test_nesterov_needs_momentum_and_zero_dampening(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.1, nesterov=True, **kwargs)
