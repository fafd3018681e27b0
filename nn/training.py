"""The training loop: ``fit`` -> ``History`` (callbacks such as ``EarlyStopping`` are in ``callbacks.py``).

``fit`` runs the textbook loop per batch -- ``zero_grad``, forward, loss,
``backward``, ``step`` -- with the model in ``train()`` mode, then evaluates the
validation loader in ``eval()`` mode under ``no_grad``. Losses are recorded as
Python floats: keeping the loss *tensors* would keep every batch's graph alive
(the classic memory leak, pytorch/pytorch#64586).

gradkit.nn does not import gradkit.optim: any object with ``zero_grad()`` and
``step()`` is an optimizer, any object with ``step()`` or ``step(metric)`` a scheduler.

Example:
    >>> import numpy as np, gradkit as gk
    >>> from gradkit import nn
    >>> from gradkit.optim import SGD
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((32, 2)); y = X @ np.array([2.0, -1.0])
    >>> batches = [(gk.tensor(X[i:i + 8]), gk.tensor(y[i:i + 8, None])) for i in range(0, 32, 8)]
    >>> model = nn.Linear(2, 1).double()
    >>> hist = nn.fit(model, nn.MSELoss(), SGD(model.parameters(), lr=0.1), batches, epochs=5, progress=False)
    >>> hist.train_loss[-1] < hist.train_loss[0]
    True
"""
from __future__ import annotations

import inspect
import sys
import warnings
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from gradkit.autograd.grad_mode import no_grad
from gradkit.autograd.tensor import Tensor, from_numpy
from gradkit.nn.callbacks import Callback
from gradkit.nn.module import Module
from gradkit.nn.plotting import new_figure

__all__ = ["fit", "evaluate", "History"]

MetricFn = Callable[[np.ndarray, np.ndarray], float]


# ---------------------------------------------------------------------------- progress
def _progress_bar(loader: Iterable, epoch: int, epochs: int) -> Any:
    """A tqdm bar sized for ``loader``, or None when tqdm is missing (with a warning naming the extra).

    The bar is advanced by hand, so it stays open to show the validation results.
    """
    try:
        from tqdm import tqdm
    except ImportError:
        warnings.warn("fit(progress=True) shows a progress bar only with tqdm: pip install 'gradkit[progress]' "
                      "(or pass progress=False)", UserWarning, stacklevel=3)
        return None
    total = len(loader) if hasattr(loader, "__len__") else None  # type: ignore[arg-type]
    return tqdm(total=total, desc=f"epoch {epoch + 1}/{epochs}", leave=True, file=sys.stderr)


# ---------------------------------------------------------------------------- History
class History:
    """Per-epoch record of a :func:`fit` run: losses, metrics and learning rate, all Python floats.

    Attributes:
        epochs: epoch indices (0-based) that were run.
        train_loss: mean training loss of each epoch (weighted by batch size).
        val_loss: mean validation loss of each epoch (empty without a val_loader).
        metrics: name -> per-epoch values; training metrics under their name,
            validation metrics under ``"val_" + name``.
        lr: learning rate of the first parameter group at the end of each epoch (if the optimizer has one).

    Example:
        >>> h = History()
        >>> h.append(0, {"train_loss": 1.0, "val_loss": 1.5, "acc": 0.5})
        >>> h["train_loss"], h.metrics["acc"], len(h)
        ([1.0], [0.5], 1)
    """

    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.train_loss: list[float] = []
        self.val_loss: list[float] = []
        self.metrics: dict[str, list[float]] = {}
        self.lr: list[float] = []

    def append(self, epoch: int, logs: Mapping[str, float]) -> None:
        """Record one epoch's logs (``train_loss``, optional ``val_loss`` and ``lr``, the rest are metrics)."""
        self.epochs.append(epoch)
        for key, value in logs.items():
            if key == "train_loss":
                self.train_loss.append(float(value))
            elif key == "val_loss":
                self.val_loss.append(float(value))
            elif key == "lr":
                self.lr.append(float(value))
            else:
                self.metrics.setdefault(key, []).append(float(value))

    @property
    def history(self) -> dict[str, list[float]]:
        """Every recorded series by name (Keras' ``History.history``)."""
        out = {"train_loss": self.train_loss}
        if self.val_loss:
            out["val_loss"] = self.val_loss
        out.update(self.metrics)
        if self.lr:
            out["lr"] = self.lr
        return out

    def __getitem__(self, key: str) -> list[float]:
        series = self.history
        if key not in series:
            raise KeyError(f"History has no series {key!r}; recorded: {sorted(series)}")
        return series[key]

    def __len__(self) -> int:
        return len(self.epochs)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v and k != "lr")
        return f"History(epochs={len(self)}{', ' + last if last else ''})"

    def plot(self, path: str | None = None) -> Any:
        """Plot the losses (left) and metrics (right) per epoch; optionally save to ``path``.

        Args:
            path: file to write (format from the extension, e.g. ``"history.png"``), or None.

        Returns:
            The matplotlib ``Figure`` (displays inline in Jupyter).

        Raises:
            ImportError: matplotlib is not installed (extra ``plot``).
        """
        fig = new_figure("History.plot")
        axes = fig.subplots(1, 2 if self.metrics else 1, squeeze=False)[0]
        epochs = [e + 1 for e in self.epochs]
        ax = axes[0]
        ax.plot(epochs, self.train_loss, marker="o", label="train loss")
        if self.val_loss:
            ax.plot(epochs[:len(self.val_loss)], self.val_loss, marker="o", label="val loss")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend()
        if self.metrics:
            for name, values in self.metrics.items():
                axes[1].plot(epochs[:len(values)], values, marker="o", label=name)
            axes[1].set_xlabel("epoch")
            axes[1].set_ylabel("metric")
            axes[1].legend()
        if path is not None:
            fig.savefig(path)
        return fig


