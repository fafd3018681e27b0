"""Callbacks of :func:`gradkit.nn.fit`: the ``Callback`` hooks, ``EarlyStopping`` and ``GradientHealth``."""
from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from gradkit.autograd.tensor import Tensor
from gradkit.nn.activation import ReLU
from gradkit.nn.module import Module
from gradkit.nn.plotting import new_figure

if TYPE_CHECKING:  # fit's History, for annotations only (training.py imports this module)
    from gradkit.nn.training import History

__all__ = ["Callback", "EarlyStopping", "GradientHealth"]


class Callback:
    """Base class of :func:`fit` callbacks: override the hooks you need.

    ``fit`` sets ``model``, ``optimizer`` and ``history`` before ``on_train_begin``.
    Setting ``self.stop_training = True`` ends training after the current epoch.
    ``logs`` of ``on_batch_end`` hold ``loss`` and ``batch_size``; those of
    ``on_epoch_end`` hold ``train_loss``, ``val_loss`` (with a val_loader), the
    metrics and ``lr``.

    Example:
        >>> class StopAtLoss(Callback):
        ...     def on_epoch_end(self, epoch, logs):
        ...         self.stop_training = logs["train_loss"] < 0.1
    """

    model: Module
    optimizer: Any
    history: History

    def __init__(self) -> None:
        self.stop_training = False

    def set_context(self, model: Module, optimizer: Any, history: History) -> None:
        """Called by ``fit`` before training starts."""
        self.model, self.optimizer, self.history = model, optimizer, history
        self.stop_training = False

    def on_train_begin(self, logs: dict) -> None:
        """Before the first epoch."""

    def on_epoch_begin(self, epoch: int, logs: dict) -> None:
        """Before each epoch's first batch (model in train mode)."""

    def on_batch_begin(self, batch: int, logs: dict) -> None:
        """Before each batch's forward pass."""

    def on_batch_end(self, batch: int, logs: dict) -> None:
        """After each optimizer step (parameter gradients are still set)."""

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        """After each epoch's validation and scheduler step."""

    def on_train_end(self, logs: dict) -> None:
        """After the last epoch (also when training stops early or raises)."""


class EarlyStopping(Callback):
    """Stop when a monitored value has not improved for ``patience`` epochs; restore the best weights.

    An epoch improves when ``value < best - min_delta`` (mode "min") or
    ``value > best + min_delta`` (mode "max"); NaN never improves. With
    ``restore_best`` the model ends training with a copy of the best epoch's
    ``state_dict`` arrays (whether or not it stopped early).

    Args:
        patience: epochs without improvement tolerated before stopping (>= 0).
        min_delta: smallest change that counts as an improvement (>= 0).
        restore_best: load the best epoch's weights at the end of training.
        monitor: key of the epoch logs, e.g. "val_loss", "train_loss", "val_acc".
        mode: "min", "max", or "auto" ("max" for monitors naming acc/accuracy/f1/auc/precision/recall, else "min").

    Attributes:
        best: best monitored value; best_epoch: its epoch; stopped_epoch: epoch training stopped at, or None.

    Raises:
        ValueError: bad patience, min_delta or mode; at the end of an epoch, a monitor the run does not record.

    Example:
        >>> EarlyStopping(patience=3)
        EarlyStopping(patience=3, min_delta=0, restore_best=True, monitor='val_loss', mode='min')
    """

    _MAX_WORDS = ("acc", "accuracy", "f1", "auc", "precision", "recall", "r2")

    def __init__(self, patience: int, min_delta: float = 0, restore_best: bool = True, monitor: str = "val_loss",
                 mode: str = "auto") -> None:
        super().__init__()
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be a non-negative integer, got {patience!r}")
        if not min_delta >= 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}")
        if mode not in ("min", "max", "auto"):
            raise ValueError(f"EarlyStopping: mode must be one of 'min', 'max', 'auto', got {mode!r}")
        if mode == "auto":
            mode = "max" if any(w in monitor.lower() for w in self._MAX_WORDS) else "min"
        self.patience, self.min_delta, self.restore_best = int(patience), min_delta, restore_best
        self.monitor, self.mode = monitor, mode
        self._reset()

    def _reset(self) -> None:
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.wait = 0
        self._best_state: dict[str, np.ndarray] | None = None

    def on_train_begin(self, logs: dict) -> None:
        self._reset()

    def _improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which this run does not record; recorded: "
                             f"{sorted(logs)} (pass val_loader= to fit for 'val_loss', or monitor='train_loss')")
        value = float(logs[self.monitor])
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:  # a copy: state_dict tensors share memory with the live parameters
                self._best_state = {k: np.array(v.data if isinstance(v, Tensor) else v, copy=True)
                                    for k, v in self.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stop_training = True
            self.stopped_epoch = epoch

    def on_train_end(self, logs: dict) -> None:
        if self.restore_best and self._best_state is not None:
            self.model.load_state_dict(self._best_state)

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
                f"restore_best={self.restore_best}, monitor={self.monitor!r}, mode={self.mode!r})")


