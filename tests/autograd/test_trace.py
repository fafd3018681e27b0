"""Tests of autograd.trace: trace_backward follows the real engine's order, records the chain rule's
values (compared with torch), prints a table and draws frames, and refuses what it cannot trace."""
from __future__ import annotations

import numpy as np
import pytest

import gradkit.autograd as ag
from gradkit.autograd.draw import FILL
from gradkit.autograd.function import Function
from gradkit.autograd.trace import BackwardTrace, trace_backward
from tests.autograd.test_draw import NEURON, lecture, neuron, node_with, nodes

class Tap(Function):
    """y = sum of the inputs; backward logs its tag (to compare the trace's order with the engine's)."""

    log: list = []

    @staticmethod
    def forward(ctx, *xs, tag=""):
        ctx.tag = tag
        return sum(x.data for x in xs)

    @staticmethod
    def backward(ctx, grad):
        Tap.log.append(ctx.tag)
        return (grad,) * len(ctx.needs_input_grad)


def test_trace_runs_nodes_in_the_engines_order():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    a = Tap.apply(x, tag="a")
    b, c = Tap.apply(a, tag="b"), Tap.apply(a, tag="c")
    d = Tap.apply(b, c, tag="d")
    e = Tap.apply(d, a, x, tag="e")
    loss = Tap.apply(e, Tap.apply(c, tag="f"), tag="loss").sum()
    Tap.log.clear()
    trace = trace_backward(loss)
    traced = list(Tap.log)
    Tap.log.clear()
    loss.backward()
    assert traced == Tap.log and len(traced) == 7
    assert [s.op for s in trace.steps] == ["Sum"] + ["Tap"] * 7
    np.testing.assert_array_equal(next(iter(trace.leaf_grads.values())), x.grad.data)


def test_trace_values_match_torch_and_chain_rule_locals():
    torch = pytest.importorskip("torch")
    t, f = neuron(ag)
    trace = trace_backward(f)
    tt, tf = neuron(torch)
    tf.backward()
    for k in NEURON:
        assert trace.leaf_grads[k].item() == pytest.approx(tt[k].grad.item(), rel=1e-12)
        assert t[k].grad is None  # the trace accumulates nothing
    for step in trace.steps:
        for send in step.sends:
            if send.local is not None:
                np.testing.assert_allclose(step.upstream * send.local, send.grad, rtol=1e-12)
    mul_w0 = [e for s in trace.steps for e in s.sends if e.target == "w0"][0]
    assert mul_w0.local.item() == NEURON["x0"]  # d(w0*x0)/dw0 = x0
    f.backward()  # the graph was not released by the trace
    assert t["w0"].grad.item() == pytest.approx(tt["w0"].grad.item(), rel=1e-12)


def test_trace_table_and_frames_for_the_lecture_graph():
    *_, f = lecture()
    trace = trace_backward(f)
    assert isinstance(trace, BackwardTrace) and len(trace) == 2
    table = str(trace)
    assert "upstream grad" in table and "local deriv" in table and "grad sent" in table
    assert "leaf gradients: z=-2.0, x=4.0, y=4.0" in table
    frames = trace.frames()
    assert len(frames) == 2
    for k, frame in enumerate(frames, start=1):
        current = [i for i, a in nodes(frame.source).items() if FILL["current"] in a]
        assert current == [f"n{trace.steps[k - 1].item}"]
    src2 = frames[1].source
    assert src2.count("4.0 × 1.0 = 4.0") == 2 and "1.0 × -2.0 = -2.0" in src2
    assert "grad=4.0" in nodes(src2)[node_with(src2, "<B>x</B>")]
    assert "grad=" not in nodes(frames[0].source)[node_with(frames[0].source, "<B>x</B>")]
    with pytest.raises(IndexError, match="1..2"):
        trace.frame(3)
    with pytest.raises(IndexError, match="1..2"):
        trace.frame(0)


def test_trace_errors():
    x, _, _, f = lecture()
    f.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        trace_backward(f)
    with pytest.raises(RuntimeError, match="does not require grad"):
        trace_backward(ag.tensor(1.0) * 2)
    with pytest.raises(TypeError, match="Tensors"):
        trace_backward(1.0)
    leaf = trace_backward(x)
    assert len(leaf) == 0 and leaf.leaf_grads["x"].item() == 1.0


