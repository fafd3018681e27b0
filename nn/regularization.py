"""Regularisation: weight penalties in the graph, and gradient clipping (in place, like torch.nn.utils)."""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from gradkit.autograd.tensor import Tensor
from gradkit.nn.module import Module

Params = Iterable[Tensor] | Tensor | Module


def _params(parameters: Params, fn: str) -> list[Tensor]:
    if isinstance(parameters, Module):
        parameters = parameters.parameters()
    elif isinstance(parameters, Tensor):
        parameters = [parameters]
    out = list(parameters)
    for i, p in enumerate(out):
        if not isinstance(p, Tensor):
            raise TypeError(f"{fn} expects Tensors (e.g. model.parameters()), got {type(p).__name__} at position {i}")
    return out


def _penalty(parameters: Params, fn: str, term: str) -> Tensor:
    params = _params(parameters, fn)
    if not params:
        raise ValueError(f"{fn} got no parameters (an exhausted generator? parameters() can be iterated once)")
    total = None
    for p in params:
        s = (p.abs() if term == "l1" else p * p).sum()
        total = s if total is None else total + s
    return total


def l1_penalty(parameters: Params) -> Tensor:
    """Sum of absolute values of all parameters, a scalar in the graph: Σ_p Σ_i |p_i|.

    Add ``lam * l1_penalty(model.parameters())`` to a loss for L1 regularisation.

    Args:
        parameters: Tensors, a Tensor, or a Module (its parameters).

    Raises:
        ValueError: no parameters. TypeError: a non-Tensor item.

    Example:
        >>> import gradkit as gk
        >>> gk.nn.l1_penalty([gk.tensor([1.0, -2.0]), gk.tensor([3.0])]).item()
        6.0
    """
    return _penalty(parameters, "l1_penalty", "l1")


def l2_penalty(parameters: Params) -> Tensor:
    """Sum of squares of all parameters, a scalar in the graph: Σ_p Σ_i p_i² (no 1/2 factor).

    ``lam * l2_penalty(params)`` adds ``2 * lam * p`` to each gradient, so it equals
    SGD's ``weight_decay = 2 * lam``.

    Args:
        parameters: Tensors, a Tensor, or a Module (its parameters).

    Raises:
        ValueError: no parameters. TypeError: a non-Tensor item.

    Example:
        >>> import gradkit as gk
        >>> gk.nn.l2_penalty([gk.tensor([1.0, -2.0]), gk.tensor([3.0])]).item()
        14.0
    """
    return _penalty(parameters, "l2_penalty", "l2")


def clip_grad_norm_(parameters: Params, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so their joint norm is at most ``max_norm``; return the norm before.

    total = ‖(‖g_1‖, …, ‖g_k‖)‖_p;  every g *= min(1, max_norm / (total + 1e-6))  (PyTorch's rule).

    Args:
        parameters: Tensors with ``.grad``, a Tensor, or a Module; those without grad are skipped.
        max_norm: the largest allowed total norm.
        norm_type: p of the p-norm (``float("inf")`` for the max-norm).
        error_if_nonfinite: raise when the total norm is nan or inf.

    Returns:
        The total norm of the gradients (before clipping), a 0-d Tensor.

    Raises:
        RuntimeError: non-finite total norm with ``error_if_nonfinite``.
        ValueError: negative max_norm or a norm_type that is not a number.

    Example:
        >>> import gradkit as gk
        >>> p = gk.tensor([0.0, 0.0], requires_grad=True); p.grad = gk.tensor([3.0, 4.0])
        >>> gk.nn.clip_grad_norm_([p], max_norm=1.0).item()
        5.0
        >>> [round(v, 4) for v in p.grad.tolist()]
        [0.6, 0.8]
    """
    params = _params(parameters, "clip_grad_norm_")
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    try:
        norm_type = float(norm_type)
    except (TypeError, ValueError):
        raise ValueError(f"clip_grad_norm_: norm_type must be a number or inf, got {norm_type!r}") from None
    grads = [p.grad.data for p in params if p.grad is not None]
    if not grads:
        return Tensor(0.0)
    norms = np.array([np.linalg.norm(g.reshape(-1), norm_type) for g in grads])
    total = float(np.linalg.norm(norms, norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite "
                           f"({total}), so it cannot be clipped. Set error_if_nonfinite=False to disable this check")
    coef = min(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= coef
    return Tensor(np.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters: Params, clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place.

    Args:
        parameters: Tensors with ``.grad``, a Tensor, or a Module; those without grad are skipped.
        clip_value: the bound (>= 0).

    Raises:
        ValueError: negative clip_value.

    Example:
        >>> import gradkit as gk
        >>> p = gk.tensor([0.0, 0.0], requires_grad=True); p.grad = gk.tensor([-3.0, 0.5])
        >>> gk.nn.clip_grad_value_([p], 1.0); p.grad.tolist()
        [-1.0, 0.5]
    """
    params = _params(parameters, "clip_grad_value_")
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for p in params:
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)
