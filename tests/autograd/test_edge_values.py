"""Edge values: ties, kinks, poles, pow corner cases, overflow-prone activations, -inf rows,
gradient aliasing, no mutation, higher-order gradients, 0-d tensors at poles (AG-18..AG-25, AG-30, AG-31,
AG-38).

Where a test makes inf/nan on purpose it wraps exactly that in ``np.errstate`` and says so.
"""
from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import grad, gradgradcheck, maximum, minimum


def t64(values, requires_grad=True):
    return gk.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# ---------------------------------------------------------------- AG-18 ties
TIE_CASES = [  # name, reduction, input, expected gradient of its sum
    ("max all", lambda t: t.max(), [1.0, 1.0, 1.0], [1 / 3, 1 / 3, 1 / 3]),
    ("min all", lambda t: t.min(), [2.0, -1.0, -1.0, 5.0], [0.0, 0.5, 0.5, 0.0]),
    ("max dim", lambda t: t.max(dim=1), [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]]),
    ("min dim keepdim", lambda t: t.min(dim=0, keepdim=True), [[1.0, 3.0], [1.0, 0.0]], [[0.5, 0.0], [0.5, 1.0]]),
]


@pytest.mark.parametrize("name, fn, values, expected", TIE_CASES, ids=[c[0] for c in TIE_CASES])
def test_reduction_ties_split_evenly_and_conserve_mass(name, fn, values, expected):
    x = t64(values)
    out = fn(x)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-15)
    assert x.grad.data.sum() == pytest.approx(out.data.size)  # each output's unit gradient is conserved


@pytest.mark.parametrize("name, fn, values, expected", TIE_CASES, ids=[c[0] for c in TIE_CASES])
def test_reduction_ties_match_torch(name, fn, values, expected):
    torch = pytest.importorskip("torch")
    x, tx = t64(values), torch.tensor(values, dtype=torch.float64, requires_grad=True)
    fn(x).sum().backward()
    torch_fn = {"max all": lambda t: t.max(), "min all": lambda t: t.min(), "max dim": lambda t: t.amax(dim=1),
                "min dim keepdim": lambda t: t.amin(dim=0, keepdim=True)}[name]
    torch_fn(tx).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-15)


def test_max_of_three_equal_values_gives_a_third_each():
    x = t64([1.0, 1.0, 1.0])
    x.max().backward()
    np.testing.assert_allclose(x.grad.data, [1 / 3] * 3, rtol=1e-15)


@pytest.mark.parametrize("op", [maximum, minimum])
def test_elementwise_ties_are_symmetric_and_conserve_mass(op):
    va, vb = [1.0, 2.0, 3.0], [1.0, 5.0, 0.0]
    a, b = t64(va), t64(vb)
    op(a, b).sum().backward()
    a2, b2 = t64(va), t64(vb)
    op(b2, a2).sum().backward()
    np.testing.assert_array_equal(a.grad.data, a2.grad.data)
    np.testing.assert_array_equal(b.grad.data, b2.grad.data)
    np.testing.assert_array_equal(a.grad.data + b.grad.data, [1.0, 1.0, 1.0])
    assert a.grad.data[0] == b.grad.data[0] == 0.5


def test_maximum_of_a_tensor_with_itself_passes_the_full_gradient():
    x = t64([2.0, -1.0])
    maximum(x, x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_elementwise_ties_match_torch():
    torch = pytest.importorskip("torch")
    va, vb = [1.0, 2.0, 3.0], [1.0, 5.0, 3.0]
    for ours, theirs in [(maximum, torch.maximum), (minimum, torch.minimum)]:
        a, b = t64(va), t64(vb)
        ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (va, vb))
        ours(a, b).sum().backward()
        theirs(ta, tb).sum().backward()
        np.testing.assert_array_equal(a.grad.data, ta.grad.numpy())
        np.testing.assert_array_equal(b.grad.data, tb.grad.numpy())