# ---------------------------------------------------------------------------- the loop
def _as_batch(value: Any) -> Any:
    """Loader items as Tensors (numpy arrays are wrapped without a copy)."""
    if isinstance(value, np.ndarray):
        return from_numpy(value)
    return value


def _batch_size(x: Any) -> int:
    shape = getattr(x, "shape", None)
    return int(shape[0]) if shape else 1


def _unpack(item: Any, where: str) -> tuple[Any, Any]:
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        raise TypeError(f"{where} must yield (x, y) pairs, got {type(item).__name__}"
                        f"{f' of length {len(item)}' if isinstance(item, (tuple, list)) else ''}")
    return _as_batch(item[0]), _as_batch(item[1])


def _metric_values(metrics: Mapping[str, MetricFn] | None, y_true: list, y_pred: list,
                   prefix: str) -> dict[str, float]:
    if not metrics or not y_true:
        return {}
    t, p = np.concatenate(y_true), np.concatenate(y_pred)
    return {prefix + name: float(fn(t, p)) for name, fn in metrics.items()}


def _array(x: Any) -> np.ndarray:
    return np.atleast_1d(x.data if isinstance(x, Tensor) else np.asarray(x))


def evaluate(model: Module, loss_fn: Callable[[Any, Any], Tensor], loader: Iterable,
             metrics: Mapping[str, MetricFn] | None = None) -> dict[str, float]:
    """Mean loss (weighted by batch size) and metrics of ``model`` over ``loader``, in eval mode without grad.

    The model's train/eval mode is restored afterwards.

    Args:
        model: the model.
        loss_fn: ``loss_fn(output, y)`` returning a scalar Tensor (mean over the batch).
        loader: iterable of (x, y) batches.
        metrics: name -> ``fn(y_true, y_pred)`` on the concatenated targets and model outputs.

    Returns:
        ``{"loss": ..., **metrics}`` as Python floats.

    Raises:
        ValueError: the loader yields no batch.

    Example:
        >>> import gradkit as gk
        >>> from gradkit import nn
        >>> evaluate(nn.ReLU(), nn.MSELoss(), [(gk.tensor([[-1.0, 2.0]]), gk.tensor([[0.0, 0.0]]))])
        {'loss': 2.0}
    """
    was_training = model.training
    model.eval()
    total, count, y_true, y_pred = 0.0, 0, [], []
    try:
        with no_grad():
            for item in loader:
                x, y = _unpack(item, "the validation loader")
                out = model(x)
                n = _batch_size(x)
                total += float(loss_fn(out, y).item()) * n
                count += n
                if metrics:
                    y_true.append(_array(y))
                    y_pred.append(_array(out))
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return {"loss": total / count, **_metric_values(metrics, y_true, y_pred, "")}


