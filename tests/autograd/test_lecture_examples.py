"""The scalar graphs of a backprop lecture hold exactly (issue acceptance): 0-d tensors, the same API."""
from __future__ import annotations

import pytest

import gradkit as gk


def test_sum_times_graph_gives_the_lecture_gradients() -> None:
    """f = (x + y) * z at x=1, y=-3, z=4: df/dx = df/dy = z = 4, df/dz = x + y = -2."""
    x, y, z = (gk.tensor(v, requires_grad=True) for v in (1.0, -3.0, 4.0))
    f = (x + y) * z
    f.backward()
    assert f.item() == -8.0
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (4.0, 4.0, -2.0)


def test_two_weight_relu_network_gives_the_lecture_gradients() -> None:
    """L = (w2 * relu(w1 * x) - y)^2 at x=1, y=0, w1=1/3, w2=2: dL/dw1 = 8/3, dL/dw2 = 4/9."""
    x, y = gk.tensor(1.0, dtype="float64"), gk.tensor(0.0, dtype="float64")
    w1 = gk.tensor(1 / 3, dtype="float64", requires_grad=True)
    w2 = gk.tensor(2.0, dtype="float64", requires_grad=True)
    L = (w2 * (w1 * x).relu() - y) ** 2
    L.backward()
    assert L.item() == pytest.approx(4 / 9, rel=1e-15)
    assert w1.grad.item() == pytest.approx(8 / 3, rel=1e-15)
    assert w2.grad.item() == pytest.approx(4 / 9, rel=1e-15)


def test_relu_kink_sends_no_gradient_back() -> None:
    """With w1 * x < 0 the relu is off: no gradient reaches w1, and w2's is 0 too (its input is 0)."""
    w1 = gk.tensor(-1.0, dtype="float64", requires_grad=True)
    w2 = gk.tensor(2.0, dtype="float64", requires_grad=True)
    L = (w2 * (w1 * 1.0).relu() - 1.0) ** 2
    L.backward()
    assert (w1.grad.item(), w2.grad.item()) == (0.0, 0.0)