# ---------------------------------------------------------------- AG-19 kinks, AG-20 poles
def test_relu_and_abs_have_zero_gradient_at_zero_and_clamp_passes_at_bounds():
    x = t64([-1.0, 0.0, 2.0])
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 1.0])
    y = t64([-1.0, 0.0, 2.0])
    y.abs().sum().backward()
    np.testing.assert_array_equal(y.grad.data, [-1.0, 0.0, 1.0])
    z = t64([-1.0, 0.0, 0.5, 1.0, 2.0])
    z.clamp(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(z.grad.data, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_kinks_match_torch():
    torch = pytest.importorskip("torch")
    v = [-1.0, 0.0, 1.0, 2.0]
    for fn in (lambda t: t.relu(), lambda t: t.abs(), lambda t: t.clamp(0.0, 1.0)):
        x, tx = t64(v), torch.tensor(v, dtype=torch.float64, requires_grad=True)
        fn(x).sum().backward()
        fn(tx).sum().backward()
        np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


def test_sqrt_gradient_at_zero_is_inf_as_documented():
    x = t64([0.0, 4.0])
    y = x.sqrt()
    with np.errstate(divide="ignore"):  # 1 / (2 * sqrt(0)) = inf, deliberately
        y.sum().backward()
    assert np.isposinf(x.grad.data[0]) and x.grad.data[1] == 0.25


# ---------------------------------------------------------------- AG-21 pow
POW_CASES = [  # base, exponent
    ([-2.0, -0.5], [2.0, 3.0]),    # negative base, integer exponent
    ([-2.0, 3.0], [0.5, 0.5]),     # negative base, fractional exponent: NaN value and grads
    ([0.0, 0.0, 0.0], [2.0, 0.5, 0.0]),  # zero base
    ([1.5, 2.0], [-1.0, 0.0]),     # positive base, negative and zero exponent
]


@pytest.mark.parametrize("base, exp", POW_CASES)
def test_pow_with_trainable_exponent_matches_torch(base, exp):
    torch = pytest.importorskip("torch")
    x, y = t64(base), t64(exp)
    tx, ty = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (base, exp))
    with np.errstate(invalid="ignore"):  # (-2) ** 0.5 = nan in forward, deliberately (case 2 only)
        z = x ** y
    z.sum().backward()  # the backward itself must not warn (AG-21)
    (tx ** ty).sum().backward()
    np.testing.assert_allclose(z.data, (tx ** ty).detach().numpy(), rtol=1e-14, equal_nan=True)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-14, equal_nan=True)
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-14, equal_nan=True)


def test_negative_base_nan_only_in_exponent_grad():
    x, y = t64([-2.0]), t64([2.0])
    (x ** y).sum().backward()
    assert x.grad.item() == -4.0
    assert np.isnan(y.grad.item())


def test_pow_with_constant_exponent_emits_no_warning_and_no_nan():
    x = t64([-2.0, 0.0, 3.0])
    (x ** 2).sum().backward()  # any RuntimeWarning would fail the test (pyproject filterwarnings)
    np.testing.assert_array_equal(x.grad.data, [-4.0, 0.0, 6.0])
    z = t64([0.0, 2.0])
    (z ** 0.0).sum().backward()
    np.testing.assert_array_equal(z.grad.data, [0.0, 0.0])


def test_zero_base_positive_exponent_gives_zero_exponent_grad():
    x, y = t64([0.0]), t64([1.5])
    (x ** y).sum().backward()
    assert y.grad.item() == 0.0 and x.grad.item() == 0.0


