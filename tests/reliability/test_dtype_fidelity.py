"""dtype fidelity (AG-28, OP-09 across the library): a float32 run never produces a float64 value.

The ``float64_detector`` fixture wraps ``Tensor.__init__`` and ``Tensor._make`` (every Tensor,
op outputs and gradients included, is made by one of them) and records each float64 Tensor
created while it is active, with the line that made it. Every op of the op table (forward,
backward and double backward), every layer and activation module, every loss with every
reduction, every optimizer configuration of the optimizer table and the regularisation helpers
then run on float32 inputs; the test fails on any float64 Tensor, output, gradient, parameter
or optimizer state.
"""
from __future__ import annotations

import traceback

import numpy as np
import pytest

import gradkit.autograd as ag
from gradkit import nn
from gradkit.autograd.tensor import Tensor
from tests.autograd.op_table import OPS
from tests.optim.optim_table import CONFIG_IDS, CONFIGS
from tests.reliability.test_mutation import check_inputs

F32 = np.dtype(np.float32)
TALLY = {"runs": 0, "upcasts": 0}  # over the float32 runs of this module (the README figure)


@pytest.fixture
def float64_detector(monkeypatch):
    """Records (where, shape) of every float64 Tensor made while active."""
    found: list[str] = []
    real_init, real_make = Tensor.__init__, Tensor.__dict__["_make"].__func__

    def where() -> str:
        frames = [f for f in traceback.extract_stack()[:-2] if "/tests/" not in f.filename]
        return " <- ".join(f"{f.filename.rsplit('/', 2)[-2]}/{f.name}:{f.lineno}" for f in frames[-3:][::-1])

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        if self.data.dtype == np.float64:
            found.append(f"Tensor() {self.data.shape} at {where()}")

    def make(data, requires_grad=False):
        t = real_make(data, requires_grad)
        if t.data.dtype == np.float64:
            found.append(f"_make {t.data.shape} at {where()}")
        return t

    monkeypatch.setattr(Tensor, "__init__", init)
    monkeypatch.setattr(Tensor, "_make", staticmethod(make))
    yield found
    TALLY["runs"] += 1
    TALLY["upcasts"] += len(found)


def _f32(a) -> Tensor:
    return ag.Tensor(np.asarray(a, dtype=np.float32), requires_grad=True)


def test_the_detector_sees_an_upcast(float64_detector):
    x = _f32([1.0, 2.0])
    _ = x * np.float64(2.0)  # NEP 50: a numpy float64 scalar promotes (documented): the detector must see it
    assert float64_detector
    float64_detector.clear()  # deliberate: not counted in the figure


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_every_op_stays_float32_through_double_backward(op, float64_detector):
    for arrays in check_inputs(op, seed=3):
        inputs = [_f32(a) for a in arrays]
        out = op.fn(*inputs)
        assert out.dtype == F32
        grads = ag.grad(out.sum(), inputs, create_graph=True)
        assert all(g.dtype == F32 and g.shape == x.shape for g, x in zip(grads, inputs))
        second = sum((g * g).sum() for g in grads)
        if second.requires_grad:
            for g in ag.grad(second, inputs, allow_unused=True):
                assert g is None or g.dtype == F32
    assert float64_detector == []


MODULES = [
    lambda: nn.Linear(4, 3), lambda: nn.Dropout(0.3), lambda: nn.BatchNorm1d(4), lambda: nn.LayerNorm(4),
    lambda: nn.ReLU(), lambda: nn.LeakyReLU(0.1), lambda: nn.PReLU(), lambda: nn.PReLU(4), lambda: nn.ELU(),
    lambda: nn.Sigmoid(), lambda: nn.Tanh(), lambda: nn.Softplus(beta=2.0, threshold=5.0), lambda: nn.Softmax(1),
    lambda: nn.LogSoftmax(1), lambda: nn.Identity(),
    lambda: nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2)),
]


