"""Shared benchmark helpers: one process per timing, interleaved rounds, medians of ratios, tables, JSON.

How every workload module (bench_*.py) times its contenders (gradkit, hand-written numpy,
PyTorch, HIPS autograd, micrograd, ...):

- A *case* is a small JSON-able dict (:func:`make_case`): the bench module, the contender's
  name, the workload's parameters (batch, shape, length, ...), warm-up calls, repeats, calls
  per repeat and the BLAS/PyTorch thread count. Each module has one function
  ``contender(name, **params)`` that builds the contender's zero-argument callable (or None
  when its library is missing) from those parameters.
- A round times every contender of a case side by side (:func:`run_lockstep`): each in its own
  fresh child process, ``python -m tests.benchmarks.worker --lockstep '<case json>'``, which
  limits numpy's BLAS (threadpoolctl) and PyTorch to the thread count, builds the callable,
  calls it ``warmup`` times and then waits; the parent then asks the children for one sample
  (``number`` calls) each in turn, ``repeat`` times, the order rotated every sample, so the
  samples of one turn are taken milliseconds apart, all children pinned to the same CPU(s)
  (:func:`round_cpus`). A callable may also return a dict of
  numbers (its own ``time_s``, peak bytes, epochs...): their medians come back too, and its
  ``time_s`` replaces the wall time. (:func:`run_case` times one case alone in a child.)
- :func:`run_rounds` runs ``rounds`` rounds, fresh processes each round, the order of the
  contenders rotated by one each round. This machine's speed changes by up to 2x within
  a second (the same numpy loop alternates between ~0.57 and ~1.15 µs per op from one
  50 ms stretch to the next), so a ratio gradkit / peer is taken turn by turn: within a round,
  the median over turns of the ratio of the two samples of one turn; over the run, the median
  of those per-round ratios (:meth:`Rounds.ratio`). A contender's time is the median over
  rounds of its per-round median.

Nothing here asserts a time.
"""
from __future__ import annotations

import importlib
import json
import os
import platform
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REPO_ROOT = Path(__file__).resolve().parents[2]  # the children run from here, as python -m tests.benchmarks.worker


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
    _STATE["threads"] = numpy_blas_threads()
    return _STATE["threads"]


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
    """HIPS ``autograd`` (``pip install autograd``) as ``(autograd.numpy, autograd.grad)``, or None.

    Run from the repository's root (``python -m``, pytest), ``import autograd`` would find
    gradkit's own ``autograd/`` folder first; the repository root is kept off ``sys.path``
    while HIPS is imported, and a module imported from that folder under the name is dropped.
    """
    def from_repo(mod: Any) -> bool:
        return REPO_ROOT / "autograd" in Path(getattr(mod, "__file__", None) or REPO_ROOT).resolve().parents

    for name in [m for m in sys.modules if m == "autograd" or m.startswith("autograd.")]:
        if from_repo(sys.modules[name]):
            del sys.modules[name]
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if Path(p or os.getcwd()).resolve() != REPO_ROOT]
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return None
    finally:
        sys.path[:] = saved
    if from_repo(autograd):
        return None
    return anp, autograd.grad


# ----------------------------------------------------------------------------- one case, one process
WORKER_MODULE = "tests.benchmarks.worker"
RESULT_MARKER = "BENCH-RESULT "  # prefixes the child's JSON line, so stray prints cannot be mistaken for it
DEFAULT_ROUNDS = {False: 5, True: 2}  # full run, --quick
# glibc malloc in the children. "system": its defaults, under which a 256 KiB array is mmap'd or
# the freed heap top is trimmed back to the OS depending on what the caller happens to hold, so
# the same numpy loop ran 14 or 45 ms per call on (256, 256) depending on the harness. "steady":
# no mmap below 32 MiB and no trimming, so every contender reuses warm heap pages and the
# ratios compare computation, not page faults. Other C libraries ignore these variables.
MALLOC_ENV = {"steady": {"MALLOC_MMAP_THRESHOLD_": str(32 * 2 ** 20), "MALLOC_TRIM_THRESHOLD_": str(2 ** 32)},
              "system": {}}
_STATE: dict[str, Any] = {"threads": None, "malloc": "steady"}  # what set_threads/set_malloc chose for children


