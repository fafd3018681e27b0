"""Tensor: creation and dtype rules, scalars and empty tensors, views, detach, in-place safety
(AG-13..AG-17, AG-28/29, AG-32/33)."""
from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import (arange, eye, full, no_grad, ones, ones_like, rand, randn, set_default_dtype, zeros,
                              zeros_like)
from gradkit.autograd.tensor import Tensor, from_numpy


# ---------------------------------------------------------------- creation and dtype rules (AG-28, AG-29)
def test_python_floats_become_float32_and_numpy_arrays_keep_their_dtype():
    assert gk.tensor(1.0).dtype == np.float32
    assert gk.tensor([[1.0, 2.0]]).dtype == np.float32
    assert gk.tensor(np.ones(2)).dtype == np.float64
    assert gk.tensor(np.ones(2, dtype=np.float16)).dtype == np.float16
    assert gk.tensor([1, 2]).dtype == np.int64
    assert gk.tensor([True]).dtype == np.bool_
    assert gk.tensor([1, 2], dtype="float64").dtype == np.float64


def test_set_default_dtype_changes_python_float_conversion_and_refuses_ints():
    set_default_dtype(np.float64)
    assert gk.tensor([1.0]).dtype == np.float64 and zeros(2).dtype == np.float64
    with pytest.raises(TypeError, match="floating point.*int64"):
        set_default_dtype(np.int64)


def test_tensor_copies_its_input_but_from_numpy_shares_it():
    a = np.zeros(3)
    t, shared = gk.tensor(a), from_numpy(a)
    a[0] = 7.0
    assert t.data[0] == 0.0 and shared.data[0] == 7.0
    with pytest.raises(TypeError, match="numpy.ndarray.*list"):
        from_numpy([1.0])


def test_unconvertible_data_is_refused_with_its_type():
    with pytest.raises(TypeError, match="str"):
        gk.tensor("abc")


def _float32_graph_outputs(x: Tensor, w: Tensor) -> list[Tensor]:
    return [x * w + 1.5, x / 3, 2.0 - x, x ** 2, 2 ** x, (x @ w.T), x.exp(), x.sigmoid(), x.tanh(), x.relu(),
            x.abs(), x.clamp(-0.5, 0.5), x.sqrt().abs(), x.mean(), x.mean(dim=0), x.var(), x.std(dim=1),
            x.max(), x.min(dim=1), x.logsumexp(dim=1), x.softmax(), x.log_softmax(dim=0), x.sum(dim=(0, 1)),
            x[0], x.reshape(-1), x.T, gk.autograd.maximum(x, w), gk.autograd.where(x > 0, x, w)]


def test_float32_is_preserved_through_ops_reductions_ties_and_the_seed():
    x = gk.tensor([[1.0, 3.0, 3.0], [0.5, 0.25, 2.0]], requires_grad=True)
    w = gk.tensor([[2.0, 3.0, 1.0], [0.5, 1.0, 2.0]], requires_grad=True)
    outs = _float32_graph_outputs(x, w)
    for o in outs:
        assert o.dtype == np.float32, o.grad_fn
    loss = outs[0].sum()
    for o in outs[1:]:
        loss = loss + o.sum()
    assert loss.dtype == np.float32
    loss.backward()  # the seed takes the output's float32
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_max_tie_split_keeps_float32():
    x = gk.tensor([2.0, 2.0, 2.0], requires_grad=True)
    x.max().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, np.full(3, 1 / 3, dtype=np.float32))


@pytest.mark.parametrize("other, expected", [
    (2.5, np.float32),                         # Python float keeps float32 (NEP 50)
    (2, np.float32),                           # Python int too
    (np.float64(2.5), np.float64),             # a numpy float64 scalar promotes
    (np.array([2.5, 1.0]), np.float64),        # so does a float64 array
    (np.array([2, 1]), np.float32),            # an int array takes the float dtype (PyTorch)
])
def test_mixed_dtype_promotion(other, expected):
    x = gk.tensor([1.0, 2.0])
    assert (x * other).dtype == expected
    assert (other * x).dtype == expected


