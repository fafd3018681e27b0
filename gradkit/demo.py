"""The main job, ``gradkit demo``: model selection for an MLP on the handwritten digits, end to end.

The pipeline, one function per step (each reusable on its own):

1. :func:`load_data` — scikit-learn's bundled 8x8 digits (no network), split once into
   train+validation and a stratified held-out test set that is used exactly once.
2. :func:`cross_validated_search` — a stratified k-fold :class:`~gradkit.data.GridSearch` over
   hidden size, L2 weight decay λ and learning rate; each fold standardises on its own
   training part (:func:`train_eval`), so no validation statistics leak into training.
3. :func:`train_mlp` — the best setting retrained on all of train+validation.
4. Evaluation on the test set: accuracy, per-class precision/recall/F1, confusion matrix.
5. Files in the output folder (:func:`run`): the compute graph of one forward/backward pass
   (``graph.svg``, or ``graph.dot`` without Graphviz's ``dot``), ``learning_curves.png``,
   ``confusion_matrix.png``, ``validation_curve.png``, ``model.npz`` (``nn.save``) and
   ``report.txt`` (the printed report).

The model is ``Linear(64, h) -> ReLU -> Linear(h, 10)`` trained by Adam on the softmax
cross-entropy, ``loss = CE(f(x), y)`` with the L2 term ``λ w`` added to each gradient
(Adam's ``weight_decay``, i.e. the gradient of ``λ/2 ||w||²``).

Example:
    >>> model = build_mlp(64, 10, hidden=32)
    >>> model
    Sequential(
      (0): Linear(in_features=64, out_features=32, bias=True)
      (1): ReLU()
      (2): Linear(in_features=32, out_features=10, bias=True)
    )
"""
from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradkit import data, nn, optim
from gradkit.autograd import from_numpy, no_grad
from gradkit.autograd.random import manual_seed

DEFAULT_OUT = "gradkit-demo"
FILES = {"graph": "graph.svg", "graph_dot": "graph.dot", "learning_curves": "learning_curves.png",
         "confusion_matrix": "confusion_matrix.png", "validation_curve": "validation_curve.png",
         "weights": "model.npz", "report": "report.txt"}


@dataclass(frozen=True)
class DemoSettings:
    """What the demo searches and how long it trains.

    Attributes:
        grid: hyperparameter grid for :class:`~gradkit.data.GridSearch` (names of :func:`train_mlp`'s arguments).
        epochs: training epochs per fit.
        batch_size: minibatch size.
        n_splits: folds of the stratified cross-validation.
        test_size: fraction of the samples held out for the single final test.
        seed: seeds the split, the folds, initialisation, dropout and shuffling.
        curve_param: hyperparameter on the x axis of the validation curve.
    """

    grid: dict = field(default_factory=lambda: {"hidden": [64, 128], "weight_decay": [0.0, 1e-3],
                                                "lr": [2e-3, 5e-3]})
    epochs: int = 20
    batch_size: int = 64
    n_splits: int = 5
    test_size: float = 0.2
    seed: int = 0
    curve_param: str = "lr"


def demo_settings(quick: bool = False, seed: int = 0) -> DemoSettings:
    """The default settings (under 2 minutes on a 2-core laptop), or ``quick`` ones that run in seconds.

    Example:
        >>> demo_settings(quick=True).epochs < demo_settings().epochs
        True
    """
    if quick:
        return DemoSettings(grid={"hidden": [32], "weight_decay": [0.0], "lr": [3e-3, 1e-2]}, epochs=8,
                            n_splits=3, seed=seed)
    return DemoSettings(seed=seed)


# ---------------------------------------------------------------------------------------------------- steps
def load_data(test_size: float = 0.2, seed: int = 0) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """The digits, split into train+validation and a stratified held-out test set.

    Returns:
        ``(X_trval, X_test, y_trval, y_test)``: X float32 pixel values 0..16, y int64 labels 0..9.

    Example:
        >>> X_trval, X_test, y_trval, y_test = load_data(test_size=0.2)
        >>> X_trval.shape, X_test.shape
        ((1437, 64), (360, 64))
    """
    X, y = data.load_digits()
    X_trval, X_test, y_trval, y_test = data.train_test_split(X.astype(np.float32), y, test_size=test_size,
                                                             stratify=y, seed=seed)
    return X_trval, X_test, y_trval, y_test


