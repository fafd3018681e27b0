"""Shared benchmark helpers: interleaved median timing, thread matching, tables, targets and JSON results.

Every workload module (bench_*.py) times gradkit and its peers with :func:`compare`, which
interleaves the repeats of all contenders (round-robin, rotating the order each round) so a
burst of load from other processes on a shared machine hits them all alike, and reports the
median of the repeats after a warm-up. Nothing here asserts a time.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"


# ----------------------------------------------------------------------------- optional peers
def numpy_blas_threads() -> int:
    """Threads numpy's own BLAS uses (threadpoolctl when installed, else the CPU count).

    Only the BLAS library shipped with numpy counts: scipy (imported by scikit-learn) loads
    another one, with its own thread count.
    """
    try:
        from threadpoolctl import threadpool_info
        blas = [info for info in threadpool_info() if info.get("user_api") == "blas"]
        own = [info for info in blas if "numpy" in str(info.get("filepath", ""))] or blas
        if own:
            return int(own[0]["num_threads"])
    except ImportError:
        pass
    return os.cpu_count() or 1


_THREAD_LIMIT: list = []  # keeps the threadpoolctl limiter of set_threads alive


def set_threads(n: int | None) -> int:
    """Limit numpy's BLAS to ``n`` threads (None: leave it); PyTorch is then matched to it.

    On a loaded shared machine ``--threads 1`` gives steadier numbers (a busy-waiting BLAS
    thread pool competing with other processes can slow a step several times over).

    Returns:
        numpy's BLAS thread count now.
    """
    if n is not None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError as err:
            raise ImportError("--threads needs threadpoolctl: pip install threadpoolctl") from err
        _THREAD_LIMIT[:] = [threadpool_limits(limits=int(n), user_api="blas")]
    return numpy_blas_threads()


def import_torch() -> Any:
    """PyTorch with its intra-op thread count set to numpy's BLAS threads, or None when missing."""
    try:
        import torch
    except ImportError:
        return None
    threads = numpy_blas_threads()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return torch


def import_hips_autograd() -> Any:
    """HIPS ``autograd`` (``pip install autograd``) as ``(autograd.numpy, autograd.grad)``, or None."""
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return None
    return anp, autograd.grad


# ----------------------------------------------------------------------------- timing
def compare(fns: dict[str, Callable[[], object]], repeat: int = 7, number: int = 1,
            warmup: int = 1) -> dict[str, float]:
    """Median seconds per call of each function, repeats interleaved across the functions.

    Each function is first called ``warmup`` times; then ``repeat`` rounds each time every
    function ``number`` times in a row (the mean of those calls is one sample), the order of
    the functions rotated every round. Entries whose function is None are skipped (an absent
    peer) and come back as None.

    Args:
        fns: name -> zero-argument callable (or None).
        repeat: rounds (samples per function).
        number: calls per sample (raise it for microsecond-scale functions).
        warmup: untimed calls per function before the first round.

    Returns:
        name -> median seconds per call (None for a None function).
    """
    live = {k: f for k, f in fns.items() if f is not None}
    for f in live.values():
        for _ in range(warmup):
            f()
    samples: dict[str, list[float]] = {k: [] for k in live}
    names = list(live)
    for r in range(repeat):
        shift = r % max(1, len(names))
        for name in names[shift:] + names[:shift]:
            f = live[name]
            start = time.perf_counter()
            for _ in range(number):
                f()
            samples[name].append((time.perf_counter() - start) / number)
    return {k: (statistics.median(samples[k]) if k in samples else None) for k in fns}


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing."""
    return None if a is None or b is None or b == 0 else a / b


# ----------------------------------------------------------------------------- targets
@dataclass
class Target:
    """One issue target: ``measured <= limit`` passes (None measured: the peer is missing)."""

    workload: str
    name: str
    measured: float | None
    limit: float | None
    unit: str = "x"

    @property
    def status(self) -> str:
        if self.measured is None or self.limit is None:
            return "n/a"
        return "PASS" if self.measured <= self.limit else "MISS"

    def as_dict(self) -> dict:
        return {**asdict(self), "status": self.status}


def print_targets(targets: list[Target], title: str = "Targets") -> None:
    """Print targets as a table: target, limit, measured, PASS/MISS."""
    rows = [[t.workload, t.name, fmt(t.limit, t.unit), fmt(t.measured, t.unit), t.status] for t in targets]
    print_table(title, ["workload", "target", "limit", "measured", "status"], rows)


# ----------------------------------------------------------------------------- output
def fmt(value: Any, unit: str = "") -> str:
    """A number for a table: 4 significant digits (empty for None), with its unit."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}{unit}"
    return f"{value}{unit}"


def print_table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    """Print a left-aligned text table under a title (cells formatted with :func:`fmt`)."""
    cells = [[c if isinstance(c, str) else fmt(c) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    sys.stdout.flush()


def environment() -> dict:
    """Versions, thread counts and load average, stored with every result."""
    torch = import_torch()
    hips = import_hips_autograd()
    try:
        load = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        load = None
    return {"python": platform.python_version(), "numpy": np.__version__,
            "torch": getattr(torch, "__version__", None),
            "torch_threads": torch.get_num_threads() if torch is not None else None,
            "hips_autograd": hips is not None, "blas_threads": numpy_blas_threads(),
            "cpus": os.cpu_count(), "loadavg": load, "time": time.strftime("%Y-%m-%d %H:%M:%S")}


def save_json(name: str, result: dict) -> Path:
    """Write ``result`` (with the environment) to tests/benchmarks/results/<name>.json."""
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"{name}.json"
    payload = {"environment": environment(), **result}
    payload["targets"] = [t.as_dict() if isinstance(t, Target) else t for t in result.get("targets", [])]
    out.write_text(json.dumps(payload, indent=2, default=float))
    return out


def main_for(name: str, run: Callable[[bool], dict]) -> None:
    """Command line of one workload module: ``python bench_x.py [--quick]``: run, print, save."""
    import argparse
    parser = argparse.ArgumentParser(description=f"gradkit benchmark: {name}")
    parser.add_argument("--quick", action="store_true", help="small repeats and sizes (a smoke run)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads (default: numpy's current BLAS thread count)")
    args = parser.parse_args()
    set_threads(args.threads)
    result = run(args.quick)
    if result.get("targets"):
        print_targets(result["targets"], f"Targets ({name})")
    print(f"written {save_json(name, result)}", file=sys.stderr)