def test_float32_with_float64_promotes_and_each_grad_keeps_its_input_dtype():
    a = gk.tensor([1.0, 2.0], requires_grad=True)
    b = gk.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.data, [3.0, 4.0])


def test_int_tensor_with_float32_tensor_is_float32_like_torch():
    torch = pytest.importorskip("torch")
    i, f = gk.tensor([1, 2]), gk.tensor([0.5, 1.5])
    for out, ref in [(i * f, torch.tensor([1, 2]) * torch.tensor([0.5, 1.5])),
                     (gk.tensor([True, False]) + f, torch.tensor([True, False]) + torch.tensor([0.5, 1.5])),
                     (i * 2.5, torch.tensor([1, 2]) * 2.5)]:
        assert str(out.dtype) == str(ref.dtype).replace("torch.", "")
        np.testing.assert_array_equal(out.data, ref.numpy())


_DTYPES = ["bool", "int32", "int64", "float32", "float64"]
_OPERAND_PAIRS = [(a, b) for a in _DTYPES + [True, 3, 2.5] for b in _DTYPES + [4, 0.5]
                  if isinstance(a, str) or isinstance(b, str)]  # at least one tensor


@pytest.mark.parametrize("left, right", _OPERAND_PAIRS)
@pytest.mark.parametrize("op", ["add", "mul", "truediv"])
def test_result_dtypes_of_mixed_operands_are_torch(op, left, right):
    """Every pair of tensor dtypes and Python numbers: the result dtype PyTorch gives (true division of
    integers included: the default float dtype, where numpy gives float64). Values too."""
    torch = pytest.importorskip("torch")
    fn = getattr(__import__("operator"), op)
    ours = [gk.tensor(np.array([1, 2]).astype(v)) if isinstance(v, str) else v for v in (left, right)]
    theirs = [torch.tensor(np.array([1, 2]).astype(v)) if isinstance(v, str) else v for v in (left, right)]
    out, ref = fn(*ours), fn(*theirs)
    assert str(out.dtype) == str(ref.dtype).replace("torch.", "")
    np.testing.assert_array_equal(out.data, ref.numpy())


# ---------------------------------------------------------------- AG-33 reflected Python scalars
@pytest.mark.parametrize("fn, dfn", [
    (lambda t: 2 - t, lambda v: -np.ones_like(v)),
    (lambda t: 2 / t, lambda v: -2 / v ** 2),
    (lambda t: 2 ** t, lambda v: 2 ** v * np.log(2)),
    (lambda t: t ** 2.5, lambda v: 2.5 * v ** 1.5),
    (lambda t: 3 * t + 1, lambda v: 3 * np.ones_like(v)),
    (lambda t: -t, lambda v: -np.ones_like(v)),
])
def test_reflected_scalar_ops_values_and_grads(fn, dfn):
    v = np.array([0.5, 1.0, 2.5])
    x = gk.tensor(v, requires_grad=True)
    y = fn(x)
    np.testing.assert_allclose(y.data, fn(v), rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, dfn(v), rtol=1e-12)


def test_numpy_array_on_the_left_defers_to_tensor():
    x = gk.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


# ---------------------------------------------------------------- AG-32 empty, 0-d, size-1
def test_empty_tensor_forward_and_grad_shapes():
    x = zeros(0, 3, requires_grad=True)
    s = x.sum()
    assert s.item() == 0.0
    (s + (x * 2).sum(dim=0).sum()).backward()
    assert x.grad.shape == (0, 3)
    assert x.sum(dim=1).shape == (0,)


def test_mean_of_empty_is_nan_without_warning_and_differentiable():
    x = zeros(0, 3, requires_grad=True)
    m = x.mean()
    assert np.isnan(m.item()) and m.requires_grad
    assert np.isnan(x.mean(dim=0).data).all() and x.mean(dim=0).shape == (3,)
    m.backward()
    assert x.grad.shape == (0, 3)


def test_max_of_empty_raises_naming_shape():
    with pytest.raises(ValueError, match=r"empty.*\(0, 3\)"):
        zeros(0, 3).max()


