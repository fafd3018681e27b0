"""Fuzzing: hypothesis draws random programs of gradkit ops and runs them against numpy, finite
differences and PyTorch.

A program is 1-3 float64 input tensors of mutually broadcastable shapes (0-d, empty and
size-1 dims included) and 2-8 steps; each step applies an op to operands picked from the pool
of inputs and earlier results (so programs are DAGs with reuse) and adds its result to the
pool. The loss sums every pooled value; backward then runs once.

"Wild" programs draw values from ±inf, NaN, ±1e300, subnormals, ±0 and ordinary numbers and use
every op; "tame" programs draw finite values in [-2, 2] and use the ops that are smooth on the
whole real line (log, sqrt and division get arguments of the form 1 + x**2).

The contract checked on every program:

* each step runs or raises a documented type (ValueError, TypeError, IndexError, RuntimeError
  incl. AnomalyError) — never RecursionError, ZeroDivisionError or anything else;
* the forward value equals the numpy reference of the same computation (NaN where it is NaN);
* **warnings**: a step may emit only warnings that numpy itself emits when the same computation
  (the step's numpy reference) runs on the same input arrays — same category, same message.
  Backward may emit only numpy's IEEE RuntimeWarnings ("overflow / invalid value / divide by zero /
  underflow encountered in ..."), and only when some forward value or gradient (of a leaf or an
  intermediate) is non-finite
  (a derivative at a pole, e.g. sqrt'(0), or arithmetic on inf/NaN); a program whose values and
  gradients are all finite emits no warning in backward. Any other warning fails.
* every gradient has its input's shape and dtype.

Tame programs additionally have their gradients checked against central finite differences
(``gradcheck``) and, with PyTorch installed, against ``torch.autograd`` (rtol 1e-9).
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradkit.autograd as ag
from gradkit.autograd import AnomalyError
from tests.hypothesis_budget import examples

DOCUMENTED = (ValueError, TypeError, IndexError, RuntimeError)
FORBIDDEN = (RecursionError, ZeroDivisionError)
IEEE = re.compile(r"^(overflow|invalid value|divide by zero|underflow) encountered in [\w ]+$")
SPECIALS = [0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan, 1e300, -1e300, 5e-324, -5e-324,
            2.2250738585072014e-308, 1e-300]


def _npsoftmax(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    e = np.exp(a - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def _nplse(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis)


def _dim(x, k):
    """A valid dim for x drawn from k (0-d tensors: -1, which numpy/torch refuse for some ops: fine)."""
    return k % x.ndim if x.ndim else -1


@dataclass(frozen=True)
class FuzzOp:
    name: str
    arity: int
    fn: Callable          # gradkit (and torch: same methods) f(*xs, k)
    ref: Callable         # numpy f(*arrays, k)
    smooth: bool          # smooth on the whole real line (tame programs)
    torch_fn: Callable | None = None


def _t():
    import torch
    return torch


U, B = 1, 2
OPS = [
    FuzzOp("neg", U, lambda x, k: -x, lambda a, k: -a, True),
    FuzzOp("exp", U, lambda x, k: (x.tanh() * 3).exp(), lambda a, k: np.exp(np.tanh(a) * 3), True),
    FuzzOp("exp_raw", U, lambda x, k: x.exp(), lambda a, k: np.exp(a), False),
    FuzzOp("log", U, lambda x, k: x.log(), lambda a, k: np.log(a), False),
    FuzzOp("log1sq", U, lambda x, k: (x * x + 1).log(), lambda a, k: np.log(a * a + 1), True),
    FuzzOp("sqrt", U, lambda x, k: x.sqrt(), lambda a, k: np.sqrt(a), False),
    FuzzOp("sqrt1sq", U, lambda x, k: (x * x + 1).sqrt(), lambda a, k: np.sqrt(a * a + 1), True),
    FuzzOp("sin", U, lambda x, k: x.sin(), lambda a, k: np.sin(a), True),
    FuzzOp("cos", U, lambda x, k: x.cos(), lambda a, k: np.cos(a), True),
    FuzzOp("tanh", U, lambda x, k: x.tanh(), lambda a, k: np.tanh(a), True),
    FuzzOp("sigmoid", U, lambda x, k: x.sigmoid(), lambda a, k: np.exp(-np.logaddexp(0, -a)), True),
    FuzzOp("relu", U, lambda x, k: x.relu(), lambda a, k: np.maximum(a, 0), False),
    FuzzOp("abs", U, lambda x, k: x.abs(), lambda a, k: np.abs(a), False),
    FuzzOp("clamp", U, lambda x, k: x.clamp(-1.5, 0.5), lambda a, k: np.clip(a, -1.5, 0.5), False),
    FuzzOp("square", U, lambda x, k: x * x, lambda a, k: a * a, True),
    FuzzOp("cube", U, lambda x, k: x ** 3, lambda a, k: a ** 3, True),
    FuzzOp("scale", U, lambda x, k: x * 0.75 + 0.5, lambda a, k: a * 0.75 + 0.5, True),
    FuzzOp("rsub", U, lambda x, k: 2 - x, lambda a, k: 2 - a, True),
    FuzzOp("rdiv", U, lambda x, k: 1 / x, lambda a, k: 1 / a, False),
    FuzzOp("rpow", U, lambda x, k: 2 ** x.tanh(), lambda a, k: 2 ** np.tanh(a), True),
    FuzzOp("sum_all", U, lambda x, k: x.sum(), lambda a, k: np.sum(a), True),
    FuzzOp("sum_dim", U, lambda x, k: x.sum(_dim(x, k), keepdim=k % 2 == 1),
           lambda a, k: np.sum(a, axis=_dim(a, k), keepdims=k % 2 == 1), True),
    FuzzOp("mean_all", U, lambda x, k: x.mean(), lambda a, k: np.sum(a) * (1 / a.size) if a.size else np.nan,
           True),
    FuzzOp("max_dim", U, lambda x, k: x.max(_dim(x, k)), lambda a, k: np.max(a, axis=_dim(a, k)), False,
           lambda x, k: x.amax(_dim(x, k))),
    FuzzOp("logsumexp", U, lambda x, k: x.logsumexp(_dim(x, k)), lambda a, k: _nplse(a, _dim(a, k)), True),
    FuzzOp("softmax", U, lambda x, k: x.softmax(_dim(x, k)), lambda a, k: _npsoftmax(a, _dim(a, k)), True),
    FuzzOp("log_softmax", U, lambda x, k: x.log_softmax(_dim(x, k)),
           lambda a, k: a - np.expand_dims(_nplse(a, _dim(a, k)), _dim(a, k)), False),
    FuzzOp("reshape", U, lambda x, k: x.reshape(-1), lambda a, k: a.reshape(-1), True),
    FuzzOp("transpose", U, lambda x, k: x.transpose(0, -1), lambda a, k: np.swapaxes(a, 0, -1), True),
    FuzzOp("unsqueeze", U, lambda x, k: x.unsqueeze(0), lambda a, k: a[None], True),
    FuzzOp("squeeze", U, lambda x, k: x.squeeze(), lambda a, k: np.squeeze(a), True),
    FuzzOp("getitem", U, lambda x, k: x[k % 2], lambda a, k: a[k % 2], True),
    FuzzOp("flip_slice", U, lambda x, k: x[..., ::-1], lambda a, k: a[..., ::-1], True,
           lambda x, k: x.flip(-1)),
    FuzzOp("add", B, lambda x, y, k: x + y, lambda a, b, k: a + b, True),
    FuzzOp("sub", B, lambda x, y, k: x - y, lambda a, b, k: a - b, True),
    FuzzOp("mul", B, lambda x, y, k: x * y, lambda a, b, k: a * b, True),
    FuzzOp("div", B, lambda x, y, k: x / y, lambda a, b, k: a / b, False),
    FuzzOp("div1sq", B, lambda x, y, k: x / (y * y + 1), lambda a, b, k: a / (b * b + 1), True),
    FuzzOp("pow", B, lambda x, y, k: x ** y, lambda a, b, k: a ** b, False),
    FuzzOp("maximum", B, lambda x, y, k: ag.maximum(x, y), lambda a, b, k: np.maximum(a, b), False,
           lambda x, y, k: _t().maximum(x, y)),
    FuzzOp("minimum", B, lambda x, y, k: ag.minimum(x, y), lambda a, b, k: np.minimum(a, b), False,
           lambda x, y, k: _t().minimum(x, y)),
    FuzzOp("where", B, lambda x, y, k: ag.where(x > 0, x, y), lambda a, b, k: np.where(a > 0, a, b), False,
           lambda x, y, k: _t().where(x > 0, x, y)),
    FuzzOp("matmul", B, lambda x, y, k: x @ y, lambda a, b, k: a @ b, True),
    FuzzOp("cat", B, lambda x, y, k: ag.cat([x, y], 0), lambda a, b, k: np.concatenate([a, b], 0), True,
           lambda x, y, k: _t().cat([x, y], 0)),
]
SMOOTH = [op for op in OPS if op.smooth]


@dataclass
class Step:
    op: FuzzOp
    operands: tuple[int, ...]
    k: int


def programs(tame: bool) -> st.SearchStrategy:
    ops = SMOOTH if tame else OPS
    values = st.floats(-2, 2) if tame else (st.sampled_from(SPECIALS) | st.floats(-10, 10))
    shapes = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=1 if tame else 0,
                                               max_side=3).map(lambda s: s.input_shapes)

    @st.composite
    def build(draw):
        n_in = draw(st.integers(1, 3))
        inputs = [draw(hnp.arrays(np.float64, s, elements=values)) for s in draw(shapes)[:n_in]]
        steps = [Step(op, tuple(draw(st.integers(0, 9)) for _ in range(op.arity)), draw(st.integers(0, 7)))
                 for op in draw(st.lists(st.sampled_from(ops), min_size=2, max_size=8))]
        return inputs, steps
    return build()


def _recorded(fn: Callable) -> tuple[Any, BaseException | None, list]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return fn(), None, [(w.category, str(w.message)) for w in caught]
        except Exception as e:  # noqa: BLE001
            return None, e, [(w.category, str(w.message)) for w in caught]


@dataclass
class Run:
    steps_run: int = 0
    steps_rejected: int = 0
    finite: bool = True
    accepted: list = None  # the steps that ran (replayed by gradcheck and torch)


def _torch_value(step: Step, arrays: list[np.ndarray]) -> np.ndarray | None:
    """The step's value computed by PyTorch (float64), or None without torch or when torch refuses it."""
    try:
        import torch
    except ImportError:
        return None
    try:
        with torch.no_grad():
            out = (step.op.torch_fn or step.op.fn)(*[torch.tensor(a) for a in arrays], step.k)
    except (RuntimeError, IndexError, ValueError, TypeError):
        return None
    return out.numpy()


