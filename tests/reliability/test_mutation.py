"""Mutation score of gradcheck: inject bugs into backward formulas and count how many the op checks catch.

Each mutant wraps one op class's ``backward`` at runtime (the library files are never
edited) and transforms the gradient it returns for one input:

* ``negate`` – flipped sign;
* ``scale2`` – a wrong factor of 2;
* ``drop_factor`` – the local derivative dropped: the upstream gradient passed through unchanged;
* ``wrong_axis`` – the gradient summed over a wrong axis (its last) and spread back;
* ``no_reduce`` – a broadcast input's gradient "reduced" by taking the first slice instead of summing
  over the broadcast axes (the engine's broadcast reduction skipped);
* ``transpose`` – (MatMul) the matrix gradient transposed.

The checks are the op table's entries (``tests/autograd/op_table.py``) run through
``gradkit.autograd.gradcheck`` on fixed seeded float64 inputs. A mutant is *killed* when any check
touching its op fails (a ``GradcheckError`` or any other error); *equivalent* when its transform never
changed a gradient during the checks (e.g. ``drop_factor`` of Add, whose factor is 1) — those are
reported and excluded; an op class the checks never run counts as *survived* (not covered).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest

import gradkit.autograd as ag
from gradkit.autograd import ops as gops
from gradkit.autograd.function import Function
from gradkit.autograd.tensor import Tensor
from tests.autograd.op_table import OPS, Op
from tests.autograd.test_ops import _torch_inputs

MUTATIONS = ("negate", "scale2", "drop_factor", "wrong_axis", "no_reduce", "transpose")
#: Every differentiable op class of the op table (autograd/ops/__init__.py).
OP_CLASSES: tuple[type[Function], ...] = (
    gops.Add, gops.Sub, gops.Mul, gops.Div, gops.Neg, gops.Pow, gops.Exp, gops.Log, gops.Sqrt, gops.Sin, gops.Cos,
    gops.Tanh, gops.Sigmoid, gops.Relu, gops.Abs, gops.Clamp, gops.Maximum, gops.Minimum, gops.Where, gops.Cast,
    gops.Sum, gops.Max, gops.LogSumExp, gops.Softmax, gops.LogSoftmax, gops.Reshape, gops.Permute, gops.Expand,
    gops.SumTo, gops.Cat, gops.GetItem, gops.IndexAdd, gops.IndexPut, gops.MatMul)

def _index_put(a: Tensor, b: Tensor) -> Tensor:
    c = a * 1.0
    c[1:] = b[1:] * 2
    return c


def _index_add(a: Tensor) -> Tensor:
    rows = np.array([0, 2, 0, 1, 0][:a.shape[0]])
    return gops.IndexAdd.apply(a * a, (a.shape[0] + 2,) + a.shape[1:], (rows,)).sin()


def _np_index_add(a: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + 2,) + a.shape[1:])
    np.add.at(out, (np.array([0, 2, 0, 1, 0][:a.shape[0]]),), a * a)
    return np.sin(out)


def _square(t):
    return t.reshape(-1)[:4].reshape(2, 2)


#: Ops the op table reaches only inside backward formulas or not at all (an in-place write into a graph
#: tensor, a dtype cast), and a square matmul (a transposed gradient has the right shape only there).
EXTRA_OPS = [
    Op("index_put", _index_put, lambda a, b: np.concatenate([a[:1], b[1:] * 2]), ("real", "real"), "same_min1d"),
    Op("sum_to", lambda a: gops.sum_to(a, a.shape[:-1] + (1,)) * a,
       lambda a: a.sum(-1, keepdims=True) * a, shapes="min1d"),
    Op("index_add", _index_add, _np_index_add, shapes="min1d"),
    Op("matmul_square", lambda a, b: _square(a) @ _square(b), lambda a, b: _square(a) @ _square(b),
       ("real", "real"), "same_min1d"),
    Op("cast", lambda a: gops.cast(a, np.float32) * 3, lambda a: a.astype(np.float32) * 3),
]
#: float32 outputs: finite differences need a larger step and tolerance.
CHECK_OPTIONS = {"cast": {"eps": 1e-2, "atol": 1e-3, "rtol": 1e-3}}


def check_inputs(op: Op, seed: int) -> list[list[np.ndarray]]:
    """Fixed, seeded float64 inputs inside each input's domain, for every shape kind of the op (test_ops')."""
    return list(_torch_inputs(op, seed))


def graph_classes(out: Tensor) -> set[type]:
    """The op classes of every node behind ``out``."""
    seen, stack, classes = set(), [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or isinstance(node, Tensor) or node in seen:
            continue
        seen.add(node)
        classes.add(type(node))
        stack.extend(node.parents)
    return classes


@dataclass
class Check:
    name: str
    fn: Callable
    arrays: list[np.ndarray]
    classes: set = field(default_factory=set)
    options: dict = field(default_factory=dict)

    def run(self) -> None:
        inputs = [ag.Tensor(a.copy(), requires_grad=True) for a in self.arrays]
        ag.gradcheck(self.fn, inputs, **self.options)


def build_checks() -> list[Check]:
    checks = []
    for op in list(OPS) + EXTRA_OPS:
        for k, arrays in enumerate(check_inputs(op, seed=len(op.name))):
            check = Check(f"{op.name}[{k}]", op.fn, arrays, options=CHECK_OPTIONS.get(op.name, {}))
            check.classes = graph_classes(op.fn(*[ag.Tensor(a, requires_grad=True) for a in arrays]))
            checks.append(check)
    return checks


def _first_slices(g: np.ndarray, shape: tuple) -> np.ndarray:
    """``g`` brought to ``shape`` by taking index 0 along broadcast axes (the bug), not by summing."""
    lead = g.ndim - len(shape)
    g = g[(0,) * lead] if lead > 0 else g
    index = tuple(slice(0, 1) if s == 1 and n != 1 else slice(None) for s, n in zip(shape, g.shape))
    return g[index]


def mutate(kind: str, gi: Tensor, upstream: Tensor, inp: Tensor, cls: type) -> Tensor:
    """The gradient a buggy backward of kind ``kind`` would return instead of ``gi``."""
    g = gi.data
    if kind == "negate":
        return Tensor._make(-g)
    if kind == "scale2":
        return Tensor._make(2 * g)
    if kind == "drop_factor":
        return upstream
    if kind == "wrong_axis":
        if g.ndim == 0:
            return gi
        return Tensor._make(np.broadcast_to(g.sum(axis=-1, keepdims=True), g.shape).copy())
    if kind == "no_reduce":
        shape = np.shape(inp.data)
        return gi if g.shape == shape else Tensor._make(_first_slices(g, shape).copy())
    if kind == "transpose":
        if cls is not gops.MatMul or g.ndim < 2 or g.shape[-1] != g.shape[-2]:
            return gi
        return Tensor._make(np.swapaxes(g, -1, -2).copy())
    raise ValueError(f"unknown mutation {kind!r}; valid: {MUTATIONS}")


def _reduce_to(g: np.ndarray, shape: tuple) -> np.ndarray | None:
    """What the engine's ``sum_to`` makes of ``g`` for an input of ``shape`` (None: it would refuse)."""
    try:
        target = np.broadcast_shapes(g.shape, shape)
    except ValueError:
        return None
    if target != g.shape:
        return None
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + k for k, s in enumerate(shape) if s == 1 and g.shape[lead + k] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)