def test_zero_d_tensors_form_a_scalar_graph():
    x, y, z = (gk.tensor(v, dtype="float64", requires_grad=True) for v in (1.0, -3.0, 4.0))
    f = (x + y) * z
    assert f.shape == () and f.ndim == 0
    f.backward()
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (4.0, 4.0, -2.0)
    assert x.grad.shape == ()


def test_zero_d_times_vector_gives_zero_d_grad():
    s = gk.tensor(2.0, dtype="float64", requires_grad=True)
    v = gk.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    (s * v).sum().backward()
    assert s.grad.shape == () and s.grad.item() == 6.0
    np.testing.assert_array_equal(v.grad.data, [2.0, 2.0, 2.0])


def test_size_one_dims_keep_their_shape_in_grads():
    x = gk.tensor(np.ones((1, 3, 1)), requires_grad=True)
    (x.squeeze() * gk.tensor([1.0, 2.0, 3.0], dtype="float64")).sum().backward()
    assert x.grad.shape == (1, 3, 1)
    np.testing.assert_array_equal(x.grad.data.ravel(), [1.0, 2.0, 3.0])


def test_len_and_iter_of_zero_d_raise():
    with pytest.raises(TypeError, match="0-d"):
        len(gk.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(gk.tensor(1.0))


# ---------------------------------------------------------------- repr, item, tolist, numpy (AG-15)
def test_repr_shows_values_dtype_grad_fn_and_name():
    assert repr(gk.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert repr(gk.tensor([1, 2])) == "tensor([1, 2], dtype=int64)"
    assert repr(gk.tensor([0.5], dtype="float64", name="w")) == "tensor([0.5], dtype=float64, name='w')"
    y = gk.tensor(2.0, requires_grad=True) * 3
    assert repr(y) == "tensor(6., grad_fn=<Mul>)"


def test_item_and_tolist():
    assert gk.tensor([[2.5]]).item() == 2.5 and isinstance(gk.tensor([[2.5]]).item(), float)
    assert gk.tensor([[1.0, 2.0]]).tolist() == [[1.0, 2.0]]
    with pytest.raises(ValueError, match="3 elements"):
        gk.tensor([1.0, 2.0, 3.0]).item()


def test_numpy_returns_a_read_only_view():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x.sin()
    view = x.numpy()
    assert np.shares_memory(view, x.data) and not view.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        view[0] = 10.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.cos([1.0, 2.0]).astype(np.float32))
    x.data[0] = 5.0  # .data stays the writable escape hatch and the view follows it
    assert view[0] == 5.0


# ---------------------------------------------------------------- detach (AG-17)
def test_detach_shares_values_and_cuts_the_graph():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    (x * d).sum().backward()  # d is a constant
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])
    e = x.detach()
    assert np.shares_memory(e.data, x.data)


def test_inplace_write_through_detached_tensor_is_caught_at_backward():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x.sin()  # saves x
    d = x.detach()
    d += 1.0
    assert x.data[0] == 2.0  # shared values, as PyTorch
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# ---------------------------------------------------------------- in place (AG-13, AG-14)
def test_inplace_on_saved_tensor_raises_naming_it_and_versions():
    a = gk.tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()
    b.name = "b"
    b += 1  # exp saved its output b
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*'b'.*version 1.*expected version 0"):
        b.sum().backward()


def test_inplace_on_saved_input_raises():
    a = gk.tensor([1.0, 2.0], requires_grad=True)
    h = a * 1.0
    y = h.log()  # saves h
    h *= 2
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*Log"):
        y.sum().backward()


@pytest.mark.parametrize("view", [lambda h: h[0:2], lambda h: h.reshape(3, 1), lambda h: h.T, lambda h: h[...]],
                         ids=["slice", "reshape", "T", "ellipsis"])
def test_inplace_on_base_is_caught_when_a_view_was_saved(view):
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 1.0
    y = view(h).log()  # saves the view, which shares h's memory (pytorch#24413)
    h += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*Log"):
        y.sum().backward()


def test_inplace_on_view_is_caught_when_the_base_was_saved():
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 1.0
    y = h.log()
    v = h.reshape(3, 1)
    v *= 2  # writes h's values
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*Log"):
        y.sum().backward()