def run_program(inputs: list[np.ndarray], steps: list[Step], build: Callable | None = None) -> tuple:
    """Run a program on gradkit, checking each step's contract; returns (leaves, loss, run record)."""
    leaves = [ag.Tensor(a.copy(), requires_grad=True) for a in inputs]
    pool: list = list(leaves)
    record = Run(accepted=[])
    for step in steps:
        args = [pool[i % len(pool)] for i in step.operands]
        out, err, got = _recorded(lambda s=step, a=args: s.op.fn(*a, s.k))
        arrays = [a.data for a in args]
        ref, ref_err, expected = _recorded(lambda s=step, a=arrays: s.op.ref(*[x.copy() for x in a], s.k))
        if err is not None:
            assert not isinstance(err, FORBIDDEN) and isinstance(err, DOCUMENTED), (
                f"{step.op.name} on shapes {[a.shape for a in arrays]} raised {type(err).__name__}: {err}")
            record.steps_rejected += 1
            continue
        record.steps_run += 1
        record.accepted.append(step)
        unexpected = [w for w in got if w not in expected]
        assert not unexpected, (f"{step.op.name} on {arrays} emitted {unexpected}; numpy's same computation "
                                f"emits {expected}")
        assert out.dtype == np.float64
        theirs = _torch_value(step, arrays)  # PyTorch decides the semantics where installed
        if theirs is not None or ref_err is None:
            ref = ref if theirs is None else theirs
            assert out.shape == np.shape(ref), f"{step.op.name}: shape {out.shape} vs reference {np.shape(ref)}"
            source = "numpy" if theirs is None else "torch"
            np.testing.assert_allclose(out.data, ref, rtol=1e-9, atol=1e-300, equal_nan=True,
                                       err_msg=f"{step.op.name} on {arrays} ({source})")
        record.finite &= bool(np.all(np.isfinite(out.data)))
        pool.append(out)
    record.finite &= all(bool(np.all(np.isfinite(t.data))) for t in leaves)
    with warnings.catch_warnings(record=True) as caught:  # the loss is part of the program (numpy: same sums)
        warnings.simplefilter("always")
        loss = sum((v.sum() for v in pool[1:]), pool[0].sum())
    return leaves, pool, loss, record, [(w.category, str(w.message)) for w in caught]