def build_mlp(n_features: int, n_classes: int, hidden: int = 128, dropout: float = 0.0) -> nn.Sequential:
    """``Linear(n_features, hidden) -> ReLU [-> Dropout(dropout)] -> Linear(hidden, n_classes)`` (logits out).

    Example:
        >>> [type(layer).__name__ for layer in build_mlp(4, 3, hidden=8, dropout=0.5)]
        ['Linear', 'ReLU', 'Dropout', 'Linear']
    """
    layers: list[nn.Module] = [nn.Linear(n_features, hidden), nn.ReLU()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, n_classes))
    return nn.Sequential(*layers)


@dataclass
class TrainedMLP:
    """A trained model with the scaler fitted on its training data; ``predict`` takes raw pixels.

    Attributes:
        model: the network (in eval mode).
        scaler: the :class:`~gradkit.data.StandardScaler` fitted on the training split.
        history: the :class:`nn.History` of the training run.
    """

    model: nn.Module
    scaler: data.StandardScaler
    history: Any

    def logits(self, X: NDArray) -> NDArray:
        """Network outputs for raw inputs ``X`` (standardised first), computed without a graph."""
        self.model.eval()
        with no_grad():
            return self.model(from_numpy(self.scaler.transform(X).astype(np.float32))).numpy()

    def predict(self, X: NDArray) -> NDArray:
        """Predicted class indices for raw inputs ``X``."""
        return self.logits(X).argmax(axis=1)


class EpochProgress(nn.Callback):
    """One tqdm bar over the epochs of an ``nn.fit`` run, showing the latest losses (stderr terminals only)."""

    def __init__(self, epochs: int, desc: str) -> None:
        super().__init__()
        self.epochs, self.desc, self.bar = epochs, desc, None

    def on_train_begin(self, logs: dict) -> None:
        if sys.stderr is not None and sys.stderr.isatty():
            try:
                from tqdm import tqdm
            except ImportError:  # progress is optional (extra 'progress')
                return
            self.bar = tqdm(total=self.epochs, desc=self.desc, unit="epoch", file=sys.stderr, leave=False)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.3f}" for k, v in logs.items() if k.endswith(("loss", "accuracy"))})
            self.bar.update(1)

    def on_train_end(self, logs: dict) -> None:
        if self.bar is not None:
            self.bar.close()


def _loader(X: NDArray, y: NDArray, batch_size: int, shuffle: bool) -> data.DataLoader:
    return data.DataLoader(data.TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle)


def train_mlp(X: NDArray, y: NDArray, *, hidden: int = 128, weight_decay: float = 0.0, lr: float = 1e-3,
              dropout: float = 0.0, epochs: int = 30, batch_size: int = 64, X_val: NDArray | None = None,
              y_val: NDArray | None = None, progress: bool = False) -> TrainedMLP:
    """Standardise on ``X``, then train :func:`build_mlp` with Adam on the cross-entropy through ``nn.fit``.

    minimise mean_i CE(f(s(x_i)), y_i), s = standardisation fitted on X; Adam adds λ·w to each gradient.

    Args:
        X, y: training samples (raw features) and integer labels 0..C-1.
        hidden, dropout: the network (see :func:`build_mlp`).
        weight_decay: L2 coefficient λ (Adam's ``weight_decay``).
        lr: Adam's learning rate.
        epochs, batch_size: length of training and minibatch size.
        X_val, y_val: optional validation data, scored after every epoch (learning curves).
        progress: one progress bar over the epochs (when stderr is a terminal and tqdm is installed).

    Returns:
        The :class:`TrainedMLP` (network in eval mode, scaler, history).
    """
    scaler = data.StandardScaler().fit(X)
    n_classes = int(y.max()) + 1
    model = build_mlp(X.shape[1], n_classes, hidden=hidden, dropout=dropout)
    optimizer = optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    val_loader = None
    if X_val is not None and y_val is not None:
        val_loader = _loader(scaler.transform(X_val).astype(np.float32), y_val, batch_size, shuffle=False)
    history = nn.fit(model, nn.CrossEntropyLoss(), optimizer,
                     _loader(scaler.transform(X).astype(np.float32), y, batch_size, shuffle=True),
                     epochs=epochs, val_loader=val_loader, metrics={"accuracy": accuracy_metric},
                     callbacks=[EpochProgress(epochs, "training")] if progress else (), progress=False)
    model.eval()
    return TrainedMLP(model, scaler, history)


