"""Workload 4: deep graphs, chains of 10,000 and 100,000 ops, forward and backward time.

The chain alternates y = y * c and y = y + c (python scalars) on a 0-d float64 leaf, so every
op is one graph node and the cost is the engine's per-node overhead; it checks that the
backward is iterative (no recursion limit) and linear in the chain's length. Contenders:
gradkit and PyTorch, repeats interleaved.

Run:  python tests/benchmarks/bench_chain.py [--quick]
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

try:
    from .common import Target, import_torch, main_for, print_table, ratio
except ImportError:  # run as a script
    from common import Target, import_torch, main_for, print_table, ratio

LENGTHS = (10_000, 100_000)


def build(x: Any, length: int) -> Any:
    """``length`` ops alternating * 1.0000001 and + 1e-9 from x."""
    y = x
    for k in range(length):
        y = y * 1.0000001 if k % 2 == 0 else y + 1e-9
    return y


def timed_fwd_bwd(make_leaf: Callable[[], Any], length: int) -> tuple[float, float]:
    """(forward seconds, backward seconds) of one chain; the graph is freed before returning."""
    x = make_leaf()
    start = time.perf_counter()
    y = build(x, length)
    mid = time.perf_counter()
    y.backward()
    end = time.perf_counter()
    del y
    return mid - start, end - mid


def leaves() -> dict[str, Callable[[], Any] | None]:
    """name -> factory of a fresh 0-d float64 leaf that requires grad (None: peer missing)."""
    import gradkit.autograd as ag
    torch = import_torch()
    return {"gradkit": lambda: ag.tensor(1.0, requires_grad=True, dtype=np.float64),
            "torch": None if torch is None else lambda: torch.tensor(1.0, dtype=torch.float64, requires_grad=True)}


def measure(length: int, repeat: int = 5) -> dict:
    """Median forward, backward and total seconds per contender, repeats interleaved."""
    makers = leaves()
    live = [k for k, v in makers.items() if v is not None]
    for name in live:  # warm-up on a short chain
        timed_fwd_bwd(makers[name], min(length, 1000))
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in live}
    for r in range(repeat):
        order = live[r % len(live):] + live[:r % len(live)]
        for name in order:
            samples[name].append(timed_fwd_bwd(makers[name], length))
    row: dict[str, Any] = {"length": length}
    for name in makers:
        s = samples.get(name)
        row[f"{name}_forward_s"] = statistics.median(f for f, _ in s) if s else None
        row[f"{name}_backward_s"] = statistics.median(b for _, b in s) if s else None
        row[f"{name}_total_s"] = statistics.median(f + b for f, b in s) if s else None
    row["gradkit_vs_torch"] = ratio(row["gradkit_total_s"], row["torch_total_s"])
    return row


def run(quick: bool = False) -> dict:
    """Both lengths, the table and the targets (total time, vs torch, linearity)."""
    lengths = (1_000, 10_000) if quick else LENGTHS
    rows = [measure(n, 2 if quick else (5 if n < 50_000 else 3)) for n in lengths]
    print_table("Deep chain (alternating * c, + c), 0-d float64 (s, median)",
                ["ops", "gk forward", "gk backward", "gk total", "torch forward", "torch backward", "torch total",
                 "gk/torch", "gk µs/op"],
                [[str(r["length"]), r["gradkit_forward_s"], r["gradkit_backward_s"], r["gradkit_total_s"],
                  r["torch_forward_s"], r["torch_backward_s"], r["torch_total_s"], r["gradkit_vs_torch"],
                  r["gradkit_total_s"] / r["length"] * 1e6] for r in rows])
    short, long = rows
    per_op_growth = ratio(long["gradkit_total_s"] / long["length"], short["gradkit_total_s"] / short["length"])
    limit = 0.7 * long["length"] / 100_000  # the 0.7 s per 100,000 ops (scaled in a --quick run)
    targets = [Target("chain", f"{long['length']:,} ops fwd+bwd, gradkit (s)", long["gradkit_total_s"], limit, " s"),
               Target("chain", f"{long['length']:,} ops: gradkit / torch", long["gradkit_vs_torch"], 1.0),
               Target("chain", f"linear: time per op {long['length']:,} / {short['length']:,}", per_op_growth, 1.5)]
    return {"name": "chain", "rows": rows, "targets": targets}


if __name__ == "__main__":
    main_for("chain", run)
