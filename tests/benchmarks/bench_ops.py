"""Workload 2: per-op overhead, forward+backward of a chain of 100 elementwise ops, float32.

The chain repeats (y * a, y + b, tanh, exp) 25 times from x, with x, a, b leaves that require
grad (a and b reused by every cycle, so their gradients accumulate), and backpropagates a
ones seed from the last output. Shapes (8,) (pure per-op overhead) and (256, 256) (memory-bound
arrays). Contenders: gradkit fwd+bwd, gradkit forward under no_grad, raw numpy forward, the
chain's forward+backward hand-written in numpy, PyTorch fwd+bwd.

Run:  python tests/benchmarks/bench_ops.py [--quick]
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

try:
    from .common import (
        Target,
        default_rounds,
        import_hips_autograd,
        import_torch,
        main_for,
        make_case,
        print_table,
        run_rounds,
    )
except ImportError:  # run as a script
    from common import (
        Target,
        default_rounds,
        import_hips_autograd,
        import_torch,
        main_for,
        make_case,
        print_table,
        run_rounds,
    )

N_OPS = 100
CYCLE = ("mul", "add", "tanh", "exp")


def chain(x: Any, a: Any, b: Any, n_ops: int, tanh: Callable, exp: Callable) -> Any:
    """The op chain on any array library (``tanh``/``exp`` given as functions of one argument)."""
    y = x
    for k in range(n_ops):
        op = CYCLE[k % len(CYCLE)]
        y = y * a if op == "mul" else y + b if op == "add" else tanh(y) if op == "tanh" else exp(y)
    return y


def numpy_fwd_bwd(x: np.ndarray, a: np.ndarray, b: np.ndarray, n_ops: int) -> tuple[np.ndarray, ...]:
    """The chain with a hand-written backward: returns (grad x, grad a, grad b) for a ones seed."""
    ys, y = [], x
    for k in range(n_ops):
        ys.append(y)
        op = CYCLE[k % len(CYCLE)]
        y = y * a if op == "mul" else y + b if op == "add" else np.tanh(y) if op == "tanh" else np.exp(y)
    ys.append(y)
    g = np.ones_like(y)
    ga, gb = np.zeros_like(a), np.zeros_like(b)
    for k in reversed(range(n_ops)):
        op = CYCLE[k % len(CYCLE)]
        if op == "mul":
            ga += g * ys[k]
            g = g * a
        elif op == "add":
            gb += g
        elif op == "tanh":
            g = g * (1 - ys[k + 1] * ys[k + 1])
        else:
            g = g * ys[k + 1]
    return g, ga, gb


def make_inputs(shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, a, b float32 of ``shape`` (a near 1 so the chain stays in range)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape).astype(np.float32),
            rng.uniform(0.5, 1.0, shape).astype(np.float32),
            rng.uniform(-0.5, 0.5, shape).astype(np.float32))


def gradkit_fns(x: np.ndarray, a: np.ndarray, b: np.ndarray, n_ops: int) -> dict[str, Callable[[], object]]:
    """gradkit's chain fwd+bwd (leaves require grad) and forward under no_grad."""
    import gradkit.autograd as ag

    gx, ga, gb = (ag.Tensor(v, requires_grad=True) for v in (x, a, b))
    gseed = ag.Tensor(np.ones(x.shape, np.float32))

    def gradkit_fwd_bwd() -> None:
        for t in (gx, ga, gb):
            t.grad = None
        chain(gx, ga, gb, n_ops, ag.Tensor.tanh, ag.Tensor.exp).backward(gseed)

    def gradkit_nograd() -> None:
        with ag.no_grad():
            chain(gx, ga, gb, n_ops, ag.Tensor.tanh, ag.Tensor.exp)

    return {"gradkit_fwd_bwd": gradkit_fwd_bwd, "gradkit_nograd_fwd": gradkit_nograd}


def torch_fwd_bwd_fn(x: np.ndarray, a: np.ndarray, b: np.ndarray, n_ops: int) -> Callable[[], None] | None:
    """PyTorch's chain fwd+bwd with a ones seed (None when torch is missing)."""
    torch = import_torch()
    if torch is None:
        return None
    tx, ta, tb = (torch.tensor(v, requires_grad=True) for v in (x, a, b))
    tseed = torch.ones(x.shape)

    def torch_fwd_bwd() -> None:
        for t in (tx, ta, tb):
            t.grad = None
        chain(tx, ta, tb, n_ops, torch.tanh, torch.exp).backward(tseed)

    return torch_fwd_bwd


def hips_fwd_bwd_fn(x: np.ndarray, a: np.ndarray, b: np.ndarray, n_ops: int) -> Callable[[], object] | None:
    """HIPS autograd's chain: ``make_vjp`` (the forward) then the vjp of a ones seed (None when missing)."""
    hips = import_hips_autograd()
    if hips is None:
        return None
    anp, _ = hips
    # HIPS, now in sys.modules (import_hips_autograd avoids gradkit's folder)
    from autograd import make_vjp

    seed = np.ones(x.shape, np.float32)
    vjp_of = make_vjp(lambda xs: chain(xs[0], xs[1], xs[2], n_ops, anp.tanh, anp.exp))

    def hips_fwd_bwd() -> object:
        vjp, _ = vjp_of((x, a, b))
        vjp(seed)

    return hips_fwd_bwd


