"""Workload 5: memory of 50 training steps of the MLP 784-256-128-10 (workload 1), and import time.

Peak: tracemalloc's peak over the steps, above what was allocated before them (the model, the
batch, one untimed first step's lazy state), for gradkit and the hand-written numpy step; numpy
reports its array buffers to tracemalloc, so both include every array the step makes. PyTorch
allocates outside tracemalloc's view and is left out. Each contender runs in its own fresh
process (so neither inherits the other's heap), several rounds; the ratio gradkit / numpy is the
median of the per-round ratios.

Flat over training: with ``early = steps // 5`` (step 10 of 50), the growth is the larger of
(a) the memory still held after the last step minus that held after step ``early`` (both
read after ``gc.collect()``, so garbage not yet collected does not count, a leak does) and
(b) the peak of steps ``early+1 .. steps`` minus the peak of steps ``1 .. early``. Training
is flat when that growth is at most 5% of the peak of the first ``early`` steps.

Import time: ``import gradkit`` timed right after ``import numpy`` in fresh processes
(``python -c``, from a neutral directory), after one untimed process that warms the file
cache; the median over the processes is what gradkit adds to importing numpy.

Run:  python tests/benchmarks/bench_memory.py [--quick] [--threads N] [--rounds R]
"""
from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Callable

try:
    from .bench_mlp import SIZES, gradkit_step_fn, make_batch, numpy_step_fn
    from .common import (
        Target,
        default_rounds,
        main_for,
        make_case,
        print_table,
        run_rounds,
    )
except ImportError:  # run as a script
    from bench_mlp import SIZES, gradkit_step_fn, make_batch, numpy_step_fn
    from common import (
        Target,
        default_rounds,
        main_for,
        make_case,
        print_table,
        run_rounds,
    )

STEPS = 50
FLAT_TOLERANCE = 0.05  # growth from step steps // 5 to the last step, as a fraction of the early peak
CONTENDERS = {"numpy": numpy_step_fn, "gradkit": gradkit_step_fn}
IMPORT_CODE = ("import time; t0 = time.perf_counter(); import numpy; t1 = time.perf_counter(); "
               "import gradkit; t2 = time.perf_counter(); print(t1 - t0, t2 - t1)")


