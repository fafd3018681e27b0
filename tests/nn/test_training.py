"""fit / History / callbacks: learning on a seeded blob problem, modes, early stopping with restore,
schedulers, progress output, plots, gradient-health records and warnings, argument errors."""
from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.autograd import is_grad_enabled
from gradkit.data import DataLoader, TensorDataset
from gradkit.nn.training import _scheduler_wants_metric
from gradkit.optim import SGD


def _blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.standard_normal((n, 2)) * 0.7 + np.where(y[:, None] == 1, 1.5, -1.5)
    return X.astype(np.float32), y.astype(np.int64)


def _loaders():
    X, y = _blobs()
    train = DataLoader(TensorDataset(X[:80], y[:80]), batch_size=16, shuffle=True, seed=1)
    val = DataLoader(TensorDataset(X[80:], y[80:]), batch_size=20)
    return train, val


def _mlp():
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))


def accuracy(y_true, y_pred):
    return float(np.mean(y_pred.argmax(1) == y_true))


def test_fit_learns_blobs_and_records_floats():
    train, val = _loaders()
    model = _mlp()
    h = nn.fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.2), train, epochs=8, val_loader=val,
               metrics={"acc": accuracy}, progress=False)
    assert len(h) == 8 and h.epochs == list(range(8))
    assert h.train_loss[-1] < 0.5 * h.train_loss[0]
    assert h.val_loss[-1] < h.val_loss[0]
    assert h.metrics["val_acc"][-1] >= 0.95 and h.metrics["acc"][-1] >= 0.9
    assert h.lr == [0.2] * 8
    for series in h.history.values():
        assert all(type(v) is float for v in series)  # never loss tensors (AG-35)
    assert set(h.history) == {"train_loss", "val_loss", "acc", "val_acc", "lr"}
    # the recorded val loss is what evaluate() computes for the final weights
    assert h.val_loss[-1] == pytest.approx(nn.evaluate(model, nn.CrossEntropyLoss(), val)["loss"], rel=1e-6)


def test_train_loss_is_batch_size_weighted_mean():
    # batches of sizes 3 and 1 with lr=0 (weights fixed): the epoch loss is the per-sample mean
    model = nn.Linear(1, 1).double()
    x = np.array([[1.0], [2.0], [3.0], [4.0]])
    y = np.zeros((4, 1))
    batches = [(x[:3], y[:3]), (x[3:], y[3:])]
    h = nn.fit(model, nn.MSELoss(), SGD(model.parameters(), lr=0.0), batches, progress=False)
    with gk.no_grad():
        per_sample = (model(gk.tensor(x)).data - y) ** 2
    assert h.train_loss[0] == pytest.approx(per_sample.mean(), rel=1e-12)


class Probe(nn.Module):
    """Identity-like layer that records (training flag, grad mode) at every call."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, is_grad_enabled()))
        return self.lin(x)


def test_train_mode_in_training_eval_and_no_grad_in_validation():
    train, val = _loaders()
    model = Probe()
    nn.fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), train, epochs=2, val_loader=val,
           progress=False)
    n_train, n_val = len(train), len(val)
    expected = ([(True, True)] * n_train + [(False, False)] * n_val) * 2
    assert model.calls == expected
    assert model.training


class Scalar(nn.Module):
    """out = w * x: training targets 3 pull w from 0 to 3; validation targets 1.5 make val loss U-shaped."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(np.zeros(1))

    def forward(self, x):
        return self.w * x


class PlateauLike:
    def __init__(self):
        self.seen = []

    def step(self, metrics):
        self.seen.append(metrics)


class EpochLike:
    def __init__(self):
        self.calls = 0

    def step(self, epoch=None):
        self.calls += 1


def test_scheduler_stepping_per_epoch_with_metric_detection():
    train, val = _loaders()
    model = _mlp()
    plateau, plain = PlateauLike(), EpochLike()
    h = nn.fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), train, epochs=3, val_loader=val,
               scheduler=plateau, progress=False)
    assert plateau.seen == h.val_loss
    h = nn.fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), train, epochs=3,
               scheduler=plateau, progress=False)
    assert plateau.seen[3:] == h.train_loss  # no val_loader: the train loss is monitored
    nn.fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), train, epochs=3, scheduler=plain,
           progress=False)
    assert plain.calls == 3


def test_real_schedulers_change_recorded_lr():
    from gradkit.optim.lr_scheduler import ReduceLROnPlateau, StepLR
    train, _ = _loaders()
    model = _mlp()
    opt = SGD(model.parameters(), lr=0.1)
    h = nn.fit(model, nn.CrossEntropyLoss(), opt, train, epochs=4, scheduler=StepLR(opt, step_size=2, gamma=0.5),
               progress=False)
    assert h.lr == pytest.approx([0.1, 0.05, 0.05, 0.025])
    assert _scheduler_wants_metric(ReduceLROnPlateau(opt)) and not _scheduler_wants_metric(StepLR(opt, 1))