# ---------------------------------------------------------------- AG-22 0-d tensors at poles and domain edges
# A 0-d tensor is a numpy 0-d array, not a Python float: it follows IEEE arithmetic (inf, nan, -inf) with
# numpy's RuntimeWarning where plain floats raise ZeroDivisionError / OverflowError / ValueError or, for
# (-8.0) ** 0.5, silently return a complex number.
SCALAR_EDGES = [  # name, op, input, expected value, expected gradient, numpy's warning
    ("0 ** -1", lambda t: t ** -1, 0.0, np.inf, -np.inf, "divide by zero"),
    ("(-8) ** 0.5", lambda t: t ** 0.5, -8.0, np.nan, np.nan, "invalid value"),
    ("exp(1000)", lambda t: t.exp(), 1000.0, np.inf, np.inf, "overflow"),
    ("log(0)", lambda t: t.log(), 0.0, -np.inf, np.inf, "divide by zero"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, op, x0, value, gradient, warning", SCALAR_EDGES, ids=[c[0] for c in SCALAR_EDGES])
def test_zero_d_tensors_follow_ieee_at_poles_and_never_go_complex(name, op, x0, value, gradient, warning, dtype):
    x = gk.tensor(x0, dtype=dtype, requires_grad=True)
    with pytest.warns(RuntimeWarning, match=warning):
        y = op(x)
    assert y.shape == () and y.dtype == np.dtype(dtype)  # a real float of the input's dtype, never complex
    np.testing.assert_array_equal(y.data, value)
    with np.errstate(all="ignore"):  # the backward formulas meet the same pole (inf * 0 is not among them)
        y.backward()
    assert x.grad.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(x.grad.data, gradient)


@pytest.mark.parametrize("name, op, x0, value, gradient, warning", SCALAR_EDGES, ids=[c[0] for c in SCALAR_EDGES])
def test_zero_d_poles_match_torch(name, op, x0, value, gradient, warning):
    torch = pytest.importorskip("torch")
    x, tx = t64(x0), torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    with np.errstate(all="ignore"):
        y = op(x)
        y.backward()
    ty = op(tx)
    ty.backward()
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


# ---------------------------------------------------------------- AG-23..AG-25 overflow, softmax, logsumexp
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn, expected", [
    (lambda t: t.sigmoid(), [0.0, 1.0]),
    (lambda t: t.tanh(), [-1.0, 1.0]),
    (lambda t: (-t.abs()).exp(), [0.0, 0.0]),
    (lambda t: t.softmax(), [0.0, 1.0]),
    (lambda t: t.log_softmax(), [-2000.0, 0.0]),
])
def test_overflow_prone_ops_at_plus_minus_1000_are_finite_without_warnings(fn, expected, dtype):
    x = gk.tensor([-1000.0, 1000.0], dtype=dtype, requires_grad=True)
    y = fn(x)
    np.testing.assert_allclose(y.data, expected, atol=1e-30)
    (y * gk.tensor([1.0, -2.0], dtype=dtype)).sum().backward()
    assert np.isfinite(x.grad.data).all() and x.grad.dtype == np.dtype(dtype)


def test_log_softmax_of_huge_opposite_values_is_exact():
    x = gk.tensor([1000.0, -1000.0], dtype="float64", requires_grad=True)
    y = x.log_softmax()
    assert y.tolist() == [0.0, -2000.0]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, 1.0])  # 1 - 2 * softmax


def test_softmax_of_equal_huge_rows_is_uniform_and_sums_to_one():
    x = gk.tensor([[1e30, 1e30, 1e30], [-1e30, -1e30, -1e30]], dtype="float64", requires_grad=True)
    s = x.softmax(dim=1)
    np.testing.assert_allclose(s.data, 1 / 3, rtol=1e-15)
    np.testing.assert_allclose(s.data.sum(axis=1), 1.0, rtol=1e-15)
    (s * gk.tensor([[1.0, 2.0, 3.0]] * 2, dtype="float64")).sum().backward()
    assert np.isfinite(x.grad.data).all()
    lse = x.logsumexp(dim=1)
    np.testing.assert_allclose(lse.data, [1e30, -1e30], rtol=1e-15)


def test_logsumexp_of_all_minus_inf_is_minus_inf_with_zero_gradient():
    x = gk.tensor([[-np.inf, -np.inf], [0.0, -np.inf]], dtype="float64", requires_grad=True)
    y = x.logsumexp(dim=1)
    assert y.data[0] == -np.inf and y.data[1] == 0.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.0], [1.0, 0.0]])


def test_logsumexp_matches_torch_on_finite_rows_and_decision_on_minus_inf_rows():
    torch = pytest.importorskip("torch")
    v = np.array([[1000.0, 999.0, -5.0], [-np.inf, 0.5, -np.inf]])
    x, tx = t64(v), torch.tensor(v, requires_grad=True)
    x.logsumexp(dim=1).sum().backward()
    torch.logsumexp(tx, dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-14)


