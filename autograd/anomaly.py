"""Anomaly detection: stop at the first NaN or inf and say which op made it, and where.

Under ``detect_anomaly()`` every node records the stack of the call that
created it; a non-finite value produced from finite inputs in forward, or a
non-finite gradient in backward, raises :class:`AnomalyError` naming the op,
the likely cause and that forward call site. Off (the default), NaN and inf
propagate silently, as in numpy and PyTorch.

Example:
    >>> import gradkit as gk
    >>> x = gk.tensor(0.0, requires_grad=True)
    >>> with gk.autograd.detect_anomaly():
    ...     try:
    ...         x.sqrt().backward()
    ...     except gk.autograd.AnomalyError as e:
    ...         print(str(e).splitlines()[0])
    Sqrt backward produced inf in the gradient of input 0 (likely cause: sqrt at 0 (infinite slope) or of a negative number)
"""  # noqa: E501  (a doctest's expected output is one line)
from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import numpy as np

_enabled = False
# True while the engine runs backward formulas: their ops' non-finite outputs are reported by
# check_backward as the gradient of the node being differentiated, not as a forward anomaly.
_in_backward = False

# What usually makes each op non-finite; shown in the error to point at the fix.
_LIKELY_CAUSE = {
    "Log": "log of 0 or of a negative number",
    "Sqrt": "sqrt at 0 (infinite slope) or of a negative number",
    "Div": "division by 0 (0/0 gives nan)",
    "Exp": "overflow in exp (input above ~88 in float32, ~709 in float64)",
    "Pow": "a negative base with a fractional exponent, or 0 to a negative power",
    "Mul": "inf * 0",
}


class AnomalyError(RuntimeError):
    """A NaN or inf appeared under ``detect_anomaly()``."""


class detect_anomaly:
    """Context manager that turns the first non-finite value into an :class:`AnomalyError`."""

    def __enter__(self) -> "detect_anomaly":
        global _enabled
        self._prev = _enabled
        _enabled = True
        # the checks report non-finite values; numpy's own warnings (errors under -W error or
        # np.seterr(all="raise")) would pre-empt them and lose the op name and call site
        self._errstate = np.errstate(divide="ignore", invalid="ignore", over="ignore")
        self._errstate.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        global _enabled
        _enabled = self._prev
        self._errstate.__exit__(*exc)


def _gradkit_dirs() -> set[str]:
    """The folders of gradkit's loaded modules (by location: user folders named nn/ or autograd/ stay in)."""
    return {os.path.dirname(os.path.abspath(m.__file__)) for name, m in list(sys.modules.items())
            if (name == "gradkit" or name.startswith("gradkit.")) and getattr(m, "__file__", None)}


def _call_site(node: Any) -> str:
    internal = _gradkit_dirs()
    frames = [f for f in (node._trace or []) if os.path.dirname(os.path.abspath(f.filename)) not in internal]
    frames = frames or list(node._trace or [])
    return "".join(traceback.format_list(frames[-3:]))


def _kind(a: np.ndarray) -> str:
    return "nan" if np.isnan(a).any() else "inf"


def check_forward(node: Any, args: tuple, out: np.ndarray) -> None:
    """Raise when ``node`` turned finite inputs into a non-finite output."""
    if _in_backward or out.dtype.kind != "f" or np.isfinite(out).all():
        return
    for a in args:
        data = getattr(a, "data", None)
        if isinstance(data, np.ndarray) and data.dtype.kind == "f" and not np.isfinite(data).all():
            return  # the non-finite value came in: it was reported where it was made
    cause = _LIKELY_CAUSE.get(node.name, "overflow or an undefined value")
    raise AnomalyError(f"{node.name} forward produced {_kind(out)} from finite inputs "
                       f"(likely cause: {cause})\nForward call that created it:\n{_call_site(node)}")


def check_backward(node: Any, index: int, grad: np.ndarray) -> None:
    """Raise when the gradient ``node`` sends to input ``index`` is non-finite."""
    if grad.dtype.kind != "f" or np.isfinite(grad).all():
        return
    cause = _LIKELY_CAUSE.get(node.name, "overflow or an undefined value")
    raise AnomalyError(f"{node.name} backward produced {_kind(grad)} in the gradient of input {index} "
                       f"(likely cause: {cause})\nForward call that created the op:\n{_call_site(node)}")
