"""Learning-rate schedulers: PyTorch's lr sequences, previews, resume and bad input."""
from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from gradkit import optim
from gradkit.autograd.tensor import Tensor
from gradkit.optim import lr_scheduler

LRS = (0.1, 0.05)  # two parameter groups
N_STEPS = 40


def _decay(t: int) -> float:
    return 0.95 ** t


def _warmup(t: int) -> float:
    return min(1.0, (t + 1) / 5)


class _Halving:
    """A callable object (its __dict__ is saved by LambdaLR.state_dict)."""

    def __init__(self) -> None:
        self.every = 4

    def __call__(self, t: int) -> float:
        return 0.5 ** (t // self.every)


# (id, class name, kwargs): the same arguments build gradkit's and torch's scheduler
SCHEDULERS = [
    ("lambda", "LambdaLR", {"lr_lambda": _decay}),
    ("lambda-per-group", "LambdaLR", {"lr_lambda": [_warmup, _Halving()]}),
    ("step", "StepLR", {"step_size": 3, "gamma": 0.5}),
    ("step-default-gamma", "StepLR", {"step_size": 7}),
    ("multistep", "MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.3}),
    ("multistep-zero", "MultiStepLR", {"milestones": [0, 10], "gamma": 0.5}),
    ("exponential", "ExponentialLR", {"gamma": 0.9}),
    ("cosine", "CosineAnnealingLR", {"T_max": 10}),
    ("cosine-eta-min", "CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
]
SCHEDULER_IDS = [s[0] for s in SCHEDULERS]

_METRICS = np.concatenate([np.linspace(1.0, 0.5, 6), np.full(6, 0.5), np.linspace(0.5, 0.49995, 4),
                           np.full(8, 0.49), np.linspace(0.49, 0.3, 6), np.full(12, 0.3)])
PLATEAUS = [
    ("plateau-default", {}, np.concatenate([_METRICS, np.full(12, 0.3)])),
    ("plateau-patience0", {"patience": 0, "factor": 0.5, "min_lr": [0.01, 0.02]}, _METRICS),
    ("plateau-max-abs-cooldown", {"mode": "max", "threshold_mode": "abs", "threshold": 0.01,
                                  "patience": 2, "cooldown": 3, "factor": 0.5}, -_METRICS),
    ("plateau-min-abs-eps", {"threshold_mode": "abs", "patience": 1, "factor": 0.9, "eps": 0.006,
                             "min_lr": 0.03}, _METRICS),
]


def _gradkit_optimizer() -> optim.SGD:
    return optim.SGD([{"params": [Tensor(np.zeros(2), requires_grad=True)], "lr": LRS[0]},
                      {"params": [Tensor(np.zeros(3), requires_grad=True)], "lr": LRS[1]}], lr=1.0)


def _torch_optimizer(torch):
    return torch.optim.SGD([{"params": [torch.zeros(2, requires_grad=True)], "lr": LRS[0]},
                            {"params": [torch.zeros(3, requires_grad=True)], "lr": LRS[1]}], lr=1.0)


def _lrs(opt) -> list[float]:
    return [g["lr"] for g in opt.param_groups]


# ---------------------------------------------------------------------- parity with torch
@pytest.mark.parametrize("name, kwargs", [s[1:] for s in SCHEDULERS], ids=SCHEDULER_IDS)
def test_lr_sequence_matches_torch(name: str, kwargs: dict) -> None:
    torch = pytest.importorskip("torch")
    opt, t_opt = _gradkit_optimizer(), _torch_optimizer(torch)
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    t_sched = getattr(torch.optim.lr_scheduler, name)(t_opt, **kwargs)
    for step in range(N_STEPS):
        np.testing.assert_allclose(sched.get_last_lr(), t_sched.get_last_lr(), rtol=1e-13, atol=0,
                                   err_msg=f"{name} at step {step}")
        assert _lrs(opt) == sched.get_last_lr()
        opt.step()
        t_opt.step()
        sched.step()
        t_sched.step()
    assert sched.last_epoch == t_sched.last_epoch == N_STEPS
    assert sched.base_lrs == list(LRS)


@pytest.mark.parametrize("kwargs, metrics", [p[1:] for p in PLATEAUS], ids=[p[0] for p in PLATEAUS])
def test_reduce_on_plateau_matches_torch(kwargs: dict, metrics: np.ndarray) -> None:
    torch = pytest.importorskip("torch")
    opt, t_opt = _gradkit_optimizer(), _torch_optimizer(torch)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    t_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **kwargs)
    reductions = 0
    for step, metric in enumerate(metrics):
        before = _lrs(opt)
        sched.step(float(metric))
        t_sched.step(float(metric))
        reductions += _lrs(opt) != before
        assert _lrs(opt) == _lrs(t_opt), f"step {step}"
        assert sched.get_last_lr() == t_sched.get_last_lr()
        assert (sched.num_bad_epochs, sched.cooldown_counter, sched.best) == \
            (t_sched.num_bad_epochs, t_sched.cooldown_counter, t_sched.best)
    assert reductions >= 2  # the metric sequence really exercises the rule


@pytest.mark.parametrize("power", [0.5, 1.0, 2.0])
def test_inverse_time_lr_is_lr0_over_t_plus_1_to_the_power(power: float) -> None:
    opt = _gradkit_optimizer()
    sched = lr_scheduler.InverseTimeLR(opt, power=power)
    for t in range(N_STEPS):
        expected = [lr0 / (t + 1) ** power for lr0 in LRS]
        np.testing.assert_allclose(sched.get_last_lr(), expected, rtol=1e-15)
        assert _lrs(opt) == sched.get_last_lr()
        opt.step()
        sched.step()
    np.testing.assert_allclose(lr_scheduler.InverseTimeLR(_gradkit_optimizer()).lr_curve(4)[:, 0],
                               [0.1, 0.05, 0.1 / 3, 0.025], rtol=1e-15)


def test_inverse_time_lr_matches_torch_lambda_lr() -> None:
    torch = pytest.importorskip("torch")
    t_opt = _torch_optimizer(torch)
    t_sched = torch.optim.lr_scheduler.LambdaLR(t_opt, lambda t: 1 / (t + 1) ** 0.75)
    sched = lr_scheduler.InverseTimeLR(_gradkit_optimizer(), power=0.75)
    for _ in range(20):
        np.testing.assert_allclose(sched.get_last_lr(), t_sched.get_last_lr(), rtol=1e-14)
        t_opt.step()
        t_sched.step()
        sched.optimizer.step()
        sched.step()


# ---------------------------------------------------------------------- preview
@pytest.mark.parametrize("name, kwargs", [s[1:] for s in SCHEDULERS] + [("InverseTimeLR", {"power": 0.5})],
                         ids=SCHEDULER_IDS + ["inverse-time"])
def test_lr_curve_previews_without_touching_the_optimizer(name: str, kwargs: dict) -> None:
    opt = _gradkit_optimizer()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    for _ in range(3):  # preview from the middle of a run
        opt.step()
        sched.step()
    groups_before, state_before = [dict(g) for g in opt.param_groups], dict(sched.state_dict())
    curve = sched.lr_curve(25)
    assert curve.shape == (25, 2)
    assert [dict(g) for g in opt.param_groups] == groups_before
    assert sched.state_dict().keys() == state_before.keys() and sched.last_epoch == state_before["last_epoch"]
    recorded = []
    for _ in range(25):
        recorded.append(sched.get_last_lr())
        opt.step()
        sched.step()
    np.testing.assert_array_equal(curve, np.array(recorded))


def test_plateau_lr_curve_needs_metrics_and_matches_stepping() -> None:
    opt = _gradkit_optimizer()
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    with pytest.raises(ValueError, match="needs metrics"):
        sched.lr_curve(10)
    with pytest.raises(ValueError, match="at least n_steps - 1 = 9 values, got 3"):
        sched.lr_curve(10, metrics=[1.0, 2.0, 3.0])
    curve = sched.lr_curve(len(_METRICS) + 1, metrics=_METRICS)
    assert _lrs(opt) == list(LRS) and sched.num_bad_epochs == 0 and sched.best == np.inf
    recorded = [sched.get_last_lr()]
    for metric in _METRICS:
        sched.step(metric)
        recorded.append(sched.get_last_lr())
    np.testing.assert_array_equal(curve, np.array(recorded))


def test_lr_curve_rejects_bad_n_steps() -> None:
    sched = lr_scheduler.StepLR(_gradkit_optimizer(), step_size=2)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="n_steps must be a positive integer"):
            sched.lr_curve(bad)


def test_plot_draws_one_line_per_group() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    sched = lr_scheduler.CosineAnnealingLR(_gradkit_optimizer(), T_max=10)
    ax = sched.plot(30)
    try:
        lines = ax.get_lines()
        assert len(lines) == 2
        curve = sched.lr_curve(30)
        for i, line in enumerate(lines):
            np.testing.assert_array_equal(line.get_ydata(), curve[:, i])
            np.testing.assert_array_equal(line.get_xdata(), np.arange(30))
        assert ax.get_ylabel() == "learning rate" and ax.get_title() == "CosineAnnealingLR"
        assert sched.last_epoch == 0
        fig, own_ax = plt.subplots()
        assert lr_scheduler.ReduceLROnPlateau(_gradkit_optimizer()).plot(5, ax=own_ax, metrics=[1.0] * 4) is own_ax
        plt.close(fig)
    finally:
        plt.close(ax.figure)


def test_plot_without_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"needs matplotlib: pip install 'gradkit\[plot\]'"):
        lr_scheduler.StepLR(_gradkit_optimizer(), step_size=2).plot(5)