def same_after_engine(new: np.ndarray, old: np.ndarray, shape: tuple) -> bool:
    """Whether a mutated gradient reaches the input exactly as the original would (an equivalent mutation)."""
    a, b = _reduce_to(new, shape), _reduce_to(old, shape)
    return a is not None and b is not None and np.array_equal(a, b, equal_nan=True)


@dataclass
class Mutant:
    cls: type
    index: int
    kind: str
    calls: int = 0      # backward calls that had a gradient for this input
    changed: int = 0    # ... of which the mutation changed the gradient
    killed_by: str | None = None

    @property
    def label(self) -> str:
        return f"{self.cls.__name__}.backward input {self.index}: {self.kind}"


def run_mutant(mutant: Mutant, checks: list[Check]) -> None:
    """Install the mutant, run the checks touching its op until one fails, uninstall."""
    original = mutant.cls.__dict__["backward"]
    backward = original.__func__ if isinstance(original, staticmethod) else original

    def mutated(ctx, grad):  # noqa: ANN001
        grads = backward(ctx, grad)
        as_tuple = grads if isinstance(grads, tuple) else (grads,)
        i = mutant.index
        if i >= len(as_tuple) or as_tuple[i] is None:
            return grads
        gi = as_tuple[i] if isinstance(as_tuple[i], Tensor) else Tensor._make(np.asarray(as_tuple[i]))
        new = mutate(mutant.kind, gi, grad, ctx.inputs[i], mutant.cls)
        mutant.calls += 1
        if not same_after_engine(new.data, gi.data, np.shape(ctx.inputs[i].data)):
            mutant.changed += 1
        out = list(as_tuple)
        out[i] = new
        return tuple(out) if isinstance(grads, tuple) else out[0]

    mutant.cls.backward = staticmethod(mutated)
    try:
        for check in checks:
            if mutant.cls not in check.classes:
                continue
            try:
                check.run()
            except Exception as e:  # noqa: BLE001  (a GradcheckError, or the engine refusing a bad gradient)
                mutant.killed_by = f"{check.name} ({type(e).__name__})"
                return
    finally:
        mutant.cls.backward = original


