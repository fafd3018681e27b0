"""Parameter: a Tensor that a Module registers as trainable when assigned as an attribute."""
from __future__ import annotations

from typing import Any

import numpy as np

from gradkit.autograd.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad by default and is registered by ``Module.__setattr__``.

    Assigning a Parameter to a Module attribute (``self.weight = Parameter(...)``)
    puts it in the module's ``_parameters``, so ``parameters()``, ``state_dict()``
    and optimizers see it; a plain Tensor attribute is not registered.

    Args:
        data: initial values (copied; a Python float list becomes float32). None gives an empty tensor.
        requires_grad: whether gradients are computed for it (default True).

    Example:
        >>> import gradkit as gk
        >>> p = gk.nn.Parameter([1.0, 2.0])
        >>> p.requires_grad, p.is_leaf
        (True, True)
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        super().__init__(np.empty(0, dtype=np.float32) if data is None else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: Any) -> Any:  # copy/deepcopy keep the values, the flag and the class
        return _rebuild_parameter, (self.data, self._requires_grad)


def _rebuild_parameter(data: np.ndarray, requires_grad: bool) -> Parameter:
    return Parameter(data, requires_grad=requires_grad)
