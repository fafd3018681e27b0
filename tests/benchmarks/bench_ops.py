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
    from .common import Target, compare, import_torch, main_for, print_table, ratio
except ImportError:  # run as a script
    from common import Target, compare, import_torch, main_for, print_table, ratio

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


def contenders(shape: tuple[int, ...], n_ops: int = N_OPS) -> dict[str, Callable[[], object] | None]:
    """name -> zero-argument callable running the chain once."""
    import gradkit.autograd as ag

    x, a, b = make_inputs(shape)
    gx, ga, gb = (ag.Tensor(v, requires_grad=True) for v in (x, a, b))
    gseed = ag.Tensor(np.ones(shape, np.float32))

    def gradkit_fwd_bwd() -> None:
        for t in (gx, ga, gb):
            t.grad = None
        chain(gx, ga, gb, n_ops, ag.Tensor.tanh, ag.Tensor.exp).backward(gseed)

    def gradkit_nograd() -> None:
        with ag.no_grad():
            chain(gx, ga, gb, n_ops, ag.Tensor.tanh, ag.Tensor.exp)

    fns: dict[str, Callable[[], object] | None] = {
        "numpy_fwd": lambda: chain(x, a, b, n_ops, np.tanh, np.exp),
        "numpy_fwd_bwd": lambda: numpy_fwd_bwd(x, a, b, n_ops),
        "gradkit_nograd_fwd": gradkit_nograd,
        "gradkit_fwd_bwd": gradkit_fwd_bwd,
        "torch_fwd_bwd": None,
    }
    torch = import_torch()
    if torch is not None:
        tx, ta, tb = (torch.tensor(v, requires_grad=True) for v in (x, a, b))
        tseed = torch.ones(shape)

        def torch_fwd_bwd() -> None:
            for t in (tx, ta, tb):
                t.grad = None
            chain(tx, ta, tb, n_ops, torch.tanh, torch.exp).backward(tseed)

        fns["torch_fwd_bwd"] = torch_fwd_bwd
    return fns


def measure(shape: tuple[int, ...], n_ops: int = N_OPS, repeat: int = 15, number: int = 10) -> dict:
    """Median seconds of the chain per contender (interleaved repeats) and per-op microseconds."""
    times = compare(contenders(shape, n_ops), repeat, number, warmup=max(2, number // 2))
    return {"shape": list(shape), "n_ops": n_ops, **{f"{k}_s": v for k, v in times.items()},
            **{f"{k}_us_per_op": None if v is None else v / n_ops * 1e6 for k, v in times.items()}}


def run(quick: bool = False) -> dict:
    """Both shapes, the table and the targets."""
    repeat = 5 if quick else 21
    small = measure((8,), N_OPS, repeat, 5 if quick else 30)
    large = measure((256, 256), N_OPS, repeat, 1 if quick else 3)
    keys = ("numpy_fwd", "numpy_fwd_bwd", "gradkit_nograd_fwd", "gradkit_fwd_bwd", "torch_fwd_bwd")
    print_table(f"Chain of {N_OPS} elementwise ops, float32 (µs per op, median)",
                ["shape", "numpy fwd", "numpy fwd+bwd", "gk no_grad fwd", "gk fwd+bwd", "torch fwd+bwd",
                 "gk/torch", "gk nograd/numpy", "gk/numpy fwd+bwd"],
                [[str(tuple(r["shape"]))] + [r[f"{k}_us_per_op"] for k in keys]
                 + [ratio(r["gradkit_fwd_bwd_s"], r["torch_fwd_bwd_s"]),
                    ratio(r["gradkit_nograd_fwd_s"], r["numpy_fwd_s"]),
                    ratio(r["gradkit_fwd_bwd_s"], r["numpy_fwd_bwd_s"])] for r in (small, large)])
    targets = [Target("ops", "(8,): gradkit fwd+bwd / torch fwd+bwd",
                      ratio(small["gradkit_fwd_bwd_s"], small["torch_fwd_bwd_s"]), 1.0),
               Target("ops", "(8,): gradkit no_grad fwd / numpy fwd",
                      ratio(small["gradkit_nograd_fwd_s"], small["numpy_fwd_s"]), 2.5),
               Target("ops", "(256,256): gradkit fwd+bwd / numpy fwd+bwd",
                      ratio(large["gradkit_fwd_bwd_s"], large["numpy_fwd_bwd_s"]), 1.25)]
    return {"name": "ops", "rows": [small, large], "targets": targets}


if __name__ == "__main__":
    main_for("ops", run)