class BenchError(RuntimeError):
    """A benchmark child process failed (its stderr tail is in the message)."""


def set_malloc(mode: str) -> str:
    """Choose the children's malloc settings, ``"steady"`` (default) or ``"system"`` (see MALLOC_ENV)."""
    if mode not in MALLOC_ENV:
        raise ValueError(f"malloc mode must be one of {sorted(MALLOC_ENV)}, got {mode!r}")
    _STATE["malloc"] = mode
    return mode


def default_rounds(quick: bool, rounds: int | None = None) -> int:
    """``rounds`` when given, else 5 for a full run and 2 for ``--quick``."""
    if rounds is not None and rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    return rounds if rounds is not None else DEFAULT_ROUNDS[bool(quick)]


def make_case(module: str, contender: str, params: dict | None = None, repeat: int = 5, number: int = 1,
              warmup: int = 1, threads: int | None = None, malloc: str | None = None) -> dict:
    """A JSON-able description of one timing: ``module.contender(contender, **params)``, timed in a child.

    Args:
        module: the bench module's name, e.g. ``"bench_mlp"``.
        contender: the name its ``contender()`` function builds, e.g. ``"gradkit"``.
        params: the workload's keyword arguments (JSON-able: lists, not tuples).
        repeat: samples taken in the child (its median is the child's answer).
        number: calls per sample (raise it for microsecond-scale callables).
        warmup: untimed calls before the first sample.
        threads: BLAS and PyTorch threads in the child (default: what :func:`set_threads` applied here).
        malloc: the child's malloc settings, a key of MALLOC_ENV (default: :func:`set_malloc`'s choice).

    Returns:
        the case dict.
    """
    return {"module": module, "contender": contender, "params": dict(params or {}), "repeat": int(repeat),
            "number": int(number), "warmup": int(warmup),
            "threads": _STATE["threads"] if threads is None else int(threads),
            "malloc": _STATE["malloc"] if malloc is None else malloc}


def _contender(case: dict) -> Callable[[], Any] | None:
    """Build the case's callable (None: its library is missing) under the case's thread limit."""
    if case.get("threads") is not None:
        set_threads(case["threads"])
    package = __package__ or ""
    module = importlib.import_module(f"{package}.{case['module']}" if package else case["module"])
    return module.contender(case["contender"], **case["params"])


def _sample(fn: Callable[[], Any], number: int) -> dict:
    """One sample: ``number`` calls; ``wall_s`` per call and the median of each number the calls returned
    (``time_s``: the callable's own when it returns one, else the wall time)."""
    returned: list[dict] = []
    start = time.perf_counter()
    for _ in range(number):
        out = fn()
        if isinstance(out, dict):
            returned.append(out)
        out = None  # what a contender returns never keeps memory alive across calls
    sample: dict[str, Any] = {"wall_s": (time.perf_counter() - start) / number}
    for key in {k for out in returned for k, v in out.items() if isinstance(v, (int, float)) and v is not None}:
        sample[key] = statistics.median(float(out[key]) for out in returned if out.get(key) is not None)
    sample.setdefault("time_s", sample["wall_s"])
    return sample


def _summary(samples: list[dict]) -> dict:
    """A contender's result from its samples: the median of each key, ``samples_s`` (the walls) and
    ``samples`` (every sample, in order: a lockstep round pairs them turn by turn)."""
    result: dict[str, Any] = {"available": True, "samples_s": [s["wall_s"] for s in samples], "samples": samples}
    for key in {k for s in samples for k in s}:
        result[key] = statistics.median(s[key] for s in samples if key in s)
    return result


def _process_info() -> dict:
    torch = sys.modules.get("torch")  # only the contenders that use PyTorch import it
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"pid": os.getpid(), "cpus": cpus, "blas_threads": numpy_blas_threads(),
            "torch_threads": torch.get_num_threads() if torch is not None else None,
            "malloc_env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")}}


