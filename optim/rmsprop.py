"""RMSprop: gradients scaled by a running root mean square, optionally centered."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradkit.optim.optimizer import Optimizer, ParamsT, _check_non_negative, _lerp_


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e), PyTorch's rule.

    Per parameter θ with gradient ∇, learning rate γ, smoothing α, momentum μ,
    weight decay λ, running averages v = E[g²] and ḡ = E[g] (both from 0)::

        g ← −∇ if maximize else ∇
        g ← g + λ θ                               (if λ ≠ 0)
        v ← α v + (1 − α) g²
        ḡ ← α ḡ + (1 − α) g                       (if centered)
        s = √(v − ḡ²) + ε  if centered  else  √v + ε
        b ← μ b + g / s,  θ ← θ − γ b              (if μ > 0; b starts at 0)
        θ ← θ − γ g / s                            (if μ = 0)

    Lecture forms: "E[g²] ← βE[g²] + (1−β)g², θ ← θ − η g/(√E[g²] + ε)" is
    ``RMSprop(lr=η, alpha=β, eps=ε)`` (note α, not β, and ε outside the
    root); Graves' centered variant is ``centered=True``. In the centered form,
    a v − ḡ² that rounds below zero is taken as 0 (PyTorch would give NaN).

    State per parameter: ``step`` (a Python float), ``square_avg`` (v),
    ``momentum_buffer`` (b, when μ > 0), ``grad_avg`` (ḡ, when centered).

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate γ ≥ 0.
        alpha: smoothing constant α ≥ 0.
        eps: ε ≥ 0 added to the root.
        weight_decay: L2 penalty λ ≥ 0.
        momentum: momentum μ ≥ 0.
        centered: normalise by the estimated variance instead of the raw second moment.
        maximize: maximize the objective instead of minimizing it.

    Raises:
        ValueError: any numeric argument above is negative.

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import RMSprop
        >>> w = Tensor(np.array([1.0]), requires_grad=True)
        >>> opt = RMSprop([w], lr=0.01, alpha=0.99)
        >>> w.grad = Tensor(np.array([3.0]))
        >>> opt.step()            # first step: 3 / sqrt(0.01 * 9) = 10
        >>> w.data.round(6)
        array([0.9])
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        _check_non_negative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one RMSprop update (see the class docstring); return the closure's loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
            momentum, weight_decay = float(group["momentum"]), float(group["weight_decay"])
            for p, g in self._grads_of(group["params"], group["maximize"]):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0.0
                    state["square_avg"] = np.zeros_like(p.data)
                    if momentum > 0:
                        state["momentum_buffer"] = np.zeros_like(p.data)
                    if group["centered"]:
                        state["grad_avg"] = np.zeros_like(p.data)
                state["step"] += 1
                if weight_decay != 0:
                    g = g + weight_decay * p.data
                square_avg = state["square_avg"]
                square_avg *= alpha
                square_avg += (1 - alpha) * g * g
                if group["centered"]:
                    grad_avg = state["grad_avg"]
                    _lerp_(grad_avg, g, 1 - alpha)
                    avg = np.sqrt(np.maximum(square_avg - grad_avg * grad_avg, 0))
                else:
                    avg = np.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf *= momentum
                    buf += g / avg
                    p.data -= lr * buf
                else:
                    p.data -= lr * g / avg
                self._mark_updated(p)
        return loss