def test_views_of_unsaved_tensors_can_still_be_written_in_place():
    x = gk.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    h = (x * 2).reshape(3, 1)
    h += 1  # nothing saved h or its base
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])


def test_inplace_ops_that_no_node_saved_backpropagate_correctly():
    x = gk.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    h = x * 3
    h += 1
    h *= 2  # Mul by a constant saves nothing of h
    assert h.grad_fn is not None and h._version == 2
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])


def test_inplace_mul_and_div_by_trainable_tensor_match_torch():
    torch = pytest.importorskip("torch")
    xv, wv = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    for op in ("mul", "div"):
        x, w = gk.tensor(xv, requires_grad=True), gk.tensor(wv, requires_grad=True)
        tx, tw = torch.tensor(xv, requires_grad=True), torch.tensor(wv, requires_grad=True)
        a, ta = x * 2.0, tx * 2.0  # a node that saved nothing of a
        if op == "mul":
            a *= w
            ta *= tw
        else:
            a /= w
            ta /= tw
        a.sum().backward()
        ta.sum().backward()
        np.testing.assert_allclose(a.data, ta.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-12)


def test_inplace_on_non_grad_tensor_with_trainable_operand_joins_the_graph():
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    acc = zeros(2)
    acc += w * w
    assert acc.requires_grad and acc.grad_fn is not None
    acc.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 4.0])


@pytest.mark.parametrize("update", [
    lambda w: w.__isub__(0.1), lambda w: w.__imul__(2.0), lambda w: w.zero_(), lambda w: w.fill_(1.0),
    lambda w: w.copy_(np.ones(2)), lambda w: w.__setitem__(0, 3.0)])
def test_inplace_on_leaf_requiring_grad_raises_and_is_allowed_under_no_grad(update):
    w = gk.tensor([1.0, 2.0], requires_grad=True, name="w")
    with pytest.raises(RuntimeError, match=r"leaf tensor 'w'.*in-place.*no_grad"):
        update(w)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    with no_grad():
        update(w)
    assert w.is_leaf and w.requires_grad and w._version == 1


def test_sgd_update_under_no_grad_then_fresh_graph():
    w = gk.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    (w * w).sum().backward()
    with no_grad():
        w -= 0.5 * w.grad
    w.grad = None
    np.testing.assert_array_equal(w.data, [0.0, 0.0])
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [3.0, 3.0])


def test_inplace_with_broadcast_changing_shape_raises():
    h = zeros(3)
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2, 3\)"):
        h += np.ones((2, 3))


# ---------------------------------------------------------------- setitem
def test_setitem_on_non_leaf_blocks_gradient_of_overwritten_elements():
    x = gk.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    h = x * 2
    h[0] = 0.0
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 2.0, 2.0])


def test_setitem_with_trainable_value_routes_its_gradient():
    v = gk.tensor([5.0, 6.0], dtype="float64", requires_grad=True)
    buf = zeros(4, dtype="float64")
    buf[1:3] = v * v
    assert buf.requires_grad
    (buf * gk.tensor([1.0, 2.0, 3.0, 4.0], dtype="float64")).sum().backward()
    np.testing.assert_array_equal(v.grad.data, [2 * 5.0 * 2, 2 * 6.0 * 3])


def test_setitem_on_plain_tensor_writes_and_bumps_version():
    t = zeros(3)
    t[gk.tensor([0, 2])] = 1.0
    assert t.tolist() == [1.0, 0.0, 1.0] and t._version == 1


# ---------------------------------------------------------------- factories and seed
@pytest.mark.parametrize("make, shape", [
    (lambda **k: zeros(2, 3, **k), (2, 3)), (lambda **k: ones((2, 3), **k), (2, 3)),
    (lambda **k: full((2,), 7.0, **k), (2,)), (lambda **k: randn(4, **k), (4,)), (lambda **k: rand(2, 2, **k), (2, 2)),
    (lambda **k: eye(3, **k), (3, 3)), (lambda **k: arange(0.0, 1.0, 0.25, **k), (4,)),
    (lambda **k: zeros_like(zeros(2, 5), **k), (2, 5)), (lambda **k: ones_like(ones(1, 2), **k), (1, 2))])