def run_inline(case: dict) -> dict:
    """Time one case in this process (what :func:`run_case`'s child does; also the smoke test's runner).

    The case's ``malloc`` setting takes effect only in a child (:func:`run_case`), whose
    environment it sets.

    Returns:
        ``{"available": False}`` when the contender's library is missing; else ``available``,
        the median over samples of ``time_s`` (seconds per call: the callable's own ``time_s``
        when it returns one, else the wall time), ``wall_s`` and each number the callable
        returned, ``samples_s`` (every sample's wall seconds per call), ``samples`` (every
        sample's numbers), ``pid``, ``blas_threads``, ``torch_threads`` (None when the contender
        did not import PyTorch) and ``malloc_env``.
    """
    fn = _contender(case)
    if fn is None:
        return {"available": False}
    for _ in range(case["warmup"]):
        fn()
    return _summary([_sample(fn, case["number"]) for _ in range(case["repeat"])]) | _process_info()


def _serve_lockstep(case: dict) -> None:
    """The lockstep child: build and warm up, say so, then take one sample per ``go`` line on stdin."""
    if case.get("cpus"):
        os.sched_setaffinity(0, case["cpus"])
    fn = _contender(case)
    if fn is None:
        _send({"available": False})
        return
    for _ in range(case["warmup"]):
        fn()
    _send({"ready": True})
    for line in sys.stdin:
        if line.strip() != "go":
            break
        _send(_sample(fn, case["number"]))
    _send(_process_info())


def _send(message: dict) -> None:
    sys.stdout.write(RESULT_MARKER + json.dumps(message) + "\n")
    sys.stdout.flush()


def worker_main(argv: list[str] | None = None) -> None:
    """The child's entry point: ``python -m tests.benchmarks.worker [--lockstep] '<case json>'``.

    Alone it times the case (:func:`run_inline`) and prints the result; with ``--lockstep`` it
    serves samples on request (:func:`run_lockstep`).
    """
    argv = sys.argv[1:] if argv is None else argv
    lockstep = argv[:1] == ["--lockstep"]
    argv = argv[1:] if lockstep else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m tests.benchmarks.worker [--lockstep] '<case json>'")
    case = json.loads(argv[0])
    if lockstep:
        _serve_lockstep(case)
    else:
        _send(run_inline(case))


def _child_env(case: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(MALLOC_ENV[case.get("malloc", "system")])
    return env


def _label(case: dict) -> str:
    return f"{case['module']}:{case['contender']} {case['params']}"


def run_case(case: dict, timeout: float = 900.0) -> dict:
    """Time one case in a fresh child process (``sys.executable -m tests.benchmarks.worker``).

    Raises:
        BenchError: the child exited non-zero, timed out or printed no result.
    """
    cmd = [sys.executable, "-m", WORKER_MODULE, json.dumps(case)]
    label = _label(case)
    try:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=_child_env(case), capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        raise BenchError(f"{label}: no result after {timeout:.0f} s") from err
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_MARKER)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise BenchError(f"{label}: child exited with {proc.returncode}:\n{tail}")
    return json.loads(lines[-1][len(RESULT_MARKER):])


class _LockstepChild:
    """One contender's child in a lockstep round: a message per request, read with a timeout."""

    def __init__(self, case: dict, timeout: float) -> None:
        self.label, self.timeout, self._buffer = _label(case), timeout, b""
        self._stderr = tempfile.TemporaryFile()  # (a pipe nobody reads could fill up and stall the child)
        self.proc = subprocess.Popen([sys.executable, "-m", WORKER_MODULE, "--lockstep", json.dumps(case)],
                                     cwd=REPO_ROOT, env=_child_env(case), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr)

    def ask(self, word: str) -> dict:
        """Send ``go`` (one sample) or ``done`` (the process facts, then the child exits); return its answer."""
        try:
            self.proc.stdin.write(word.encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # it exited: receive() reports how
        return self.receive()

    def receive(self) -> dict:
        """The child's next message (lines without the marker are stray prints, skipped)."""
        deadline = time.monotonic() + self.timeout
        fd = self.proc.stdout.fileno()
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line, self._buffer = self._buffer[:end].decode(errors="replace"), self._buffer[end + 1:]
                if line.startswith(RESULT_MARKER):
                    return json.loads(line[len(RESULT_MARKER):])
                continue
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise BenchError(f"{self.label}: no answer after {self.timeout:.0f} s")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                self._stderr.seek(0)
                tail = "\n".join(self._stderr.read().decode(errors="replace").strip().splitlines()[-8:])
                raise BenchError(f"{self.label}: child exited with {self.proc.wait()}:\n{tail}")
            self._buffer += chunk

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self._stderr):
            stream.close()


