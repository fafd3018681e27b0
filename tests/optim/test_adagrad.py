"""Adagrad: accumulator start value and the eps-inside-the-root lecture form."""
from __future__ import annotations

import numpy as np
import pytest

from gradkit.autograd.tensor import Tensor
from gradkit.optim import Adagrad

GRADS = [np.random.default_rng(k).normal(size=3) for k in range(10)]


def test_eps_inside_root_form_via_initial_accumulator() -> None:
    """θ −= η g / √(G + ε) is Adagrad(lr=η, initial_accumulator_value=ε, eps=0)."""
    eta, eps = 0.1, 1e-3
    theta, acc = np.array([1.0, -1.0, 0.5]), np.zeros(3)
    w = Tensor(theta.copy(), requires_grad=True)
    opt = Adagrad([w], lr=eta, initial_accumulator_value=eps, eps=0.0)
    for g in GRADS:
        acc = acc + g * g
        theta = theta - eta * g / np.sqrt(acc + eps)
        w.grad = Tensor(g)
        opt.step()
    np.testing.assert_allclose(w.data, theta, rtol=1e-12)


def test_group_initial_accumulator_value_is_ignored_like_torch() -> None:
    """PyTorch starts every group's accumulator at the constructor's value; so does gradkit."""
    torch = pytest.importorskip("torch")
    w, v = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    tw, tv = torch.ones(3, dtype=torch.float64, requires_grad=True), torch.ones(3, dtype=torch.float64,
                                                                               requires_grad=True)
    opt = Adagrad([{"params": [w]}, {"params": [v], "initial_accumulator_value": 5.0}], lr=0.1,
                  initial_accumulator_value=0.5)
    t_opt = torch.optim.Adagrad([{"params": [tw]}, {"params": [tv], "initial_accumulator_value": 5.0}], lr=0.1,
                                initial_accumulator_value=0.5, foreach=False)
    for g in GRADS:
        for p, tp in ((w, tw), (v, tv)):
            p.grad, tp.grad = Tensor(g), torch.tensor(g)
        opt.step()
        t_opt.step()
    np.testing.assert_allclose(v.data, tv.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(opt.state[v]["sum"], t_opt.state[tv]["sum"].numpy(), rtol=1e-12)
