"""Dropout: p validation, identity cases, inverted scaling statistics, seeding, gradients."""
from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.nn import functional as F


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_bad_probability_raises_like_pytorch_nn10(p):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as ours:
        nn.Dropout(p)
    with pytest.raises(ValueError) as theirs:
        torch.nn.Dropout(p)
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="between 0 and 1, but got"):
        F.dropout(gk.autograd.ones(2), p)


def test_nan_probability_rejected():  # PyTorch lets NaN through; gradkit refuses it
    with pytest.raises(ValueError, match="but got nan"):
        nn.Dropout(float("nan"))


def test_p_zero_and_eval_are_identity_nn11():
    x = gk.autograd.randn(10, 10)
    assert F.dropout(x, 0.0) is x
    assert nn.Dropout(0.7).eval()(x) is x
    assert F.dropout(x, 0.7, training=False) is x


def test_p_one_gives_zeros_and_zero_grads_without_nan_nn11():
    x = gk.autograd.randn(50, requires_grad=True)
    y = nn.Dropout(1.0)(x)
    assert np.all(y.data == 0) and not np.isnan(y.data).any()
    y.sum().backward()
    assert np.all(x.grad.data == 0)


def test_inverted_scaling_statistics_match_pytorch_nn11():
    torch = pytest.importorskip("torch")
    n, p = 200_000, 0.3
    y = F.dropout(gk.autograd.ones(n, dtype=np.float64), p).data
    ty = torch.nn.functional.dropout(torch.ones(n, dtype=torch.float64), p).numpy()
    assert set(np.unique(y)) == set(np.unique(ty)) == {0.0, 1 / (1 - p)}
    assert abs((y == 0).mean() - p) < 0.005 and abs((ty == 0).mean() - p) < 0.005
    assert abs(y.mean() - 1.0) < 0.01  # E[y] = x: the mean is preserved


def test_same_seed_same_mask_and_grad_is_mask():
    gk.manual_seed(42)
    x = gk.autograd.randn(100, requires_grad=True)
    gk.manual_seed(7)
    y1 = F.dropout(x, 0.5)
    gk.manual_seed(7)
    y2 = F.dropout(x, 0.5)
    np.testing.assert_array_equal(y1.data, y2.data)
    y1.sum().backward()
    mask = (y1.data != 0)
    np.testing.assert_array_equal(x.grad.data, mask * 2.0)
    y3 = F.dropout(x, 0.5)  # generator moved on: another mask
    assert not np.array_equal(y3.data != 0, mask)


def test_dropout_keeps_dtype_and_shape():
    x = gk.autograd.randn(3, 4, dtype=np.float64)
    y = nn.Dropout(0.5)(x)
    assert y.dtype == np.float64 and y.shape == (3, 4)