# ---------------------------------------------------------------------- resume, order, errors
@pytest.mark.parametrize("name, kwargs", [s[1:] for s in SCHEDULERS], ids=SCHEDULER_IDS)
def test_state_dict_resume_continues_the_sequence(name: str, kwargs: dict) -> None:
    opt = _gradkit_optimizer()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    for _ in range(7):
        opt.step()
        sched.step()
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    expected = sched.lr_curve(15)

    fresh_opt = _gradkit_optimizer()
    fresh = getattr(lr_scheduler, name)(fresh_opt, **kwargs)
    fresh_opt.load_state_dict(saved_opt)
    fresh.load_state_dict(saved_sched)
    got = []
    for _ in range(15):
        got.append(fresh.get_last_lr())
        fresh_opt.step()
        fresh.step()
    np.testing.assert_array_equal(np.array(got), expected)


def test_lambda_lr_state_dict_saves_callable_objects_only() -> None:
    halving = _Halving()
    sched = lr_scheduler.LambdaLR(_gradkit_optimizer(), [_decay, halving])
    halving.every = 2
    saved = sched.state_dict()
    assert saved["lr_lambdas"] == [None, {"every": 2}] and "optimizer" not in saved
    other = _Halving()
    lr_scheduler.LambdaLR(_gradkit_optimizer(), [_decay, other]).load_state_dict(saved)
    assert other.every == 2


