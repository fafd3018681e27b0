"""Workload 5: peak memory of 50 training steps of the MLP 784-256-128-10 (workload 1).

tracemalloc's peak over the steps, above what was allocated before them (the model, the
batch), for gradkit and the hand-written numpy step; numpy reports its array buffers to
tracemalloc, so both include every array the step makes. The growth from the first step to
the last (a leak would show here) is reported too: gradkit's includes the ``.grad`` of each
parameter, which outlives the step (optimizer.zero_grad() runs at the start of the next one). PyTorch allocates outside tracemalloc's
view and is left out.

Run:  python tests/benchmarks/bench_memory.py [--quick]
"""
from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

try:
    from .bench_mlp import SIZES, gradkit_step_fn, make_batch, numpy_step_fn
    from .common import main_for, print_table, ratio
except ImportError:  # run as a script
    from bench_mlp import SIZES, gradkit_step_fn, make_batch, numpy_step_fn
    from common import main_for, print_table, ratio

STEPS = 50


def traced_peak(step: Callable[[], object], steps: int) -> tuple[int, int]:
    """(peak bytes above the start, bytes still held after the last step) over ``steps`` calls."""
    step()  # first-call allocations (lazy state, caches) are not part of the steady state
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for _ in range(steps):
            step()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start, current - start


def measure(batch: int, sizes: tuple[int, ...] = SIZES, steps: int = STEPS) -> dict:
    """Peak and retained bytes of ``steps`` training steps for gradkit and numpy."""
    x, y = make_batch(batch, sizes)
    row: dict = {"batch": batch, "sizes": list(sizes), "steps": steps}
    for name, make in (("numpy", numpy_step_fn), ("gradkit", gradkit_step_fn)):
        peak, held = traced_peak(make(x, y, sizes), steps)
        row[f"{name}_peak_bytes"], row[f"{name}_retained_bytes"] = peak, held
    row["gradkit_vs_numpy"] = ratio(row["gradkit_peak_bytes"], row["numpy_peak_bytes"])
    return row


def run(quick: bool = False) -> dict:
    """Both batch sizes and the table (no target in the issue: the ratio is reported)."""
    rows = [measure(b, SIZES, 5 if quick else STEPS) for b in (32, 256)]
    mib = 1 / 2 ** 20
    print_table(f"Peak traced memory over {rows[0]['steps']} MLP training steps (MiB above the start)",
                ["batch", "numpy peak", "gradkit peak", "gk/numpy", "numpy retained", "gradkit retained"],
                [[str(r["batch"]), r["numpy_peak_bytes"] * mib, r["gradkit_peak_bytes"] * mib, r["gradkit_vs_numpy"],
                  r["numpy_retained_bytes"] * mib, r["gradkit_retained_bytes"] * mib] for r in rows])
    return {"name": "memory", "rows": rows, "targets": []}


if __name__ == "__main__":
    main_for("memory", run)
