"""Tests of nn.callbacks: the Callback hooks and stop flag, EarlyStopping (stops, restores the best
weights, min_delta, modes, errors) and GradientHealth (norms, update ratios, dead ReLUs, warnings)."""
from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.optim import SGD
from tests.nn.test_training import Scalar


class RecordW(nn.Callback):
    def on_train_begin(self, logs):
        self.ws = []

    def on_epoch_end(self, epoch, logs):
        self.ws.append(float(self.model.w.item()))


def _u_shaped_run(**es_kwargs):
    ones = np.ones((4, 1))
    train = [(ones, np.full((4, 1), 3.0))]
    val = [(ones, np.full((4, 1), 1.5))]
    model, rec = Scalar(), RecordW()
    es = nn.EarlyStopping(**es_kwargs)
    h = nn.fit(model, nn.MSELoss(), SGD(model.parameters(), lr=0.05), train, epochs=50, val_loader=val,
               callbacks=[rec, es], progress=False)
    return model, rec, es, h


def test_early_stopping_stops_and_restores_best():
    model, rec, es, h = _u_shaped_run(patience=3)
    best = int(np.argmin(h.val_loss))
    assert es.best_epoch == best and es.best == h.val_loss[best]
    assert es.stopped_epoch == best + 3 and len(h) == best + 4 < 50
    assert model.w.item() == rec.ws[best] != rec.ws[-1]


def test_early_stopping_without_restore_keeps_last_weights():
    model, rec, es, h = _u_shaped_run(patience=2, restore_best=False)
    assert len(h) < 50 and model.w.item() == rec.ws[-1]


def test_early_stopping_min_delta_stops_sooner():
    _, _, es_plain, h_plain = _u_shaped_run(patience=2)
    _, _, es_delta, h_delta = _u_shaped_run(patience=2, min_delta=0.05)
    assert len(h_delta) < len(h_plain)


def test_early_stopping_mode_and_errors():
    assert nn.EarlyStopping(2, monitor="val_acc").mode == "max"
    assert nn.EarlyStopping(2, monitor="train_loss").mode == "min"
    with pytest.raises(ValueError, match="patience must be a non-negative integer, got -1"):
        nn.EarlyStopping(-1)
    with pytest.raises(ValueError, match="mode must be one of 'min', 'max', 'auto', got 'up'"):
        nn.EarlyStopping(1, mode="up")
    model = Scalar()
    with pytest.raises(ValueError, match=r"monitors 'val_loss', which this run does not record; recorded: "
                                         r"\['lr', 'train_loss'\]"):
        nn.fit(model, nn.MSELoss(), SGD(model.parameters(), lr=0.1), [(np.ones((1, 1)), np.ones((1, 1)))],
               epochs=2, callbacks=[nn.EarlyStopping(1)], progress=False)


def test_callback_stop_training_flag_and_hook_order():
    events = []

    class Log(nn.Callback):
        def on_train_begin(self, logs): events.append("train_begin")
        def on_epoch_begin(self, epoch, logs): events.append(f"epoch_begin {epoch}")
        def on_batch_begin(self, batch, logs): events.append(f"batch_begin {batch}")
        def on_batch_end(self, batch, logs): events.append(f"batch_end {batch} {type(logs['loss']).__name__}")

        def on_epoch_end(self, epoch, logs):
            events.append(f"epoch_end {epoch}")
            self.stop_training = epoch == 1

        def on_train_end(self, logs): events.append("train_end")

    model = Scalar()
    batches = [(np.ones((2, 1)), np.ones((2, 1)))] * 2
    h = nn.fit(model, nn.MSELoss(), SGD(model.parameters(), lr=0.1), batches, epochs=5, callbacks=[Log()],
               progress=False)
    assert len(h) == 2
    assert events == ["train_begin"] + [e for k in range(2) for e in
                                        [f"epoch_begin {k}", "batch_begin 0", "batch_end 0 float", "batch_begin 1",
                                         "batch_end 1 float", f"epoch_end {k}"]] + ["train_end"]


# ---------------------------------------------------------------------------- schedulers


def test_gradient_health_records_norms_ratios_and_dead_relus(tmp_path):
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1)).double()
    with gk.no_grad():
        model[2].bias.data[...] = [-100.0, -100.0, 0.0]  # two of the second ReLU's three units always 0
    x = np.random.default_rng(0).standard_normal((8, 2))
    batches = [(x, np.ones((8, 1)))]
    gh = nn.GradientHealth()
    w0 = model[0].weight.data.copy()
    grads = []

    class Grab(nn.Callback):  # runs after GradientHealth's on_batch_end: grads are still set
        def on_batch_end(self, batch, logs):
            grads.append(np.linalg.norm(self.model[0].weight.grad.data))

    lr = 0.01
    nn.fit(model, nn.MSELoss(), SGD(model.parameters(), lr=lr), batches, epochs=2, callbacks=[gh, Grab()],
           progress=False)
    names = [n for n, _ in model.named_parameters()]
    assert list(gh.grad_norms) == names and all(len(v) == 2 for v in gh.grad_norms.values())
    assert gh.grad_norms["0.weight"][0] == pytest.approx(grads[0], rel=1e-12)
    # plain SGD, one batch: ||Δw|| / ||w|| = lr ||g|| / ||w||
    assert gh.update_ratios["0.weight"][0] == pytest.approx(lr * grads[0] / np.linalg.norm(w0), rel=1e-9)
    assert set(gh.dead_relu) == {"1", "3"}
    assert gh.dead_relu["3"][0] >= 2 / 3
    assert all("forward" not in m.__dict__ for m in model.modules())  # wrappers removed after training
    fig = gh.plot(tmp_path / "health.png")
    assert len(fig.axes) == 3 and (tmp_path / "health.png").stat().st_size > 0


def test_gradient_health_warns_on_vanishing_and_exploding():
    x = np.ones((4, 1))

    class Scaled(nn.Module):
        def __init__(self, scale):
            super().__init__()
            self.lin = nn.Linear(1, 1).double()
            self.scale = scale

        def forward(self, x):
            return self.lin(x) * self.scale

    for scale, word, name in [(1e-12, "vanishing", "lin.weight"), (1e6, "exploding", "lin.weight")]:
        model = Scaled(scale)
        with pytest.warns(UserWarning, match=f"{word} gradients at epoch 0: .*{name}"):
            nn.fit(model, nn.MSELoss(), SGD(model.parameters(), lr=0.0), [(x, np.full((4, 1), 1e3))],
                   callbacks=[nn.GradientHealth()], progress=False)


# ---------------------------------------------------------------------------- argument errors
