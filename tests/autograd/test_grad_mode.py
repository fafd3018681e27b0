"""Grad mode: no_grad / enable_grad nesting, decorators, exceptions, no nodes recorded (AG-16)."""
from __future__ import annotations

import weakref

import pytest

import gradkit as gk
from gradkit.autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled


class CountingForward(Function):
    """y = 2x; counts how many nodes get recorded (a node keeps its inputs)."""

    recorded: list = []

    @staticmethod
    def forward(ctx, x):
        CountingForward.recorded.append(weakref.ref(ctx))
        return x.data * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_no_grad_builds_no_graph():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = (x * 2).exp().sum()
        z = CountingForward.apply(x)
    for t in (y, z):
        assert t.grad_fn is None and not t.requires_grad and t.is_leaf
    assert CountingForward.recorded[-1]() is None  # the would-be node was not kept by anything
    assert x.requires_grad  # the leaf itself is unchanged


def test_nesting_restores_each_outer_state():
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        with enable_grad():
            assert is_grad_enabled()
            with no_grad():
                assert not is_grad_enabled()
            assert is_grad_enabled()
        assert not is_grad_enabled()
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_enable_grad_inside_no_grad_records():
    x = gk.tensor(2.0, requires_grad=True)
    with no_grad():
        with enable_grad():
            y = x * x
    y.backward()
    assert x.grad.item() == 4.0


@pytest.mark.parametrize("ctx", [no_grad, enable_grad])
def test_state_is_restored_after_an_exception_in_the_block(ctx):
    for outer in (True, False):
        set_grad_enabled(outer)
        with pytest.raises(ZeroDivisionError):
            with ctx():
                _ = 1 / 0
        assert is_grad_enabled() is outer
    set_grad_enabled(True)


def test_decorator_form_and_restoration_after_exception():
    x = gk.tensor(1.0, requires_grad=True)

    @no_grad()
    def frozen(t):
        assert not is_grad_enabled()
        return t * 3

    @no_grad()
    def fails():
        raise ValueError("boom")

    @enable_grad()
    def recording(t):
        return t * 3

    assert not frozen(x).requires_grad
    assert frozen.__name__ == "frozen"  # functools.wraps
    assert is_grad_enabled()
    with pytest.raises(ValueError, match="boom"):
        fails()
    assert is_grad_enabled()
    with no_grad():
        assert recording(x).requires_grad
        assert not is_grad_enabled()


def test_one_instance_reused_and_nested_keeps_its_own_states():
    guard = no_grad()
    set_grad_enabled(False)
    with guard:
        with enable_grad():
            with guard:  # re-entered from a different state than the first time
                assert not is_grad_enabled()
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert not is_grad_enabled()  # the state before the outer block, not the inner one
    set_grad_enabled(True)


def test_set_grad_enabled_toggles_globally():
    set_grad_enabled(False)
    x = gk.tensor(1.0, requires_grad=True)
    assert not (x * 2).requires_grad
    set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_backward_runs_without_recording_unless_create_graph():
    x = gk.tensor(3.0, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append((g.requires_grad, is_grad_enabled())))
    (x * x).backward()
    assert seen == [(False, False)] and is_grad_enabled()
    x.grad = None
    (x * x).backward(create_graph=True)
    assert seen[-1] == (True, True) and x.grad.requires_grad and is_grad_enabled()


def test_set_grad_enabled_as_context_manager_and_decorator():
    x = gk.tensor(1.0, requires_grad=True)
    for mode in (False, True):
        with set_grad_enabled(mode):
            assert is_grad_enabled() is mode
            assert (x * 2).requires_grad is mode
        assert is_grad_enabled()
    with no_grad():
        with set_grad_enabled(True):
            assert is_grad_enabled()
        assert not is_grad_enabled()
    with pytest.raises(KeyError):
        with set_grad_enabled(False):
            raise KeyError("x")
    assert is_grad_enabled()

    @set_grad_enabled(False)
    def frozen():
        return is_grad_enabled()

    assert is_grad_enabled()  # decorating did not switch the mode
    assert frozen() is False and is_grad_enabled()
