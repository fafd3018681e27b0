"""Run every gradkit benchmark workload and print one summary table of the issue's targets.

Run:  python tests/benchmarks/run_all.py [--quick] [--threads N] [--rounds R] [--malloc steady|system]
                                          [--only mlp,ops,...]

Workloads (one module each, also runnable alone): mlp (training step vs numpy, PyTorch, HIPS
autograd), ops (per-op overhead vs numpy, PyTorch, HIPS), scalar (vs micrograd, numpy, HIPS),
chain (deep graphs vs PyTorch, HIPS), memory (tracemalloc peak and flatness vs numpy, import
time), training (digits to 97% vs PyTorch, HIPS). Each prints its table and writes
tests/benchmarks/results/<name>.json; the summary goes to results/summary.json.

Every contender of every case runs in its own fresh process (same BLAS/PyTorch thread limit);
R rounds (default 5, 2 with --quick), each starting every contender's process anew, all
pinned to the same CPU(s), and taking their samples in turn (lockstep: one sample each, the
order rotated every turn). Reported times are medians over rounds; a ratio gradkit / peer is,
within a round, the median over turns of the ratio of that turn's two samples, and over the
run the median of those per-round ratios (this machine's speed changes by up to 2x from one
50 ms stretch to the next, and one CPU can be slower than the other for a while). The
children run with glibc malloc set to keep its heap (no mmap below 32 MiB, no trimming): under
glibc's defaults page faults, not computation, decided the (256, 256) ratios, one way or the
other depending on what the harness held (--malloc system restores the defaults). A full run
takes about 7 minutes on 2 cores (12 with --rounds 9), --quick under 2. Not a test: nothing here fails on a time.
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
    from common import (
        DEFAULT_ROUNDS,
        MALLOC_ENV,
        default_rounds,
        environment,
        print_targets,
        save_json,
        set_malloc,
        set_threads,
    )
    _PREFIX = ""
else:
    from .common import (
        DEFAULT_ROUNDS,
        MALLOC_ENV,
        default_rounds,
        environment,
        print_targets,
        save_json,
        set_malloc,
        set_threads,
    )
    _PREFIX = __package__ + "."

WORKLOADS = ("mlp", "ops", "scalar", "chain", "memory", "training")


def main(argv: list[str] | None = None) -> dict:
    """Run the chosen workloads, print and save the summary of targets; returns the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats and small sizes (a smoke run, ~1-3 min)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads (default: numpy's current BLAS thread count); "
                             "1 gives steadier numbers on a loaded machine")
    parser.add_argument("--rounds", type=int, default=None,
                        help=f"rounds of one process per contender, the median of per-round ratios reported "
                             f"(default {DEFAULT_ROUNDS[False]}, {DEFAULT_ROUNDS[True]} with --quick)")
    parser.add_argument("--malloc", choices=sorted(MALLOC_ENV), default="steady",
                        help="glibc malloc settings of the child processes: steady (default: no mmap below 32 MiB, "
                             "no heap trimming, so page faults do not decide ratios) or system (glibc's defaults)")
    parser.add_argument("--only", default=",".join(WORKLOADS),
                        help=f"comma-separated workloads out of {','.join(WORKLOADS)}")
    args = parser.parse_args(argv)
    chosen = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    if args.rounds is not None and args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    rounds = default_rounds(args.quick, args.rounds)
    threads = set_threads(args.threads)
    set_malloc(args.malloc)
    env = environment()
    print(f"gradkit benchmarks{' (quick)' if args.quick else ''}: numpy {env['numpy']}, torch {env['torch']}, "
          f"{threads} BLAS/torch thread(s), {env['cpus']} CPUs, load average {env['loadavg']}; "
          f"{rounds} rounds, one process per contender per round, {args.malloc} malloc")

    targets, timings = [], {}
    run_start = time.perf_counter()
    for name in chosen:
        module = importlib.import_module(f"{_PREFIX}bench_{name}")
        start = time.perf_counter()
        result = module.run(args.quick, rounds)
        timings[name] = time.perf_counter() - start
        save_json(name, result)
        targets += result["targets"]
    total = time.perf_counter() - run_start
    load_after = [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None
    print_targets(targets, f"Summary of targets ({rounds} rounds, {threads} thread(s); load average at start "
                           f"{env['loadavg']}, at end {load_after}; {total / 60:.1f} min)")
    print("workload minutes: " + ", ".join(f"{k} {v / 60:.1f}" for k, v in timings.items()))
    summary = {"quick": args.quick, "threads": threads, "rounds": rounds, "malloc": args.malloc,
               "loadavg_end": load_after,
               "workload_seconds": timings, "total_seconds": total, "targets": targets}
    out = save_json("summary", summary)
    print(f"\nresults in {out.parent}", file=sys.stderr)
    return summary


if __name__ == "__main__":
    main()
