"""Smoke test of the benchmark modules: each smallest workload runs once at tiny sizes.

Checks the result dicts (keys, positive times, consistent ratios), never a wall-clock value;
the benchmarks themselves run with ``python tests/benchmarks/run_all.py``.
"""
from __future__ import annotations

import pytest

from tests.benchmarks import (
    bench_chain,
    bench_memory,
    bench_mlp,
    bench_ops,
    bench_scalar,
    bench_training,
    common,
)


def assert_times(row: dict, required: list[str], optional: list[str] = ()) -> None:
    """Required keys hold positive floats; optional ones (absent peers) are None or positive."""
    for key in required:
        assert isinstance(row[key], float) and row[key] > 0, (key, row[key])
    for key in optional:
        assert row[key] is None or row[key] > 0, (key, row[key])


def test_compare_interleaves_and_skips_missing_peers():
    calls = []
    times = common.compare({"a": lambda: calls.append("a"), "b": lambda: calls.append("b"), "c": None},
                           repeat=3, number=2, warmup=1)
    assert times["c"] is None and times["a"] > 0 and times["b"] > 0
    assert calls == ["a", "b"] + ["a", "a", "b", "b"] + ["b", "b", "a", "a"] + ["a", "a", "b", "b"]


def test_mlp_step():
    row = bench_mlp.measure(batch=4, sizes=(8, 6, 5, 3), repeat=1, number=1)
    assert_times(row, ["numpy_s", "gradkit_s"], ["torch_s", "hips_s"])
    assert row["gradkit_vs_numpy"] == pytest.approx(row["gradkit_s"] / row["numpy_s"])


def test_mlp_contenders_compute_the_same_loss():
    sizes = (8, 6, 5, 3)
    x, y = bench_mlp.make_batch(4, sizes)
    steps = [make(x, y, sizes) for make in (bench_mlp.numpy_step_fn, bench_mlp.gradkit_step_fn,
                                            bench_mlp.torch_step_fn)]
    losses = [step() for step in steps if step is not None]
    assert losses == pytest.approx([losses[0]] * len(losses), rel=1e-5)


def test_op_chain():
    row = bench_ops.measure((8,), n_ops=8, repeat=1, number=1)
    assert_times(row, ["numpy_fwd_s", "numpy_fwd_bwd_s", "gradkit_nograd_fwd_s", "gradkit_fwd_bwd_s"],
                 ["torch_fwd_bwd_s"])
    assert row["gradkit_fwd_bwd_us_per_op"] == pytest.approx(row["gradkit_fwd_bwd_s"] / 8 * 1e6)


def test_scalar_mlp():
    row = bench_scalar.measure(n_points=4, sizes=(2, 3, 1), repeat=1, batched_number=1)
    assert_times(row, ["micrograd_s", "gradkit_0d_s", "gradkit_batched_s", "numpy_batched_s"])
    assert row["micrograd_source"] in ("micrograd", "inline copy")


def test_scalar_contenders_compute_the_same_loss():
    X, y, ws = bench_scalar.make_problem(6, (2, 3, 1))
    losses = [make(X, y, ws)() for make in bench_scalar.CONTENDERS.values()]
    assert losses == pytest.approx([losses[0]] * len(losses), rel=1e-9)


def test_deep_chain():
    row = bench_chain.measure(length=50, repeat=1)
    assert_times(row, ["gradkit_forward_s", "gradkit_backward_s", "gradkit_total_s"], ["torch_total_s"])
    assert row["length"] == 50


def test_memory_peak():
    row = bench_memory.measure(batch=4, sizes=(8, 6, 3), steps=2)
    assert row["numpy_peak_bytes"] > 0 and row["gradkit_peak_bytes"] > 0
    assert row["gradkit_vs_numpy"] == pytest.approx(row["gradkit_peak_bytes"] / row["numpy_peak_bytes"])


def test_training():
    pytest.importorskip("sklearn")
    X_tr, X_te, y_tr, y_te = bench_training.load()
    row = bench_training.measure(sizes=(64, 8, 10), max_epochs=1, repeat=1,
                                 data=(X_tr[:96], X_te[:64], y_tr[:96], y_te[:64]))
    assert_times(row, ["gradkit_time_s"], ["torch_time_s"])
    assert row["gradkit_epochs"] in (None, 1) and 0 <= row["gradkit_accuracy"] <= 1


def test_targets_report_pass_miss_and_missing_peers():
    assert common.Target("w", "t", 0.9, 1.0).status == "PASS"
    assert common.Target("w", "t", 1.1, 1.0).status == "MISS"
    assert common.Target("w", "t", None, 1.0).status == "n/a"