def test_factories_accept_dtype_and_requires_grad(make, shape):
    t = make()
    assert t.shape == shape and t.dtype == np.float32 and not t.requires_grad and t.is_leaf
    t64 = make(dtype="float64", requires_grad=True)
    assert t64.dtype == np.float64 and t64.requires_grad
    with pytest.raises(RuntimeError, match="only floating point"):
        make(dtype="int64", requires_grad=True)


def test_integer_arange_is_int64_and_negative_sizes_are_refused():
    assert arange(5).dtype == np.int64 and arange(5).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match=r"non-negative.*-1"):
        zeros(2, -1)


def test_manual_seed_reproduces_random_factories():
    gk.manual_seed(123)
    a, b = randn(5).data.copy(), rand(3).data.copy()
    gk.manual_seed(123)
    np.testing.assert_array_equal(randn(5).data, a)
    np.testing.assert_array_equal(rand(3).data, b)
    assert not np.array_equal(randn(5).data, a)
    state = np.random.get_state()[1].copy()
    gk.manual_seed(7)
    randn(10)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # numpy's global state untouched


# ---------------------------------------------------------------- dims of shape ops, as PyTorch
SHAPE_CALLS = [  # (shape, method, args): in range (negative dims too), and out of range, each way
    ((2, 3), "unsqueeze", (2,)), ((2, 3), "unsqueeze", (-3,)), ((2,), "unsqueeze", (3,)), ((), "unsqueeze", (1,)),
    ((), "unsqueeze", (-2,)), ((2, 1), "squeeze", (-1,)), ((2, 1), "squeeze", (2,)), ((), "squeeze", (0,)),
    ((3,), "squeeze", (-2,)), ((2, 3, 4), "permute", (-1, 0, 1)), ((3,), "permute", (1,)),
    ((2, 3), "permute", (0, 0)), ((2, 3), "transpose", (-1, 0)), ((2, 3), "transpose", (2, 0)),
    ((), "transpose", (0, -1)), ((2, 3, 4), "flatten", (1, -1)), ((2, 3, 4), "flatten", (2, 1)),
    ((2, 3), "flatten", (0, 5)), ((), "flatten", (0, -1)), ((3,), "expand", (2, -1)), ((3,), "expand", (-1, 3)),
    ((0,), "expand", (-1, 0)), ((1,), "expand", (-2,)),
]
JOINS = [("cat", 1), ("cat", -2), ("cat", 2), ("cat", -3), ("stack", 2), ("stack", -3), ("stack", 3), ("stack", -4)]


def _same_as_torch(ours, theirs, match: str | None = None) -> None:
    """``ours()`` raises what ``theirs()`` (the PyTorch call) raises, or gives its shape and values."""
    try:
        expected = theirs()
    except (IndexError, RuntimeError) as error:
        with pytest.raises(type(error), match=match):
            ours()
        return
    out = ours()
    assert out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out.data, expected.numpy())


@pytest.mark.parametrize("fn, dim", JOINS)
def test_cat_and_stack_dims_are_checked_like_torch(fn, dim):
    torch = pytest.importorskip("torch")
    a, b = np.zeros((2, 3)), np.ones((2, 3))
    _same_as_torch(lambda: getattr(gk.autograd, fn)([gk.tensor(a), gk.tensor(b)], dim),
                   lambda: getattr(torch, fn)([torch.tensor(a), torch.tensor(b)], dim), match="Dimension out of range")


@pytest.mark.parametrize("shape, method, args", SHAPE_CALLS)
def test_shape_op_dims_are_checked_like_torch(shape, method, args):
    """Dims outside PyTorch's range raise (IndexError for a bad dim, RuntimeError for a bad combination)
    instead of wrapping around: unsqueeze(3) of a (2,) tensor used to give (2, 1), flatten(0, 5) to
    flatten something, expand(-1, 0) of a (0,) tensor to take a size from the wrong end."""
    torch = pytest.importorskip("torch")
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    _same_as_torch(lambda: getattr(gk.tensor(a), method)(*args), lambda: getattr(torch.tensor(a), method)(*args))
