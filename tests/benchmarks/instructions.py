"""CPU instructions per op or per step, counted by valgrind: a deterministic figure for tuning.

Wall-clock ratios on a shared virtual machine drift by more than many a change is worth (two
runs of the same code have differed by 25%). Python's per-op bookkeeping is instruction-bound,
so counting the instructions a workload executes (valgrind's callgrind, with address-space
randomisation off, a fixed hash seed and one BLAS thread) tells whether a change to the engine
made it cheaper, reproducibly to a fraction of a percent. Each figure is
``(instructions with N units - instructions with 0 units) / N``, so start-up and import cancel.

It is not a timing: numpy's and BLAS's work is counted at the same weight as the interpreter's,
and cache misses are not counted at all. The timed benchmarks (run_all.py) stay the reference
for the issue's targets; this is the tool for comparing two versions of gradkit.

Run:  python tests/benchmarks/instructions.py [--only fwd,bwd] [--units N]
(needs valgrind; compare versions by running it in each checkout)
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

# name -> (what a unit is, default number of units, code run by the child with ``n`` units)
WORKLOADS = {
    "fwd": ("recorded op, shape (8,)", 20000, """
import gradkit.autograd as ag, numpy as np
x = ag.tensor(np.ones(8), requires_grad=True)
def run(n):
    y = x
    for k in range(n):
        y = y * 1.5 if k % 2 == 0 else y + 1.0
    return y
run(100)
gc.disable()
y = run(n)
"""),
    "bwd": ("node walked by backward, shape (8,)", 20000, """
import gradkit.autograd as ag, numpy as np
x = ag.tensor(np.ones(8), requires_grad=True)
y = x
for k in range(20000):
    y = y * 1.5 if k % 2 == 0 else y + 1.0
gc.disable()
if n:
    y.backward(ag.ones(8, dtype=np.float64))
"""),
    "no_grad": ("op under no_grad (* + tanh exp), shape (8,)", 20000, """
import gradkit.autograd as ag, numpy as np
x, a, b = (ag.tensor(np.ones(8, np.float32)) for _ in range(3))
def run(n):
    with ag.no_grad():
        y = x
        for k in range(n):
            m = k % 4
            y = y * a if m == 0 else y + b if m == 1 else y.tanh() if m == 2 else y.exp()
run(100)
gc.disable()
run(n)
"""),
    "mlp_tiny": ("training step of a 4-4-4-2 MLP (nn, loss, SGD; batch 2)", 2000, """
import bench_mlp  # (this file's folder is on sys.path)
x, y = bench_mlp.make_batch(2, (4, 4, 4, 2))
step = bench_mlp.gradkit_step_fn(x, y, (4, 4, 4, 2))
for _ in range(20):
    step()
gc.disable()
for _ in range(n):
    step()
"""),
    "scalar_batched": ("batched 2-16-16-1 step on 100 points", 1000, """
import bench_scalar
X, y, ws = bench_scalar.make_problem(100)
step = bench_scalar.gradkit_batched_step_fn(X, y, ws)
for _ in range(20):
    step()
gc.disable()
for _ in range(n):
    step()
"""),
}


def count(name: str, n: int) -> int:
    """Instructions executed by a child process running ``name`` with ``n`` units."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               sys.executable, __file__, "--child", name, str(n)]
    if shutil.which("setarch"):  # no address-space randomisation: dict and set layouts repeat
        command = ["setarch", "-R"] + command
    env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    for line in done.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1])
    raise RuntimeError(f"valgrind did not report a count for {name}:\n{done.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(WORKLOADS), help=f"comma-separated from {list(WORKLOADS)}")
    parser.add_argument("--units", type=int, default=None, help="units per workload (default: its own)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, n = args.child[0], int(args.child[1])
        exec("import gc\n" + WORKLOADS[name][2], {"n": n})  # noqa: S102  (our own fixed snippets)
        return
    if not shutil.which("valgrind"):
        sys.exit("instructions.py needs valgrind (apt-get install valgrind)")
    names = [s for s in args.only.split(",") if s]
    unknown = [s for s in names if s not in WORKLOADS]
    if unknown:
        sys.exit(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    for name in names:
        unit, default_n, _ = WORKLOADS[name]
        n = args.units or default_n
        per_unit = (count(name, n) - count(name, 0)) / n
        print(f"{name:15s} {per_unit:12,.0f} instructions per {unit}", flush=True)


if __name__ == "__main__":
    main()
