"""Python bytecodes executed per MLP training step, by function (and by line of one function).

Where the MLP step loses to hand-written numpy is Python's bookkeeping, spread over many small
functions: this counts it exactly (``sys.settrace`` opcode events; deterministic, no valgrind),
so a change can be judged by what it removes. A bytecode is not a unit of time -- one may call
a matrix product -- and between products that have just swept the caches each costs several
times what it costs in a warm loop, but the counts say where the interpreter spends its steps.

Run:  python tests/benchmarks/bytecodes.py [--batch 2] [--sizes 4,4,4,2] [--top 25] [--lines run_backward]
"""
from __future__ import annotations

import argparse
import linecache
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

try:
    from . import bench_mlp
except ImportError:  # run as a script
    import bench_mlp

ROOT = str(Path(__file__).resolve().parents[2]) + "/"


def count_bytecodes(step: Callable[[], object], steps: int = 20) -> tuple[Counter, Counter]:
    """Run ``step`` ``steps`` times under an opcode tracer; return bytecodes per step by
    ``(file, function)`` and by ``(file, function, line)`` (paths relative to the repository)."""
    by_function: Counter = Counter()
    by_line: Counter = Counter()

    def tracer(frame, event, arg):
        frame.f_trace_opcodes = True
        if event == "opcode":
            code = frame.f_code
            by_function[(code.co_filename, code.co_name)] += 1
            by_line[(code.co_filename, code.co_name, frame.f_lineno)] += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        for _ in range(steps):
            step()
    finally:
        sys.settrace(previous)
    return (Counter({(f.replace(ROOT, ""), name): n / steps for (f, name), n in by_function.items()}),
            Counter({(f.replace(ROOT, ""), name, line): n / steps for (f, name, line), n in by_line.items()}))


def step_functions(batch: int, sizes: tuple[int, ...]) -> dict[str, Callable[[], float]]:
    """gradkit's MLP step and the hand-written numpy one, warmed up."""
    x, y = bench_mlp.make_batch(batch, sizes)
    steps = {"gradkit": bench_mlp.gradkit_step_fn(x, y, sizes), "numpy": bench_mlp.numpy_step_fn(x, y, sizes)}
    for step in steps.values():
        for _ in range(5):
            step()
    return steps


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--sizes", default="4,4,4,2", help="layer sizes (the benchmark's: 784,256,128,10)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--top", type=int, default=25, help="functions listed")
    parser.add_argument("--lines", default="", help="also list bytecodes per line of this gradkit function")
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    counts = {name: count_bytecodes(step, args.steps) for name, step in step_functions(args.batch, sizes).items()}
    for name, (by_function, _) in counts.items():
        print(f"{name}: {sum(by_function.values()):,.0f} bytecodes per step")
    by_function, by_line = counts["gradkit"]
    print(f"\ngradkit, top {args.top} functions (bytecodes per step):")
    for (file, function), n in by_function.most_common(args.top):
        print(f"{n:8.0f}  {function:28s} {file}")
    if args.lines:
        print(f"\n{args.lines}, bytecodes per step by line:")
        for (file, function, line), n in sorted(by_line.items(), key=lambda kv: kv[0][2] or 0):
            if function == args.lines and line is not None:
                source = linecache.getline(str(Path(ROOT, file)), line).rstrip()
                print(f"{n:8.1f}  {file}:{line:<4d} {source[:90]}")


if __name__ == "__main__":
    main()
