"""Linear (affine) layer and Identity, with the fused ``linear`` function behind them."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradkit.autograd import grad_mode
from gradkit.autograd.function import Function
from gradkit.autograd.tensor import Tensor
from gradkit.nn import init
from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter


class LinearFunction(Function):
    """y = x Wᵀ + b;  dx = g W,  dW = gᵀ x (summed over batch dims),  db = Σ g (one graph node)."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx: Function, x: Tensor, weight: Tensor, bias: Tensor | None) -> np.ndarray:
        needs = ctx.needs_input_grad
        if True in needs:
            ctx.save_for_backward(x if needs[1] else None, weight if needs[0] else None)
        out = x.data @ weight.data.T
        if bias is not None:
            if out.dtype is bias.data.dtype:
                out += bias.data  # in place: no second output-sized array
            else:
                out = out + bias.data
        return out

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if not grad_mode._enabled:
            # the usual backward (no create_graph): the same formulas on the arrays, one node's worth of work
            g = grad.data
            g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
            x2 = None if x is None else x.data if x.data.ndim == 2 else x.data.reshape(-1, x.data.shape[-1])
            # dW in the weight's memory order (column-major for nn.Linear's), so the update is one sweep
            f_order = ctx.inputs[1].data.flags.f_contiguous
            return (Tensor._make(g @ weight.data) if needs[0] else None,
                    Tensor._make((x2.T @ g2).T if f_order else g2.T @ x2) if needs[1] else None,
                    Tensor._make(np.add.reduce(g2, 0)) if needs[2] else None)
        gx = grad @ weight if needs[0] else None
        g2 = None
        if needs[1] or needs[2]:
            g2 = grad.reshape(-1, grad.shape[-1])  # batch dims flattened: (N, out)
        gw = g2.T @ x.reshape(-1, x.shape[-1]) if needs[1] else None
        gb = g2.sum(0) if needs[2] else None
        return gx, gw, gb

    @property
    def name(self) -> str:
        return "Linear"


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002  (torch name)
    """Affine map of the last dimension: ``y = input @ weight.T + bias``.

    Args:
        input: (*, in_features).
        weight: (out_features, in_features).
        bias: (out_features,) or None.

    Returns:
        (*, out_features).

    Raises:
        RuntimeError: input's last dimension differs from in_features (both shapes named, PyTorch's
            "mat1 and mat2 shapes cannot be multiplied"), or weight/bias of the wrong rank/size.

    Example:
        >>> import gradkit as gk
        >>> from gradkit.nn import functional as F
        >>> F.linear(gk.tensor([[1.0, 2.0]]), gk.tensor([[1.0, 1.0], [0.0, 1.0]]), gk.tensor([0.5, 0.0])).tolist()
        [[3.5, 2.0]]
    """
    if not isinstance(input, Tensor):
        input = Tensor(input)
    x_shape, w_shape = input.data.shape, weight.data.shape
    if len(w_shape) != 2:
        raise RuntimeError(f"linear: weight must be 2-d (out_features, in_features), got shape {w_shape}")
    if not x_shape or x_shape[-1] != w_shape[1]:
        rows = int(np.prod(x_shape[:-1])) if len(x_shape) > 1 else 1
        mat1 = (rows, x_shape[-1]) if x_shape else ()
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_dims(mat1)} and "
                           f"{_dims(w_shape[::-1])}): input of shape {x_shape} needs last "
                           f"dimension {w_shape[1]} (in_features)")
    if bias is not None and bias.data.shape != w_shape[:1]:
        raise RuntimeError(f"linear: bias must have shape ({w_shape[0]},) to match weight "
                           f"{w_shape}, got {bias.data.shape}")
    return LinearFunction.apply(input, weight, bias)


class Linear(Module):
    """Fully connected layer: ``y = x Wᵀ + b``.

    Parameters are initialised as PyTorch does: W by ``kaiming_uniform_(a=sqrt(5))``
    (that is U(-1/sqrt(in), 1/sqrt(in))) and b by U(-1/sqrt(in), 1/sqrt(in)).

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias.
        dtype: parameter dtype (default: gradkit's default dtype, float32).

    Shape:
        input (*, in_features) -> output (*, out_features).

    Example:
        >>> import gradkit as gk
        >>> from gradkit import nn
        >>> layer = nn.Linear(64, 10)
        >>> layer
        Linear(in_features=64, out_features=10, bias=True)
        >>> layer(gk.autograd.randn(5, 64)).shape
        (5, 10)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {value!r}")
        from gradkit.autograd.dtypes import get_default_dtype
        dtype = np.dtype(get_default_dtype() if dtype is None else dtype)
        self.in_features, self.out_features = int(in_features), int(out_features)
        # (out, in) in column-major memory: W.T is then a row-major (in, out) array, and x @ W.T the
        # same BLAS call as x @ W for an (in, out) W, without packing W transposed (see LinearFunction)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype, order="F"))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw W ~ kaiming_uniform_(a=sqrt(5)) and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        if self.weight.size:
            init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        params = self._parameters  # self.weight would find them only after a failed lookup (Module.__getattr__)
        return linear(input, params["weight"], params["bias"])

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    def _scope_label(self) -> str:
        return f"Linear({self.in_features}→{self.out_features})"


class Identity(Module):
    """Returns its input unchanged (a placeholder layer); accepts and ignores any arguments.

    Example:
        >>> import gradkit as gk
        >>> gk.nn.Identity(54, unused="x")(gk.tensor([1.0])).tolist()
        [1.0]
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:  # noqa: A002
        return input
