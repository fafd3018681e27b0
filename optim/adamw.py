"""AdamW: Adam with weight decay decoupled from the gradient."""
from __future__ import annotations

from gradkit.optim.adam import Adam
from gradkit.optim.optimizer import ParamsT


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019), PyTorch's rule.

    Adam whose weight decay shrinks θ directly instead of entering m and v::

        θ ← θ (1 − γ λ)
        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
        θ ← θ − γ/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    with g = ∇ (−∇ if maximize) and AMSGrad as in :class:`Adam`. Lecture form:
    the paper's decay is multiplied by the schedule multiplier η_t only, here by
    the full γ, so the paper's (α, λ_paper) is ``AdamW(lr=α, weight_decay=λ_paper/α)``.
    The default ``weight_decay`` is 1e-2 (PyTorch).

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate γ ≥ 0.
        betas: (β₁, β₂), each in [0, 1).
        eps: ε ≥ 0.
        weight_decay: decoupled decay λ ≥ 0.
        amsgrad: use AMSGrad's running maximum of v.
        maximize: maximize the objective instead of minimizing it.

    Raises:
        ValueError: negative lr, eps or weight_decay, or a beta outside [0, 1).

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import AdamW
        >>> w = Tensor(np.array([2.0]), requires_grad=True)
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> w.grad = Tensor(np.array([0.0]))
        >>> opt.step()            # zero gradient: only the decay 2 * (1 - 0.05)
        >>> w.data
        array([1.9])
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict) -> None:
        """Load like :meth:`Optimizer.load_state_dict`; the decay stays decoupled (PyTorch)."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