def round_cpus(cases: dict[str, dict], r: int) -> list[int] | None:
    """The CPUs every child of round ``r`` is pinned to: as many as the cases' thread count, the
    allowed CPUs taken in turn from round to round (None: no thread count, or no affinity call).

    On this virtual machine one CPU can run at half the other's speed for a while: with the two
    children of a round free to run on different CPUs, rounds of the no_grad (8,) gradkit / numpy
    ratio measured 1.2 or 3.2 where most gave 2.2; pinned together, 2.14-2.32 in three runs.
    """
    threads = [case.get("threads") for case in cases.values()]
    if not hasattr(os, "sched_getaffinity") or None in threads or not threads:
        return None
    allowed = sorted(os.sched_getaffinity(0))
    n = max(threads)
    if n > len(allowed):
        return None
    start = r % len(allowed)
    return (allowed[start:] + allowed[:start])[:n]


def run_lockstep(cases: dict[str, dict], order: list[str] | None = None, timeout: float = 900.0,
                 cpus: list[int] | None = None) -> dict[str, dict | None]:
    """One round: every contender in its own fresh child, their samples taken in turn.

    The children start and warm up one after another (no two warm-ups overlap), then wait;
    turn after turn, each is asked for one sample (``number`` calls), the order rotated every
    turn, until each has given its case's ``repeat``. Only one child computes at a time, and the
    samples of one turn are milliseconds apart, so they mostly see the machine at the same
    speed, whatever it does between turns (see :meth:`Rounds.ratios`).

    Args:
        cases: contender name -> case (:func:`make_case`).
        order: the order of the contenders in the first turn (default: ``cases``' order).
        timeout: seconds to wait for any one answer of a child.
        cpus: pin every child to these CPUs (:func:`round_cpus`); None: where the OS puts them.

    Returns:
        name -> :func:`run_inline`'s result plus ``lockstep: True`` (``{"available": False}`` when
        its library is missing; None when its child failed: reported on stderr).
    """
    order = list(cases) if order is None else order
    results: dict[str, dict | None] = dict.fromkeys(order)
    children: dict[str, _LockstepChild] = {}
    samples: dict[str, list[dict]] = {}

    def fail(name: str, err: BenchError) -> None:
        print(f"warning: {err}", file=sys.stderr)
        children.pop(name).close()

    try:
        for name in order:
            children[name] = _LockstepChild(cases[name] | ({"cpus": cpus} if cpus else {}), timeout)
            try:
                first = children[name].receive()
            except BenchError as err:
                fail(name, err)
                continue
            if not first.get("ready"):  # its library is missing
                results[name] = first
                children.pop(name).close()
            else:
                samples[name] = []
        live = list(children)
        for turn in range(max((cases[name]["repeat"] for name in live), default=0)):
            shift = turn % len(live)
            for name in live[shift:] + live[:shift]:
                if name in children and turn < cases[name]["repeat"]:
                    try:
                        samples[name].append(children[name].ask("go"))
                    except BenchError as err:
                        fail(name, err)
        for name in list(children):
            try:
                results[name] = _summary(samples[name]) | children[name].ask("done") | {"lockstep": True}
            except BenchError as err:
                fail(name, err)
    finally:
        for child in children.values():
            child.close()
    return results


