"""Loss functions and their Module wrappers (PyTorch's formulas and reductions).

Every loss takes ``reduction="mean" | "sum" | "none"``. The logistic losses are
written to stay finite for logits of any magnitude:

* ``binary_cross_entropy`` clamps both log terms at -100 (PyTorch), so
  probabilities of exactly 0 and 1 give finite losses and gradients;
* ``binary_cross_entropy_with_logits`` is ``(1 - y) x + softplus(-x)``, a
  log-sum-exp form whose gradient is ``sigmoid(x) - y``;
* ``cross_entropy`` is ``log_softmax`` + ``nll_loss``; class-index targets
  without label smoothing take one fused Function whose backward is
  ``(softmax(x) - onehot) * w / W`` written with gradkit ops (double backward works).

Example:
    >>> import gradkit as gk
    >>> logits = gk.tensor([[1e4, -1e4]], requires_grad=True)
    >>> cross_entropy(logits, gk.tensor([1])).item()
    20000.0
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradkit.autograd import grad_mode
from gradkit.autograd.function import Function
from gradkit.autograd.ops import log_softmax, where
from gradkit.autograd.ops.elementwise import const
from gradkit.autograd.tensor import Tensor
from gradkit.nn.activation import softplus
from gradkit.nn.module import Module

__all__ = [
    "mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "nll_loss", "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss", "NLLLoss",
]

REDUCTIONS = ("mean", "sum", "none")


# ---------------------------------------------------------------------------- helpers
def check_reduction(reduction: str) -> str:
    """Return ``reduction`` if it is one of 'mean', 'sum', 'none'; else raise ValueError listing them."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction!r} is not a valid value for reduction; choose one of 'mean', 'sum', 'none'")
    return reduction


def reduce(loss: Tensor, reduction: str) -> Tensor:
    """Apply a (validated) reduction to elementwise losses."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _as_tensor(x: Any, like: Tensor, name: str) -> Tensor:
    """``x`` as a Tensor; arrays and numbers take ``like``'s float dtype (targets of the regression losses)."""
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a Tensor or numeric array, got {type(x).__name__}")
    return Tensor._make(arr.astype(like.dtype) if like.dtype.kind == "f" else arr)


def _weight_like(weight: Any, input: Tensor, name: str) -> Tensor:
    """A loss weight as a Tensor of the input's float dtype (a differentiable cast), so it cannot promote the loss."""
    w = _as_tensor(weight, input, name)
    if w.dtype != input.dtype and w.dtype.kind == "f" and input.dtype.kind == "f":
        w = w.to(input.dtype)
    return w


def _weight_buffer(owner: Module, name: str, value: Any) -> None:
    """Register a loss module's weight as a buffer (in state_dict, converted by ``.double()``), as PyTorch."""
    owner.register_buffer(name, value if value is None or isinstance(value, Tensor) else Tensor(value))


def _elementwise_target(input: Tensor, target: Any, loss: str) -> Tensor:
    """The target of an elementwise loss as a Tensor of the input's shape."""
    target = _as_tensor(target, input, "target")
    # PyTorch only warns and broadcasts; an (N, 1) vs (N,) mix-up silently trains on an N x N loss, so refuse.
    if input.shape != target.shape:
        raise ValueError(f"{loss}: target shape {tuple(target.shape)} differs from input shape "
                         f"{tuple(input.shape)}; reshape one of them (e.g. target.reshape({tuple(input.shape)}))")
    return target


