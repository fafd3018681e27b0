"""nn.init: PyTorch's fan and gain formulas, distributions, seeding, in-place no-grad fills, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.nn import init

SHAPES = [(4, 3), (8, 2, 5), (6, 4, 3, 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_pytorch(shape):
    torch = pytest.importorskip("torch")
    assert init.calculate_fan_in_and_fan_out(gk.autograd.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))


@pytest.mark.parametrize("name,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                        ("selu", None)])
def test_gain_matches_pytorch(name, param):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-15)


def test_gain_rejects_unknown_names():
    with pytest.raises(ValueError, match="Unsupported nonlinearity 'swish'.*relu"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "big")


def _expected(fn_name: str, shape: tuple, **kw) -> tuple[str, float]:
    """(distribution, std) from PyTorch's formulas, computed with torch's own fan/gain helpers."""
    import torch
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))
    if fn_name.startswith("xavier"):
        std = kw.get("gain", 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
    elif fn_name.startswith("kaiming"):
        fan = fan_in if kw.get("mode", "fan_in") == "fan_in" else fan_out
        std = torch.nn.init.calculate_gain(kw.get("nonlinearity", "leaky_relu"), kw.get("a", 0)) / math.sqrt(fan)
    else:  # lecun_normal_
        std = 1 / math.sqrt(fan_in)
    return ("uniform" if fn_name.endswith("uniform_") else "normal"), std


@pytest.mark.parametrize("fn_name,kw", [
    ("xavier_uniform_", {}), ("xavier_normal_", {"gain": 2.0}), ("kaiming_uniform_", {}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}), ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"a": 0.1}), ("lecun_normal_", {})])
def test_distributions_follow_pytorch_formulas(fn_name, kw):
    torch = pytest.importorskip("torch")
    shape = (300, 200, 3)
    w = getattr(init, fn_name)(gk.autograd.zeros(*shape, dtype=np.float64), **kw).data
    kind, std = _expected(fn_name, shape, **kw)
    assert abs(w.mean()) < 0.02 * std  # 180,000 draws: the standard error is std / 424
    np.testing.assert_allclose(w.std(), std, rtol=0.01)
    if kind == "uniform":
        bound = math.sqrt(3) * std
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.999 * bound
        tw = getattr(torch.nn.init, fn_name)(torch.zeros(*shape, dtype=torch.float64), **kw).numpy()
        assert np.abs(tw).max() <= bound  # the same bound holds for PyTorch's draw


def test_simple_fills():
    t = gk.autograd.zeros(1000, dtype=np.float64)
    init.uniform_(t, -2, 3)
    assert t.data.min() >= -2 and t.data.max() < 3 and abs(t.data.mean() - 0.5) < 0.15
    init.normal_(t, mean=5, std=0.1)
    assert abs(t.data.mean() - 5) < 0.02 and abs(t.data.std() - 0.1) < 0.01
    assert init.constant_(t, 0.25).data.tolist() == [0.25] * 1000
    assert init.ones_(t).data.sum() == 1000 and init.zeros_(t).data.sum() == 0
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(t, 1, 0)
    with pytest.raises(TypeError, match="gradkit Tensor"):
        init.zeros_(np.zeros(3))


def test_fills_in_place_without_graph_and_keep_dtype():
    layer = nn.Linear(3, 2)
    w = layer.weight
    out = init.kaiming_normal_(layer.weight)
    assert out is w and w.is_leaf and w.grad_fn is None and w.requires_grad and w.dtype == np.float32
    version = w._version
    init.zeros_(w)
    assert w._version == version + 1  # in-place change is tracked for saved-tensor checks


def test_seeded_generator_reproduces_and_generator_argument():
    gk.manual_seed(3)
    a = init.xavier_uniform_(gk.autograd.zeros(5, 5)).data.copy()
    gk.manual_seed(3)
    b = init.xavier_uniform_(gk.autograd.zeros(5, 5)).data
    np.testing.assert_array_equal(a, b)
    c = init.normal_(gk.autograd.zeros(5), generator=np.random.default_rng(1)).data
    d = init.normal_(gk.autograd.zeros(5), generator=np.random.default_rng(1)).data
    np.testing.assert_array_equal(c, d)


@pytest.mark.parametrize("fn", [init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_,
                                init.kaiming_normal_, init.lecun_normal_])
def test_fewer_than_two_dims_raises_like_pytorch_nn14(fn):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as theirs:
        getattr(torch.nn.init, fn.__name__, torch.nn.init.kaiming_normal_)(torch.zeros(3))
    for shape in [(3,), ()]:
        with pytest.raises(ValueError) as ours:
            fn(gk.autograd.zeros(*shape))
        assert str(theirs.value) in str(ours.value)
        assert "bias" in str(ours.value)  # says what to use instead


def test_zero_element_tensor_warns_and_is_noop():
    t = gk.autograd.zeros(0, 3)
    with pytest.warns(UserWarning, match="zero-element"):
        assert init.kaiming_uniform_(t) is t


def test_bad_mode_raises():
    with pytest.raises(ValueError, match="Mode fan_avg not supported.*fan_in, fan_out"):
        init.kaiming_uniform_(gk.autograd.zeros(2, 2), mode="fan_avg")
