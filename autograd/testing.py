"""Property-testing helpers: hypothesis strategies for tensors and shapes, and a gradient assertion.

Needs hypothesis (``pip install 'gradkit[testing]'``). Test your own op the way
gradkit tests its own: draw shapes that broadcast, draw values from the op's
valid domain (away from kinks and poles), and compare backward with finite
differences::

    from hypothesis import given
    from gradkit.autograd.testing import broadcastable_shapes, tensors, assert_gradients_match

    @given(data=st.data(), shapes=broadcastable_shapes(2))
    def test_my_op(data, shapes):
        a = data.draw(tensors(shape=shapes[0]))
        b = data.draw(tensors(shape=shapes[1], elements="positive"))
        assert_gradients_match(my_op, a, b, second_order=True)
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("gradkit.autograd.testing needs hypothesis: pip install 'gradkit[testing]'") from exc

from gradkit.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from gradkit.autograd.tensor import Tensor

#: Value domains by name: each keeps finite differences meaningful for some family of ops.
DOMAINS: dict[str, Any] = {
    "real": st.floats(-3, 3),                                          # smooth everywhere (exp, sin, tanh, +, *)
    "positive": st.floats(0.1, 3),                                     # log, sqrt, pow bases, divisors
    "nonzero": st.floats(0.1, 3) | st.floats(-3, -0.1),                # kinks at 0: relu, abs, sign
    "unit": st.floats(-0.9, 0.9),                                      # inside (-1, 1)
    "grid": st.integers(-30, 30).map(lambda i: i / 10),                # 0.1 apart: ties are exact or far (max)
}


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy:
    """Array shapes, 0-d included by default.

    Example:
        >>> from gradkit.autograd.testing import shapes
        >>> shapes(min_dims=2, max_dims=2).example().__len__()
        2
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(n: int, min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
                         max_side: int = 4) -> st.SearchStrategy:
    """Tuples of ``n`` shapes that broadcast together (numpy rules, size-1 and missing dims).

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd.testing import broadcastable_shapes
        >>> a, b = broadcastable_shapes(2).example()
        >>> np.broadcast_shapes(a, b) is not None
        True
    """
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side).map(lambda s: s.input_shapes)


def tensors(shape: Any = None, dtype: Any = np.float64, elements: Any = "real", requires_grad: bool = True,
            unique: bool = False) -> st.SearchStrategy:
    """Tensors of a given (or drawn) shape with values from a domain.

    Args:
        shape: a shape tuple, a strategy of shapes, or None for :func:`shapes`.
        dtype: numpy dtype (float64 for gradient checks).
        elements: a name from :data:`DOMAINS` or a hypothesis strategy of floats.
        requires_grad: whether the tensors require grad.
        unique: all elements distinct (ops whose gradient has ties: max, min, sort).

    Example:
        >>> from gradkit.autograd.testing import tensors
        >>> t = tensors(shape=(2, 3), elements="positive").example()
        >>> t.shape, bool((t.data > 0).all()), t.requires_grad
        ((2, 3), True, True)
    """
    if isinstance(elements, str):
        if elements not in DOMAINS:
            raise ValueError(f"unknown domain {elements!r}; valid domains: {sorted(DOMAINS)}")
        elements = DOMAINS[elements]
    if shape is None:
        shape_strategy = shapes()
    else:
        shape_strategy = shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape))
    arrays = hnp.arrays(np.dtype(dtype), shape_strategy, elements=elements, unique=unique)
    return arrays.map(lambda a: Tensor(a, requires_grad=requires_grad))


def assert_gradients_match(fn: Callable[..., Any], *tensors: Tensor, eps: float = 1e-6, atol: float = 1e-5,
                           rtol: float = 1e-3, second_order: bool = False) -> None:
    """Assert that ``fn``'s backward (and with ``second_order`` its double backward) matches finite differences.

    Raises:
        AssertionError: with gradcheck's message naming the input, element and both values.

    Example:
        >>> import gradkit as gk
        >>> from gradkit.autograd.testing import assert_gradients_match
        >>> x = gk.tensor([0.3, 1.2], dtype="float64", requires_grad=True)
        >>> assert_gradients_match(lambda t: t.tanh() * t, x, second_order=True)
    """
    try:
        gradcheck(fn, tensors, eps=eps, atol=atol, rtol=rtol)
        if second_order:
            gradgradcheck(fn, tensors, eps=eps, atol=atol, rtol=rtol)
    except GradcheckError as e:
        raise AssertionError(str(e)) from None