CONTENDERS = ("numpy_fwd", "numpy_fwd_bwd", "gradkit_nograd_fwd", "gradkit_fwd_bwd", "torch_fwd_bwd",
              "hips_fwd_bwd")


def contender(name: str, shape: list[int] | tuple[int, ...], n_ops: int = N_OPS) -> Callable[[], object] | None:
    """The zero-argument callable running the chain once for contender ``name`` (None: peer missing)."""
    x, a, b = make_inputs(tuple(shape))
    if name == "numpy_fwd":
        return lambda: chain(x, a, b, n_ops, np.tanh, np.exp)
    if name == "numpy_fwd_bwd":
        return lambda: numpy_fwd_bwd(x, a, b, n_ops)
    if name.startswith("gradkit_"):
        return gradkit_fns(x, a, b, n_ops)[name]
    if name == "torch_fwd_bwd":
        return torch_fwd_bwd_fn(x, a, b, n_ops)
    if name == "hips_fwd_bwd":
        return hips_fwd_bwd_fn(x, a, b, n_ops)
    raise ValueError(f"unknown contender {name!r}; choose from {CONTENDERS}")


def measure(shape: tuple[int, ...], n_ops: int = N_OPS, rounds: int = 5, repeat: int = 9, number: int = 10,
            runner: Callable[[dict], dict] | None = None) -> dict:
    """Median seconds of the chain per contender over ``rounds`` rounds (one process each), per-op
    microseconds, and medians of the per-round ratios."""
    cases = {name: make_case("bench_ops", name, {"shape": list(shape), "n_ops": n_ops}, repeat, number,
                             warmup=max(2, number // 2)) for name in CONTENDERS}
    res = run_rounds(cases, rounds, runner)
    times = {k: res.median(k) for k in CONTENDERS}
    return {"shape": list(shape), "n_ops": n_ops, "rounds": rounds, **{f"{k}_s": v for k, v in times.items()},
            **{f"{k}_us_per_op": None if v is None else v / n_ops * 1e6 for k, v in times.items()},
            "gradkit_vs_torch": res.ratio("gradkit_fwd_bwd", "torch_fwd_bwd"),
            "gradkit_vs_hips": res.ratio("gradkit_fwd_bwd", "hips_fwd_bwd"),
            "gradkit_nograd_vs_numpy_fwd": res.ratio("gradkit_nograd_fwd", "numpy_fwd"),
            "gradkit_vs_numpy_fwd_bwd": res.ratio("gradkit_fwd_bwd", "numpy_fwd_bwd"),
            "per_round": res.as_dict()}


def targets(small: dict, large: dict) -> list[Target]:
    """The issue's per-op targets from the rows of shape (8,) and (256, 256)."""
    return [Target("ops", "(8,): gradkit fwd+bwd per op (absolute)",
                   small["gradkit_fwd_bwd_us_per_op"], 7.0, " µs"),
            Target("ops", "(8,): gradkit fwd+bwd / torch fwd+bwd", small["gradkit_vs_torch"], 1.0),
            Target("ops", "(8,): gradkit no_grad fwd / numpy fwd", small["gradkit_nograd_vs_numpy_fwd"], 2.5),
            Target("ops", "(256,256): gradkit fwd+bwd / numpy fwd+bwd", large["gradkit_vs_numpy_fwd_bwd"], 1.25),
            Target("ops", "(8,): gradkit fwd+bwd / hips autograd", small["gradkit_vs_hips"], 1.0),
            Target("ops", "(256,256): gradkit fwd+bwd / hips autograd", large["gradkit_vs_hips"], 1.0)]


def run(quick: bool = False, rounds: int | None = None) -> dict:
    """Both shapes, the table and the targets."""
    rounds = default_rounds(quick, rounds)
    repeat = 3 if quick else 9
    small = measure((8,), N_OPS, rounds, repeat, 5 if quick else 40)
    large = measure((256, 256), N_OPS, rounds, repeat, 1 if quick else 3)
    keys = ("numpy_fwd", "numpy_fwd_bwd", "gradkit_nograd_fwd", "gradkit_fwd_bwd", "torch_fwd_bwd", "hips_fwd_bwd")
    print_table(f"Chain of {N_OPS} elementwise ops, float32 (µs per op, median of {rounds} rounds; "
                f"ratios: median of per-round ratios)",
                ["shape", "numpy fwd", "numpy fwd+bwd", "gk no_grad fwd", "gk fwd+bwd", "torch fwd+bwd",
                 "hips fwd+bwd", "gk/torch", "gk/hips", "gk nograd/numpy", "gk/numpy fwd+bwd"],
                [[str(tuple(r["shape"]))] + [r[f"{k}_us_per_op"] for k in keys]
                 + [r["gradkit_vs_torch"], r["gradkit_vs_hips"], r["gradkit_nograd_vs_numpy_fwd"],
                    r["gradkit_vs_numpy_fwd_bwd"]] for r in (small, large)])
    return {"name": "ops", "rounds": rounds, "rows": [small, large], "targets": targets(small, large)}


if __name__ == "__main__":
    main_for("ops", run)