# ---------------------------------------------------------------------------- regression losses
def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error: ``(x - y)**2``, reduced.

    Args:
        input: predictions, any shape.
        target: same shape as input.
        reduction: 'mean' | 'sum' | 'none'.

    Returns:
        Scalar Tensor, or the elementwise losses for 'none'.

    Raises:
        ValueError: shapes differ, or an unknown reduction.

    Example:
        >>> import gradkit as gk
        >>> mse_loss(gk.tensor([1.0, 3.0]), gk.tensor([0.0, 0.0])).item()
        5.0
    """
    check_reduction(reduction)
    target = _elementwise_target(input, target, "mse_loss")
    d = input - target
    return reduce(d * d, reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error: ``|x - y|``, reduced (gradient 0 where x == y, as PyTorch).

    Args:
        input: predictions, any shape.
        target: same shape as input.
        reduction: 'mean' | 'sum' | 'none'.

    Returns:
        Scalar Tensor, or the elementwise losses for 'none'.

    Raises:
        ValueError: shapes differ, or an unknown reduction.

    Example:
        >>> import gradkit as gk
        >>> l1_loss(gk.tensor([1.0, -3.0]), gk.tensor([0.0, 0.0])).item()
        2.0
    """
    check_reduction(reduction)
    target = _elementwise_target(input, target, "l1_loss")
    return reduce((input - target).abs(), reduction)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber loss: ``0.5 d**2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``, with d = x - y.

    Args:
        input: predictions, any shape.
        target: same shape as input.
        reduction: 'mean' | 'sum' | 'none'.
        delta: where the quadratic part turns linear (> 0).

    Returns:
        Scalar Tensor, or the elementwise losses for 'none'.

    Raises:
        ValueError: shapes differ, delta <= 0, or an unknown reduction.

    Example:
        >>> import gradkit as gk
        >>> huber_loss(gk.tensor([0.5, 3.0]), gk.tensor([0.0, 0.0]), reduction="none").tolist()
        [0.125, 2.5]
    """
    check_reduction(reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    target = _elementwise_target(input, target, "huber_loss")
    d = input - target
    a = d.abs()
    return reduce(where(a.data < delta, 0.5 * d * d, delta * (a - 0.5 * delta)), reduction)


# ---------------------------------------------------------------------------- binary losses
class BinaryCrossEntropy(Function):
    """l = -(y max(log x, -100) + (1 - y) max(log(1 - x), -100));
    dl/dx = (x - y) / max(x (1 - x), 1e-12) (PyTorch's clamp),  dl/dy = max(log(1-x), -100) - max(log x, -100).

    The target gradient differentiates the clamped loss, so it stays finite at x = 0 and 1
    (PyTorch differentiates the unclamped logs there and returns inf).
    """

    @staticmethod
    def forward(ctx: Function, x: Tensor, y: Tensor) -> np.ndarray:
        ctx.save_for_backward(x, y)
        return -(y.data * _clamped_log(x.data) + (1 - y.data) * _clamped_log(1 - x.data))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        x, y = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = grad * (x - y) / (x * (1 - x)).clamp(min=_EPSILON)
        if ctx.needs_input_grad[1]:
            gy = grad * (_clamped_log_t(1 - x) - _clamped_log_t(x))
        return gx, gy


_EPSILON = float(np.float32(1e-12))  # PyTorch's BCE backward clamp is a float32 constant


def _clamped_log(p: np.ndarray) -> np.ndarray:
    """max(log p, -100) for p in [0, 1], without a divide-by-zero warning at p = 0."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(p), -100)


def _clamped_log_t(p: Tensor) -> Tensor:
    """max(log p, -100) with gradkit ops: log only sees safe values, so its backward stays finite."""
    big = p.data > np.exp(-100.0)
    return where(big, where(big, p, 1.0).log(), -100.0)


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities: ``-w (y log x + (1 - y) log(1 - x))``, logs clamped at -100.

    Args:
        input: probabilities in [0, 1], any shape.
        target: same shape, values in [0, 1].
        weight: rescaling weight broadcastable to the input's shape, or None.
        reduction: 'mean' | 'sum' | 'none'.

    Returns:
        Scalar Tensor, or the elementwise losses for 'none'.

    Raises:
        ValueError: an input value outside [0, 1] (or NaN), shapes differ, or an unknown reduction.

    Example:
        >>> import gradkit as gk
        >>> binary_cross_entropy(gk.tensor([0.0, 1.0]), gk.tensor([1.0, 1.0]), reduction="none").tolist()
        [100.0, -0.0]
    """
    check_reduction(reduction)
    target = _elementwise_target(input, target, "binary_cross_entropy")
    outside = ~((input.data >= 0) & (input.data <= 1))  # NaN counts as outside
    if outside.any():
        bad = input.data[outside].flat[0]
        raise ValueError(f"binary_cross_entropy: all elements of input should be between 0 and 1 (got {bad}); "
                         "pass probabilities (apply sigmoid) or use binary_cross_entropy_with_logits on logits")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * _weight_like(weight, input, "weight")
    return reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Any = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable form: ``(1 - y) x + (1 + (p - 1) y) softplus(-x)``.

    ``softplus(-x) = -log sigmoid(x)`` is evaluated as a log-sum-exp, so logits
    of any magnitude give finite losses; the gradient is ``sigmoid(x) - y``
    (``(1 + (p - 1) y) sigmoid(x) - p y`` with ``pos_weight`` p).

    Args:
        input: logits, any shape.
        target: same shape, values in [0, 1].
        weight: rescaling weight broadcastable to the input's shape, or None.
        reduction: 'mean' | 'sum' | 'none'.
        pos_weight: weight of the positive term, broadcastable along the last dim (one per class), or None.

    Returns:
        Scalar Tensor, or the elementwise losses for 'none'.

    Raises:
        ValueError: shapes differ, or an unknown reduction.

    Example:
        >>> import gradkit as gk
        >>> x, y = gk.tensor([1000.0, -1000.0]), gk.tensor([0.0, 0.0])
        >>> binary_cross_entropy_with_logits(x, y, reduction="none").tolist()
        [1000.0, 0.0]
    """
    check_reduction(reduction)
    target = _elementwise_target(input, target, "binary_cross_entropy_with_logits")
    sp = softplus(-input, threshold=None)  # -log sigmoid(x), exact at any magnitude
    if pos_weight is None:
        loss = (1 - target) * input + sp
    else:
        pos_weight = _weight_like(pos_weight, input, "pos_weight")
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * sp
    if weight is not None:
        loss = loss * _weight_like(weight, input, "weight")
    return reduce(loss, reduction)


# ---------------------------------------------------------------------------- classification losses
def _class_targets(input: Tensor, target: Any, ignore_index: int, loss: str) -> tuple[np.ndarray, bool]:
    """Validate class-index targets for an (N, C, ...) input: ``(targets as int64, all of them in [0, C))``.

    Targets outside [0, C) must equal ignore_index, so when the flag is False some are ignored.
    """
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    shape = input.data.shape
    expected = shape[:1] + shape[2:] if len(shape) >= 2 else ()
    if t.dtype.kind == "f":
        raise TypeError(f"{loss}: class-index targets must be integers, got dtype {t.dtype} of shape "
                        f"{tuple(t.shape)}; convert with target.astype('int64') (float targets must have the "
                        f"input's shape {tuple(input.shape)} and hold class probabilities)")
    if t.dtype.kind not in "iub":
        raise TypeError(f"{loss}: targets must be an integer array, got dtype {t.dtype}")
    if t.shape != expected:
        raise ValueError(f"{loss}: target shape {tuple(t.shape)} does not match input shape {tuple(input.shape)}: "
                         f"expected class indices of shape {expected}")
    t = t.astype(np.int64, copy=False)
    n_classes = shape[1] if len(shape) >= 2 else shape[0]
    # all in [0, C) <=> max < C when read as unsigned (a negative int64 reads as a number >= 2**63): one reduction
    if t.size and not np.maximum.reduce(t.view(np.uint64), axis=None) < n_classes:
        bad = ((t < 0) | (t >= n_classes)) & (t != ignore_index)
        if bad.any():
            raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
        return t, False
    return t, True


def _class_weight(weight: Any, input: Tensor, loss: str) -> Tensor | None:
    if weight is None:
        return None
    w = _weight_like(weight, input, "weight")
    n_classes = input.shape[1] if input.ndim >= 2 else input.shape[0]
    if w.shape != (n_classes,):
        raise ValueError(f"{loss}: weight must have shape ({n_classes},) (one per class), got {tuple(w.shape)}")
    return w


def _to_rows(input: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N d1 ..., C) and (C,) -> (1, C): one row of scores per prediction."""
    if input.ndim == 1:
        return input.reshape(1, -1)
    if input.ndim > 2:
        order = (0,) + tuple(range(2, input.ndim)) + (1,)
        return input.permute(*order).reshape(-1, input.shape[1])
    return input


def _nll_rows(logp: Tensor, t: np.ndarray, w: Tensor | None, keep: np.ndarray) -> tuple[Tensor, Tensor]:
    """Per-row losses -w[t] logp[t] and per-row weights w[t], both 0 where the target is ignored (``keep`` False).

    The weights are gathered with gradkit indexing, so a weight that requires grad gets one.
    """
    safe = np.where(keep, t, 0)
    mask = const(keep, logp)
    row_w = mask if w is None else w[safe] * mask
    return -logp[np.arange(t.shape[0]), safe] * row_w, row_w


def _finish(per_row: Tensor, total: Tensor, reduction: str, out_shape: tuple, keep: np.ndarray) -> Tensor:
    """Reduce per-row losses; 'mean' divides by ``total`` (the summed weights of the kept targets)."""
    if reduction == "none":
        return per_row.reshape(out_shape)
    if reduction == "sum":
        return per_row.sum()
    if total.item() == 0:
        return (per_row * const(_zero_total_coef(keep), per_row)).sum() + float("nan")
    return per_row.sum() / total


def _zero_total_coef(keep: np.ndarray) -> np.ndarray:
    """'mean' when the kept targets weigh 0 in all (all ignored, or zero class weights): PyTorch's 0/0 --
    the loss is NaN, and each row's coefficient 1/total is NaN for kept rows and 0 for ignored ones, so an
    ignored row's gradient stays 0 (PyTorch skips those rows) and a kept row's is NaN (0 * 1/0).
    No numpy warning: nothing is divided."""
    return np.where(keep, np.nan, 0.0)


def nll_loss(input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices: ``-w[t] input[t]``; 'mean' divides by the sum of ``w[t]``.

    Args:
        input: log-probabilities, (N, C), (N, C, d1, ...) or (C,).
        target: integer class indices, (N,), (N, d1, ...) or ().
        weight: (C,) per-class weights, or None.
        ignore_index: targets equal to it contribute nothing (and are not counted by 'mean').
        reduction: 'mean' | 'sum' | 'none'.

    Returns:
        Scalar Tensor, or the per-prediction losses (target's shape) for 'none'.

    Raises:
        IndexError: a target outside [0, C) other than ignore_index ("Target 5 is out of bounds.").
        TypeError: float targets.
        ValueError: target shape does not match, bad weight shape, or an unknown reduction.

    Example:
        >>> import gradkit as gk
        >>> nll_loss(gk.tensor([[-1.0, -2.0], [-3.0, -4.0]]), gk.tensor([1, 0])).item()
        2.5
    """
    check_reduction(reduction)
    t, _ = _class_targets(input, target, ignore_index, "nll_loss")
    w = _class_weight(weight, input, "nll_loss")
    flat_t = t.reshape(-1)
    keep = flat_t != ignore_index
    per_row, row_w = _nll_rows(_to_rows(input), flat_t, w, keep)
    return _finish(per_row, row_w.sum(), reduction, t.shape, keep)


class SoftmaxCrossEntropy(Function):
    """Fused log_softmax + NLL over rows of (M, C) logits with per-row coefficients c (w[t] / W, 0 if ignored;
    one number for all rows when they are all alike).

    l_i = -c_i log softmax(x_i)[t_i] (summed over rows when ``reduce``);
    dl/dx_i = c_i (softmax(x_i) - onehot(t_i)).

    The MLP hot path: a plain backward is one numpy expression on the softmax kept
    from forward; under ``create_graph`` the same formula runs with gradkit ops.
    """

    @staticmethod
    def forward(ctx: Function, x: Tensor, t: np.ndarray, coef: np.ndarray, reduce: bool) -> np.ndarray:
        ctx.save_for_backward(x)
        ctx.t, ctx.coef, ctx.reduce = t, coef, reduce
        shifted = x.data - np.maximum.reduce(x.data, axis=1, keepdims=True)  # (.max: through Python first)
        e = np.exp(shifted)
        total = np.add.reduce(e, axis=1, keepdims=True)  # (e.sum: numpy forwards it through Python)
        ctx.probs = e / total
        losses = (np.log(total[:, 0]) - shifted[np.arange(t.shape[0]), t]) * coef
        return np.add.reduce(losses) if reduce else losses

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple:
        x, = ctx.saved_tensors
        rows = np.arange(ctx.t.shape[0])
        scale = ctx.coef if ctx.coef.ndim == 0 else ctx.coef[:, None]
        if not grad_mode._enabled:  # plain backward: no graph to record, stay in numpy
            g = ctx.probs.copy()
            g[rows, ctx.t] -= 1
            g *= scale * (grad.data if ctx.reduce else grad.data[:, None])
            return Tensor._make(g), None, None, None
        onehot = np.zeros(x.shape, dtype=x.dtype)
        onehot[rows, ctx.t] = 1
        g = (grad if ctx.reduce else grad.reshape(-1, 1)) * const(scale, x)
        return g * (x.softmax(1) - const(onehot, x)), None, None, None


def cross_entropy(input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits: ``nll_loss(log_softmax(input, 1), target)``, or ``-sum(p log_softmax)``.

    Targets are either class indices (integers of shape (N,) / (N, d1, ...) / ())
    or class probabilities (floats of the input's shape). With label smoothing
    ε the target becomes ``(1 - ε) target + ε / C`` (PyTorch's definition,
    including its normalisation by the weights of the targets for 'mean').

    Args:
        input: logits, (N, C), (N, C, d1, ...) or (C,).
        target: class indices or class probabilities (see above).
        weight: (C,) per-class weights, or None.
        ignore_index: class-index targets equal to it contribute nothing.
        reduction: 'mean' | 'sum' | 'none'.
        label_smoothing: ε in [0, 1].

    Returns:
        Scalar Tensor, or the per-prediction losses for 'none'.

    Raises:
        IndexError: a class index outside [0, C) other than ignore_index ("Target 5 is out of bounds.").
        TypeError: float targets of the class-index shape, or integer targets of the input's shape.
        ValueError: target shape matches neither form, bad weight, label_smoothing outside [0, 1],
            or an unknown reduction.

    Example:
        >>> import gradkit as gk
        >>> round(cross_entropy(gk.tensor([[2.0, 0.0, 0.0]]), gk.tensor([0])).item(), 4)
        0.2395
    """
    check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    t_data = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t_data.shape == input.shape and input.ndim >= 1 and not (input.ndim == 1 and t_data.ndim == 0):
        if t_data.dtype.kind != "f":
            raise TypeError(f"cross_entropy: a target of the input's shape {tuple(input.shape)} holds class "
                            f"probabilities and must be floating point, got dtype {t_data.dtype}; class indices "
                            f"have shape {(input.shape[0],) + tuple(input.shape[2:]) if input.ndim >= 2 else ()}")
        return _cross_entropy_probs(input, _as_tensor(target, input, "target"), weight, reduction, label_smoothing)
    t, in_range = _class_targets(input, target, ignore_index, "cross_entropy")
    w = _class_weight(weight, input, "cross_entropy")
    rows = _to_rows(input)
    flat_t = t.reshape(-1)
    if label_smoothing == 0 and (w is None or not w.requires_grad):
        n_classes = rows.data.shape[1]
        # (an ignore_index outside [0, C) occurs among the targets exactly when they are not all in range)
        ignored = ignore_index in flat_t if 0 <= ignore_index < n_classes else not in_range
        if w is None and flat_t.shape[0] and not ignored:
            # the usual case (no weights, nothing ignored): every row's coefficient is one number
            safe = flat_t
            coef = np.asarray(1 / flat_t.shape[0] if reduction == "mean" else 1, dtype=input.dtype)
        else:
            keep = flat_t != ignore_index
            safe = np.where(keep, flat_t, 0)
            row_w = np.ones(flat_t.shape[0], dtype=input.dtype) if w is None else w.data[safe]
            row_w = np.where(keep, row_w, 0).astype(input.dtype, copy=False)
            total = float(row_w.sum())
            if reduction == "mean" and total == 0:
                coef = _zero_total_coef(keep).astype(input.dtype)
                return SoftmaxCrossEntropy.apply(rows, safe, coef, True) + float("nan")
            coef = (row_w / total).astype(input.dtype, copy=False) if reduction == "mean" else row_w
        loss = SoftmaxCrossEntropy.apply(rows, safe, coef, reduction != "none")
        return loss.reshape(t.shape) if reduction == "none" else loss
    keep = flat_t != ignore_index
    logp = log_softmax(rows, 1)
    per_row, row_w = _nll_rows(logp, flat_t, w, keep)
    total = row_w.sum()
    nll = _finish(per_row, total, reduction, t.shape, keep)
    if label_smoothing == 0:
        return nll
    # PyTorch: smooth = -sum_c w_c logp_c per prediction (0 where ignored), normalised like the NLL part
    smooth = -(logp if w is None else logp * w.reshape(1, -1)).sum(1) * const(keep.astype(input.dtype), logp)
    smooth_red = _finish(smooth, total, reduction, t.shape, keep)
    n_classes = rows.shape[1]
    return (1 - label_smoothing) * nll + smooth_red * (label_smoothing / n_classes)


def _cross_entropy_probs(input: Tensor, target: Tensor, weight: Any, reduction: str,
                         label_smoothing: float) -> Tensor:
    """Cross-entropy with class-probability targets: -sum_c w_c p_c log_softmax(x)_c per prediction."""
    rows = _to_rows(input)
    p = _to_rows(target)
    n_classes = rows.shape[1]
    if label_smoothing > 0:
        p = p * (1 - label_smoothing) + label_smoothing / n_classes
    w = _class_weight(weight, input, "cross_entropy")
    terms = log_softmax(rows, 1) * p
    if w is not None:
        terms = terms * w.reshape(1, -1)
    per_row = -terms.sum(1)
    if reduction == "none":
        shape = (input.shape[0],) + tuple(input.shape[2:]) if input.ndim >= 2 else ()
        return per_row.reshape(shape)
    if reduction == "sum":
        return per_row.sum()
    return per_row.mean()  # PyTorch divides by the number of predictions, not by the weights


# ---------------------------------------------------------------------------- modules
class _Loss(Module):
    """Base of the loss modules: stores and validates ``reduction``."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_reduction(reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class MSELoss(_Loss):
    """Mean squared error :func:`mse_loss`: ``(x - y)**2``, reduced.

    Args:
        reduction: 'mean' | 'sum' | 'none'.

    Example:
        >>> import gradkit as gk
        >>> MSELoss()(gk.tensor([2.0]), gk.tensor([0.0])).item()
        4.0
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error :func:`l1_loss`: ``|x - y|``, reduced.

    Args:
        reduction: 'mean' | 'sum' | 'none'.

    Example:
        >>> import gradkit as gk
        >>> L1Loss(reduction="sum")(gk.tensor([2.0, -1.0]), gk.tensor([0.0, 0.0])).item()
        3.0
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """Huber loss :func:`huber_loss`: quadratic within ``delta``, linear beyond.

    Args:
        reduction: 'mean' | 'sum' | 'none'.
        delta: the switch point (> 0).

    Example:
        >>> HuberLoss(delta=0.5)
        HuberLoss(delta=0.5)
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta}")
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return huber_loss(input, target, self.reduction, self.delta)

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [super().extra_repr(), f"delta={self.delta}"]))


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities :func:`binary_cross_entropy` (log terms clamped at -100).

    Args:
        weight: rescaling weight broadcastable to the input, or None.
        reduction: 'mean' | 'sum' | 'none'.

    Example:
        >>> import gradkit as gk
        >>> round(BCELoss()(gk.tensor([0.5]), gk.tensor([1.0])).item(), 4)
        0.6931
    """

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        _weight_buffer(self, "weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy, stable for any logits (:func:`binary_cross_entropy_with_logits`).

    Args:
        weight: rescaling weight broadcastable to the input, or None.
        reduction: 'mean' | 'sum' | 'none'.
        pos_weight: weight of positive examples (one per class, broadcast along the last dim), or None.

    Example:
        >>> import gradkit as gk
        >>> BCEWithLogitsLoss()(gk.tensor([1e4]), gk.tensor([1.0])).item()
        0.0
    """

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(reduction)
        _weight_buffer(self, "weight", weight)
        _weight_buffer(self, "pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of logits :func:`cross_entropy` (class-index or class-probability targets).

    Args:
        weight: (C,) per-class weights, or None.
        ignore_index: class-index target that contributes nothing.
        reduction: 'mean' | 'sum' | 'none'.
        label_smoothing: ε in [0, 1].

    Shape:
        input (N, C) logits, target (N,) integer classes or (N, C) probabilities.

    Example:
        >>> import gradkit as gk
        >>> CrossEntropyLoss(label_smoothing=0.1)
        CrossEntropyLoss(label_smoothing=0.1)
        >>> round(CrossEntropyLoss()(gk.tensor([[0.0, 0.0]]), gk.tensor([1])).item(), 4)
        0.6931
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
        _weight_buffer(self, "weight", weight)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        weight = self._buffers["weight"]  # (self.weight: found only after a failed lookup, Module.__getattr__)
        return cross_entropy(input, target, weight, self.ignore_index, self.reduction, self.label_smoothing)

    def extra_repr(self) -> str:
        parts = [super().extra_repr()]
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(filter(None, parts))


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices :func:`nll_loss` (pair with LogSoftmax).

    Args:
        weight: (C,) per-class weights, or None.
        ignore_index: target that contributes nothing.
        reduction: 'mean' | 'sum' | 'none'.

    Example:
        >>> import gradkit as gk
        >>> NLLLoss()(gk.tensor([[-0.5, -1.0]]), gk.tensor([0])).item()
        0.5
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction)
        _weight_buffer(self, "weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)

    def extra_repr(self) -> str:
        parts = [super().extra_repr()]
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        return ", ".join(filter(None, parts))
