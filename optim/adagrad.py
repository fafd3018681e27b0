"""Adagrad: per-coordinate learning rates from accumulated squared gradients."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradkit.optim.optimizer import Optimizer, ParamsT, _check_non_negative


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan & Singer, 2011), PyTorch's rule.

    Per parameter θ with gradient ∇, learning rate γ, lr decay η, weight decay
    λ, accumulator G (starting at τ = ``initial_accumulator_value``), step t = 1, 2, …::

        g ← −∇ if maximize else ∇
        g ← g + λ θ                        (if λ ≠ 0)
        γ_t = γ / (1 + (t − 1) η)
        G ← G + g²
        θ ← θ − γ_t g / (√G + ε)

    Lecture forms: G ← G + g², θ ← θ − η g/(√G + ε) is ``Adagrad(lr=η,
    eps=ε)``; a form with ε inside the root, g/√(G + ε), has no exact
    argument (use ``initial_accumulator_value=ε, eps=0``: the same rule).

    State per parameter: ``step`` (a Python float) and ``sum`` (G). As in
    PyTorch, the accumulator starts at the constructor's
    ``initial_accumulator_value`` for every group (a group's own value is kept
    in the group but not used); the state is created at the first step with a
    gradient.

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate γ ≥ 0.
        lr_decay: η ≥ 0.
        weight_decay: L2 penalty λ ≥ 0.
        initial_accumulator_value: τ ≥ 0.
        eps: ε ≥ 0 added to the root.
        maximize: maximize the objective instead of minimizing it.

    Raises:
        ValueError: any argument above is negative.

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import Adagrad
        >>> w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
        >>> opt = Adagrad([w], lr=0.5)
        >>> w.grad = Tensor(np.array([2.0, -4.0]))
        >>> opt.step()
        >>> w.data.round(6)
        array([ 0.5, -1.5])
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *, maximize: bool = False) -> None:
        _check_non_negative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                            initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "maximize": maximize}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one Adagrad update (see the class docstring); return the closure's loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
            weight_decay = float(group["weight_decay"])
            for p, g in self._grads_of(group["params"], group["maximize"]):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0.0
                    state["sum"] = np.full_like(p.data, self.defaults["initial_accumulator_value"])
                state["step"] += 1
                if weight_decay != 0:
                    g = g + weight_decay * p.data
                clr = lr / (1 + (state["step"] - 1) * lr_decay)
                state["sum"] += g * g
                std = np.sqrt(state["sum"])
                std += eps
                p.data -= clr * g / std
                self._mark_updated(p)
        return loss
