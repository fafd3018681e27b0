"""Adadelta: step sizes from running averages of squared gradients and updates."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradkit.optim.optimizer import Optimizer, ParamsT, _check_non_negative


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), PyTorch's rule.

    Per parameter θ with gradient ∇, learning rate γ, decay ρ, weight decay λ,
    running averages E[g²] and E[Δ²] (both starting at 0)::

        g ← −∇ if maximize else ∇
        g ← g + λ θ                                  (if λ ≠ 0)
        E[g²] ← ρ E[g²] + (1 − ρ) g²
        Δ = √(E[Δ²] + ε) / √(E[g²] + ε) · g
        E[Δ²] ← ρ E[Δ²] + (1 − ρ) Δ²
        θ ← θ − γ Δ

    Lecture form: Zeiler's rule has no learning rate, which is ``lr=1.0``
    (the default) with ``rho=ρ, eps=ε``.

    State per parameter: ``step`` (a Python float), ``square_avg`` (E[g²]),
    ``acc_delta`` (E[Δ²]).

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate γ ≥ 0 scaling Δ.
        rho: decay ρ in [0, 1].
        eps: ε ≥ 0 inside both roots.
        weight_decay: L2 penalty λ ≥ 0.
        maximize: maximize the objective instead of minimizing it.

    Raises:
        ValueError: negative lr, eps or weight_decay, or rho outside [0, 1].

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import Adadelta
        >>> w = Tensor(np.array([1.0]), requires_grad=True)
        >>> opt = Adadelta([w], rho=0.9)
        >>> w.grad = Tensor(np.array([1.0]))
        >>> opt.step()
        >>> bool(w.data[0] < 1.0)
        True
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False) -> None:
        _check_non_negative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho} (rho must be in [0, 1])")
        _check_non_negative(eps=eps, weight_decay=weight_decay)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one Adadelta update (see the class docstring); return the closure's loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
            weight_decay = float(group["weight_decay"])
            for p, g in self._grads_of(group["params"], group["maximize"]):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0.0
                    state["square_avg"] = np.zeros_like(p.data)
                    state["acc_delta"] = np.zeros_like(p.data)
                state["step"] += 1
                if weight_decay != 0:
                    g = g + weight_decay * p.data
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                square_avg *= rho
                square_avg += (1 - rho) * g * g
                std = np.sqrt(square_avg + eps)
                delta = np.sqrt(acc_delta + eps)
                delta /= std
                delta *= g
                acc_delta *= rho
                acc_delta += (1 - rho) * delta * delta
                p.data -= lr * delta
                self._mark_updated(p)
        return loss
