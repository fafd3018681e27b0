"""Gradient penalties (double backward) through random nn stacks against PyTorch.

One hypothesis test draws a small MLP -- Linear layers with or without bias, a LayerNorm or BatchNorm1d,
a curved activation -- and a loss, takes the parameters' gradients with ``create_graph=True`` and
backpropagates the sum of their squares: every fused op's create_graph path (Linear, the softmax
cross-entropy, the norms) and every activation's second derivative, composed, against PyTorch's.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit import nn
from tests.hypothesis_budget import examples

ACTIVATIONS = ["Tanh", "Sigmoid", "ELU", "Softplus", "ReLU", "LeakyReLU"]
LOSSES = {"cross_entropy": "CrossEntropyLoss", "mse": "MSELoss", "bce_logits": "BCEWithLogitsLoss",
          "huber": "HuberLoss"}


def _stacks(torch, draw, sizes: list[int]) -> tuple[nn.Sequential, object]:
    """The same drawn stack in gradkit (float64) and torch, torch's random weights loaded into ours."""
    activation, norm = draw(st.sampled_from(ACTIVATIONS)), draw(st.sampled_from([None, "LayerNorm", "BatchNorm1d"]))
    ours, theirs = [], []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        bias = draw(st.booleans())
        ours.append(nn.Linear(n_in, n_out, bias=bias))
        theirs.append(torch.nn.Linear(n_in, n_out, bias=bias))
        if i < len(sizes) - 2:
            if norm is not None:
                ours.append(getattr(nn, norm)(n_out))
                theirs.append(getattr(torch.nn, norm)(n_out))
            ours.append(getattr(nn, activation)())
            theirs.append(getattr(torch.nn, activation)())
    ours, theirs = nn.Sequential(*ours).double(), torch.nn.Sequential(*theirs).double()
    if draw(st.booleans()):  # norms start at weight 1, bias 0 (a LayerNorm over one feature outputs its bias:
        with torch.no_grad():  # exact zeros, the kinks of the activations); or move every parameter
            for p in theirs.parameters():
                p.add_(torch.randn(p.shape, dtype=torch.float64) * 0.5)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


@settings(max_examples=examples(25), deadline=None)
@given(data=st.data())
def test_gradient_penalty_through_random_stacks_matches_torch(data):
    torch = pytest.importorskip("torch")
    draw = data.draw
    torch.manual_seed(draw(st.integers(0, 2**31 - 1)))
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    ours, theirs = _stacks(torch, draw, sizes)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(2, 5))
    x = rng.standard_normal((n, sizes[0]))
    loss = draw(st.sampled_from(sorted(LOSSES)))
    y = rng.integers(0, sizes[-1], n) if loss == "cross_entropy" else rng.random((n, sizes[-1]))
    wrt_input = draw(st.booleans())  # also the input's gradient in the penalty (a WGAN-GP-style term)
    gx, tx = gk.tensor(x, requires_grad=wrt_input), torch.tensor(x, requires_grad=wrt_input)
    out = getattr(nn, LOSSES[loss])()(ours(gx), gk.tensor(y))
    ref = getattr(torch.nn, LOSSES[loss])()(theirs(tx), torch.tensor(y))
    np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-10)
    params, t_params = list(ours.parameters()), list(theirs.parameters())
    wrt, t_wrt = (params + [gx], t_params + [tx]) if wrt_input else (params, t_params)
    grads = gk.autograd.grad(out, wrt, create_graph=True)
    t_grads = torch.autograd.grad(ref, t_wrt, create_graph=True)
    for g, t in zip(grads, t_grads):
        np.testing.assert_allclose(g.data, t.detach().numpy(), rtol=1e-9, atol=1e-12)
    sum((g * g).sum() for g in grads).backward()
    sum((t * t).sum() for t in t_grads).backward()
    for i, (p, t) in enumerate(zip(params, t_params)):
        theirs_grad = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        ours_grad = np.zeros(p.shape) if p.grad is None else p.grad.data
        # (atol: over one feature a LayerNorm's normalised value is 0 exactly in ours, ~1e-16 in PyTorch's,
        # whose second derivatives then carry ~1e-10 where the exact value is 0)
        np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-8, atol=1e-8, err_msg=f"parameter {i}")
