"""Adam: bias-corrected running averages of the gradient and its square."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradkit.optim.optimizer import Optimizer, ParamsT, _check_non_negative, _lerp_


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015) with optional AMSGrad, PyTorch's rule.

    Per parameter θ with gradient ∇, learning rate γ, betas (β₁, β₂), weight
    decay λ, moments m and v (both from 0), step t = 1, 2, …::

        g ← −∇ if maximize else ∇
        g ← g + λ θ                  (if λ ≠ 0, L2 form; decoupled: θ ← θ (1 − γλ))
        m ← β₁ m + (1 − β₁) g
        v ← β₂ v + (1 − β₂) g²
        v̂max ← max(v̂max, v)          (if amsgrad; the root below then uses v̂max)
        θ ← θ − γ/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    This equals the paper's m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), θ ← θ − γ m̂/(√v̂ + ε)
    (ε added after the bias correction of √v). Lecture forms: "Adam(α, β₁, β₂,
    ε)" is ``Adam(lr=α, betas=(β₁, β₂), eps=ε)``; "Adam with L2 regularisation"
    is ``weight_decay=λ``; AdamW's decoupled decay is :class:`AdamW` (or
    ``decoupled_weight_decay=True``). AMSGrad here keeps the maximum of the raw
    v (PyTorch), not of the bias-corrected v̂.

    State per parameter: ``step`` (a Python float), ``exp_avg`` (m),
    ``exp_avg_sq`` (v), ``max_exp_avg_sq`` (when amsgrad).

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate γ ≥ 0.
        betas: (β₁, β₂), each in [0, 1).
        eps: ε ≥ 0.
        weight_decay: λ ≥ 0.
        amsgrad: use AMSGrad's running maximum of v.
        maximize: maximize the objective instead of minimizing it.
        decoupled_weight_decay: decay θ directly (AdamW) instead of adding λθ to g.

    Raises:
        ValueError: negative lr, eps or weight_decay, or a beta outside [0, 1).

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import Adam
        >>> w = Tensor(np.array([1.0, -1.0]), requires_grad=True)
        >>> opt = Adam([w], lr=0.1)
        >>> w.grad = Tensor(np.array([5.0, -0.01]))
        >>> opt.step()            # the first Adam step moves each coordinate by about lr
        >>> w.data.round(4)
        array([ 0.9, -0.9])
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        _check_non_negative(lr=lr, eps=eps)
        betas = tuple(betas)
        if len(betas) != 2:
            raise ValueError(f"Invalid betas: {betas} (betas must be a pair (beta1, beta2))")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta} (betas[{i}] must be in [0, 1))")
        _check_non_negative(weight_decay=weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one Adam update (see the class docstring); return the closure's loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
            beta1, beta2 = (float(b) for b in group["betas"])
            for p, g in self._grads_of(group["params"], group["maximize"]):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0.0
                    state["exp_avg"] = np.zeros_like(p.data)
                    state["exp_avg_sq"] = np.zeros_like(p.data)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = np.zeros_like(p.data)
                state["step"] += 1
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        p.data *= 1 - lr * weight_decay
                    else:
                        g = g + weight_decay * p.data
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                _lerp_(exp_avg, g, 1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * g * g

                step = state["step"]
                step_size = lr / (1 - beta1 ** step)
                bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
                if group["amsgrad"]:
                    np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
                    denom = np.sqrt(state["max_exp_avg_sq"]) / bias_correction2_sqrt
                else:
                    denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt
                denom += eps
                p.data -= step_size * exp_avg / denom
                self._mark_updated(p)
        return loss