class GradientHealth(Callback):
    """Record per-parameter gradient norms, update-to-weight ratios and dead-ReLU fractions per epoch.

    * ``grad_norms[name]``: mean over the epoch's batches of ``||grad||_2`` of the named parameter;
    * ``update_ratios[name]``: mean of ``||w_after - w_before|| / ||w_before||`` per optimizer step
      (healthy training is often around 1e-3; batches where ``||w_before|| = 0`` are skipped);
    * ``dead_relu[name]``: for each :class:`~gradkit.nn.ReLU` module, the mean over batches of the
      fraction of units whose output is exactly 0 for every sample of the batch (only ReLU
      *modules* are seen; ``x.relu()`` inside a forward is not).

    At each epoch's end a ``UserWarning`` names the parameters whose mean gradient
    norm is below ``vanishing`` or whose largest batch gradient norm is above ``exploding``.

    Args:
        vanishing: warn below this mean gradient norm.
        exploding: warn above this batch gradient norm.

    Example:
        >>> GradientHealth()
        GradientHealth(vanishing=1e-07, exploding=1000.0)
    """

    def __init__(self, vanishing: float = 1e-7, exploding: float = 1e3) -> None:
        super().__init__()
        self.vanishing, self.exploding = vanishing, exploding
        self.grad_norms: dict[str, list[float]] = {}
        self.grad_norm_max: dict[str, list[float]] = {}
        self.update_ratios: dict[str, list[float]] = {}
        self.dead_relu: dict[str, list[float]] = {}
        self._wrapped: list[Module] = []

    def __repr__(self) -> str:
        return f"GradientHealth(vanishing={self.vanishing}, exploding={self.exploding})"

    # -- setup: ReLU modules report their outputs through a wrapped forward (Module has no forward hooks)
    def on_train_begin(self, logs: dict) -> None:
        self.grad_norms, self.grad_norm_max, self.update_ratios, self.dead_relu = {}, {}, {}, {}
        self._params = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        self._wrapped = []
        for name, m in self.model.named_modules():
            if isinstance(m, ReLU):
                self._wrap(name or type(m).__name__, m)

    def _wrap(self, name: str, module: Module) -> None:
        original = module.forward
        record = self._record_relu

        def forward(input: Tensor) -> Tensor:
            out = original(input)
            if module.training:
                record(name, out.data)
            return out

        module.__dict__["forward"] = forward  # an instance attribute shadows the class's forward
        self._wrapped.append(module)

    def on_train_end(self, logs: dict) -> None:
        for m in self._wrapped:
            m.__dict__.pop("forward", None)
        self._wrapped = []

    def _record_relu(self, name: str, out: np.ndarray) -> None:
        dead = np.all(out == 0, axis=0) if out.ndim else np.asarray(out == 0)
        self._dead_acc.setdefault(name, []).append(float(np.mean(dead)))

    # -- per batch
    def on_epoch_begin(self, epoch: int, logs: dict) -> None:
        self._norm_acc: dict[str, list[float]] = {}
        self._ratio_acc: dict[str, list[float]] = {}
        self._dead_acc: dict[str, list[float]] = {}

    def on_batch_begin(self, batch: int, logs: dict) -> None:
        self._before = {n: p.data.copy() for n, p in self._params}

    def on_batch_end(self, batch: int, logs: dict) -> None:
        for name, p in self._params:
            if p.grad is not None:
                self._norm_acc.setdefault(name, []).append(float(np.linalg.norm(p.grad.data)))
            before = self._before[name]
            w_norm = float(np.linalg.norm(before))
            if w_norm > 0:
                self._ratio_acc.setdefault(name, []).append(float(np.linalg.norm(p.data - before)) / w_norm)

    # -- per epoch
    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        vanishing, exploding = [], []
        for name, _ in self._params:
            norms = self._norm_acc.get(name)
            mean = float(np.mean(norms)) if norms else float("nan")
            top = float(np.max(norms)) if norms else float("nan")
            self.grad_norms.setdefault(name, []).append(mean)
            self.grad_norm_max.setdefault(name, []).append(top)
            ratios = self._ratio_acc.get(name)
            self.update_ratios.setdefault(name, []).append(float(np.mean(ratios)) if ratios else float("nan"))
            if norms and mean < self.vanishing:
                vanishing.append(f"{name} ({mean:.2g})")
            if norms and top > self.exploding:
                exploding.append(f"{name} ({top:.3g})")
        for name, fracs in self._dead_acc.items():
            self.dead_relu.setdefault(name, []).append(float(np.mean(fracs)))
        if vanishing:
            warnings.warn(f"GradientHealth: vanishing gradients at epoch {epoch}: mean gradient norm below "
                          f"{self.vanishing:g} for {', '.join(vanishing)}", UserWarning, stacklevel=2)
        if exploding:
            warnings.warn(f"GradientHealth: exploding gradients at epoch {epoch}: gradient norm above "
                          f"{self.exploding:g} for {', '.join(exploding)}", UserWarning, stacklevel=2)

    def plot(self, path: str | None = None) -> Any:
        """Plot gradient norms, update ratios (log scales) and dead-ReLU fractions per epoch.

        Args:
            path: file to write, or None.

        Returns:
            The matplotlib ``Figure``.

        Raises:
            ImportError: matplotlib is not installed (extra ``plot``).
        """
        fig = new_figure("GradientHealth.plot")
        fig.set_size_inches(14, 4)
        axes = fig.subplots(1, 3)
        for ax, series, title in ((axes[0], self.grad_norms, "gradient norm"),
                                  (axes[1], self.update_ratios, "update / weight norm"),
                                  (axes[2], self.dead_relu, "dead ReLU fraction")):
            for name, values in series.items():
                ax.plot(range(1, len(values) + 1), values, marker="o", label=name)
            ax.set_title(title)
            ax.set_xlabel("epoch")
            positive = [v for vals in series.values() for v in vals if v == v]
            if series is not self.dead_relu and positive and min(positive) > 0:
                ax.set_yscale("log")
            if series:
                ax.legend(fontsize="small")
        if path is not None:
            fig.savefig(path)
        return fig
