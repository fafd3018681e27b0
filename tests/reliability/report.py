"""Run the reliability suite's long variants and print README's figures table (markdown).

Usage (from the repository root)::

    python tests/reliability/report.py           # long variants: 1,000 kills, 10**6 chain, 10,000 steps, ...
    python tests/reliability/report.py --quick   # the CI variants (under a minute)

The table goes to stdout; pytest's own output goes to stderr. Exit status is pytest's.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ROWS = [
    ("ops fuzzed and checked", ("Fuzzing (hypothesis random programs: DAGs with reuse, 0-d/empty/size-1 shapes, "
                                "±inf, NaN, ±1e300, subnormals)")),
    ("mutation score", "Mutation score of gradcheck (bugs injected into backward formulas)"),
    ("killed saves survived", "Crash-safe saves (SIGKILL at random points; load = complete old or new)"),
    ("max depth", "Depth (chain differentiated and freed without gc.collect, tracemalloc)"),
    ("memory growth", "Memory (resident growth of an MLP training run)"),
    ("upcasts found", "dtype fidelity (float64 values in float32 runs)"),
    ("reproducibility", "Reproducibility (same seed: init, dropout, shuffling, split)"),
]


def table(figures: dict) -> str:
    lines = ["| Check | Result |", "|---|---|"]
    for key, label in ROWS:
        lines.append(f"| {label} | {figures.get(key, 'not measured')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="run the CI variants instead of the long ones")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "figures.json")
        env = {**os.environ, "GRADKIT_FIGURES_JSON": out, "GRADKIT_LONG": "0" if args.quick else "1"}
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", HERE], cwd=ROOT,
                              env=env, stdout=sys.stderr, check=False)
        minutes = (time.perf_counter() - start) / 60
        figures = {}
        if os.path.exists(out):
            with open(out) as f:
                figures = json.load(f)
    print(table(figures))
    print(f"\n({'CI' if args.quick else 'long'} variants, {minutes:.1f} min on {os.cpu_count()} cores; "
          "`python tests/reliability/report.py`)")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