def accuracy_metric(y_true: NDArray, logits: NDArray) -> float:
    """Fraction of rows whose largest logit is at the target class (the metric given to ``nn.fit``).

    Example:
        >>> accuracy_metric(np.array([0, 0]), np.array([[2.0, 1.0], [0.0, 3.0]]))
        0.5
    """
    return float(np.mean(np.asarray(logits).argmax(axis=1) == np.asarray(y_true)))


def train_eval(X_train: NDArray, y_train: NDArray, X_val: NDArray, y_val: NDArray, **params: Any) -> dict:
    """One cross-validation fit: train on the fold's training part, score accuracy on both parts.

    Module-level (not a closure) so joblib workers can import it for ``--jobs``.

    Returns:
        ``{"accuracy": validation accuracy, "train_accuracy": training accuracy}``.
    """
    trained = train_mlp(X_train, y_train, **params)
    return {"accuracy": data.accuracy_score(y_val, trained.predict(X_val)),
            "train_accuracy": data.accuracy_score(y_train, trained.predict(X_train))}


def cross_validated_search(X: NDArray, y: NDArray, settings: DemoSettings, n_jobs: int = 1,
                           progress: bool = True) -> data.GridSearch:
    """Stratified k-fold grid search of :func:`train_eval` over ``settings.grid``; returns the fitted search."""
    scorer = functools.partial(train_eval, epochs=settings.epochs, batch_size=settings.batch_size)
    cv = data.StratifiedKFold(settings.n_splits, shuffle=True, seed=settings.seed)
    search = data.GridSearch(scorer, settings.grid, cv=cv, n_jobs=n_jobs, progress=progress, seed=settings.seed)
    return search.fit(X, y)


def first_fold(X: NDArray, y: NDArray, settings: DemoSettings) -> tuple[NDArray, NDArray]:
    """The (train, validation) indices of the search's first fold (for the learning curves)."""
    return next(data.StratifiedKFold(settings.n_splits, shuffle=True, seed=settings.seed).split(X, y))


# ---------------------------------------------------------------------------------------------------- report
def cv_table(search: data.GridSearch) -> str:
    """The search results as a table: one row per candidate, parameters, validation and training accuracy.

    Example:
        >>> def score(X_tr, y_tr, X_val, y_val, c):
        ...     return {"accuracy": c, "train_accuracy": 1.0}
        >>> s = data.GridSearch(score, {"c": [0.5, 0.9]}, cv=2, progress=False).fit(np.zeros((4, 1)), [0, 1, 0, 1])
        >>> print(cv_table(s))
        rank  c    val accuracy     train accuracy
           2  0.5  0.5000 ± 0.0000  1.0000 ± 0.0000
           1  0.9  0.9000 ± 0.0000  1.0000 ± 0.0000
    """
    names = sorted({k for r in search.results for k in r.params})
    head = ["rank"] + names + [f"val {search.results[0].key}"]
    train_key = search.results[0].train_key
    if train_key:
        head.append(f"train {search.results[0].key}")
    rows = []
    for rank, result in zip(search.ranks, search.results):
        row = [str(rank)] + [f"{result.params.get(n)!r:}" for n in names] + [f"{result.mean:.4f} ± {result.std:.4f}"]
        if train_key:
            row.append(f"{result.means[train_key]:.4f} ± {result.stds[train_key]:.4f}")
        rows.append(row)
    widths = [max(len(r[c]) for r in [head] + rows) for c in range(len(head))]
    return "\n".join("  ".join(cell.rjust(w) if c == 0 else cell.ljust(w) for c, (cell, w) in
                               enumerate(zip(r, widths))).rstrip() for r in [head] + rows)


def confusion_table(matrix: NDArray, labels: list) -> str:
    """A confusion matrix as text: rows are true classes, columns predicted classes.

    Example:
        >>> print(confusion_table(np.array([[2, 0], [1, 3]]), [0, 1]))
        true\\pred 0 1
                0 2 0
                1 1 3
    """
    cells = [[str(v) for v in row] for row in matrix]
    names = [str(label) for label in labels]
    width = max(len(c) for row in cells + [names] for c in row)
    lines = ["true\\pred " + " ".join(name.rjust(width) for name in names)]
    lines += [name.rjust(9) + " " + " ".join(c.rjust(width) for c in row) for name, row in zip(names, cells)]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------- files
