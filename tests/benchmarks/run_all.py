"""Run every gradkit benchmark workload and print one summary table of the issue's targets.

Run:  python tests/benchmarks/run_all.py [--quick] [--threads N] [--only mlp,ops,...]

Workloads (one module each, also runnable alone): mlp (training step vs numpy, PyTorch, HIPS
autograd), ops (per-op overhead), scalar (micrograd), chain (deep graphs), memory (tracemalloc
peak), training (digits to 97% vs PyTorch). Each prints its table and writes
tests/benchmarks/results/<name>.json; the summary goes to results/summary.json. Times are
medians of interleaved repeats after a warm-up, all measured in this one process, so the
ratios compare contenders under the same load. Not a test: nothing here fails on a time.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the workload modules are siblings
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import environment, print_targets, save_json, set_threads
    _PREFIX = ""
else:
    from .common import environment, print_targets, save_json, set_threads
    _PREFIX = __package__ + "."

WORKLOADS = ("mlp", "ops", "scalar", "chain", "memory", "training")


def main(argv: list[str] | None = None) -> dict:
    """Run the chosen workloads, print and save the summary of targets; returns the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats and small sizes (a smoke run, ~1-2 min)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads (default: numpy's current BLAS thread count); "
                             "1 gives steadier numbers on a loaded machine")
    parser.add_argument("--only", default=",".join(WORKLOADS),
                        help=f"comma-separated workloads out of {','.join(WORKLOADS)}")
    args = parser.parse_args(argv)
    chosen = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    threads = set_threads(args.threads)
    env = environment()
    print(f"gradkit benchmarks{' (quick)' if args.quick else ''}: numpy {env['numpy']}, torch {env['torch']}, "
          f"{threads} BLAS/torch thread(s), {env['cpus']} CPUs, load average {env['loadavg']}")

    targets, timings = [], {}
    for name in chosen:
        module = importlib.import_module(f"{_PREFIX}bench_{name}")
        start = time.perf_counter()
        result = module.run(args.quick)
        timings[name] = time.perf_counter() - start
        save_json(name, result)
        targets += result["targets"]
    load_after = [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None
    print_targets(targets, f"Summary of targets (load average at start {env['loadavg']}, at end {load_after})")
    summary = {"quick": args.quick, "threads": threads, "loadavg_end": load_after,
               "workload_seconds": timings, "targets": targets}
    out = save_json("summary", summary)
    print(f"\nresults in {out.parent}", file=sys.stderr)
    return summary


if __name__ == "__main__":
    main()
