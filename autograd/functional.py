"""Functional autograd: ``grad``, ``jacobian``, ``hessian``, ``hvp`` (PyTorch's signatures)."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from gradkit.autograd import engine
from gradkit.autograd.grad_mode import enable_grad
from gradkit.autograd.tensor import Tensor


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated into ``.grad``).

    Args:
        outputs: tensor(s) to differentiate.
        inputs: tensor(s) (leaves or not) to differentiate with respect to.
        grad_outputs: d(loss)/d(output) for each output; None for scalar outputs.
        retain_graph: keep the graph (default: ``create_graph``).
        create_graph: record the computation so the result can be differentiated again.
        allow_unused: return None (instead of raising) for inputs the outputs do not depend on.

    Example:
        >>> import gradkit as gk
        >>> x = gk.tensor(3.0, requires_grad=True)
        >>> dy, = gk.autograd.grad(x ** 3, x, create_graph=True)
        >>> d2y, = gk.autograd.grad(dy, x)
        >>> dy.item(), d2y.item()
        (27.0, 18.0)
    """
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    if grad_outputs is not None:
        grad_outputs = _as_tuple(grad_outputs)
        if len(grad_outputs) != len(outputs):
            raise ValueError(f"grad_outputs has {len(grad_outputs)} entries but there are {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"input {i} of grad() does not require grad: only tensors with requires_grad=True "
                               "can be differentiated with respect to")
    capture: dict = {t: None for t in inputs}
    engine.run_backward(outputs, grad_outputs, create_graph if retain_graph is None else retain_graph,
                        create_graph, capture)
    result = []
    for i, t in enumerate(inputs):
        g = capture[t]
        if g is None and not allow_unused:
            raise RuntimeError(f"input {i} of grad() appears to not have been used in the graph; set "
                               "allow_unused=True if this is the desired behavior")
        result.append(g)
    return tuple(result)


def jacobian(fn: Callable[..., Any], inputs: Tensor | Sequence[Tensor], create_graph: bool = False) -> Any:
    """The Jacobian of ``fn`` at ``inputs``: ``J[out_index + in_index] = d out / d in``.

    Returns a Tensor for one input and one output, else (nested) tuples, as
    ``torch.autograd.functional.jacobian``. Inputs that the output does not use get zeros.

    Example:
        >>> import gradkit as gk
        >>> J = gk.autograd.jacobian(lambda x: x * x, gk.tensor([1.0, 2.0], dtype="float64"))
        >>> J.tolist()
        [[2.0, 0.0], [0.0, 4.0]]
    """
    single_input = not isinstance(inputs, (tuple, list))
    xs = tuple(x if x.requires_grad and create_graph else x.detach().requires_grad_() for x in _as_tuple(inputs))
    with enable_grad():
        out = fn(*xs)
    single_output = not isinstance(out, (tuple, list))
    jac = []
    for o in _as_tuple(out):
        rows: list[list[np.ndarray]] = [[] for _ in xs]
        for j in range(o.data.size):
            seed = np.zeros(o.data.size, dtype=o.dtype)
            seed[j] = 1
            gs = grad(o, xs, Tensor._make(seed.reshape(o.shape)), retain_graph=True, create_graph=create_graph,
                      allow_unused=True) if o.requires_grad else (None,) * len(xs)
            for k, (g, x) in enumerate(zip(gs, xs)):
                rows[k].append(np.zeros(x.shape, dtype=x.dtype) if g is None else g.data)
        jac.append(tuple(
            Tensor._make(np.stack(r).reshape(o.shape + x.shape) if r else np.zeros(o.shape + x.shape, x.dtype))
            for r, x in zip(rows, xs)))
    if single_output:
        return jac[0][0] if single_input else jac[0]
    return tuple(j[0] for j in jac) if single_input else tuple(jac)


def hessian(fn: Callable[..., Tensor], inputs: Tensor | Sequence[Tensor]) -> Any:
    """The Hessian of a scalar ``fn``: ``H[i + j] = d2 fn / d in_i d in_j``.

    Example:
        >>> import gradkit as gk
        >>> H = gk.autograd.hessian(lambda x: (x ** 3).sum(), gk.tensor([1.0, 2.0], dtype="float64"))
        >>> H.tolist()
        [[6.0, 0.0], [0.0, 12.0]]
    """
    single_input = not isinstance(inputs, (tuple, list))
    xs = _as_tuple(inputs)

    def gradient(*args: Tensor) -> Any:
        out = fn(*args)
        if out.data.size != 1:
            raise RuntimeError(f"hessian needs a function with a scalar output, got shape {tuple(out.shape)}")
        gs = grad(out, args, create_graph=True, allow_unused=True)
        gs = tuple(g if g is not None else Tensor._make(np.zeros(a.shape, a.dtype)) for g, a in zip(gs, args))
        return gs[0] if single_input else gs

    return jacobian(gradient, xs[0] if single_input else xs)


def hvp(fn: Callable[..., Tensor], inputs: Tensor | Sequence[Tensor], v: Tensor | Sequence[Tensor]) -> tuple:
    """Hessian-vector product without forming the Hessian; returns ``(fn(inputs), H @ v)``.

    Example:
        >>> import gradkit as gk
        >>> x = gk.tensor([1.0, 2.0], dtype="float64")
        >>> _, hv = gk.autograd.hvp(lambda x: (x ** 3).sum(), x, gk.tensor([1.0, 1.0], dtype="float64"))
        >>> hv.tolist()
        [6.0, 12.0]
    """
    single_input = not isinstance(inputs, (tuple, list))
    xs = tuple(x.detach().requires_grad_() for x in _as_tuple(inputs))
    vs = _as_tuple(v)
    if len(vs) != len(xs) or any(tuple(a.shape) != tuple(b.shape) for a, b in zip(vs, xs)):
        raise ValueError(f"v must match the inputs' shapes {[tuple(x.shape) for x in xs]}, got "
                         f"{[tuple(a.shape) for a in vs]}")
    with enable_grad():
        out = fn(*xs)
        gs = grad(out, xs, create_graph=True, allow_unused=True)
        dot = None
        for g, vi in zip(gs, vs):
            if g is not None:
                term = (g * vi).sum()
                dot = term if dot is None else dot + term
    if dot is None or not dot.requires_grad:
        hv = tuple(Tensor._make(np.zeros(x.shape, x.dtype)) for x in xs)
    else:
        hv = tuple(h if h is not None else Tensor._make(np.zeros(x.shape, x.dtype))
                   for h, x in zip(grad(dot, xs, allow_unused=True), xs))
    return out.detach(), (hv[0] if single_input else hv)