# ---------------------------------------------------------------- AG-30 aliasing, AG-31 no mutation
def test_gradients_of_sum_inputs_are_distinct_arrays():
    a, b = t64([1.0, 2.0]), t64([3.0, 4.0])
    (a + b).sum().backward()
    assert a.grad is not b.grad and not np.shares_memory(a.grad.data, b.grad.data)
    b.grad.data[0] = 99.0
    assert a.grad.data[0] == 1.0


@pytest.mark.parametrize("fn", [lambda t: t.reshape(2, 2), lambda t: t + 0.0, lambda t: t.T, lambda t: t[...],
                                lambda t: t.expand(2, 2, 2)], ids=["reshape", "add0", "T", "getitem", "expand"])
def test_identity_like_ops_never_alias_the_upstream_gradient(fn):
    x = t64([[1.0, 2.0], [3.0, 4.0]])
    y = fn(x)
    seed = gk.tensor(np.ones(y.shape))
    y.backward(seed)
    assert not np.shares_memory(x.grad.data, seed.data)
    x.grad.data += 1.0
    assert (seed.data == 1.0).all()


OPS_FOR_MUTATION = [
    lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a ** b, lambda a, b: a @ b.T, lambda a, b: (a - b).abs(),
    lambda a, b: maximum(a, b), lambda a, b: a.exp().log(), lambda a, b: a.softmax(dim=1) * b,
    lambda a, b: a.log_softmax(dim=0) + b.sigmoid(), lambda a, b: a.logsumexp(dim=1), lambda a, b: a.max(dim=0),
    lambda a, b: a.var(dim=1) * b.std(), lambda a, b: gk.autograd.cat([a, b], dim=1)[:, 1:],
    lambda a, b: a.reshape(-1)[[0, 0, 3]], lambda a, b: a.sqrt().tanh() + b.relu(),
]


@pytest.mark.parametrize("fn", OPS_FOR_MUTATION)
def test_forward_and_backward_do_not_mutate_inputs_or_upstream_gradient(fn):
    rng = np.random.default_rng(1)
    a, b = t64(rng.uniform(0.5, 2.0, (2, 3))), t64(rng.uniform(0.5, 2.0, (2, 3)))
    a0, b0 = a.data.copy(), b.data.copy()
    out = fn(a, b)
    upstream = gk.tensor(rng.standard_normal(out.shape))
    u0 = upstream.data.copy()
    out.backward(upstream)
    for arr, ref in [(a.data, a0), (b.data, b0), (upstream.data, u0)]:
        assert arr.tobytes() == ref.tobytes()


# ---------------------------------------------------------------- AG-38 higher order
def test_third_and_fourth_derivatives_of_x_to_the_fourth():
    x = t64(1.5)
    d1, = grad(x ** 4, x, create_graph=True)
    d2, = grad(d1, x, create_graph=True)
    d3, = grad(d2, x, create_graph=True)
    d4, = grad(d3, x, create_graph=True)
    assert (d1.item(), d2.item(), d3.item(), d4.item()) == pytest.approx((4 * 1.5 ** 3, 12 * 1.5 ** 2, 24 * 1.5, 24))
    d5, = grad(d4, x, allow_unused=True)
    assert d5 is None or d5.item() == 0.0


@pytest.mark.parametrize("fn, derivs", [
    (lambda t: t.sin(), lambda v: (np.cos(v), -np.sin(v), -np.cos(v))),
    (lambda t: t.exp() * t, lambda v: ((1 + v) * np.exp(v), (2 + v) * np.exp(v), (3 + v) * np.exp(v))),
    (lambda t: t.tanh(), lambda v: (1 - np.tanh(v) ** 2, -2 * np.tanh(v) * (1 - np.tanh(v) ** 2),
                                    (1 - np.tanh(v) ** 2) * (6 * np.tanh(v) ** 2 - 2))),
    (lambda t: t.sigmoid(), lambda v: _sigmoid_derivs(v)),
    (lambda t: 1 / t, lambda v: (-1 / v ** 2, 2 / v ** 3, -6 / v ** 4)),
])
def test_third_derivatives_match_analytic(fn, derivs):
    v = np.array([0.3, 1.1, 2.0])
    x = t64(v)
    g = fn(x)
    got = []
    for _ in range(3):
        g, = grad(g.sum(), x, create_graph=True)
        got.append(g.data)
    for ours, expected in zip(got, derivs(v)):
        np.testing.assert_allclose(ours, expected, rtol=1e-12)


