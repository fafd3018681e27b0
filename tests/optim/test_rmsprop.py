"""RMSprop: the centered variance never goes negative by rounding."""
from __future__ import annotations

import numpy as np
import pytest

from gradkit.autograd.tensor import Tensor
from gradkit.optim import RMSprop


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_centered_with_a_constant_gradient_stays_finite(dtype) -> None:
    """v − ḡ² is 0 in exact arithmetic for a constant gradient; rounding must not give sqrt(<0)."""
    w = Tensor(np.zeros(50, dtype=dtype), requires_grad=True)
    opt = RMSprop([w], lr=1e-3, alpha=0.9, centered=True)
    g = np.linspace(0.1, 1e3, 50).astype(dtype)
    for _ in range(200):
        w.grad = Tensor(g.copy())
        opt.step()  # a RuntimeWarning (sqrt of a negative) would fail here
    assert np.all(np.isfinite(w.data)) and np.all(w.data < 0)


def test_lecture_form() -> None:
    """E[g²] ← βE[g²] + (1−β)g², θ ← θ − η g/(√E[g²] + ε) is RMSprop(lr=η, alpha=β, eps=ε)."""
    eta, beta, eps = 0.01, 0.9, 1e-6
    theta, avg = np.array([1.0, -2.0]), np.zeros(2)
    w = Tensor(theta.copy(), requires_grad=True)
    opt = RMSprop([w], lr=eta, alpha=beta, eps=eps)
    for k in range(10):
        g = np.random.default_rng(k).normal(size=2)
        avg = beta * avg + (1 - beta) * g * g
        theta = theta - eta * g / (np.sqrt(avg) + eps)
        w.grad = Tensor(g)
        opt.step()
    np.testing.assert_allclose(w.data, theta, rtol=1e-12)
