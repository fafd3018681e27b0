"""Rprop: sign-based updates with per-coordinate adaptive step sizes."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradkit.optim.optimizer import Optimizer, ParamsT, _check_non_negative


def _sign(x: np.ndarray) -> np.ndarray:
    """``np.sign`` with sign(NaN) = 0, as ``torch.sign``; a new array, also for 0-d input."""
    s = np.array(np.sign(x))
    s[np.isnan(s)] = 0
    return s


class Rprop(Optimizer):
    r"""Resilient backpropagation (Riedmiller & Braun, 1993), PyTorch's rule.

    Per parameter θ with gradient ∇, step sizes Δ (starting at ``lr``), the
    previous (possibly zeroed) gradient g₋ (starting at 0), etas (η⁻, η⁺) and
    step bounds (Δmin, Δmax)::

        g ← −∇ if maximize else ∇
        f = η⁺ where g·g₋ > 0,  η⁻ where g·g₋ < 0,  1 where g·g₋ = 0
        Δ ← clip(Δ · f, Δmin, Δmax)
        g ← 0 where g·g₋ < 0          (no move after a sign change, as iRprop⁻)
        θ ← θ − sign(g) · Δ
        g₋ ← g

    sign(NaN) is 0, as ``torch.sign``: a NaN gradient entry leaves its
    parameter and step size unchanged.

    Lecture form: Rprop's (Δ₀, η⁻, η⁺, Δmin, Δmax) is ``Rprop(lr=Δ₀,
    etas=(η⁻, η⁺), step_sizes=(Δmin, Δmax))``. Rprop uses only gradient signs:
    it suits full-batch training, not mini-batches.

    State per parameter: ``step`` (a Python float), ``prev`` (g₋),
    ``step_size`` (Δ).

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: initial step size Δ₀ ≥ 0.
        etas: (η⁻, η⁺) with 0 < η⁻ < 1 < η⁺.
        step_sizes: (Δmin, Δmax) with 0 ≤ Δmin ≤ Δmax.
        maximize: maximize the objective instead of minimizing it.

    Raises:
        ValueError: negative lr, etas not ordered 0 < η⁻ < 1 < η⁺, or step
            sizes not ordered 0 ≤ Δmin ≤ Δmax.

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import Rprop
        >>> w = Tensor(np.array([1.0, 1.0]), requires_grad=True)
        >>> opt = Rprop([w], lr=0.1)
        >>> for _ in range(2):
        ...     w.grad = Tensor(np.array([3.0, -0.001]))   # only the sign matters
        ...     opt.step()
        >>> w.data.round(6)           # steps 0.1, then 0.1 * 1.2
        array([0.78, 1.22])
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, maximize: bool = False) -> None:
        _check_non_negative(lr=lr)
        etas, step_sizes = tuple(etas), tuple(step_sizes)
        if len(etas) != 2 or not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {', '.join(map(str, etas))} "
                             "(etas must be (etaminus, etaplus) with 0 < etaminus < 1 < etaplus)")
        if len(step_sizes) != 2 or not 0.0 <= step_sizes[0] <= step_sizes[1]:
            raise ValueError(f"Invalid step_sizes values: {', '.join(map(str, step_sizes))} "
                             "(step_sizes must be (min, max) with 0 <= min <= max)")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "maximize": maximize}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one Rprop update (see the class docstring); return the closure's loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = (float(e) for e in group["etas"])
            step_size_min, step_size_max = (float(s) for s in group["step_sizes"])
            for p, g in self._grads_of(group["params"], group["maximize"]):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0.0
                    state["prev"] = np.zeros_like(p.data)
                    state["step_size"] = np.full_like(p.data, float(group["lr"]))
                state["step"] += 1
                prev, step_size = state["prev"], state["step_size"]
                factor = _sign(g * prev)
                factor[factor > 0] = etaplus
                factor[factor < 0] = etaminus
                factor[factor == 0] = 1
                step_size *= factor
                np.clip(step_size, step_size_min, step_size_max, out=step_size)
                g = np.array(g, copy=True)  # never write into p.grad
                g[factor == etaminus] = 0
                p.data -= _sign(g) * step_size
                prev[...] = g
                self._mark_updated(p)
        return loss