def _sigmoid_derivs(v):
    s = 1 / (1 + np.exp(-v))
    return s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s)


def test_backward_create_graph_then_backward_of_the_gradient():
    x = t64([1.0, 2.0])
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * np.array([1.0, 2.0]), rtol=1e-14)


@pytest.mark.parametrize("fn", [
    lambda a, b: (a @ b).tanh().sum(dim=1), lambda a, b: (a * b).logsumexp(dim=0),
    lambda a, b: a.softmax(dim=1) * b, lambda a, b: (a / b).log_softmax(dim=1), lambda a, b: a ** b,
])
def test_second_derivatives_pass_gradgradcheck(fn):
    rng = np.random.default_rng(2)
    a, b = t64(rng.uniform(0.5, 1.5, (2, 2))), t64(rng.uniform(0.5, 1.5, (2, 2)))
    assert gradgradcheck(fn, (a, b))


# ---------------------------------------------------------------- degenerate spreads (AG-20 for std, AG-32 size 1)
@pytest.mark.parametrize("fn", [
    lambda t: t.std(), lambda t: t.std(dim=1), lambda t: t.std(dim=0, correction=0), lambda t: t.var(dim=1),
    lambda t: t.std(dim=1, keepdim=True) * t], ids=["std", "std_dim1", "std_dim0_biased", "var_dim1", "std_keepdim"])
def test_std_of_constant_data_has_zero_gradient_like_torch(fn):
    torch = pytest.importorskip("torch")
    v = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    x, tx = t64(v), torch.tensor(v, requires_grad=True)
    y, ty = fn(x), fn(tx)
    y.sum().backward()  # no sqrt'(0) * 0 warning or NaN
    ty.sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert np.isfinite(x.grad.data).all()


def test_std_at_the_zero_vector_has_zero_gradient_and_finite_second_derivative():
    x = t64([0.0, 0.0, 0.0])
    s = x.std(correction=0)
    g, = grad(s, x, create_graph=True)
    np.testing.assert_array_equal(g.data, [0.0, 0.0, 0.0])
    g2, = grad(g.sum(), x, allow_unused=True)
    assert g2 is None or np.isfinite(g2.data).all()


def test_unbiased_var_of_one_element_is_nan_with_a_warning_like_torch():
    torch = pytest.importorskip("torch")
    x = t64([1.5])
    with pytest.warns(UserWarning, match=r"degrees of freedom is <= 0.*correction=1"):
        v = x.var()
    v.backward()  # no numpy 0/0 warning in forward or backward
    tx = torch.tensor([1.5], dtype=torch.float64, requires_grad=True)
    with pytest.warns(UserWarning):
        tv = tx.var()
    tv.backward()
    assert np.isnan(v.item()) and np.isnan(tv.item())
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())  # both NaN
    biased = t64([1.5])
    biased.var(correction=0).backward()
    assert biased.grad.item() == 0.0


# ---------------------------------------------------------------- constants made for Python numbers
def test_python_number_constants_are_made_once_per_value_and_dtype():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    a, b, c = x * 0.5, x * 0.5, x.double() * 0.5
    assert a.grad_fn.inputs[1] is b.grad_fn.inputs[1]  # one cached constant, not one per op
    assert c.grad_fn.inputs[1].dtype == np.float64 and a.grad_fn.inputs[1].dtype == np.float32
    assert (x * 1).grad_fn.inputs[1] is not (x * 1.0).grad_fn.inputs[1]  # 1 and 1.0 are distinct keys


def test_signed_zero_constants_keep_their_sign():
    x = gk.tensor(1.0, dtype="float64")
    assert np.signbit((x * 0.0).item()) == False  # noqa: E712
    assert np.signbit((x * -0.0).item())
    assert np.signbit((x * 0.0).item()) == False  # noqa: E712
