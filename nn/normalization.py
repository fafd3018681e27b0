"""Normalisation layers: BatchNorm1d (batch statistics, running averages) and LayerNorm."""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

from gradkit.autograd.dtypes import get_default_dtype
from gradkit.autograd.function import Function
from gradkit.autograd.grad_mode import no_grad
from gradkit.autograd.tensor import Tensor
from gradkit.nn import init
from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter


def _channel_shape(ndim: int) -> tuple[int, ...]:
    """Axes reduced by batch norm, and how a (C,) vector broadcasts against (N, C) or (N, C, L)."""
    return (0,) if ndim == 2 else (0, 2)


class BatchNormFunction(Function):
    """Training-mode batch norm, one node: y = γ (x - μ_B) / sqrt(σ²_B + eps) + β (biased σ²_B).

    Backward (closed form, m values per channel, x̂ the normalised input, ĝ = γ g):
    dx = (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)) / sqrt(σ²_B + eps),  dγ = Σ g x̂,  dβ = Σ g.
    Backward recomputes μ_B, σ²_B, x̂ from x with gradkit ops, so it can itself be differentiated.
    """

    @staticmethod
    def forward(ctx: Function, x: Tensor, weight: Tensor | None, bias: Tensor | None, eps: float) -> np.ndarray:
        axes = _channel_shape(x.data.ndim)
        ctx.axes, ctx.eps = axes, eps
        ctx.save_for_backward(x, weight)
        mean = x.data.mean(axis=axes, keepdims=True)
        centered = x.data - mean
        var = (centered * centered).mean(axis=axes, keepdims=True)
        out = centered / np.sqrt(var + eps)
        if weight is not None:
            out *= _as_channel(weight.data, x.data.ndim)
        if bias is not None:
            out += _as_channel(bias.data, x.data.ndim)
        return out

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        x, weight = ctx.saved_tensors
        axes, ndim = ctx.axes, x.ndim
        mean = x.mean(axes, keepdim=True)
        centered = x - mean
        inv_std = 1.0 / ((centered * centered).mean(axes, keepdim=True) + ctx.eps).sqrt()
        xhat = centered * inv_std
        needs = ctx.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            ghat = grad if weight is None else grad * _as_channel(weight, ndim)
            gx = (ghat - ghat.mean(axes, keepdim=True) - xhat * (ghat * xhat).mean(axes, keepdim=True)) * inv_std
        if needs[1]:
            gw = (grad * xhat).sum(axes)
        if needs[2]:
            gb = grad.sum(axes)
        return gx, gw, gb, None

    @property
    def name(self) -> str:
        return "BatchNorm"


def _as_channel(v: Any, ndim: int) -> Any:
    """A (C,) vector shaped to broadcast against (N, C) or (N, C, L)."""
    return v if ndim == 2 else v.reshape(-1, 1)


