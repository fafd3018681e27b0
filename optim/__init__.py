"""gradkit.optim: optimizers with PyTorch's update rules, and learning-rate schedulers.

Every optimizer updates ``p.data`` of the parameters that have a ``grad`` in
place, with whole-array numpy (no graph is built), and keeps per-parameter state
in ``optimizer.state[p]``.

Example:
    >>> import numpy as np
    >>> from gradkit.autograd import Tensor
    >>> from gradkit import optim
    >>> w = Tensor(np.array([3.0]), requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.25)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     w.grad = Tensor(2 * w.data)      # gradient of w**2
    ...     opt.step()
    >>> w.data
    array([0.75])
"""
from __future__ import annotations

from gradkit.optim import lr_scheduler
from gradkit.optim.adadelta import Adadelta
from gradkit.optim.adagrad import Adagrad
from gradkit.optim.adam import Adam
from gradkit.optim.adamw import AdamW
from gradkit.optim.optimizer import Optimizer
from gradkit.optim.rmsprop import RMSprop
from gradkit.optim.rprop import Rprop
from gradkit.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Rprop", "lr_scheduler"]