def _scheduler_wants_metric(scheduler: Any) -> bool:
    """True for ReduceLROnPlateau-style schedulers: ``step(metrics)`` takes a required first argument."""
    flag = getattr(scheduler, "needs_metric", None)
    if flag is not None:
        return bool(flag)
    try:
        params = list(inspect.signature(scheduler.step).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return bool(positional) and (positional[0].default is inspect.Parameter.empty
                                 or positional[0].name in ("metrics", "metric"))


def _check_fit_args(model: Any, optimizer: Any, epochs: Any, metrics: Any, callbacks: Any) -> list[Callback]:
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be a gradkit.nn.Module, got {type(model).__name__}")
    if not (callable(getattr(optimizer, "step", None)) and callable(getattr(optimizer, "zero_grad", None))):
        raise TypeError(f"fit: optimizer must have step() and zero_grad() (e.g. gradkit.optim.SGD), "
                        f"got {type(optimizer).__name__}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    if metrics is not None:
        if not isinstance(metrics, Mapping):
            raise TypeError(f"fit: metrics must be a dict name -> fn(y_true, y_pred), got {type(metrics).__name__}")
        for name, fn in metrics.items():
            if not callable(fn):
                raise TypeError(f"fit: metric {name!r} is not callable (got {type(fn).__name__})")
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be gradkit.nn.Callback instances, got {type(cb).__name__}")
    return callbacks


def fit(model: Module, loss_fn: Callable[[Any, Any], Tensor], optimizer: Any, train_loader: Iterable,
        epochs: int = 1, val_loader: Iterable | None = None, metrics: Mapping[str, MetricFn] | None = None,
        scheduler: Any = None, callbacks: Sequence[Callback] = (), progress: bool = True) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``; return the per-epoch :class:`History`.

    Per batch: ``optimizer.zero_grad()``, ``out = model(x)``, ``loss = loss_fn(out, y)``,
    ``loss.backward()``, ``optimizer.step()``. Per epoch: validation (``eval()`` +
    ``no_grad``), then ``scheduler.step()`` -- or ``scheduler.step(val_loss)``
    (train loss without a val_loader) for schedulers whose ``step`` takes a metric,
    like ReduceLROnPlateau -- then the callbacks' ``on_epoch_end``.

    Args:
        model: the model (a Module); left in train mode.
        loss_fn: ``loss_fn(output, y)`` -> scalar Tensor (a mean over the batch).
        optimizer: has ``zero_grad()`` and ``step()``.
        train_loader: iterable of (x, y) batches (Tensors or numpy arrays), re-iterated every epoch.
        epochs: number of passes.
        val_loader: optional iterable of validation (x, y) batches.
        metrics: name -> ``fn(y_true, y_pred) -> float`` on numpy arrays of the epoch's
            targets and model outputs; recorded as ``name`` (train) and ``"val_" + name``.
        scheduler: optional lr scheduler, stepped once per epoch.
        callbacks: :class:`Callback` instances (e.g. :class:`EarlyStopping`, :class:`GradientHealth`).
        progress: show a tqdm bar on stderr (only when stderr is a terminal; extra ``progress``).

    Returns:
        History with ``train_loss``, ``val_loss``, ``metrics`` and ``lr`` per epoch (Python floats).

    Raises:
        TypeError: bad model, optimizer, metrics or callbacks, or a loader item that is not an (x, y) pair.
        ValueError: epochs < 0, or train_loader yields no batches.

    Example:
        >>> import gradkit as gk
        >>> from gradkit import nn
        >>> from gradkit.optim import SGD
        >>> model = nn.Linear(1, 1)
        >>> data = [(gk.tensor([[1.0], [2.0]]), gk.tensor([[2.0], [4.0]]))]
        >>> h = fit(model, nn.MSELoss(), SGD(model.parameters(), lr=0.1), data, epochs=3, progress=False)
        >>> len(h.train_loss), isinstance(h.train_loss[0], float)
        (3, True)
    """
    callbacks = _check_fit_args(model, optimizer, epochs, metrics, callbacks)
    show = bool(progress) and sys.stderr is not None and sys.stderr.isatty()
    wants_metric = scheduler is not None and _scheduler_wants_metric(scheduler)
    history = History()
    for cb in callbacks:
        cb.set_context(model, optimizer, history)
    logs: dict[str, float] = {}
    bar = None
    for cb in callbacks:
        cb.on_train_begin({})
    try:
        for epoch in range(int(epochs)):
            model.train()
            for cb in callbacks:
                cb.on_epoch_begin(epoch, {})
            bar = _progress_bar(train_loader, epoch, int(epochs)) if show else None
            total, count, y_true, y_pred = 0.0, 0, [], []
            for batch, item in enumerate(train_loader):
                x, y = _unpack(item, "train_loader")
                for cb in callbacks:
                    cb.on_batch_begin(batch, {})
                optimizer.zero_grad()
                out = model(x)
                loss = loss_fn(out, y)
                loss.backward()
                optimizer.step()
                value = float(loss.item())  # a float: keeping `loss` would keep its graph alive
                n = _batch_size(x)
                total += value * n
                count += n
                if metrics:
                    y_true.append(_array(y))
                    y_pred.append(_array(out))
                del out, loss
                for cb in callbacks:
                    cb.on_batch_end(batch, {"loss": value, "batch_size": n})
                if bar is not None:
                    bar.set_postfix(loss=f"{total / count:.4g}", refresh=False)
                    bar.update(1)
            if count == 0:
                hint = (" (an iterator or generator is used up after one pass: pass a list or a DataLoader)"
                        if epoch > 0 else "")
                raise ValueError(f"fit: train_loader yielded no batches in epoch {epoch}{hint}")
            logs = {"train_loss": total / count, **_metric_values(metrics, y_true, y_pred, "")}
            if val_loader is not None:
                result = evaluate(model, loss_fn, val_loader, metrics)
                logs["val_loss"] = result.pop("loss")
                logs.update({"val_" + k: v for k, v in result.items()})
            if scheduler is not None:
                if wants_metric:
                    scheduler.step(logs.get("val_loss", logs["train_loss"]))
                else:
                    scheduler.step()
            groups = getattr(optimizer, "param_groups", None)
            if groups and "lr" in groups[0]:
                logs["lr"] = float(groups[0]["lr"])
            history.append(epoch, logs)
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            if bar is not None:
                bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k != "lr"}, refresh=True)
                bar.close()
            if any(cb.stop_training for cb in callbacks):
                break
    finally:
        if bar is not None:  # closing twice is harmless; this one is for an exception mid-epoch
            bar.close()
        model.train()
        for cb in callbacks:
            cb.on_train_end(logs)
    return history