class Rounds:
    """Per-round results of the contenders of one case: ``results[name][r]`` (None: that run failed).

    Times are medians over rounds; ratios are medians over rounds of the per-round ratios.
    """

    def __init__(self, results: dict[str, list[dict | None]]) -> None:
        self.results = results

    def values(self, name: str, key: str = "time_s") -> list[float | None]:
        """``key`` of contender ``name`` in each round (None where missing, failed or unavailable)."""
        return [r.get(key) if r and r.get("available") else None for r in self.results.get(name, [])]

    def available(self, name: str) -> bool:
        """Whether the contender ran (its library is installed and its runs did not all fail)."""
        return any(v is not None for v in self.values(name))

    def median(self, name: str, key: str = "time_s") -> float | None:
        """Median over rounds of ``key`` (None when no round has it)."""
        vals = [v for v in self.values(name, key) if v is not None]
        return statistics.median(vals) if vals else None

    def ratios(self, a: str, b: str, key: str = "time_s") -> list[float]:
        """a / b of ``key`` in each round where both ran: for a lockstep round (:func:`run_lockstep`),
        the median over turns of the ratio of the two samples taken in that turn; otherwise the
        ratio of the two results."""
        out = []
        for x, y in zip(self.results.get(a, []), self.results.get(b, [])):
            if not (x and y and x.get("available") and y.get("available")):
                continue
            if x.get("lockstep") and y.get("lockstep"):
                turns = [p[key] / q[key] for p, q in zip(x["samples"], y["samples"])
                         if p.get(key) is not None and q.get(key)]
                if turns:
                    out.append(statistics.median(turns))
            elif x.get(key) is not None and y.get(key):
                out.append(x[key] / y[key])
        return out

    def ratio(self, a: str, b: str, key: str = "time_s") -> float | None:
        """Median over rounds of the per-round ratio a / b (None when no round has both)."""
        rs = self.ratios(a, b, key)
        return statistics.median(rs) if rs else None

    def as_dict(self) -> dict:
        """The per-round results, for the JSON file."""
        return self.results


def run_rounds(cases: dict[str, dict], rounds: int,
               runner: Callable[[dict], dict] | None = None) -> Rounds:
    """Run every case once per round, each in its own process, the order rotated by one each round.

    Args:
        cases: contender name -> case (:func:`make_case`).
        rounds: how many rounds.
        runner: times one case at a time (:func:`run_case`: a child of its own; :func:`run_inline`
            in tests); default: the contenders of a round side by side, :func:`run_lockstep`.

    Returns:
        the per-round results; a failed run is reported on stderr and kept as None.
    """
    names = list(cases)
    results: dict[str, list[dict | None]] = {name: [None] * rounds for name in names}
    for r in range(rounds):
        shift = r % max(1, len(names))
        order = names[shift:] + names[:shift]
        if runner is None:
            for name, result in run_lockstep(cases, order, cpus=round_cpus(cases, r)).items():
                results[name][r] = result
            continue
        for name in order:
            try:
                results[name][r] = runner(cases[name])
            except BenchError as err:
                print(f"warning: {err}", file=sys.stderr)
    return Rounds(results)


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
            "cpus": os.cpu_count(), "loadavg": load, "child_malloc": _STATE["malloc"],
            "time": time.strftime("%Y-%m-%d %H:%M:%S")}


def save_json(name: str, result: dict) -> Path:
    """Write ``result`` (with the environment) to tests/benchmarks/results/<name>.json."""
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"{name}.json"
    payload = {"environment": environment(), **result}
    payload["targets"] = [t.as_dict() if isinstance(t, Target) else t for t in result.get("targets", [])]
    out.write_text(json.dumps(payload, indent=2, default=float))
    return out


def main_for(name: str, run: Callable[[bool, int | None], dict]) -> None:
    """Command line of one workload module: ``python bench_x.py [--quick] [--threads N] [--rounds R] [--malloc M]``."""
    import argparse
    parser = argparse.ArgumentParser(description=f"gradkit benchmark: {name}")
    parser.add_argument("--quick", action="store_true", help="small repeats and sizes (a smoke run)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads (default: numpy's current BLAS thread count)")
    parser.add_argument("--rounds", type=int, default=None,
                        help=f"rounds of one process per contender (default {DEFAULT_ROUNDS[False]}, "
                             f"{DEFAULT_ROUNDS[True]} with --quick)")
    parser.add_argument("--malloc", choices=sorted(MALLOC_ENV), default="steady",
                        help="malloc settings of the child processes (see MALLOC_ENV in common.py)")
    args = parser.parse_args()
    set_threads(args.threads)
    set_malloc(args.malloc)
    result = run(args.quick, args.rounds)
    if result.get("targets"):
        print_targets(result["targets"], f"Targets ({name})")
    print(f"written {save_json(name, result)}", file=sys.stderr)
