"""Optimizer base behaviour and the per-config properties of every optimizer (RELIABILITY OP-01..OP-12)."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.optim.optim_table import (BAD_HYPERPARAMETERS, CONFIG_IDS, CONFIGS, Config, gradient, initial_arrays,
                         make_gradkit, make_torch, targets)

from gradkit import optim
from gradkit.autograd.grad_mode import is_grad_enabled, no_grad
from gradkit.autograd.tensor import Tensor
from tests.hypothesis_budget import examples

N_STEPS = 100  # the issue asks for 50, RELIABILITY OP-08 for 100
RELOAD_AT = 50


def _set_grads(params: dict, step: int, goal: dict, torch_params: dict | None = None, torch=None,
               sign: float = 1.0) -> None:
    """Give gradkit (and torch) params the same gradient arrays, computed from gradkit's values.

    ``sign=-1`` turns the objective concave, so that maximizing converges instead of running off.
    """
    for name, p in params.items():
        g = gradient(name, p.data, step, goal[name])
        g = None if g is None else sign * g
        p.grad = None if g is None else Tensor(g)
        if torch_params is not None:
            torch_params[name].grad = None if g is None else torch.tensor(g)


def _plain(value) -> bool:
    """Only numpy arrays, Python scalars/str/None and lists/tuples/dicts of them (saveable without pickle)."""
    if isinstance(value, dict):
        return all(isinstance(k, (int, str)) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return isinstance(value, (np.ndarray, bool, int, float, str, type(None)))


# ---------------------------------------------------------------------- OP-08 / OP-11: parity with torch
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_trajectory_matches_torch(config: Config) -> None:
    """OP-08: 100 steps from the same float64 weights and gradients give torch's parameters and state at
    every step (max abs diff <= 1e-10): two groups with different settings, a parameter that never has a grad,
    one that skips steps, and a state_dict saved mid-run (through a JSON-like round trip) loaded into a fresh
    optimizer."""
    torch = pytest.importorskip("torch")
    arrays, goal = initial_arrays(), targets()
    opt, params = make_gradkit(config, arrays)
    t_opt, t_params = make_torch(torch, config, arrays)
    for step in range(N_STEPS):
        if step == RELOAD_AT:
            saved = opt.state_dict()
            assert _plain(saved)
            saved = copy.deepcopy(saved)
            for group in saved["param_groups"]:  # what a JSON header does to tuples
                for key, v in group.items():
                    group[key] = list(v) if isinstance(v, tuple) else v
            saved["state"] = {str(k): {name: np.asarray(v) for name, v in s.items()}  # what an .npz does
                              for k, s in saved["state"].items()}
            opt = config.cls([{"params": [params["W"], params["unused"]]},
                              {"params": [params["b"], params["s"]]}], **{**config.kwargs, "lr": 123.0})
            opt.load_state_dict(saved)
        _set_grads(params, step, goal, t_params, torch, sign=-1.0 if config.kwargs.get("maximize") else 1.0)
        opt.step()
        t_opt.step()
        for name, p in params.items():
            theirs = t_params[name].detach().numpy()
            diff = np.abs(p.data - theirs)  # checked by hand: assert_allclose per step doubles the run time
            if not (np.all(diff <= 1e-12 + 1e-10 * np.abs(theirs)) and np.all(diff <= 1e-10)):
                np.testing.assert_allclose(p.data, theirs, rtol=1e-10, atol=1e-12,
                                           err_msg=f"{config.id}: {name} at step {step}")
                pytest.fail(f"{config.id}: {name} at step {step}: max abs diff {diff.max()} > 1e-10")
    for name, p in params.items():
        ours, theirs = opt.state.get(p, {}), t_opt.state.get(t_params[name], {})
        if not ours and config.name == "Adagrad":  # torch creates Adagrad state eagerly; ours at the first grad
            assert name == "unused" and float(theirs["step"]) == 0.0
            continue
        assert set(ours) == set(theirs), name
        for key, value in ours.items():
            np.testing.assert_allclose(value, np.asarray(theirs[key].detach()), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{config.id}: state {key} of {name}")
    for group, t_group in zip(opt.param_groups, t_opt.param_groups):
        for key, value in group.items():
            if key != "params":
                assert t_group[key] == (list(value) if isinstance(t_group[key], list) else value), key


_RATE, _DECAY = st.floats(1e-3, 0.1), st.sampled_from([0.0, 0.1])
_BETAS = st.tuples(st.floats(0.0, 0.95), st.floats(0.5, 0.999))
# every option of every optimizer, drawn together: the table above holds chosen combinations, this the rest
HYPERPARAMETERS = {
    "SGD": st.fixed_dictionaries({"lr": _RATE, "momentum": st.sampled_from([0.0, 0.5, 0.9]), "weight_decay": _DECAY,
                                  "dampening": st.sampled_from([0.0, 0.3]), "nesterov": st.booleans(),
                                  "maximize": st.booleans()}).filter(
        lambda k: not k["nesterov"] or (k["momentum"] > 0 and k["dampening"] == 0)),
    "Adagrad": st.fixed_dictionaries({"lr": _RATE, "lr_decay": st.sampled_from([0.0, 0.01]), "weight_decay": _DECAY,
                                      "initial_accumulator_value": st.sampled_from([0.0, 0.3]),
                                      "eps": st.sampled_from([1e-10, 1e-3]), "maximize": st.booleans()}),
    "Adadelta": st.fixed_dictionaries({"lr": st.floats(0.1, 1.0), "rho": st.floats(0.1, 0.99), "weight_decay": _DECAY,
                                       "eps": st.sampled_from([1e-6, 1e-3]), "maximize": st.booleans()}),
    "RMSprop": st.fixed_dictionaries({"lr": st.floats(1e-3, 0.05), "alpha": st.floats(0.1, 0.99),
                                      "weight_decay": _DECAY, "eps": st.sampled_from([1e-8, 1e-3]),
                                      "momentum": st.sampled_from([0.0, 0.5]), "centered": st.booleans(),
                                      "maximize": st.booleans()}),
    "Adam": st.fixed_dictionaries({"lr": _RATE, "betas": _BETAS, "eps": st.sampled_from([1e-8, 1e-3]),
                                   "weight_decay": _DECAY, "amsgrad": st.booleans(), "maximize": st.booleans()}),
    "AdamW": st.fixed_dictionaries({"lr": _RATE, "betas": _BETAS, "eps": st.sampled_from([1e-8, 1e-3]),
                                    "weight_decay": st.sampled_from([0.0, 0.01, 0.3]), "amsgrad": st.booleans(),
                                    "maximize": st.booleans()}),
    "Rprop": st.fixed_dictionaries({"lr": _RATE, "etas": st.tuples(st.floats(0.1, 0.9), st.floats(1.05, 2.0)),
                                    "step_sizes": st.tuples(st.floats(1e-6, 1e-3), st.floats(0.05, 1.0)),
                                    "maximize": st.booleans()}),
}


@settings(max_examples=examples(25), deadline=None)
@given(data=st.data(), name=st.sampled_from(sorted(HYPERPARAMETERS)))
def test_random_hyperparameter_combinations_match_torch(data, name: str) -> None:
    """OP-08 on combinations the table does not list: 30 steps of two parameter groups give torch's parameters."""
    torch = pytest.importorskip("torch")
    kwargs = data.draw(HYPERPARAMETERS[name])
    config = Config("drawn", name, kwargs, next(c.group1 for c in CONFIGS if c.name == name))
    arrays, goal = initial_arrays(), targets()
    opt, params = make_gradkit(config, arrays)
    t_opt, t_params = make_torch(torch, config, arrays)
    for step in range(30):
        _set_grads(params, step, goal, t_params, torch, sign=-1.0 if kwargs["maximize"] else 1.0)
        opt.step()
        t_opt.step()
    for key, p in params.items():
        np.testing.assert_allclose(p.data, t_params[key].detach().numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=f"{name} {kwargs}: {key}")


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_state_dict_resume_is_bit_identical(config: Config) -> None:
    """OP-11: 20 steps, save, fresh params + optimizer, load, 20 more == 40 uninterrupted steps, bit for bit."""
    arrays, goal = initial_arrays(), targets()
    opt, params = make_gradkit(config, arrays)
    for step in range(40):
        _set_grads(params, step, goal)
        opt.step()

    opt_a, params_a = make_gradkit(config, arrays)
    for step in range(20):
        _set_grads(params_a, step, goal)
        opt_a.step()
    saved = opt_a.state_dict()
    at_save = {k: p.data.copy() for k, p in params_a.items()}
    _set_grads(params_a, 20, goal)
    opt_a.step()  # stepping on after saving must not change the saved state
    opt_b, params_b = make_gradkit(config, at_save, lr=123.0)  # hyperparameters come from the state dict
    opt_b.load_state_dict(saved)
    for step in range(20, 40):
        _set_grads(params_b, step, goal)
        opt_b.step()
    for name in params:
        assert np.array_equal(params[name].data, params_b[name].data), name


