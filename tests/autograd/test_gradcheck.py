"""gradcheck / gradgradcheck self-test: deliberately broken backward formulas must be caught (AG-37)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import Function, GradcheckError, gradcheck, gradgradcheck, numerical_grad
from gradkit.autograd.tensor import Tensor, from_numpy

RNG = np.random.default_rng(0)


def t64(shape_or_values, requires_grad=True):
    data = RNG.uniform(0.5, 1.5, shape_or_values) if isinstance(shape_or_values, tuple) else shape_or_values
    return gk.tensor(np.asarray(data, dtype=np.float64), requires_grad=requires_grad)


class Square(Function):
    """y = x**2 with a correct backward (control)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data ** 2

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * 2 * x


class SquareWrongSign(Square):
    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return -(grad * 2 * x)


class SquareFactorTwo(Square):
    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * 4 * x


class AddBiasNoReduction(Function):
    """y = x + b with b of shape (n,) broadcast over rows; backward forgets to sum over the batch."""

    @staticmethod
    def forward(ctx, x, b):
        return x.data + b.data

    @staticmethod
    def backward(ctx, grad):
        return grad, grad[0]  # right shape, wrong value: only the first row's gradient


class AddBiasWrongAxis(AddBiasNoReduction):
    @staticmethod
    def backward(ctx, grad):
        return grad, grad.sum(dim=1)  # summed over the wrong axis: shape (rows,) for a (cols,) bias


class MatMulTransposedGrad(Function):
    """C = A @ B with dA = G @ B instead of G @ B^T."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.data @ b.data

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad @ b, a.mT @ grad


class NoisyBackward(Square):
    """Correct to 1e-12, but different on every call (a seeded stream that advances): not reentrant."""

    noise_rng = np.random.default_rng(5)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        noise = Tensor._make(NoisyBackward.noise_rng.standard_normal(x.shape) * 1e-12)
        return grad * 2 * x + noise


class CubeDetachedBackward(Function):
    """y = x**3 with dy/dx = 3x**2 built from .data: right first derivative, wrong (zero) second."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data ** 3

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * Tensor._make(3 * x.data ** 2)


def test_correct_function_passes_both_checks():
    x = t64((2, 3))
    assert gradcheck(Square.apply, x)
    assert gradgradcheck(Square.apply, x)


@pytest.mark.parametrize("op", [SquareWrongSign, SquareFactorTwo])
def test_wrong_formula_is_rejected(op):
    x = t64((2, 3))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(op.apply, x)
    assert gradcheck(op.apply, x, raise_exception=False) is False


def test_error_names_input_element_and_both_values():
    x = t64([0.5, 1.25, 2.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(SquareFactorTwo.apply, x)
    msg = str(info.value)
    assert "input 0" in msg and "input element (0,)" in msg
    analytical, numerical = map(float, re.search(r"analytical (\S+) vs numerical (\S+)", msg).groups())
    assert analytical == pytest.approx(4 * 0.5) and numerical == pytest.approx(2 * 0.5, rel=1e-6)


def test_error_names_the_second_input_when_only_it_is_wrong():
    x, b = t64((4, 3)), t64((3,))
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(AddBiasNoReduction.apply, (x, b))


def test_missing_broadcast_reduction_is_caught_by_the_engine():
    x, b = t64((4, 3)), t64((3,))
    with pytest.raises(RuntimeError, match=r"AddBiasWrongAxis returned a gradient of shape \(4,\).*\(3,\)"):
        gradcheck(AddBiasWrongAxis.apply, (x, b))


def test_transposed_matmul_gradient_is_rejected():
    a, b = t64((3, 3)), t64((3, 3))
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(MatMulTransposedGrad.apply, (a, b))
    assert gradcheck(lambda p, q: p @ q, (a, b))


def test_non_reentrant_backward_is_detected():
    x = t64((3,))
    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(NoisyBackward.apply, x)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = t64((3,))
    assert gradcheck(CubeDetachedBackward.apply, x)  # first order is right
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(CubeDetachedBackward.apply, x)


def test_float32_input_warns():
    x = gk.tensor([0.5, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="float32.*float64"):
        assert gradcheck(lambda t: t * 2, x, eps=1e-2, atol=1e-3, rtol=1e-3)


def test_no_input_requiring_grad_is_a_value_error():
    with pytest.raises(ValueError, match="at least one input.*requires_grad=True"):
        gradcheck(lambda t: t * 2, t64((3,), requires_grad=False))
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradgradcheck(lambda t: t * 2, t64((3,), requires_grad=False))


def test_broadcast_stride_zero_inputs_are_refused():
    base = from_numpy(np.broadcast_to(np.array([1.0, 2.0]), (3, 2)))
    base.requires_grad_()
    with pytest.raises(ValueError, match=r"input 0.*stride-0"):
        gradcheck(lambda t: t * 2, base)
    expanded = t64((1, 2)).expand(3, 2)
    with pytest.raises(ValueError, match="stride-0"):
        gradcheck(lambda t: t * 2, expanded)


def test_checks_multiple_outputs_and_non_grad_inputs():
    x, c = t64((2, 2)), t64((2, 2), requires_grad=False)
    assert gradcheck(lambda a, k: (a * k, (a.exp() * k).sum()), (x, c))


def test_inputs_are_restored_after_checking():
    x = t64((2, 3))
    before = x.data.copy()
    gradcheck(lambda t: t.sin(), x)
    gradgradcheck(lambda t: t.sin(), x)
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None


def test_numerical_grad_matches_analytic():
    x = t64([0.3, 1.7])
    g, = numerical_grad(lambda t: (t.exp() * t).sum(), x)
    np.testing.assert_allclose(g, np.exp(x.data) * (1 + x.data), rtol=1e-8)


def test_non_contiguous_inputs_are_perturbed_in_place():
    arr = np.random.default_rng(3).uniform(0.5, 1.5, (3, 2)).T  # a transposed (non-contiguous) view
    x = from_numpy(arr).requires_grad_()
    assert not x.data.flags.c_contiguous
    assert gradcheck(lambda t: t * t[:, :1], x)
    with pytest.raises(GradcheckError):
        gradcheck(SquareFactorTwo.apply, x)
    y = t64((2, 3)).T  # a non-leaf view
    assert gradcheck(lambda t: t.exp(), y)