@pytest.mark.parametrize("make", MODULES, ids=lambda m: type(m()).__name__)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_every_module_stays_float32(make, training, float64_detector):
    module = make().train(training)
    x = _f32(np.random.default_rng(0).standard_normal((5, 4)) * 3)
    out = module(x)
    out.sum().backward()
    assert out.dtype == F32 and x.grad.dtype == F32
    for name, p in module.named_parameters():
        assert p.dtype == F32 and p.grad.dtype == F32, name
    for name, b in module.state_dict().items():
        assert b.dtype in (F32, np.int64), name
    assert float64_detector == []


def _loss_inputs(name: str):
    rng = np.random.default_rng(1)
    logits = _f32(rng.standard_normal((6, 4)) * 4)
    if name in ("CrossEntropyLoss", "NLLLoss"):
        return logits, ag.tensor(rng.integers(0, 4, 6))
    if name == "CrossEntropyLoss-probs":
        p = rng.random((6, 4))
        return logits, ag.tensor((p / p.sum(1, keepdims=True)).astype(np.float32))
    if name == "BCELoss":
        return _f32(rng.uniform(0.01, 0.99, (6, 4))), ag.tensor(rng.integers(0, 2, (6, 4)).astype(np.float32))
    if name == "BCEWithLogitsLoss":
        return logits, ag.tensor(rng.integers(0, 2, (6, 4)).astype(np.float32))
    return logits, ag.tensor(rng.standard_normal((6, 4)).astype(np.float32))


LOSSES = {
    "MSELoss": lambda r: nn.MSELoss(reduction=r), "L1Loss": lambda r: nn.L1Loss(reduction=r),
    "HuberLoss": lambda r: nn.HuberLoss(reduction=r, delta=0.5), "BCELoss": lambda r: nn.BCELoss(reduction=r),
    "BCEWithLogitsLoss": lambda r: nn.BCEWithLogitsLoss(reduction=r),
    "CrossEntropyLoss": lambda r: nn.CrossEntropyLoss(reduction=r, label_smoothing=0.1),
    "CrossEntropyLoss-probs": lambda r: nn.CrossEntropyLoss(reduction=r),
    "NLLLoss": lambda r: nn.NLLLoss(reduction=r),
}


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_every_loss_stays_float32(name, reduction, float64_detector):
    x, target = _loss_inputs(name)
    inp = x.log_softmax(1) if name == "NLLLoss" else x
    loss = LOSSES[name](reduction)(inp, target)
    loss.sum().backward()
    assert loss.dtype == F32 and x.grad.dtype == F32
    assert float64_detector == []


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_every_optimizer_keeps_parameters_and_state_float32(config, float64_detector):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    opt = config.cls(model.parameters(), **config.kwargs)
    x = ag.tensor(np.random.default_rng(2).standard_normal((8, 3)).astype(np.float32))
    for _ in range(3):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        nn.clip_grad_norm_(model.parameters(), 0.5)
        nn.clip_grad_value_(model.parameters(), 0.3)
        opt.step()
    for p in model.parameters():
        assert p.dtype == F32
    for state in opt.state.values():
        for key, value in state.items():
            arr = value.data if isinstance(value, Tensor) else value
            if isinstance(arr, np.ndarray) and arr.dtype.kind == "f":
                assert arr.dtype == F32, f"state {key!r} is {arr.dtype}"
    assert float64_detector == []


def test_penalties_stay_float32(float64_detector):
    model = nn.Linear(3, 2)
    loss = nn.l1_penalty(model.parameters()) + nn.l2_penalty(model.parameters())
    loss.backward()
    assert loss.dtype == F32 and all(p.grad.dtype == F32 for p in model.parameters())
    assert float64_detector == []


def test_zz_figure(figures):
    """Runs last in this module: the count for README."""
    figures["upcasts found"] = (f"{TALLY['upcasts']} in {TALLY['runs'] - 1} float32 runs "
                                "(ops to double backward, modules, losses, optimizers)")