# ---------------------------------------------------------------------- OP-05, OP-06, OP-07
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_params_without_grad_untouched_and_stateless(config: Config) -> None:
    """OP-05: a parameter whose grad is None stays bit-identical and gets no state."""
    opt, params = make_gradkit(config, initial_arrays())
    before = params["unused"].data.copy()
    goal = targets()
    for step in range(5):
        _set_grads(params, step, goal)
        opt.step()
    assert np.array_equal(params["unused"].data, before)
    assert params["unused"] not in opt.state
    assert 1 not in opt.state_dict()["state"]  # index 1 is "unused"


@pytest.mark.parametrize("config", [c for c in CONFIGS if not c.kwargs.get("weight_decay")],
                         ids=[c.id for c in CONFIGS if not c.kwargs.get("weight_decay")])
def test_zero_gradients_leave_params_unchanged(config: Config) -> None:
    """OP-06: all-zero gradients with weight_decay 0 do not move any parameter."""
    w = Tensor(np.random.default_rng(0).normal(size=(3, 2)), requires_grad=True)
    kwargs = {**config.kwargs, **({"weight_decay": 0.0} if config.name == "AdamW" else {})}
    opt = config.cls([w], **kwargs)
    before = w.data.copy()
    for _ in range(3):
        w.grad = Tensor(np.zeros_like(w.data))
        opt.step()
    assert np.array_equal(w.data, before)


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_goes_the_right_direction_on_a_convex_quadratic(config: Config) -> None:
    """OP-07: with gradients from gradkit's backward, the loss falls (rises when maximizing);
    a parameter outside the loss does not move."""
    rng = np.random.default_rng(3)
    w = Tensor(rng.normal(size=(4,)), requires_grad=True)
    other = Tensor(rng.normal(size=(2,)), requires_grad=True)
    goal = Tensor(rng.normal(size=(4,)))
    opt = config.cls([w, other], **config.kwargs)

    def loss_fn() -> Tensor:
        d = w - goal
        return (d * d).sum()

    start, other_before = float(loss_fn().item()), other.data.copy()
    for _ in range(20):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
    end = float(loss_fn().item())
    assert (end > start) if config.kwargs.get("maximize") else (end < start)
    assert np.array_equal(other.data, other_before)