# ---------------------------------------------------------------------------- progress and plots
def test_progress_false_prints_nothing(capsys):
    train, val = _loaders()
    model = _mlp()
    nn.fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), train, epochs=2, val_loader=val,
           progress=False)
    assert capsys.readouterr() == ("", "")


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    train, _ = _loaders()
    model = _mlp()
    nn.fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), train, epochs=1)
    assert capsys.readouterr() == ("", "")  # captured stderr is not a terminal
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    nn.fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), train, epochs=2)
    text = term.getvalue()
    assert "epoch 1/2" in text and "epoch 2/2" in text and "train_loss" in text


def test_history_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    train, val = _loaders()
    model = _mlp()
    h = nn.fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), train, epochs=2, val_loader=val,
               metrics={"acc": accuracy}, progress=False)
    fig = h.plot(tmp_path / "history.png")
    assert type(fig).__name__ == "Figure" and len(fig.axes) == 2
    assert (tmp_path / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {line.get_label() for line in fig.axes[0].lines} == {"train loss", "val loss"}


def test_plot_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'gradkit\[plot\]'"):
        nn.History().plot()


def test_history_access_and_repr():
    h = nn.History()
    h.append(0, {"train_loss": 1.0, "acc": 0.5})
    assert h["acc"] == [0.5] and "val_loss" not in h.history
    assert repr(h) == "History(epochs=1, train_loss=1, acc=0.5)"
    with pytest.raises(KeyError, match=r"no series 'val_loss'; recorded: \['acc', 'train_loss'\]"):
        h["val_loss"]


# ---------------------------------------------------------------------------- gradient health
def test_fit_argument_errors():
    model = Scalar()
    opt = SGD(model.parameters(), lr=0.1)
    data = [(np.ones((1, 1)), np.ones((1, 1)))]
    with pytest.raises(ValueError, match="epochs must be a non-negative integer, got -1"):
        nn.fit(model, nn.MSELoss(), opt, data, epochs=-1)
    with pytest.raises(TypeError, match="metrics must be a dict"):
        nn.fit(model, nn.MSELoss(), opt, data, metrics=[accuracy])
    with pytest.raises(TypeError, match="callbacks must be gradkit.nn.Callback instances, got str"):
        nn.fit(model, nn.MSELoss(), opt, data, callbacks=["early"])
    with pytest.raises(TypeError, match="optimizer must have step"):
        nn.fit(model, nn.MSELoss(), object(), data)
    with pytest.raises(TypeError, match=r"train_loader must yield \(x, y\) pairs, got tuple of length 3"):
        nn.fit(model, nn.MSELoss(), opt, [(1, 2, 3)], progress=False)
    with pytest.raises(ValueError, match="train_loader yielded no batches in epoch 0"):
        nn.fit(model, nn.MSELoss(), opt, [], progress=False)
    with pytest.raises(ValueError, match="no batches in epoch 1 .*used up after one pass"):
        nn.fit(model, nn.MSELoss(), opt, iter(data), epochs=2, progress=False)
    assert len(nn.fit(model, nn.MSELoss(), opt, data, epochs=0)) == 0


def test_fit_keeps_no_graph_alive_between_batches():
    import weakref
    refs = []

    def loss_fn(out, y):
        loss = nn.functional.mse_loss(out, y)
        refs.append(weakref.ref(loss))
        return loss

    class CheckFreed(nn.Callback):
        def on_batch_end(self, batch, logs):
            assert refs[-1]() is None  # fit dropped the loss tensor (and with it the batch's graph)

    model = nn.Linear(1, 1).double()
    batches = [(np.ones((2, 1)), np.ones((2, 1)))] * 3
    h = nn.fit(model, loss_fn, SGD(model.parameters(), lr=0.1), batches, epochs=2, callbacks=[CheckFreed()],
               progress=False)
    assert len(refs) == 6 and all(r() is None for r in refs) and len(h) == 2


def test_progress_without_tqdm_warns_with_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    model = Scalar()
    with pytest.warns(UserWarning, match=r"pip install 'gradkit\[progress\]'"):
        h = nn.fit(model, nn.MSELoss(), SGD(model.parameters(), lr=0.1), [(np.ones((1, 1)), np.ones((1, 1)))])
    assert len(h) == 1  # training still runs, without a bar


def test_fit_trains_an_mlp_on_digits_to_the_accuracy_a_pytorch_user_expects(tmp_path):
    """The issue's end-to-end check: an MLP trained with fit on load_digits reaches >= 95% test accuracy
    (the same 64-64-10 MLP with Adam in PyTorch gets about 97%), and its loss curves render to PNG."""
    pytest.importorskip("sklearn")
    from gradkit.data import StandardScaler, load_digits, train_test_split
    from gradkit.optim import Adam

    gk.manual_seed(0)
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, seed=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train).astype(np.float32), scaler.transform(X_test).astype(np.float32)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    train = DataLoader(TensorDataset(X_train, y_train), batch_size=64, shuffle=True, seed=0)
    val = DataLoader(TensorDataset(X_test, y_test), batch_size=256)
    history = nn.fit(model, nn.CrossEntropyLoss(), Adam(model.parameters(), lr=3e-3), train, epochs=15,
                     val_loader=val, progress=False)
    assert history.train_loss[-1] < history.train_loss[0] / 5
    model.eval()
    with gk.no_grad():
        accuracy = float((model(gk.tensor(X_test)).argmax(1).numpy() == y_test).mean())
    assert accuracy >= 0.95, accuracy
    history.plot(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
