"""Stochastic gradient descent with optional momentum and Nesterov momentum."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradkit.optim.optimizer import Optimizer, ParamsT, _check_non_negative


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum (PyTorch's rule).

    Per parameter θ with gradient ∇, learning rate γ, momentum μ, dampening τ,
    weight decay λ::

        g ← −∇ if maximize else ∇
        g ← g + λ θ                              (if λ ≠ 0)
        b ← g                                    (first step, if μ ≠ 0)
        b ← μ b + (1 − τ) g                      (later steps)
        g ← g + μ b  if nesterov  else  b        (if μ ≠ 0)
        θ ← θ − γ g

    Lecture forms and their arguments:

    * plain gradient descent θ ← θ − γ∇: ``SGD(params, lr=γ)``.
    * heavy ball / CS231n momentum v ← ρv + ∇, θ ← θ − γv:
      ``SGD(params, lr=γ, momentum=ρ)``.
    * Sutskever form v ← μv − γ∇, θ ← θ + v: the same as the previous line
      (b = −v/γ) while γ is constant: ``SGD(params, lr=γ, momentum=μ)``.
    * averaged momentum v ← βv + (1−β)∇, θ ← θ − γv:
      ``SGD(params, lr=γ, momentum=β, dampening=β)``; note the first buffer is
      ∇ itself (PyTorch), not (1−β)∇ as v₀ = 0 would give.
    * Nesterov accelerated gradient in the Sutskever/PyTorch form:
      ``SGD(params, lr=γ, momentum=μ, nesterov=True)``.
    * L2 regularisation λ/2·‖θ‖² added to the loss: ``weight_decay=λ``.

    State per parameter: ``momentum_buffer`` (only when μ ≠ 0).

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate γ ≥ 0.
        momentum: momentum factor μ ≥ 0.
        dampening: dampening τ of the gradient term in the buffer.
        weight_decay: L2 penalty λ ≥ 0.
        nesterov: use Nesterov momentum (needs μ > 0 and τ = 0).
        maximize: maximize the objective instead of minimizing it.

    Raises:
        ValueError: a negative lr, momentum or weight_decay, or nesterov with
            momentum 0 or dampening ≠ 0.

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import SGD
        >>> w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> w.grad = Tensor(np.array([1.0, 1.0]))
        >>> opt.step()
        >>> w.data
        array([ 0.9, -2.1])
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False) -> None:
        _check_non_negative(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening "
                f"(got momentum={momentum}, dampening={dampening})")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one SGD update (see the class docstring); return the closure's loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, momentum, dampening = float(group["lr"]), float(group["momentum"]), float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            for p, g in self._grads_of(group["params"], group["maximize"]):
                if weight_decay != 0:
                    g = g + weight_decay * p.data
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = np.array(g, copy=True)
                    else:
                        buf *= momentum
                        buf += (1 - dampening) * g
                    g = g + momentum * buf if group["nesterov"] else buf
                p.data -= lr * g
                self._mark_updated(p)
        return loss