def _check_batch(shape: tuple[int, ...]) -> None:
    values = shape[0] * (int(np.prod(shape[2:])) if len(shape) > 2 else 1)
    if values == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(shape)}: "
                         "batch statistics of a single value are undefined. Use a batch of at least 2 (with a "
                         "DataLoader, drop_last=True drops a last batch of size 1), or call model.eval() to use "
                         "the running statistics")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over dim 1 (channels) of an (N, C) or (N, C, L) input.

    Training: y = γ (x - μ_B) / sqrt(σ²_B + eps) + β with the batch mean and *biased*
    variance, and (when running stats are given) in place
    ``running = (1 - momentum) running + momentum * batch`` using the *unbiased*
    batch variance for ``running_var``. Evaluation: the running statistics replace the batch's.

    Args:
        input: (N, C) or (N, C, L).
        running_mean, running_var: (C,) buffers, or None (then batch statistics are always used).
        weight, bias: (C,) affine parameters γ, β, or None.
        training: use batch statistics and update the running ones.
        momentum: weight of the batch statistics in the running-average update.
        eps: added to the variance for stability.

    Raises:
        ValueError: input not 2-d/3-d, channel count differs from the parameters, or one value per
            channel in training.

    Example:
        >>> import gradkit as gk
        >>> from gradkit.nn import functional as F
        >>> y = F.batch_norm(gk.tensor([[1.0], [3.0]]), None, None, training=True)
        >>> [round(v, 3) for v in y.reshape(-1).tolist()]
        [-1.0, 1.0]
    """
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if input.ndim not in (2, 3):
        raise ValueError(f"batch_norm expects a 2-d (N, C) or 3-d (N, C, L) input, got shape {tuple(input.shape)}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(f"batch_norm: {name} has shape {tuple(t.shape)} but the input of shape "
                             f"{tuple(input.shape)} has {channels} channels (dim 1)")
    if training or running_mean is None or running_var is None:
        _check_batch(input.shape)
        if training and running_mean is not None and running_var is not None:
            axes = _channel_shape(input.ndim)
            with no_grad():
                batch_mean = input.data.mean(axis=axes)
                batch_var = input.data.var(axis=axes, ddof=1)  # unbiased, as PyTorch's running_var
                running_mean.data *= 1 - momentum
                running_mean.data += momentum * batch_mean
                running_var.data *= 1 - momentum
                running_var.data += momentum * batch_var
                running_mean._version += 1
                running_var._version += 1
        return BatchNormFunction.apply(input, weight, bias, eps)
    ndim = input.ndim
    scale = 1.0 / (_as_channel(running_var, ndim) + eps).sqrt()
    if weight is not None:
        scale = scale * _as_channel(weight, ndim)
    out = (input - _as_channel(running_mean, ndim)) * scale
    return out if bias is None else out + _as_channel(bias, ndim)


class BatchNorm1d(Module):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C.

    Training: normalise with the batch mean and biased variance, then update
    ``running_mean``/``running_var`` (unbiased) with
    ``running = (1 - momentum) running + momentum * batch`` (``momentum=None``:
    cumulative average, factor 1 / num_batches_tracked). Evaluation: normalise
    with the running statistics, so a sample's output does not depend on its batch-mates.

    Args:
        num_features: C.
        eps: added to the variance.
        momentum: running-average factor, or None for a cumulative average.
        affine: learn γ (``weight``, init 1) and β (``bias``, init 0).
        track_running_stats: keep running statistics (False: batch statistics in eval too).
        dtype: dtype of parameters and buffers (default: gradkit's default dtype).
        bias: (keyword) with ``affine``, learn β too (PyTorch 2.x's option).

    Raises:
        ValueError: a batch with one value per channel in training (PyTorch's message, with a
            ``drop_last`` hint), or an input that is not (N, C)/(N, C, L) with C = num_features.

    Example:
        >>> import gradkit as gk
        >>> from gradkit import nn
        >>> bn = nn.BatchNorm1d(3)
        >>> bn
        BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
        >>> bn(gk.autograd.randn(8, 3)).shape
        (8, 3)
        >>> int(bn.num_batches_tracked.item())
        1
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"BatchNorm1d: num_features must be a positive int, got {num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] or None, got {momentum}")
        if not eps > 0:
            raise ValueError(f"BatchNorm1d: eps must be positive, got {eps}")
        dtype = np.dtype(get_default_dtype() if dtype is None else dtype)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats, self.has_bias = affine, track_running_stats, affine and bias
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        """Reset the running statistics and γ = 1, β = 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if not isinstance(input, Tensor):
            input = Tensor(input)
        if input.ndim not in (2, 3) or input.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}) expects input of shape (N, {self.num_features}) "
                             f"or (N, {self.num_features}, L), got {tuple(input.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            _check_batch(input.shape)  # before the counter moves: a rejected batch changes nothing
            self.num_batches_tracked.data += 1
            self.num_batches_tracked._version += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.data)
        use_batch_stats = self.training or self.running_mean is None
        return batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_batch_stats,
                          factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.has_bias}, track_running_stats={self.track_running_stats}")

    def _scope_label(self) -> str:
        return f"BatchNorm1d({self.num_features})"


def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims: y = (x - E[x]) / sqrt(Var[x] + eps) * γ + β.

    The variance is biased; composed of gradkit ops (so any-order gradients come free).

    Args:
        input: (*, *normalized_shape).
        normalized_shape: the trailing shape to normalise over.
        weight, bias: γ, β of shape normalized_shape, or None.
        eps: added to the variance.

    Raises:
        ValueError: input's trailing shape differs from normalized_shape.

    Example:
        >>> import gradkit as gk
        >>> from gradkit.nn import functional as F
        >>> [round(v, 3) for v in F.layer_norm(gk.tensor([[1.0, 3.0]]), (2,)).reshape(-1).tolist()]
        [-1.0, 1.0]
    """
    if not isinstance(input, Tensor):
        input = Tensor(input)
    shape = _normalized(normalized_shape)
    k = len(shape)
    if tuple(input.shape[input.ndim - k:]) != shape or input.ndim < k:
        raise ValueError(f"layer_norm: normalized_shape {list(shape)} expects input of shape (*, "
                         f"{', '.join(map(str, shape))}), but got input of size {list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ValueError(f"layer_norm: {name} has shape {tuple(t.shape)}, expected {shape}")
    dims = tuple(range(input.ndim - k, input.ndim))
    centered = input - input.mean(dims, keepdim=True)
    out = centered / ((centered * centered).mean(dims, keepdim=True) + eps).sqrt()
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


def _normalized(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if not shape or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in shape):
        raise ValueError(f"normalized_shape must be a positive int or a non-empty sequence of them, got "
                         f"{normalized_shape!r}")
    return tuple(int(s) for s in shape)


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` dims of each sample.

    y = (x - E[x]) / sqrt(Var[x] + eps) * γ + β, statistics per sample (biased
    variance), the same in training and evaluation.

    Args:
        normalized_shape: int or shape of the trailing dims.
        eps: added to the variance.
        elementwise_affine: learn γ (init 1) and β (init 0) of shape normalized_shape.
        bias: learn β (when elementwise_affine).
        dtype: parameter dtype (default: gradkit's default dtype).

    Example:
        >>> import gradkit as gk
        >>> from gradkit import nn
        >>> nn.LayerNorm(4)
        LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)
        >>> nn.LayerNorm(4)(gk.autograd.randn(2, 4)).shape
        (2, 4)
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = _normalized(normalized_shape)
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps}")
        self.eps, self.elementwise_affine, self.has_bias = eps, elementwise_affine, elementwise_affine and bias
        dtype = np.dtype(get_default_dtype() if dtype is None else dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """γ = 1, β = 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.has_bias}")

    def _scope_label(self) -> str:
        return f"LayerNorm({', '.join(map(str, self.normalized_shape))})"
