"""Smoke test of the benchmark modules: the worker path once through a real child process, then
each workload at tiny sizes in this process (``runner=run_inline``: the worker's own code).

Checks the result dicts (keys, positive times, consistent ratios, every target present with a
status), never a wall-clock value; the benchmarks themselves run with
``python tests/benchmarks/run_all.py``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks import (
    bench_chain,
    bench_memory,
    bench_mlp,
    bench_ops,
    bench_scalar,
    bench_training,
    bytecodes,
    common,
    instructions,
)

STATUSES = {"PASS", "MISS", "n/a"}
HAS_HIPS = common.import_hips_autograd() is not None


def assert_times(row: dict, required: list[str], optional: list[str] = ()) -> None:
    """Required keys hold positive floats; optional ones (absent peers) are None or positive."""
    for key in required:
        assert isinstance(row[key], float) and row[key] > 0, (key, row[key])
    for key in optional:
        assert row[key] is None or row[key] > 0, (key, row[key])


def assert_targets(targets: list[common.Target], workload: str, names: list[str]) -> None:
    """Every expected target (by name fragment) is there, for this workload, with a status."""
    assert all(t.workload == workload and t.status in STATUSES for t in targets)
    for fragment in names:
        assert any(fragment in t.name for t in targets), (fragment, [t.name for t in targets])


def fake_runner(times: dict[str, list[float | None]], calls: list[str]):
    """A runner that answers from ``times[name][round]`` (None: unavailable) and records the order."""
    seen: dict[str, int] = {}

    def run(case: dict) -> dict:
        name = case["contender"]
        calls.append(name)
        t = times[name][seen.get(name, 0)]
        seen[name] = seen.get(name, 0) + 1
        if name == "broken":
            raise common.BenchError("child exited with 1")
        return {"available": False} if t is None else {"available": True, "time_s": t}

    return run


def test_rounds_rotate_the_order_and_report_medians_of_per_round_ratios():
    calls: list[str] = []
    times = {"a": [1.0, 4.0, 10.0], "b": [2.0, 1.0, 20.0], "gone": [None] * 3, "broken": [1.0] * 3}
    cases = {name: common.make_case("bench_x", name) for name in times}
    res = common.run_rounds(cases, 3, fake_runner(times, calls))
    assert calls == ["a", "b", "gone", "broken", "b", "gone", "broken", "a", "gone", "broken", "a", "b"]
    assert res.median("a") == 4.0 and res.median("b") == 2.0
    assert res.ratios("a", "b") == [0.5, 4.0, 0.5]
    assert res.ratio("a", "b") == 0.5  # the median of the per-round ratios, not 4.0 / 2.0
    assert res.median("gone") is None and res.ratio("a", "gone") is None and not res.available("gone")
    assert res.results["broken"] == [None] * 3 and res.ratio("a", "broken") is None


def test_default_rounds():
    assert common.default_rounds(False) == 5 and common.default_rounds(True) == 2
    assert common.default_rounds(True, 7) == 7
    with pytest.raises(ValueError, match="rounds"):
        common.default_rounds(False, 0)


def test_malloc_modes():
    assert common.MALLOC_ENV["system"] == {} and common.MALLOC_ENV["steady"]
    with pytest.raises(ValueError, match="malloc"):
        common.set_malloc("fast")


def test_worker_times_a_case_in_its_own_process_with_the_thread_limit():
    case = common.make_case("bench_ops", "gradkit_fwd_bwd", {"shape": [8], "n_ops": 4}, repeat=2, number=2,
                            warmup=1, threads=1)
    out = common.run_case(case)
    assert out["available"] and out["pid"] != os.getpid()
    assert out["blas_threads"] == 1 and out["torch_threads"] is None
    assert case["malloc"] == "steady" and out["malloc_env"] == common.MALLOC_ENV["steady"]
    assert len(out["samples_s"]) == 2 and out["time_s"] == out["wall_s"] > 0


def test_worker_failure_raises_bench_error_with_the_reason():
    with pytest.raises(common.BenchError, match="unknown contender"):
        common.run_case(common.make_case("bench_ops", "nope", {"shape": [8], "n_ops": 4}, threads=1))


def test_lockstep_round_takes_every_sample_in_turn_in_children_pinned_together():
    cases = {name: common.make_case("bench_ops", name, {"shape": [8], "n_ops": 4}, repeat=3, number=2, warmup=1,
                                    threads=1)
             for name in ("numpy_fwd", "gradkit_nograd_fwd", "gone")}
    cases["gone"]["params"]["shape"] = "not a shape"  # the child fails while building its contender
    res = common.run_lockstep(cases, cpus=common.round_cpus(cases, 1))
    assert res["gone"] is None
    a, b = res["gradkit_nograd_fwd"], res["numpy_fwd"]
    assert a["lockstep"] and b["lockstep"] and a["pid"] != b["pid"] != os.getpid()
    assert len(a["samples"]) == len(b["samples"]) == 3 and a["samples_s"] == [s["wall_s"] for s in a["samples"]]
    assert a["time_s"] == sorted(s["time_s"] for s in a["samples"])[1]  # the median of the samples
    if hasattr(os, "sched_getaffinity"):
        allowed = sorted(os.sched_getaffinity(0))
        assert a["cpus"] == b["cpus"] == [allowed[1 % len(allowed)]]


def test_lockstep_ratio_is_the_median_of_the_ratios_of_one_turn():
    def result(times: list[float], lockstep: bool = True) -> dict:
        samples = [{"time_s": t, "wall_s": t} for t in times]
        return {"available": True, "lockstep": lockstep, "samples": samples, "time_s": sorted(times)[1]}

    # turn by turn the machine's speed changes (1, 2, 1) and changes both sides alike
    rounds = common.Rounds({"a": [result([2.0, 4.0, 2.2])], "b": [result([1.0, 2.0, 1.0])]})
    assert rounds.ratios("a", "b") == [2.0]  # median of 2.0, 2.0, 2.2 (the medians' ratio would be 2.2)
    unpaired = common.Rounds({"a": [result([2.0, 4.0, 2.2], False)], "b": [result([1.0, 2.0, 1.0])]})
    assert unpaired.ratios("a", "b") == [2.2]  # samples not taken in turn: the ratio of the results


def test_round_cpus_follow_the_thread_count_and_rotate():
    one = {"x": common.make_case("bench_x", "x", threads=1)}
    if not hasattr(os, "sched_getaffinity"):
        assert common.round_cpus(one, 0) is None
        return
    allowed = sorted(os.sched_getaffinity(0))
    assert [common.round_cpus(one, r) for r in range(len(allowed))] == [[c] for c in allowed]
    assert common.round_cpus({"x": common.make_case("bench_x", "x", threads=len(allowed) + 1)}, 0) is None
    unlimited = {"x": dict(common.make_case("bench_x", "x"), threads=None)}
    assert common.round_cpus(unlimited, 0) is None


def test_hips_autograd_is_not_gradkits_own_autograd_folder():
    if not HAS_HIPS:
        pytest.skip("HIPS autograd not installed")
    anp, grad = common.import_hips_autograd()
    assert common.REPO_ROOT not in Path(anp.__file__).resolve().parents
    assert grad(lambda v: v * v)(3.0) == 6.0


def test_mlp_step():
    row = bench_mlp.measure(batch=4, sizes=(8, 6, 5, 3), rounds=2, repeat=1, number=1, runner=common.run_inline)
    assert_times(row, ["numpy_s", "gradkit_s"], ["torch_s", "hips_s"])
    assert row["rounds"] == 2 and len(row["per_round"]["gradkit"]) == 2
    ratios = [g["time_s"] / n["time_s"] for g, n in zip(row["per_round"]["gradkit"], row["per_round"]["numpy"])]
    assert row["gradkit_vs_numpy"] == pytest.approx(sum(ratios) / 2)  # median of two = their mean
    assert_targets(bench_mlp.targets(row, row), "mlp",
                   ["batch 256: gradkit / numpy", "gradkit / torch", "batch 32: gradkit / numpy",
                    "batch 32: gradkit / hips", "batch 256: gradkit / hips"])


def test_mlp_contenders_compute_the_same_loss():
    sizes = (8, 6, 5, 3)
    x, y = bench_mlp.make_batch(4, sizes)
    steps = [make(x, y, sizes) for make in bench_mlp.CONTENDERS.values()]
    losses = [step() for step in steps if step is not None]
    assert losses == pytest.approx([losses[0]] * len(losses), rel=1e-5)


def test_op_chain():
    row = bench_ops.measure((8,), n_ops=8, rounds=1, repeat=1, number=1, runner=common.run_inline)
    assert_times(row, ["numpy_fwd_s", "numpy_fwd_bwd_s", "gradkit_nograd_fwd_s", "gradkit_fwd_bwd_s"],
                 ["torch_fwd_bwd_s", "hips_fwd_bwd_s"])
    assert row["gradkit_fwd_bwd_us_per_op"] == pytest.approx(row["gradkit_fwd_bwd_s"] / 8 * 1e6)
    assert (row["hips_fwd_bwd_s"] is not None) == HAS_HIPS
    targets = bench_ops.targets(row, row)
    assert_targets(targets, "ops", ["per op (absolute)", "(8,): gradkit fwd+bwd / torch", "no_grad fwd / numpy",
                                    "(256,256): gradkit fwd+bwd / numpy", "(8,): gradkit fwd+bwd / hips",
                                    "(256,256): gradkit fwd+bwd / hips"])
    absolute = next(t for t in targets if "absolute" in t.name)
    assert absolute.unit == " µs" and absolute.limit == 7.0 and absolute.measured == row["gradkit_fwd_bwd_us_per_op"]


def test_hips_op_chain_gives_the_hand_written_gradients():
    if not HAS_HIPS:
        pytest.skip("HIPS autograd not installed")
    anp, _ = common.import_hips_autograd()
    from autograd import make_vjp  # HIPS: import_hips_autograd put it in sys.modules

    x, a, b = bench_ops.make_inputs((5,))
    vjp, _ = make_vjp(lambda xs: bench_ops.chain(*xs, 12, anp.tanh, anp.exp))((x, a, b))
    for got, want in zip(vjp(bench_ops.np.ones(5, bench_ops.np.float32)), bench_ops.numpy_fwd_bwd(x, a, b, 12)):
        assert got == pytest.approx(want, rel=1e-4)


def test_scalar_mlp():
    row = bench_scalar.measure(n_points=4, sizes=(2, 3, 1), rounds=1, repeat=1, batched_number=1,
                               runner=common.run_inline)
    assert_times(row, ["micrograd_s", "gradkit_0d_s", "gradkit_batched_s", "numpy_batched_s"], ["hips_batched_s"])
    assert row["micrograd_source"] in ("micrograd", "inline copy")
    assert_targets(bench_scalar.targets(row), "scalar", ["0-d / micrograd", "batched / numpy", "batched / hips"])


def test_scalar_contenders_compute_the_same_loss():
    X, y, ws = bench_scalar.make_problem(6, (2, 3, 1))
    losses = [step() for step in (make(X, y, ws) for make in bench_scalar.CONTENDERS.values()) if step is not None]
    assert losses == pytest.approx([losses[0]] * len(losses), rel=1e-9)


def test_deep_chain():
    short, long = (bench_chain.measure(length=n, rounds=1, runner=common.run_inline) for n in (50, 100))
    assert_times(long, ["gradkit_forward_s", "gradkit_backward_s", "gradkit_total_s"],
                 ["torch_total_s", "hips_total_s"])
    assert long["length"] == 100 and (long["hips_total_s"] is not None) == HAS_HIPS
    assert long["gradkit_total_s"] == pytest.approx(long["gradkit_forward_s"] + long["gradkit_backward_s"])
    targets = bench_chain.targets(short, long)
    assert_targets(targets, "chain", ["fwd+bwd, gradkit (absolute, s)", "gradkit / torch", "linear",
                                      "gradkit / hips"])
    assert targets[0].limit == pytest.approx(0.7 * 100 / 100_000)


def test_memory_peak_and_flatness():
    row = bench_memory.measure(batch=4, sizes=(8, 6, 3), steps=5, rounds=1, runner=common.run_inline)
    assert row["numpy_peak_bytes"] > 0 and row["gradkit_peak_bytes"] > 0
    assert row["gradkit_vs_numpy"] == pytest.approx(row["gradkit_peak_bytes"] / row["numpy_peak_bytes"])
    assert row["gradkit_peak_bytes"] == max(row["gradkit_peak_early_bytes"], row["gradkit_peak_late_bytes"])
    assert isinstance(row["gradkit_flat_growth"], float)
    imports = {"processes": 1, "numpy_import_ms": 50.0, "gradkit_import_ms": 10.0}
    targets = bench_memory.targets([row], imports)
    assert_targets(targets, "memory", ["peak gradkit / numpy", "flat", "import gradkit"])
    assert targets[-1].measured == 10.0 and targets[-1].limit == 150.0


def test_import_time_is_measured_in_fresh_processes():
    out = bench_memory.import_times(processes=1)
    assert out["numpy_import_ms"] > 0 and out["gradkit_import_ms"] > 0 and len(out["samples_ms"]) == 1


def test_training():
    pytest.importorskip("sklearn")
    row = bench_training.measure(sizes=(64, 8, 10), max_epochs=1, rounds=1, n_train=96, n_test=64,
                                 runner=common.run_inline)
    assert_times(row, ["gradkit_time_s"], ["torch_time_s", "hips_time_s"])
    assert row["gradkit_epochs"] in (None, 1) and 0 <= row["gradkit_accuracy"] <= 1
    assert (row["hips_time_s"] is not None) == HAS_HIPS
    assert_targets(bench_training.targets(row), "training", ["gradkit time / torch", "gradkit time / hips"])


def test_targets_report_pass_miss_and_missing_peers():
    assert common.Target("w", "t", 0.9, 1.0).status == "PASS"
    assert common.Target("w", "t", 1.1, 1.0).status == "MISS"
    assert common.Target("w", "t", None, 1.0).status == "n/a"


@pytest.mark.parametrize("name", list(instructions.WORKLOADS))
def test_instruction_count_workloads_run(name):
    """Each snippet instructions.py counts under valgrind runs as its child would (without valgrind)."""
    done = subprocess.run([sys.executable, instructions.__file__, "--child", name, "3"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_bytecode_counts_are_exact_and_find_the_engine():
    tracer_before = sys.gettrace()
    steps = bytecodes.step_functions(2, (4, 4, 4, 2))
    by_function, by_line = bytecodes.count_bytecodes(steps["gradkit"], steps=3)
    again, _ = bytecodes.count_bytecodes(steps["gradkit"], steps=3)
    assert by_function == again  # deterministic: the same step executes the same bytecodes
    assert by_function[("autograd/engine.py", "run_backward")] > 0
    assert sum(by_line.values()) == pytest.approx(sum(by_function.values()))
    numpy_counts, _ = bytecodes.count_bytecodes(steps["numpy"], steps=3)
    assert 0 < sum(numpy_counts.values()) < sum(by_function.values())
    assert sys.gettrace() is tracer_before  # the counting tracer is removed


def test_bytecodes_command_lists_functions_and_lines(capsys):
    bytecodes.main(["--steps", "2", "--top", "3", "--lines", "run_backward"])
    out = capsys.readouterr().out
    assert "gradkit:" in out and "numpy:" in out and "run_backward" in out and "autograd/engine.py:" in out
