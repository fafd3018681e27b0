"""In-place writes through views reach the base's graph (views.py, PyTorch's CopySlices; AG-13..AG-15, AG-17).

Before, ``v = b[0]; v *= w`` changed ``b``'s values but not its graph: ``b``'s gradient was
silently wrong. Each program below is checked against central finite differences, and
against PyTorch when it is installed.
"""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd import gradcheck, no_grad
from gradkit.autograd.views import flat_positions
from tests.hypothesis_budget import examples


# Each program takes (a, w) -- a of shape (2, 3), w of shape (3,), both requiring grad -- and the
# array library's namespace-free operations only (indexing, .T, reshape, in-place operators), so
# the same function runs on gradkit and on PyTorch tensors.
def _slice_mul(a, w):
    b = a * 1
    v = b[0]
    v *= w
    return (b * b).sum()


def _transpose_add(a, w):
    b = a * 1
    v = b.T
    v += w.reshape(3, 1)
    return (b * b).sum()


def _view_used_after(a, w):
    b = a * 1
    v = b[:, 1:]
    v *= w[1:]
    return (b * b).sum() + (v * 3).sum()


def _view_of_reshape(a, w):
    b = a * 1
    v = b.reshape(6)[2:5]
    v *= w
    return (b * b * b).sum()


def _augmented_item(a, w):  # b[0] += w: a view written in place, then assigned back
    b = a * 1
    b[0] += w
    return (b * b).sum()


def _fill_view(a, w):
    b = a * 1
    v = b[1]
    v.fill_(2.0)
    return (b * b * w).sum()


def _copy_into_view(a, w):
    b = a * 1
    v = b[1]
    v.copy_(w * w)
    return (b * b).sum()


def _view_of_a_view(a, w):  # the write reaches b, then c
    c = a * 1
    b = c[:, ::2]
    v = b[1]
    v *= w[:2]
    return (c * c).sum() + (b ** 3).sum()


def _overlapping_sibling(a, w):  # v2 shares an element with v1, made before the write
    b = a * 1
    v1, v2 = b[:, 0:2], b[:, 1:3]
    v1 *= w[:2]
    return (v2 * v2).sum()


def _sibling_of_the_base(a, w):  # s views c, the write goes through b, another view of c
    c = a * 1
    b, s = c[:, ::2], c[1]
    v = b[1]
    v *= w[:2]
    return (s ** 3).sum() + (c * c).sum()


def _zero_graph_tensor(a, w):
    h = a * w
    h.zero_()
    return (h + a * a).sum()


PROGRAMS = [_slice_mul, _transpose_add, _view_used_after, _view_of_reshape, _augmented_item, _fill_view,
            _copy_into_view, _view_of_a_view, _overlapping_sibling, _sibling_of_the_base, _zero_graph_tensor]
A = np.array([[1.0, -2.0, 3.0], [0.5, 5.0, -1.5]])
W = np.array([2.0, -3.0, 0.7])


def _inputs():
    return gk.tensor(A, requires_grad=True), gk.tensor(W, requires_grad=True)


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__.strip("_"))
def test_writes_through_views_match_finite_differences(program):
    assert gradcheck(program, _inputs())


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__.strip("_"))
def test_writes_through_views_match_torch(program):
    torch = pytest.importorskip("torch")
    a, w = _inputs()
    loss = program(a, w)
    loss.backward()
    ta, tw = (torch.tensor(x, requires_grad=True) for x in (A, W))
    tloss = program(ta, tw)
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=examples(60), deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_random_strided_views_written_in_place_match_the_out_of_place_program(shape, data):
    """``v = view(b); v *= w; f(b, v)`` has the gradients of the same program written with index_put."""
    starts = [data.draw(st.integers(0, n - 1)) for n in shape]
    steps = [data.draw(st.integers(1, 2)) for _ in shape]
    index = tuple(slice(s, None, k) for s, k in zip(starts, steps))
    transpose = data.draw(st.booleans())
    rng = np.random.default_rng(len(shape))
    a0 = rng.normal(size=shape)
    view_shape = a0[index].shape
    w0 = rng.normal(size=view_shape[::-1] if transpose else view_shape)
    weights = rng.normal(size=shape)

    def view(b):
        v = b[index]
        return v.T if transpose else v

    def in_place(a, w):
        b = a * 1
        v = view(b)
        v *= w
        return (b * b * weights).sum() + (v ** 3).sum()

    def out_of_place(a, w):
        b = a * 1
        new = view(b) * w
        b = gk.autograd.ops.index_put(b, index, new.T if transpose else new)
        return (b * b * weights).sum() + (new ** 3).sum()

    grads = []
    for program in (in_place, out_of_place):
        a, w = gk.tensor(a0, requires_grad=True), gk.tensor(w0, requires_grad=True)
        loss = program(a, w)
        loss.backward()
        grads.append((loss.item(), a.grad.data, w.grad.data))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grads[0][2], grads[1][2], rtol=1e-12, atol=1e-12)