def check_backward(leaves, loss, record, pool=()) -> None:
    for v in pool:
        if v.grad_fn is not None:
            v.retain_grad()  # intermediate gradients count too: sqrt'(0) = inf may vanish before a leaf
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            loss.backward()
        except Exception as e:  # noqa: BLE001
            raise AssertionError(f"backward raised {type(e).__name__}: {e}") from e
    for t in leaves:
        assert t.grad is not None and t.grad.shape == t.shape and t.grad.dtype == np.float64
    grads_finite = all(bool(np.all(np.isfinite(t.grad.data))) for t in list(leaves) + list(pool)
                       if t.grad is not None)
    got = [(w.category, str(w.message)) for w in caught]
    bad = [w for w in got if not (w[0] is RuntimeWarning and IEEE.match(w[1]))]
    assert not bad, f"backward emitted non-IEEE warnings {bad}"
    if record.finite and grads_finite:
        assert not got, f"backward of an all-finite program emitted {got}"


def program_fn(steps: list[Step]) -> Callable:
    """The accepted steps of a program as a function of its inputs (for gradcheck)."""
    def fn(*xs):
        pool = list(xs)
        for step in steps:
            pool.append(step.op.fn(*[pool[i % len(pool)] for i in step.operands], step.k))
        return sum((v.sum() for v in pool[1:]), pool[0].sum())
    return fn