def _figure() -> tuple[Any, Any]:
    """A matplotlib Figure and Axes without pyplot (no display needed, no global figure state)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the demo's plots need matplotlib: pip install 'gradkit[plot]'") from exc
    fig = Figure(figsize=(7, 5), layout="constrained")
    return fig, fig.add_subplot()


def save_learning_curves(history: Any, path: str, title: str) -> None:
    """Loss (left) and accuracy (right) per epoch, training and validation, from ``nn.History.plot``, as a PNG."""
    fig = history.plot()
    fig.suptitle(title)
    fig.savefig(path, dpi=110)


def save_confusion_matrix(y_true: NDArray, y_pred: NDArray, path: str) -> None:
    """The test confusion matrix (:func:`gradkit.data.plot_confusion_matrix`) as a PNG."""
    fig, ax = _figure()
    data.plot_confusion_matrix(y_true, y_pred, ax=ax)
    ax.set_title("Digits: confusion matrix on the held-out test set")
    fig.savefig(path, dpi=110)


def save_validation_curve(search: data.GridSearch, param: str, path: str) -> None:
    """Cross-validated accuracy against one hyperparameter (others at their best), as a PNG."""
    fig, ax = _figure()
    search.plot(param=param, ax=ax)
    fig.savefig(path, dpi=110)


def save_compute_graph(model: nn.Module, X: NDArray, y: NDArray, out: str, n: int = 4) -> tuple[str, str]:
    """Draw the graph of one forward/backward pass on ``n`` samples: SVG when Graphviz's ``dot`` is installed.

    The parameters' gradients are cleared again afterwards.

    Returns:
        ``(path written, note for the report)``: ``graph.svg``, or ``graph.dot`` (DOT source) with a note
        saying why there is no SVG.
    """
    from gradkit.autograd import draw

    model.zero_grad()
    model.train()
    inputs, targets = from_numpy(np.ascontiguousarray(X[:n])), from_numpy(np.ascontiguousarray(y[:n]))
    inputs.name, targets.name = "x (standardised pixels)", "y (digit labels)"
    loss = nn.CrossEntropyLoss()(model(inputs), targets)
    loss.backward(retain_graph=True)
    params = dict(model.named_parameters())
    note = ""
    try:
        drawing = draw.draw_graph(loss, params=params, show_grad=True, modules="cluster")
        svg = os.path.join(out, FILES["graph"])
        drawing.render(outfile=svg, format="svg", cleanup=True)
        path = svg
    except (draw.GraphvizNotFoundError, OSError, subprocess.CalledProcessError) as exc:  # no graphviz/`dot`: DOT source
        path = os.path.join(out, FILES["graph_dot"])
        with open(path, "w", encoding="utf-8") as f:
            f.write(draw.graph_text(loss, params=params, show_grad=True, format="dot"))
        note = f"no SVG ({str(exc).splitlines()[0]}); wrote the DOT source instead: dot -Tsvg {path} -o graph.svg"
    model.zero_grad()
    model.eval()
    return path, note


# ---------------------------------------------------------------------------------------------------- the job
@dataclass
class DemoResult:
    """What :func:`run` produced.

    Attributes:
        test_accuracy: accuracy of the retrained best model on the held-out test set.
        best_params: the winning hyperparameters.
        search: the fitted :class:`~gradkit.data.GridSearch`.
        files: kind -> path of every file written.
        report: the printed report text.
        seconds: wall time of the whole run.
    """

    test_accuracy: float
    best_params: dict
    search: data.GridSearch
    files: dict[str, str]
    report: str
    seconds: float


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit numpy's BLAS to one thread (via threadpoolctl when installed).

    The demo's matrices are small (64 x 128): a multi-threaded BLAS spends more time
    synchronising threads than multiplying, up to 100 times more on a busy machine.
    Parallelism comes from ``--jobs`` (whole folds per process) instead.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def run(out: str = DEFAULT_OUT, quick: bool = False, jobs: int = 1, seed: int = 0, progress: bool = True,
        echo: Callable[[str], None] = print) -> DemoResult:
    """Run the whole demo: search, retrain, test once, write the files, print the report.

    Args:
        out: output folder (created if missing).
        quick: a seconds-long run with a tiny grid and few epochs (for tests and a first look).
        jobs: folds run in parallel through joblib (1 = in this process, -1 = all cores).
        seed: seeds every random choice; the same seed gives the same report.
        progress: progress bars (shown when stderr is a terminal).
        echo: where report lines go (``print`` by default).

    Returns:
        The :class:`DemoResult`.
    """
    start = time.perf_counter()
    settings = demo_settings(quick=quick, seed=seed)
    os.makedirs(out, exist_ok=True)
    files: dict[str, str] = {}
    lines: list[str] = []

    def say(text: str = "") -> None:
        lines.append(text)
        echo(text)

    manual_seed(seed)
    with single_threaded_blas():
        X_trval, X_test, y_trval, y_test = load_data(settings.test_size, seed)
        n_candidates = len(data.parameter_grid(settings.grid))
        say(f"gradkit demo: MLP on the handwritten digits ({len(X_trval) + len(X_test)} samples, 8x8 pixels, "
            f"10 classes){' [quick]' if quick else ''}")
        say(f"train+validation {len(X_trval)}, held-out test {len(X_test)} (stratified); standardised on each "
            "training split")
        say(f"model: Linear(64, hidden) -> ReLU -> Linear(hidden, 10), Adam, cross-entropy, {settings.epochs} "
            f"epochs, batch {settings.batch_size}")
        say(f"\n[1/4] stratified {settings.n_splits}-fold cross-validated grid search: {n_candidates} candidates "
            f"x {settings.n_splits} folds, jobs={jobs}")
        search = cross_validated_search(X_trval, y_trval, settings, n_jobs=jobs, progress=progress)
        say(cv_table(search))
        best = search.best_params
        say(f"best: {best}  (validation accuracy {search.best_score:.4f} ± {search.best_result.std:.4f})")

        say("\n[2/4] learning curves of the best setting on fold 1 (training vs validation)")
        train_idx, val_idx = first_fold(X_trval, y_trval, settings)
        curve = train_mlp(X_trval[train_idx], y_trval[train_idx], X_val=X_trval[val_idx], y_val=y_trval[val_idx],
                          epochs=settings.epochs, batch_size=settings.batch_size, progress=progress, **best)
        files["learning_curves"] = os.path.join(out, FILES["learning_curves"])
        save_learning_curves(curve.history, files["learning_curves"], f"Learning curves, {best}")

        say("\n[3/4] retraining the best setting on all train+validation samples")
        final = train_mlp(X_trval, y_trval, epochs=settings.epochs, batch_size=settings.batch_size,
                          progress=progress, **best)

        say("\n[4/4] evaluation on the held-out test set (used once)")
        y_pred = final.predict(X_test)
        accuracy = data.accuracy_score(y_test, y_pred)
        say(f"test accuracy: {accuracy:.4f}")
        say("\nper-class precision / recall / F1:")
        say(data.classification_report(y_test, y_pred, digits=3))
        labels = sorted(set(y_test.tolist()) | set(y_pred.tolist()))
        say("confusion matrix (rows: true digit, columns: predicted digit):")
        say(confusion_table(data.confusion_matrix(y_test, y_pred, labels=labels), labels))

        files["confusion_matrix"] = os.path.join(out, FILES["confusion_matrix"])
        save_confusion_matrix(y_test, y_pred, files["confusion_matrix"])
        files["validation_curve"] = os.path.join(out, FILES["validation_curve"])
        save_validation_curve(search, settings.curve_param, files["validation_curve"])
        files["weights"] = os.path.join(out, FILES["weights"])
        nn.save(final.model, files["weights"])
        files["graph"], graph_note = save_compute_graph(final.model, final.scaler.transform(X_test).astype(
            np.float32), y_test, out)

    say("\nfiles written:")
    files["report"] = os.path.join(out, FILES["report"])
    for kind, path in files.items():
        say(f"  {kind:<17} {path}")
    if graph_note:
        say(f"  note: {graph_note}")
    seconds = time.perf_counter() - start
    say(f"\ntest accuracy {accuracy:.4f}; wall time {seconds:.1f} s")
    with open(files["report"], "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return DemoResult(accuracy, best, search, files, "\n".join(lines), seconds)