# ---------------------------------------------------------------------- OP-09: float32
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_float32_params_and_state_stay_float32(config: Config) -> None:
    """OP-09: float32 params, state arrays and loaded state stay float32."""
    arrays, goal = initial_arrays(dtype=np.float32), targets()
    opt, params = make_gradkit(config, arrays)
    for step in range(30):
        _set_grads(params, step, goal)
        opt.step()
    for name, p in params.items():
        assert p.data.dtype == np.float32, name
        assert np.all(np.isfinite(p.data)), name
        for key, value in opt.state.get(p, {}).items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, (name, key)
    # loading a float64 state into float32 params casts it
    opt64, _ = make_gradkit(config, initial_arrays())
    p64 = opt64.param_groups[0]["params"][0]
    p64.grad = Tensor(np.ones_like(p64.data))
    opt64.step()
    opt.load_state_dict(opt64.state_dict())
    for key, value in opt.state[params["W"]].items():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32, key


# ---------------------------------------------------------------------- OP-10: non-finite gradients
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_nan_and_inf_gradients_propagate_like_torch(config: Config) -> None:
    """OP-10 (documented choice: propagate, as PyTorch): NaN/inf entries give torch's NaN/inf pattern,
    finite entries the same values as torch."""
    torch = pytest.importorskip("torch")
    arrays, goal = initial_arrays(), targets()
    opt, params = make_gradkit(config, arrays)
    t_opt, t_params = make_torch(torch, config, arrays)
    for step in range(3):
        with np.errstate(invalid="ignore", over="ignore"):  # numpy warns about sin(inf), inf - inf
            _set_grads(params, step, goal, t_params, torch)
            bad = params["W"].grad.data
            bad[0, 0], bad[1, 2] = np.nan, np.inf
            t_params["W"].grad = torch.tensor(bad.copy())
            opt.step()
        t_opt.step()
    ours, theirs = params["W"].data, t_params["W"].detach().numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(theirs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- OP-12: repr
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_repr_lists_every_group_like_torch(config: Config) -> None:
    """OP-12: every line of our repr appears in torch's repr of the same optimizer."""
    opt, _ = make_gradkit(config, initial_arrays())
    text = repr(opt)
    assert text.startswith(f"{config.name} (\nParameter Group 0\n") and text.endswith("\n)")
    assert "Parameter Group 1" in text
    for key, value in config.kwargs.items():
        assert f"    {key}: {value}\n" in text
    torch = pytest.importorskip("torch")
    t_opt, _ = make_torch(torch, config, initial_arrays())
    assert set(text.splitlines()) <= set(repr(t_opt).splitlines())


# ---------------------------------------------------------------------- OP-04: hyperparameters
@pytest.mark.parametrize("name, kwargs, words", BAD_HYPERPARAMETERS,
                         ids=[f"{n}-{'-'.join(k)}" for n, k, _ in BAD_HYPERPARAMETERS])
def test_bad_hyperparameters_raise_value_error_naming_them(name: str, kwargs: dict, words: list) -> None:
    """OP-04: PyTorch's wording plus the argument's name; torch rejects the same values."""
    w = Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError) as info:
        getattr(optim, name)([w], **kwargs)
    for word in words:
        assert word in str(info.value)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):  # torch rejects them too (ours may be stricter only for Rprop step_sizes)
        if name == "Rprop" and "step_sizes" in kwargs:
            raise ValueError("not checked by torch")
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)