def test_warns_when_stepped_before_the_optimizer() -> None:
    opt = _gradkit_optimizer()
    sched = lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match=r"before `optimizer.step\(\)`"):
        sched.step()
    opt2 = _gradkit_optimizer()
    sched2 = lr_scheduler.ExponentialLR(opt2, gamma=0.5)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


BAD_SCHEDULERS = [
    ("StepLR", {"step_size": 0}, ValueError, ["step_size", "positive integer", "0"]),
    ("StepLR", {"step_size": 2.5}, ValueError, ["step_size", "2.5"]),
    ("CosineAnnealingLR", {"T_max": 0}, ValueError, ["T_max", "positive", "0"]),
    ("InverseTimeLR", {"power": -1.0}, ValueError, ["Invalid power", "-1.0"]),
    ("LambdaLR", {"lr_lambda": [_decay]}, ValueError, ["Expected 2 lr_lambdas", "got 1"]),
    ("LambdaLR", {"lr_lambda": 0.5}, TypeError, ["lr_lambda must be callable", "float"]),
    ("ReduceLROnPlateau", {"factor": 1.0}, ValueError, ["Factor should be < 1.0", "1.0"]),
    ("ReduceLROnPlateau", {"mode": "avg"}, ValueError, ["mode 'avg' is unknown", "'min' or 'max'"]),
    ("ReduceLROnPlateau", {"threshold_mode": "pct"}, ValueError, ["threshold mode 'pct'", "'rel' or 'abs'"]),
    ("ReduceLROnPlateau", {"min_lr": [0.1]}, ValueError, ["expected 2 min_lrs, got 1"]),
]


@pytest.mark.parametrize("name, kwargs, error, words", BAD_SCHEDULERS,
                         ids=[f"{n}-{'-'.join(k)}" for n, k, _, _ in BAD_SCHEDULERS])
def test_bad_arguments_raise_naming_them(name: str, kwargs: dict, error: type, words: list) -> None:
    with pytest.raises(error) as info:
        getattr(lr_scheduler, name)(_gradkit_optimizer(), **kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("cls", [lr_scheduler.ExponentialLR, lr_scheduler.ReduceLROnPlateau])
def test_requires_an_optimizer(cls) -> None:
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        cls([Tensor(np.zeros(2), requires_grad=True)], 0.5)


def test_resuming_with_last_epoch_needs_initial_lr() -> None:
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_gradkit_optimizer(), step_size=2, last_epoch=5)
