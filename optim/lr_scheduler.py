"""Learning-rate schedulers (torch/optim/lr_scheduler.py semantics).

Every scheduler writes ``group["lr"]`` of its optimizer's parameter groups on
``step()`` (call it after ``optimizer.step()``, once per epoch or per batch), keeps
``base_lrs`` (the groups' ``initial_lr``) and ``last_epoch`` (steps taken, −1
before construction), and can preview its curve with :meth:`LRScheduler.lr_curve`
/ :meth:`LRScheduler.plot` without touching the optimizer.
"""
from __future__ import annotations

import copy
import math
import types
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from gradkit.optim.optimizer import Optimizer


def _check_optimizer(optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


class _PreviewOptimizer:
    """Stand-in holding copies of the groups' hyperparameters (no params) for previews."""

    def __init__(self, param_groups: list[dict[str, Any]]) -> None:
        self.param_groups = [{k: v for k, v in g.items() if k != "params"} for g in param_groups]
        self._step_count = 1  # a preview never warns about step order


class LRScheduler:
    """Base class of the schedulers: subclasses write :meth:`get_lr`.

    On construction (``last_epoch=-1``) each group gets ``initial_lr`` = its
    current ``lr``, ``base_lrs`` is read from it, and one step is taken to set
    ``last_epoch = 0`` and the first learning rate.

    Args:
        optimizer: the optimizer whose ``lr``s are scheduled.
        last_epoch: index of the last step taken; −1 starts afresh, a larger
            value resumes (the groups must then already hold ``initial_lr``).

    Raises:
        TypeError: ``optimizer`` is not an :class:`Optimizer`.
        KeyError: resuming without ``initial_lr`` in the groups.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming a scheduler "
                        f"with last_epoch={last_epoch}; load the optimizer state first or use last_epoch=-1")
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """Learning rates for the step ``last_epoch`` (already incremented), one per group."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def get_last_lr(self) -> list[float]:
        """Learning rates set by the most recent step, one per group."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one step: ``last_epoch += 1`` and write the new lrs into the groups."""
        if self._step_count == 1 and getattr(self.optimizer, "_step_count", 1) == 0:
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`. Call them in the opposite "
                "order: `optimizer.step()` before `lr_scheduler.step()`; otherwise the first value of the "
                "learning rate schedule is skipped.", UserWarning, stacklevel=2)
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything in ``__dict__`` except the optimizer."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state made by :meth:`state_dict`."""
        self.__dict__.update(state_dict)

    # ------------------------------------------------------------------ preview
    def _preview_copy(self) -> LRScheduler:
        """An independent copy driving a stand-in optimizer (copies of the groups' values)."""
        preview = object.__new__(type(self))
        preview.__dict__.update(copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "optimizer"}))
        preview.optimizer = _PreviewOptimizer(self.optimizer.param_groups)
        return preview

    def _simulate(self, n_steps: int, advance: Callable[[LRScheduler, int], None]) -> np.ndarray:
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
            raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
        preview = self._preview_copy()
        rows = [preview.get_last_lr()]
        for k in range(n_steps - 1):
            advance(preview, k)
            rows.append(preview.get_last_lr())
        return np.array(rows, dtype=np.float64)

    def lr_curve(self, n_steps: int) -> np.ndarray:
        """Learning rates of the next ``n_steps`` steps, leaving optimizer and scheduler untouched.

        Row 0 holds the current lrs (those the next ``optimizer.step()`` uses),
        row k the lrs after k more ``scheduler.step()`` calls.

        Args:
            n_steps: number of rows, ≥ 1.

        Returns:
            Array of shape ``(n_steps, n_groups)``.

        Raises:
            ValueError: ``n_steps`` is not a positive integer.

        Example:
            >>> import numpy as np
            >>> from gradkit.autograd import Tensor
            >>> from gradkit.optim import SGD
            >>> from gradkit.optim.lr_scheduler import StepLR
            >>> opt = SGD([Tensor(np.zeros(2), requires_grad=True)], lr=1.0)
            >>> StepLR(opt, step_size=2, gamma=0.5).lr_curve(5).ravel().tolist()
            [1.0, 1.0, 0.5, 0.5, 0.25]
            >>> opt.param_groups[0]["lr"]
            1.0
        """
        return self._simulate(n_steps, lambda preview, k: preview.step())

    def plot(self, n_steps: int, ax: Any = None, **curve_kwargs: Any) -> Any:
        """Plot :meth:`lr_curve` (one line per group) with matplotlib; return the Axes.

        Args:
            n_steps: number of steps to show.
            ax: matplotlib Axes to draw into (a new figure when None).
            **curve_kwargs: passed on to :meth:`lr_curve` (``metrics`` for
                :class:`ReduceLROnPlateau`).

        Raises:
            ImportError: matplotlib is not installed (``pip install 'gradkit[plot]'``).
        """
        curve = self.lr_curve(n_steps, **curve_kwargs)
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:
            raise ImportError(f"{type(self).__name__}.plot needs matplotlib: pip install 'gradkit[plot]'") from exc
        if ax is None:
            _, ax = plt.subplots()
        steps = np.arange(n_steps)
        for i in range(curve.shape[1]):
            ax.plot(steps, curve[:, i], label=f"group {i}")
        ax.set_xlabel("step")
        ax.set_ylabel("learning rate")
        ax.set_title(type(self).__name__)
        if curve.shape[1] > 1:
            ax.legend()
        return ax


class LambdaLR(LRScheduler):
    """lr = base_lr · λ(t) for a user function λ of the step t.

    Args:
        optimizer: the optimizer.
        lr_lambda: a function of the integer step, or a list with one per group.
        last_epoch: see :class:`LRScheduler`.

    Raises:
        ValueError: a list whose length differs from the number of groups.
        TypeError: a λ that is not callable.

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import SGD
        >>> from gradkit.optim.lr_scheduler import LambdaLR
        >>> opt = SGD([Tensor(np.zeros(2), requires_grad=True)], lr=0.1)
        >>> sched = LambdaLR(opt, lambda t: 1 / (t + 1))
        >>> sched.lr_curve(3).ravel().round(4).tolist()
        [0.1, 0.05, 0.0333]
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda must be callable (a function of the step), got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict[str, Any]:
        """As :meth:`LRScheduler.state_dict`; functions are not saved, callable objects' ``__dict__`` is."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else fn.__dict__.copy()
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state; saved callable-object attributes go back into this scheduler's λs."""
        state_dict = dict(state_dict)
        lr_lambdas = state_dict.pop("lr_lambdas", [])
        self.__dict__.update(state_dict)
        for fn, saved in zip(self.lr_lambdas, lr_lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class StepLR(LRScheduler):
    """Multiply the lr by γ every ``step_size`` steps: lr_t = base_lr · γ^⌊t / step_size⌋.

    Args:
        optimizer: the optimizer.
        step_size: period of the decay, a positive integer.
        gamma: factor γ.
        last_epoch: see :class:`LRScheduler`.

    Raises:
        ValueError: ``step_size`` is not a positive integer.

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import SGD
        >>> from gradkit.optim.lr_scheduler import StepLR
        >>> opt = SGD([Tensor(np.zeros(2), requires_grad=True)], lr=1.0)
        >>> StepLR(opt, step_size=3, gamma=0.1).lr_curve(7).ravel().round(6).tolist()
        [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        if isinstance(step_size, bool) or not isinstance(step_size, (int, np.integer)) or step_size < 1:
            raise ValueError(f"step_size must be a positive integer, got {step_size!r}")
        self.step_size = int(step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class MultiStepLR(LRScheduler):
    """Multiply the lr by γ at each milestone: lr_t = base_lr · γ^(number of milestones ≤ t).

    Args:
        optimizer: the optimizer.
        milestones: step indices (a repeated milestone decays once per repeat).
        gamma: factor γ.
        last_epoch: see :class:`LRScheduler`.

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import SGD
        >>> from gradkit.optim.lr_scheduler import MultiStepLR
        >>> opt = SGD([Tensor(np.zeros(2), requires_grad=True)], lr=1.0)
        >>> MultiStepLR(opt, milestones=[1, 3], gamma=0.5).lr_curve(5).ravel().tolist()
        [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma ** self.milestones[self.last_epoch] for group in self.optimizer.param_groups]


class ExponentialLR(LRScheduler):
    """Multiply the lr by γ every step: lr_t = base_lr · γ^t.

    Args:
        optimizer: the optimizer.
        gamma: factor γ.
        last_epoch: see :class:`LRScheduler`.

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import SGD
        >>> from gradkit.optim.lr_scheduler import ExponentialLR
        >>> opt = SGD([Tensor(np.zeros(2), requires_grad=True)], lr=1.0)
        >>> ExponentialLR(opt, gamma=0.5).lr_curve(4).ravel().tolist()
        [1.0, 0.5, 0.25, 0.125]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from base_lr to η_min over ``T_max`` steps (no restarts).

    lr_t = η_min + (base_lr − η_min)(1 + cos(π t / T_max)) / 2, computed with
    PyTorch's recursive form, so after T_max the lr rises again along the
    cosine (period 2·T_max), exactly as ``torch.optim.lr_scheduler.CosineAnnealingLR``.

    Args:
        optimizer: the optimizer.
        T_max: half period in steps, a positive integer.
        eta_min: the minimum η_min.
        last_epoch: see :class:`LRScheduler`.

    Raises:
        ValueError: ``T_max`` is not positive.

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import SGD
        >>> from gradkit.optim.lr_scheduler import CosineAnnealingLR
        >>> opt = SGD([Tensor(np.zeros(2), requires_grad=True)], lr=1.0)
        >>> CosineAnnealingLR(opt, T_max=2).lr_curve(3).ravel().round(6).tolist()
        [1.0, 0.5, 0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        if not T_max > 0:
            raise ValueError(f"T_max must be positive, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and self.last_epoch > 0:  # resumed: closed form
            return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(self.last_epoch * math.pi / self.T_max)) / 2
                    for base_lr in self.base_lrs]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:  # the recursion's 0/0 at the minimum
            return [group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                    for base_lr, group in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * self.last_epoch / self.T_max))
                / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
                * (group["lr"] - self.eta_min) + self.eta_min
                for group in groups]


class InverseTimeLR(LRScheduler):
    """Inverse-time decay: lr_t = base_lr / (t + 1)^power.

    power = 1 gives the Robbins–Monro schedule η/(t+1); power = 0.5 gives
    η/√(t+1). Computed in closed form from ``base_lrs`` (it does not compose
    with other schedulers changing the same lr).

    Args:
        optimizer: the optimizer.
        power: exponent P ≥ 0.
        last_epoch: see :class:`LRScheduler`.

    Raises:
        ValueError: a negative or NaN ``power``.

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import SGD
        >>> from gradkit.optim.lr_scheduler import InverseTimeLR
        >>> opt = SGD([Tensor(np.zeros(2), requires_grad=True)], lr=1.0)
        >>> InverseTimeLR(opt, power=1.0).lr_curve(4).ravel().tolist()
        [1.0, 0.5, 0.3333333333333333, 0.25]
    """

    def __init__(self, optimizer: Optimizer, power: float = 1.0, last_epoch: int = -1) -> None:
        if not power >= 0:
            raise ValueError(f"Invalid power: {power} (power must be >= 0)")
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base_lr / (self.last_epoch + 1) ** self.power for base_lr in self.base_lrs]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` when a monitored metric stops improving.

    After each epoch call ``step(metric)``. A metric is better than the best so
    far when (mode "min") metric < best·(1 − threshold) ("rel") or
    metric < best − threshold ("abs"); "max" mirrors this. After more than
    ``patience`` epochs without improvement, lr ← max(lr · factor, min_lr)
    (skipped if the change is ≤ eps), then ``cooldown`` epochs are ignored.

    Args:
        optimizer: the optimizer.
        mode: "min" or "max".
        factor: multiplier < 1.
        patience: tolerated epochs without improvement.
        threshold: minimal significant improvement.
        threshold_mode: "rel" or "abs".
        cooldown: epochs to wait after a reduction.
        min_lr: lower bound, one value or one per group.
        eps: minimal change of lr worth applying.

    Raises:
        ValueError: factor ≥ 1, an unknown mode or threshold_mode, or a min_lr
            list of the wrong length.

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import SGD
        >>> from gradkit.optim.lr_scheduler import ReduceLROnPlateau
        >>> opt = SGD([Tensor(np.zeros(2), requires_grad=True)], lr=1.0)
        >>> sched = ReduceLROnPlateau(opt, patience=1, factor=0.5)
        >>> sched.lr_curve(5, metrics=[3.0, 2.0, 2.0, 2.0]).ravel().tolist()
        [1.0, 1.0, 1.0, 1.0, 0.5]
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | Sequence[float] = 0, eps: float = 1e-8) -> None:
        if factor >= 1.0:
            raise ValueError(f"Factor should be < 1.0, got factor={factor}")
        _check_optimizer(optimizer)
        self.factor = factor
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._step_count = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._init_is_better(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics: float) -> None:  # type: ignore[override]
        """Record one epoch's metric and reduce the lr if it has plateaued."""
        current = float(metrics)
        self._step_count += 1
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the optimizer ({len(groups)}) differs from when "
                    f"ReduceLROnPlateau was initialized ({len(self.min_lrs)}); set `min_lrs` to match.")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for i, group in enumerate(groups):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    @property
    def in_cooldown(self) -> bool:
        """True while epochs are being ignored after a reduction."""
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in {"min", "max"}:
            raise ValueError(f"mode {mode!r} is unknown! (expected 'min' or 'max')")
        if threshold_mode not in {"rel", "abs"}:
            raise ValueError(f"threshold mode {threshold_mode!r} is unknown! (expected 'rel' or 'abs')")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state made by :meth:`state_dict`."""
        self.__dict__.update(state_dict)
        self._init_is_better(mode=self.mode, threshold=self.threshold, threshold_mode=self.threshold_mode)

    def lr_curve(self, n_steps: int, metrics: Sequence[float] | None = None) -> np.ndarray:  # type: ignore[override]
        """Learning rates over ``n_steps`` epochs for a given metric sequence.

        Row 0 holds the current lrs, row k the lrs after ``step(metrics[k-1])``.

        Args:
            n_steps: number of rows, ≥ 1.
            metrics: at least ``n_steps − 1`` metric values, one per epoch.

        Returns:
            Array of shape ``(n_steps, n_groups)``.

        Raises:
            ValueError: ``metrics`` missing or too short.
        """
        if metrics is None or len(metrics) < n_steps - 1:
            got = "none" if metrics is None else len(metrics)
            raise ValueError(f"ReduceLROnPlateau.lr_curve needs metrics: at least n_steps - 1 = {n_steps - 1} "
                             f"values, got {got}")
        return self._simulate(n_steps, lambda preview, k: preview.step(metrics[k]))