def torch_program(torch, steps: list[Step], xs: list) -> Any:
    pool = list(xs)
    for step in steps:
        pool.append((step.op.torch_fn or step.op.fn)(*[pool[i % len(pool)] for i in step.operands], step.k))
    return sum((v.sum() for v in pool[1:]), pool[0].sum())


STATS = {"programs": 0, "steps": 0, "rejected": 0, "fd_checked": 0, "torch_checked": 0}


def _examples(long_run: bool) -> int:
    return 2000 if long_run else examples(25)


def fuzz_settings(n: int):
    return settings(max_examples=n, deadline=None,  # derandomized by the default profile (conftest.py)
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def _wild(inputs, steps) -> None:
    leaves, pool, loss, record, loss_warnings = run_program(inputs, steps)
    assert all(w[0] is RuntimeWarning and IEEE.match(w[1]) for w in loss_warnings), loss_warnings
    check_backward(leaves, loss, record, pool)
    STATS["programs"] += 1
    STATS["steps"] += record.steps_run
    STATS["rejected"] += record.steps_rejected


def _tame(inputs, steps) -> None:
    leaves, pool, loss, record, loss_warnings = run_program(inputs, steps)
    assert not loss_warnings
    check_backward(leaves, loss, record, pool)
    STATS["programs"] += 1
    STATS["steps"] += record.steps_run
    STATS["rejected"] += record.steps_rejected
    values_ok = all(np.all(np.abs(v.data) < 1e4) for v in pool)
    if values_ok and sum(t.size for t in leaves) <= 60:
        ag.gradcheck(program_fn(record.accepted), [ag.Tensor(a.copy(), requires_grad=True) for a in inputs], atol=1e-5,
                     rtol=1e-4)
        STATS["fd_checked"] += 1
    try:
        import torch
    except ImportError:
        return
    xs = [torch.tensor(a, requires_grad=True) for a in inputs]
    ref = torch_program(torch, record.accepted, xs)
    np.testing.assert_allclose(loss.data, ref.detach().numpy(), rtol=1e-9, atol=1e-12)
    ref.backward()
    for t, x in zip(leaves, xs):
        np.testing.assert_allclose(t.grad.data, x.grad.numpy(), rtol=1e-9, atol=1e-12)
    STATS["torch_checked"] += 1


def test_wild_programs_run_or_raise_documented_errors(long_run):
    @fuzz_settings(_examples(long_run))
    @given(program=programs(tame=False))
    def run(program):
        _wild(*program)
    run()


def test_tame_programs_match_finite_differences_and_torch(long_run, figures):
    @fuzz_settings(_examples(long_run))
    @given(program=programs(tame=True))
    def run(program):
        _tame(*program)
    run()
    figures["ops fuzzed and checked"] = (
        f"{STATS['programs']:,} random programs, {STATS['steps']:,} op applications "
        f"({STATS['rejected']:,} rejected with documented errors); gradients of {STATS['fd_checked']:,} "
        f"checked by finite differences, {STATS['torch_checked']:,} against PyTorch")
    assert STATS["fd_checked"] > 0


def test_no_recursion_error_on_a_long_random_program():
    rng = np.random.default_rng(0)
    steps = [Step(SMOOTH[int(rng.integers(len(SMOOTH)))], (-1, -2), int(rng.integers(8))) for _ in range(3000)]
    steps = [Step(s.op, tuple(len(steps) * 10 + o for o in s.operands[:s.op.arity]), s.k) for s in steps]
    leaves, pool, loss, record, _ = run_program([rng.standard_normal(3), rng.standard_normal(3)], steps)
    check_backward(leaves, loss, record, pool)


def test_anomaly_error_is_a_documented_runtime_error():
    assert issubclass(AnomalyError, RuntimeError)


def _bad_op(name: str, fn: Callable) -> FuzzOp:
    return FuzzOp(name, U, fn, lambda a, k: a, True, lambda x, k: x)  # references: the identity


def _warn_user(x, k):
    warnings.warn("surprise", UserWarning, stacklevel=2)
    return x * 1


def _warn_ieee_without_cause(x, k):
    with np.errstate(all="warn"):
        np.float64(1e308) * 10  # an overflow numpy's reference of this step (identity) does not have
    return x * 1


@pytest.mark.parametrize("fn, error", [
    (lambda x, k: 1 / 0, "ZeroDivisionError"),
    (lambda x, k: (_ for _ in ()).throw(RecursionError("deep")), "RecursionError"),
    (_warn_user, "surprise"),
    (_warn_ieee_without_cause, "overflow"),
    (lambda x, k: x.reshape(-1)[:1] * 1, "shape"),
    (lambda x, k: x + 1e-6, "Not equal"),
], ids=["zero-division", "recursion", "user-warning", "unexplained-ieee-warning", "wrong-shape", "wrong-value"])
def test_the_contract_checker_catches_violations(fn, error):
    """Negative controls: each kind of violation makes run_program fail."""
    with pytest.raises(AssertionError, match=error):
        run_program([np.arange(6.0).reshape(2, 3)], [Step(_bad_op("bad", fn), (0,), 0)])


# ---------------------------------------------------------------------- findings
# Found by the long fuzz run (GRADKIT_LONG=1): Div.backward computed dz/dy = -g*x/(y*y), and y*y
# overflows (|y| > 1.3e154) or underflows to 0 (|y| < 1e-162) where the gradient itself is finite.
# Fixed by computing -g*(x/y)/y, as PyTorch does; these tests keep it fixed.
def test_div_backward_by_a_huge_divisor_emits_no_overflow():
    y = ag.Tensor(np.array([1e300, 1.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (1 / y).sum().backward()  # 1/y is finite and so is its gradient -1/y**2 (-0.0 and -1.0)
    np.testing.assert_array_equal(y.grad.data, [-0.0, -1.0])


def test_div_backward_by_a_tiny_divisor_is_finite_and_exact():
    x = ag.Tensor(np.array([1e-300]), requires_grad=True)
    y = ag.Tensor(np.array([1e-170]), requires_grad=True)
    with np.errstate(all="ignore"):
        (x / y).sum().backward()
    np.testing.assert_allclose(y.grad.data, [-1e40], rtol=1e-12)  # -x/y**2; gradkit gives -inf
