"""Penalties in the graph and gradient clipping against torch.nn.utils."""
from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn


def _params(rng: np.random.Generator) -> list[gk.Tensor]:
    return [gk.tensor(rng.normal(size=s), requires_grad=True) for s in [(3, 4), (4,), (2, 2, 2)]]


def test_l1_l2_values_and_gradients():
    rng = np.random.default_rng(0)
    ps = _params(rng)
    l1, l2 = nn.l1_penalty(ps), nn.l2_penalty(ps)
    assert l1.shape == () and l2.shape == ()
    np.testing.assert_allclose(l1.item(), sum(np.abs(p.data).sum() for p in ps), rtol=1e-12)
    np.testing.assert_allclose(l2.item(), sum((p.data ** 2).sum() for p in ps), rtol=1e-12)
    (l1 + l2).backward()
    for p in ps:
        np.testing.assert_allclose(p.grad.data, np.sign(p.data) + 2 * p.data, rtol=1e-12)


def test_penalty_accepts_module_and_rejects_empty_or_wrong():
    model = nn.Linear(3, 2)
    expected = sum(float((p.data.astype(np.float64) ** 2).sum()) for p in (model.weight, model.bias))
    np.testing.assert_allclose(nn.l2_penalty(model).item(), expected, rtol=1e-5)
    gen = model.parameters()
    list(gen)
    with pytest.raises(ValueError, match="no parameters"):
        nn.l1_penalty(gen)
    with pytest.raises(TypeError, match="expects Tensors.*position 1"):
        nn.l1_penalty([model.weight, 3.0])


def _with_grads(torch, rng):
    shapes = [(3, 4), (4,), (2, 2, 2)]
    grads = [rng.normal(size=s) * 3 for s in shapes]
    ours = [gk.tensor(np.zeros(s), requires_grad=True) for s in shapes]
    theirs = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    for o, t, g in zip(ours, theirs, grads):
        o.grad = gk.tensor(g)
        t.grad = torch.tensor(g)
    ours.append(gk.tensor(np.zeros(2), requires_grad=True))  # no grad: skipped
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ours, theirs = _with_grads(torch, np.random.default_rng(1))
    total = nn.clip_grad_norm_(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.data, t.grad.numpy(), rtol=1e-12)
    assert ours[-1].grad is None


def test_clip_grad_norm_edge_cases():
    p = gk.tensor([0.0], requires_grad=True)
    assert nn.clip_grad_norm_([p], 1.0).item() == 0.0  # no grads at all
    p.grad = gk.tensor([float("inf")])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="max_norm must be >= 0"):
        nn.clip_grad_norm_(p, -1.0)
    with pytest.raises(ValueError, match="norm_type"):
        nn.clip_grad_norm_(p, 1.0, norm_type="two")


def test_clip_grad_value_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = _with_grads(torch, np.random.default_rng(2))
    nn.clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad.data, t.grad.numpy())
    with pytest.raises(ValueError, match="clip_value must be >= 0"):
        nn.clip_grad_value_(ours, -1)