def all_mutants() -> list[Mutant]:
    return [Mutant(cls, i, kind) for cls in OP_CLASSES for i in range(3) for kind in MUTATIONS
            if kind != "transpose" or cls is gops.MatMul]


def mutation_analysis() -> dict:
    """Run every mutant; returns counts, the score and the names of survivors and equivalent mutants."""
    checks = build_checks()
    for check in checks:  # the unmutated library passes every check (else the score means nothing)
        check.run()
    mutants = all_mutants()
    for m in mutants:
        run_mutant(m, checks)
    live = [m for m in mutants if m.calls > 0 or not any(m.cls in c.classes for c in checks)]
    # a mutant whose input never gets a gradient (the shape argument of Reshape, ...) does not exist
    live = [m for m in live if m.calls > 0 or m.index == 0]
    equivalent = [m for m in live if m.killed_by is None and m.calls > 0 and m.changed == 0]
    counted = [m for m in live if m not in equivalent]
    killed = [m for m in counted if m.killed_by is not None]
    survived = [m for m in counted if m.killed_by is None]
    by_gradcheck = [m for m in killed if "GradcheckError" in m.killed_by]
    uncovered = sorted({m.cls.__name__ for m in counted if not any(m.cls in c.classes for c in checks)})
    return {"mutants": len(counted), "killed": len(killed), "score": len(killed) / len(counted),
            "killed_by_gradcheck": len(by_gradcheck), "uncovered": uncovered,
            "survived": [m.label for m in survived], "equivalent": [m.label for m in equivalent],
            "checks": len(checks), "ops": len(OP_CLASSES)}


@pytest.fixture(scope="module")
def analysis() -> dict:
    return mutation_analysis()


def test_gradcheck_kills_at_least_95_percent_of_backward_mutants(analysis: dict, figures: dict) -> None:
    figures["mutation score"] = (f"{analysis['killed']}/{analysis['mutants']} = {analysis['score']:.1%} "
                                 f"({len(analysis['equivalent'])} equivalent excluded)")
    assert analysis["score"] >= 0.95, f"survivors: {analysis['survived']}"


def test_every_op_class_is_covered_by_the_checks(analysis: dict) -> None:
    assert analysis["uncovered"] == []


def test_equivalent_mutants_are_only_unit_factor_or_shape_free_cases(analysis: dict) -> None:
    """Equivalent mutants are those whose transform cannot change a gradient (documented, not hidden)."""
    allowed = {"drop_factor", "no_reduce", "wrong_axis", "transpose"}
    assert all(label.rsplit(": ", 1)[1] in allowed for label in analysis["equivalent"]), analysis["equivalent"]


def test_a_mutant_is_uninstalled_after_its_run() -> None:
    x = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    run_mutant(Mutant(gops.Mul, 0, "negate"), [Check("mul", lambda a: a * a, [np.array([1.0, 2.0])],
                                                     {gops.Mul})])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])