# ---------------------------------------------------------------------- OP-01..OP-03: params
def _param(n: int = 2) -> Tensor:
    return Tensor(np.zeros(n), requires_grad=True)


def test_empty_parameter_list() -> None:
    """OP-01."""
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)


def test_single_tensor_instead_of_iterable() -> None:
    """OP-02."""
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts, but got a single Tensor"):
        optim.Adam(_param())
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts, but got builtins.float"):
        optim.SGD(0.5)


@pytest.mark.parametrize("params", [lambda p: {p}, lambda p: [{"params": {p}}]], ids=["set", "group-set"])
def test_sets_are_rejected(params) -> None:
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD(params(_param()), lr=0.1)


def test_non_tensor_and_non_leaf_params() -> None:
    with pytest.raises(TypeError, match="can only optimize Tensors.*ndarray"):
        optim.SGD([np.zeros(2)], lr=0.1)
    w = _param()
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2.0], lr=0.1)


def test_duplicate_params_warn_in_one_group_and_raise_across_groups() -> None:
    """OP-03."""
    w, v = _param(), _param()
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [v, w]}], lr=0.1)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": w})


def test_param_list_from_generator_and_named_params() -> None:
    w, v = _param(), _param()
    opt = optim.SGD((p for p in [w, v]), lr=0.1)
    assert opt.param_groups[0]["params"][0] is w and opt.param_groups[0]["params"][1] is v
    named = optim.SGD([("weight", w), ("bias", v)], lr=0.1)
    assert named.param_groups[0]["param_names"] == ["weight", "bias"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_add_param_group_fills_defaults_and_is_stepped() -> None:
    w, v = _param(), _param()
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": v, "lr": 1.0})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 1.0
    w.grad, v.grad = Tensor(np.ones(2)), Tensor(np.ones(2))
    opt.step()
    np.testing.assert_array_equal(w.data, [-0.1, -0.1])
    np.testing.assert_array_equal(v.data, [-1.0, -1.0])
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([_param()])


# ---------------------------------------------------------------------- zero_grad / step(closure)
def test_zero_grad_to_none_and_in_place() -> None:
    w = _param()
    opt = optim.SGD([w], lr=0.1)
    w.grad = Tensor(np.array([1.0, 2.0]))
    array = w.grad.data
    opt.zero_grad(set_to_none=False)
    assert w.grad.data is array and np.array_equal(array, [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_step_calls_closure_under_enable_grad_and_returns_its_loss() -> None:
    w = Tensor(np.array([2.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.25)
    seen = []

    def closure() -> Tensor:
        seen.append(is_grad_enabled())
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with no_grad():
        loss = opt.step(closure)
    assert seen == [True]
    assert loss.item() == 4.0
    np.testing.assert_array_equal(w.data, [1.0])  # 2 - 0.25 * 4
    assert opt.step() is None


def test_step_does_not_modify_the_gradient_array() -> None:
    for config in CONFIGS:
        w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
        opt = config.cls([w], **config.kwargs)
        for _ in range(2):
            w.grad = Tensor(np.array([0.5, 0.25]))
            opt.step()
            np.testing.assert_array_equal(w.grad.data, [0.5, 0.25], err_msg=config.id)


def test_grad_of_wrong_shape_names_both_shapes() -> None:
    w = _param(3)
    opt = optim.Adam([w])
    w.grad = Tensor(np.ones(2))
    with pytest.raises(ValueError, match=r"gradient shape \(2,\).*parameter shape \(3,\)"):
        opt.step()


# ---------------------------------------------------------------------- state_dict details
def test_state_dict_format_and_copies() -> None:
    w, v = _param(), _param(3)
    opt = optim.Adam([{"params": [w]}, {"params": [v], "lr": 0.5}], lr=0.1)
    w.grad = Tensor(np.ones(2))
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0] and sd["param_groups"][1]["params"] == [1]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {0}
    assert sd["state"][0]["step"] == 1.0 and isinstance(sd["state"][0]["step"], float)
    assert sd["state"][0]["exp_avg"] is not opt.state[w]["exp_avg"]
    json.dumps(sd["param_groups"])  # hyperparameters are JSON-able
    sd["state"][0]["exp_avg"][...] = 7.0
    assert not np.any(opt.state[w]["exp_avg"] == 7.0)

    fresh = optim.Adam([{"params": [_param()]}, {"params": [_param(3)]}], lr=0.1)
    fresh.load_state_dict(sd)
    loaded = fresh.state[fresh.param_groups[0]["params"][0]]["exp_avg"]
    assert loaded is not sd["state"][0]["exp_avg"]
    assert fresh.param_groups[1]["lr"] == 0.5


def test_load_state_dict_rejects_a_different_structure() -> None:
    """OP-11 (second half): a different group structure or state shape is a ValueError."""
    w, v = _param(), _param()
    sd = optim.SGD([{"params": [w]}, {"params": [v]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([w, v], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD([{"params": [w]}, {"params": [v, _param()]}], lr=0.1).load_state_dict(sd)
    opt = optim.SGD([_param(2)], lr=0.1, momentum=0.9)
    opt.param_groups[0]["params"][0].grad = Tensor(np.ones(2))
    opt.step()
    with pytest.raises(ValueError, match=r"'momentum_buffer' has shape \(2,\).*shape \(5,\)"):
        optim.SGD([_param(5)], lr=0.1, momentum=0.9).load_state_dict(opt.state_dict())


def test_step_bumps_the_version_counter() -> None:
    """An update in place must invalidate graphs that saved the old parameter values."""
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (w * w).sum()
    opt = optim.SGD([w], lr=0.1)
    w.grad = Tensor(np.ones(2))
    before = w._version
    opt.step()
    assert w._version == before + 1
    with pytest.raises(RuntimeError):
        loss.backward()
