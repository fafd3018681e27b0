"""Anomaly detection and the where-with-a-pole pattern (AG-26, AG-27).

Several tests make NaN/inf on purpose; where numpy would warn (an error under the
suite's filterwarnings) the block is wrapped in ``np.errstate`` and says so.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import AnomalyError, detect_anomaly, where

THIS_FILE = os.path.basename(__file__)


def _lineno_of(marker: str) -> int:
    with open(__file__) as f:
        for i, line in enumerate(f, 1):
            if marker in line and "_lineno_of" not in line:
                return i
    raise AssertionError(marker)


def test_backward_anomaly_names_the_op_and_the_forward_call_site():
    x = gk.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = x.sqrt()  # SITE-SQRT
        with pytest.raises(AnomalyError) as info:
            y.sum().backward()
    msg = str(info.value)
    assert msg.startswith("Sqrt backward produced inf in the gradient of input 0")
    assert f'{THIS_FILE}", line {_lineno_of("# SITE-SQRT")}' in msg
    assert "y = x.sqrt()" in msg
    assert "autograd/ops" not in msg and "engine.py" not in msg  # the user's line, not gradkit internals


def test_forward_anomaly_names_the_op_and_call_site():
    x = gk.tensor([1.0, 0.0], requires_grad=True)
    with detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            x.log()  # SITE-LOG
    msg = str(info.value)
    assert "Log forward produced inf from finite inputs" in msg and "log of 0" in msg
    assert f'{THIS_FILE}", line {_lineno_of("# SITE-LOG")}' in msg


def test_forward_check_does_not_blame_an_op_fed_non_finite_inputs():
    x = gk.tensor([1.0, 0.0], requires_grad=True)
    with detect_anomaly():
        with pytest.raises(AnomalyError, match="Div forward"):
            y = 1.0 / x  # the inf is made here ...
    with np.errstate(divide="ignore"):  # deliberate 1/0 outside anomaly mode
        y = 1.0 / x
    with detect_anomaly():
        z = y * 2.0  # ... and only passed on here: no error
    assert np.isinf(z.data[1])


def test_nan_propagates_silently_without_anomaly_mode():
    x = gk.tensor([0.0, 4.0], requires_grad=True)
    y = x.sqrt() * 0.0
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 in sqrt's backward at 0, deliberately
        y.sum().backward()
    assert np.isnan(x.grad.data[0]) and x.grad.data[1] == 0.0


def test_anomaly_mode_is_restored_and_nested():
    from gradkit.autograd import anomaly
    with detect_anomaly():
        with detect_anomaly():
            assert anomaly._enabled
        assert anomaly._enabled
    assert not anomaly._enabled
    with pytest.raises(ZeroDivisionError):
        with detect_anomaly():
            _ = 1 / 0
    assert not anomaly._enabled and not anomaly._in_backward


def test_anomaly_mode_raises_anomaly_error_even_when_numpy_warnings_are_errors():
    x = gk.tensor([0.0], requires_grad=True)
    with np.errstate(all="raise"):
        with detect_anomaly():
            y = x.sqrt()
            with pytest.raises(AnomalyError, match="Sqrt backward"):
                y.sum().backward()


def test_anomaly_error_is_a_runtime_error_and_clean_graphs_pass():
    assert issubclass(AnomalyError, RuntimeError)
    x = gk.tensor([0.5, 2.0], requires_grad=True)
    with detect_anomaly():
        (x.sqrt() * x.log()).sum().backward()
    assert np.isfinite(x.grad.data).all()


# ---------------------------------------------------------------- where + pole (AG-26)
def test_where_with_pole_in_unselected_branch_gives_nan_gradient():
    x = gk.tensor([-1.0, 0.0, 4.0], dtype="float64", requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):  # sqrt(-1) forward and 0/0 backward, deliberately
        y = where(x > 0, x.sqrt(), x)
        y.sum().backward()
    np.testing.assert_array_equal(y.data, [-1.0, 0.0, 2.0])
    assert np.isnan(x.grad.data[:2]).all()  # the documented limitation: 0 * inf and nan from sqrt's backward
    assert x.grad.data[2] == 0.25


def test_where_with_pole_is_reported_by_anomaly_mode_as_sqrt_backward():
    x = gk.tensor([0.0, 4.0], dtype="float64", requires_grad=True)
    with detect_anomaly():
        y = where(x > 0, x.sqrt(), x)  # SITE-WHERE
        with pytest.raises(AnomalyError) as info:
            y.sum().backward()
    assert str(info.value).startswith("Sqrt backward produced nan")
    assert f'line {_lineno_of("# SITE-WHERE")}' in str(info.value)


def test_mask_the_input_pattern_gives_finite_gradients_without_warnings():
    x = gk.tensor([-1.0, 0.0, 4.0], dtype="float64", requires_grad=True)
    safe = where(x > 0, x, 1.0)
    y = where(x > 0, safe.sqrt(), x)
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 0.25])


def test_where_matches_torch_including_the_nan():
    torch = pytest.importorskip("torch")
    v = np.array([-1.0, 0.0, 4.0])
    x, tx = gk.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):  # deliberate, see above
        where(x > 0, x.sqrt(), x).sum().backward()
    torch.where(tx > 0, tx.sqrt(), tx).sum().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())  # NaN positions included
