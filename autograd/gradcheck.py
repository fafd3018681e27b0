"""Gradient checking: analytical (backward) against central finite differences.

``gradcheck`` builds both Jacobians element by element in float64 and names
the first entry that disagrees; ``gradgradcheck`` does the same for the
gradient of the gradient. Use them on every new op, as gradkit's own tests do.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np

from gradkit.autograd.functional import grad
from gradkit.autograd.grad_mode import enable_grad, no_grad
from gradkit.autograd.tensor import Tensor


class GradcheckError(RuntimeError):
    """An analytical gradient disagrees with finite differences (or backward is not reentrant)."""


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(fn: Callable, inputs: tuple) -> tuple[Tensor, ...]:
    return tuple(o for o in _as_tuple(fn(*inputs)))


def _validate(inputs: tuple) -> None:
    if not any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        raise ValueError("gradcheck expects at least one input tensor with requires_grad=True")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            continue
        if t.dtype != np.float64:
            warnings.warn(f"input {i} of gradcheck is {t.dtype}, not float64: finite differences will be "
                          "too inaccurate for a meaningful check", UserWarning, stacklevel=3)
        if t.data.size > 1 and any(s == 0 for s, n in zip(t.data.strides, t.data.shape) if n > 1):
            raise ValueError(f"input {i} of gradcheck is a broadcast (stride-0) view: perturbing one element "
                             "would change several; pass a contiguous copy")


def numerical_jacobians(fn: Callable, inputs: Sequence[Tensor], eps: float = 1e-6) -> list[list[np.ndarray]]:
    """``J[o][i]`` of shape (output o size, input i size) by central differences (None where no grad)."""
    inputs = tuple(inputs)
    # grad mode stays as it is: fn may itself differentiate (gradgradcheck's first derivative)
    if True:
        outs = _outputs(fn, inputs)
        jac: list[list[Any]] = [[None] * len(inputs) for _ in outs]
        for i, x in enumerate(inputs):
            if not (isinstance(x, Tensor) and x.requires_grad):
                continue
            data = x.data  # perturbed in place by index: reshape(-1) of a non-contiguous array is a copy
            cols = [np.empty((o.data.size, data.size)) for o in outs]
            for k in range(data.size):
                idx = np.unravel_index(k, data.shape)
                orig = data[idx]
                data[idx] = orig + eps
                plus = [np.array(o.data, dtype=np.float64).reshape(-1) for o in _outputs(fn, inputs)]
                data[idx] = orig - eps
                minus = [np.array(o.data, dtype=np.float64).reshape(-1) for o in _outputs(fn, inputs)]
                data[idx] = orig
                for c, p, m in zip(cols, plus, minus):
                    c[:, k] = (p - m) / (2 * eps)
            for o_idx, c in enumerate(cols):
                jac[o_idx][i] = c
    return jac


def analytical_jacobians(fn: Callable, inputs: Sequence[Tensor]) -> list[list[np.ndarray]]:
    """``J[o][i]`` of shape (output o size, input i size) by one backward per output element."""
    inputs = tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    with enable_grad():
        outs = _outputs(fn, inputs)
    jac: list[list[Any]] = [[None] * len(inputs) for _ in outs]
    for o_idx, o in enumerate(outs):
        for i in wrt:
            jac[o_idx][i] = np.zeros((o.data.size, inputs[i].data.size))
        if not (isinstance(o, Tensor) and o.requires_grad):
            continue
        for j in range(o.data.size):
            seed = np.zeros(o.data.size, dtype=o.dtype)
            seed[j] = 1
            gs = grad(o, [inputs[i] for i in wrt], Tensor._make(seed.reshape(o.shape)), retain_graph=True,
                      allow_unused=True)
            for i, g in zip(wrt, gs):
                if g is not None:
                    jac[o_idx][i][j] = g.data.reshape(-1)
    return jac


def numerical_grad(fn: Callable, inputs: Tensor | Sequence[Tensor], eps: float = 1e-6) -> tuple[np.ndarray, ...]:
    """Central-difference gradient of ``sum(fn(*inputs))`` for each input (a scalar fn: its gradient).

    d f / d x_k ≈ (f(x + eps e_k) - f(x - eps e_k)) / (2 eps), element by element.

    Example:
        >>> import gradkit as gk
        >>> x = gk.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
        >>> gk.autograd.numerical_grad(lambda t: (t ** 2).sum(), x)[0].round(6).tolist()
        [2.0, 4.0]
    """
    inputs = _as_tuple(inputs)
    jac = numerical_jacobians(lambda *a: sum_outputs(fn, a), inputs, eps)[0]
    return tuple(np.zeros(x.shape) if j is None else j.reshape(x.shape) for j, x in zip(jac, inputs))


def sum_outputs(fn: Callable, inputs: tuple) -> Tensor:
    total = None
    for o in _outputs(fn, inputs):
        s = o.sum()
        total = s if total is None else total + s
    return total


def gradcheck(fn: Callable, inputs: Tensor | Sequence[Tensor], eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Check ``fn``'s backward against central finite differences, entry by entry.

    Passes when |analytical - numerical| <= atol + rtol * |numerical| for every
    entry of every output's Jacobian with respect to every input that requires
    grad, and when running backward twice gives bitwise the same result.

    Args:
        fn: function of the inputs returning a Tensor or a tuple of Tensors.
        inputs: float64 tensors; those with requires_grad=True are checked.
        eps: finite-difference step.
        atol, rtol: tolerances.
        raise_exception: raise :class:`GradcheckError` on failure (else return False).

    Raises:
        GradcheckError: naming the input, the element index, and both values.
        ValueError: no input requires grad, or an input is a broadcast view.

    Example:
        >>> import gradkit as gk
        >>> x = gk.tensor([0.5, 1.5], dtype="float64", requires_grad=True)
        >>> gk.autograd.gradcheck(lambda t: t.sin() * t, x)
        True
    """
    inputs = _as_tuple(inputs)
    _validate(inputs)
    analytical = analytical_jacobians(fn, inputs)
    numerical = numerical_jacobians(fn, inputs, eps)
    for o_idx, (a_row, n_row) in enumerate(zip(analytical, numerical)):
        for i, (a, n) in enumerate(zip(a_row, n_row)):
            if a is None:
                continue
            bad = np.abs(a - n) > atol + rtol * np.abs(n)
            bad |= np.isnan(a) != np.isnan(n)
            if bad.any():
                j, k = map(int, np.argwhere(bad)[0])
                elem = np.unravel_index(k, inputs[i].shape) if inputs[i].ndim else ()
                msg = (f"Jacobian mismatch for output {o_idx} with respect to input {i}, at input element "
                       f"{tuple(int(e) for e in elem)} (output element {j}): analytical {float(a[j, k])!r} "
                       f"vs numerical {float(n[j, k])!r} ({int(bad.sum())} of {bad.size} entries differ)")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    again = analytical_jacobians(fn, inputs)
    for a_row, b_row in zip(analytical, again):
        for i, (a, b) in enumerate(zip(a_row, b_row)):
            if a is not None and not np.array_equal(a, b, equal_nan=True):
                msg = f"backward is not reentrant: two backward passes gave different gradients for input {i}"
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(fn: Callable, inputs: Tensor | Sequence[Tensor], grad_outputs: Any = None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of (inputs, u) -> grad(fn(inputs), inputs, u, create_graph=True).

    ``grad_outputs`` (the vectors u) default to seeded random float64 tensors.

    Example:
        >>> import gradkit as gk
        >>> x = gk.tensor([0.5, 1.5], dtype="float64", requires_grad=True)
        >>> gk.autograd.gradgradcheck(lambda t: t.exp() * t, x)
        True
    """
    inputs = _as_tuple(inputs)
    _validate(inputs)
    with no_grad():
        outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(Tensor(rng.standard_normal(o.shape), dtype=np.float64, requires_grad=True)
                             for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_derivative(*args: Tensor) -> tuple:
        xs, us = args[:n], args[n:]
        out = _outputs(fn, xs)
        pairs = [(o, u) for o, u in zip(out, us) if o.requires_grad]
        if not pairs:
            return tuple(Tensor._make(np.zeros(xs[i].shape)) for i in wrt)
        gs = grad([o for o, _ in pairs], [xs[i] for i in wrt], [u for _, u in pairs], create_graph=True,
                  allow_unused=True)
        return tuple(g if g is not None else Tensor._make(np.zeros(xs[i].shape)) for g, i in zip(gs, wrt))

    return gradcheck(first_derivative, inputs + grad_outputs, eps, atol, rtol, raise_exception)