def test_second_derivatives_through_a_written_view():
    def program(a, w):
        b = a * a
        v = b[:, 1]
        v *= w[:2]
        return (b * b).sum()

    assert gk.autograd.gradgradcheck(program, _inputs())


def test_a_base_that_needed_no_grad_gets_a_graph_from_the_write():
    w = gk.tensor(W, requires_grad=True)
    b = gk.tensor(np.zeros((2, 3)))
    v = b[0]
    v += w
    assert b.requires_grad and b.grad_fn is not None
    (b * b).sum().backward()
    np.testing.assert_allclose(w.grad.data, 2 * W)


def test_a_view_of_a_leaf_that_requires_grad_refuses_in_place_ops_outside_no_grad():
    a = gk.tensor(A, requires_grad=True, name="weights")
    v = a[0]
    with pytest.raises(RuntimeError, match="a view of a leaf tensor 'weights' that requires grad.*no_grad"):
        v += 1
    with pytest.raises(RuntimeError, match="a view of a leaf tensor"):
        a.T[0] = 5.0
    np.testing.assert_array_equal(a.data, A)  # refused before writing
    with no_grad():
        v = a[0]
        v += 1
    np.testing.assert_array_equal(a.data[0], A[0] + 1)


def test_a_view_made_under_no_grad_of_a_graph_tensor_refuses_in_place_ops_in_grad_mode():
    a = gk.tensor(A, requires_grad=True)
    b = a * 1
    with no_grad():
        v = b[0]
    with pytest.raises(RuntimeError, match=r"view made under no_grad of a tensor of shape \(2, 3\)"):
        v += 1
    np.testing.assert_array_equal(b.data, A)


@pytest.mark.parametrize("write", [lambda t: t.__iadd__(1.0), lambda t: t.fill_(0.0), lambda t: t.__setitem__(0, 2.0)],
                         ids=["iadd", "fill_", "setitem"])
def test_in_place_writes_into_expanded_views_are_refused_with_the_reason(write):
    b = gk.tensor(A, requires_grad=True) * 1
    e = b[0].expand(4, 3)
    with pytest.raises(RuntimeError, match=r"shape \(4, 3\) whose array is read-only: an expand\(\)ed view.*clone"):
        write(e)
    with no_grad(), pytest.raises(RuntimeError, match="read-only"):
        write(gk.tensor(W).expand(2, 3))
    np.testing.assert_array_equal(b.data, A)


def test_fill_zero_and_copy_on_graph_tensors_are_recorded():
    a = gk.tensor(A, requires_grad=True)
    h = a * 2
    h.zero_()
    (h + a).sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.ones_like(A))  # the zeros do not depend on a
    a.grad = None
    src = gk.tensor(W, requires_grad=True)
    h = a * 2
    h.copy_(src)  # broadcast over the rows
    (h * h).sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.zeros_like(A))
    np.testing.assert_allclose(src.grad.data, 2 * 2 * W)


def test_views_of_plain_tensors_are_written_without_a_graph():
    b = gk.tensor(np.zeros((2, 3)))
    v = b.T
    v += 1
    assert b.grad_fn is None and not b.requires_grad and b._version == 1
    np.testing.assert_array_equal(b.data, np.ones((2, 3)))


def test_the_view_registry_holds_views_weakly():
    a = gk.tensor(A, requires_grad=True)
    b = a * 1
    views = [b[i] for i in range(2)] + [b.T]
    assert len(b._views) == 3
    del views
    assert len(b._views) == 0  # freed by reference counting: a base does not keep its views alive


@pytest.mark.parametrize("backward", [True, False], ids=["after backward", "without backward"])
def test_a_written_view_and_its_base_are_freed_by_reference_counting(backward):
    a, w = _inputs()
    gc.disable()
    try:
        b = a * 1
        v, s = b[0], b[:, 1]
        v *= w
        v += 1  # a second write through the same view
        refs = [weakref.ref(t) for t in (b, v, s)]
        loss = (b * b).sum() + s.sum()
        if backward:
            loss.backward()
        del b, v, s, loss
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


def test_flat_positions_find_every_strided_view_in_its_base():
    base = np.arange(24.0).reshape(2, 3, 4)
    for view in (base[1], base[:, ::2, 1:3], base.transpose(2, 0, 1)[::3], base.reshape(6, 4).T, base[..., 0],
                 base[0:0]):
        np.testing.assert_array_equal(base.reshape(-1)[flat_positions(view, base)], view.reshape(-1))
    with pytest.raises(RuntimeError, match=r"shape \(3,\).*shape \(2, 3, 4\)"):
        flat_positions(np.zeros(3), base)