def traced_run(step: Callable[[], object], steps: int) -> dict[str, int]:
    """Bytes above the start over ``steps`` calls: the peak of the first ``steps // 5`` steps and of the
    rest, and the memory held (after ``gc.collect()``) at step ``steps // 5`` and at the end."""
    early = max(1, steps // 5)
    step()  # first-call allocations (lazy state, caches) are not part of the steady state
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for i in range(1, steps + 1):
            step()
            if i == early:
                peak_early = tracemalloc.get_traced_memory()[1]
                gc.collect()
                held_early = tracemalloc.get_traced_memory()[0]
                tracemalloc.reset_peak()
        peak_late = tracemalloc.get_traced_memory()[1]
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    if steps == early:
        peak_late = peak_early
    return {"peak_bytes": max(peak_early, peak_late) - start, "peak_early_bytes": peak_early - start,
            "peak_late_bytes": peak_late - start, "held_early_bytes": held_early - start, "held_bytes": held - start,
            "early_step": early, "steps": steps}


def flat_growth(r: dict) -> float:
    """The growth of training's memory (see the module docstring) as a fraction of the early peak."""
    growth = max(r["held_bytes"] - r["held_early_bytes"], r["peak_late_bytes"] - r["peak_early_bytes"])
    return growth / r["peak_early_bytes"]


def contender(name: str, batch: int, sizes: list[int] | tuple[int, ...] = SIZES,
              steps: int = STEPS) -> Callable[[], dict[str, int]]:
    """The traced run of ``steps`` training steps of contender ``name`` (what a worker process calls once)."""
    x, y = make_batch(batch, tuple(sizes))
    step = CONTENDERS[name](x, y, tuple(sizes))
    return lambda: traced_run(step, steps)


def measure(batch: int, sizes: tuple[int, ...] = SIZES, steps: int = STEPS, rounds: int = 5,
            runner: Callable[[dict], dict] | None = None) -> dict:
    """Peak and held bytes of ``steps`` training steps per contender (medians over rounds, one process each)."""
    cases = {name: make_case("bench_memory", name, {"batch": batch, "sizes": list(sizes), "steps": steps},
                             repeat=1, number=1, warmup=0) for name in CONTENDERS}
    res = run_rounds(cases, rounds, runner)
    row: dict = {"batch": batch, "sizes": list(sizes), "steps": steps, "rounds": rounds}
    for name in CONTENDERS:
        for key in ("peak_bytes", "peak_early_bytes", "peak_late_bytes", "held_early_bytes", "held_bytes"):
            row[f"{name}_{key}"] = res.median(name, key)
        runs = [r for r in res.results[name] if r and r.get("available")]
        row[f"{name}_flat_growth"] = statistics.median(flat_growth(r) for r in runs) if runs else None
    row["gradkit_vs_numpy"] = res.ratio("gradkit", "numpy", "peak_bytes")
    row["per_round"] = res.as_dict()
    return row


def import_times(processes: int = 7) -> dict:
    """Median milliseconds of ``import numpy`` and of ``import gradkit`` right after it, over fresh processes."""
    samples = []
    for i in range(processes + 1):
        out = subprocess.run([sys.executable, "-c", IMPORT_CODE], cwd=tempfile.gettempdir(), capture_output=True,
                             text=True, check=True, timeout=120).stdout.split()
        if i:  # the first process only warms the file cache
            samples.append([float(v) * 1e3 for v in out])
    return {"processes": processes, "numpy_import_ms": statistics.median(s[0] for s in samples),
            "gradkit_import_ms": statistics.median(s[1] for s in samples),
            "samples_ms": [{"numpy": s[0], "gradkit": s[1]} for s in samples]}


def targets(rows: list[dict], imports: dict) -> list[Target]:
    """The issue's memory targets: peak vs numpy and flat training per batch size, import time."""
    out = []
    for r in rows:
        out += [Target("memory", f"batch {r['batch']}: peak gradkit / numpy", r["gradkit_vs_numpy"], 1.3),
                Target("memory", f"batch {r['batch']}: flat, growth step {r['steps'] // 5}->{r['steps']} / peak",
                       r["gradkit_flat_growth"], FLAT_TOLERANCE, "")]
    return out + [Target("memory", "import gradkit after numpy (ms)", imports["gradkit_import_ms"], 150.0, " ms")]


def run(quick: bool = False, rounds: int | None = None) -> dict:
    """Both batch sizes, import time, the tables and the targets."""
    rounds = default_rounds(quick, rounds)
    rows = [measure(b, SIZES, 10 if quick else STEPS, rounds) for b in (32, 256)]
    imports = import_times(2 * rounds + 1)
    mib = 1 / 2 ** 20
    print_table(f"Traced memory over {rows[0]['steps']} MLP training steps (MiB above the start, median of "
                f"{rounds} rounds; flat: growth from step {rows[0]['steps'] // 5} / early peak)",
                ["batch", "numpy peak", "gradkit peak", "gk/numpy", "numpy held", "gradkit held", "numpy flat",
                 "gradkit flat"],
                [[str(r["batch"]), r["numpy_peak_bytes"] * mib, r["gradkit_peak_bytes"] * mib, r["gradkit_vs_numpy"],
                  r["numpy_held_bytes"] * mib, r["gradkit_held_bytes"] * mib, r["numpy_flat_growth"],
                  r["gradkit_flat_growth"]] for r in rows if r["gradkit_peak_bytes"] is not None])
    print_table(f"Import time, median of {imports['processes']} fresh processes (ms)",
                ["import numpy", "import gradkit after numpy"],
                [[imports["numpy_import_ms"], imports["gradkit_import_ms"]]])
    return {"name": "memory", "rounds": rounds, "rows": rows, "imports": imports, "targets": targets(rows, imports)}


if __name__ == "__main__":
    main_for("memory", run)
