"""Depth and memory (AG-10, AG-34, AG-35 at scale).

* A chain of N ops (10**5 in CI, 10**6 long) is differentiated under the default recursion
  limit and, once the output is dropped, freed by reference counting alone: the cyclic
  garbage collector is disabled throughout, and tracemalloc's count of live Python-allocated
  bytes (numpy arrays included) returns to its baseline.
* An MLP trained for S steps (500 in CI, 10,000 long) in a fresh subprocess: resident memory
  after the run exceeds resident memory after a warm-up by less than 1 % (CI: a proportional
  budget, 1 % x S / 10,000, but at least 64 pages, since RSS moves by whole pages), and
  tracemalloc's live bytes grow by less than 128 B per step over the second half of the run.
"""
from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import tracemalloc
import weakref

import numpy as np

import gradkit.autograd as ag


def chain_depth_run(depth: int, trace: bool = True) -> dict:
    """Build ``y = y * c`` ``depth`` times, backward, drop it; memory figures with the GC disabled.

    With ``trace=False`` tracemalloc stays off (10x faster); only the weak references tell
    whether the graph was freed.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    if trace:
        tracemalloc.start()
    try:
        x = ag.tensor(np.ones(4), requires_grad=True)
        x.grad = ag.tensor(np.zeros(4))  # allocated before the baseline: backward accumulates into it
        # one-time allocations (caches, free lists) happen before the baseline: enough ops that freeing
        # them fills Python's free lists (up to 2,000 tuples of each small size stay allocated for reuse)
        warm = x * 1.0
        for _ in range(5000):
            warm = warm * 1.0000001
        warm.sum().backward()
        x.grad.data[:] = 0
        del warm
        baseline = tracemalloc.get_traced_memory()[0]
        y = x * 1.0
        first = weakref.ref(y.grad_fn)
        for _ in range(depth - 1):
            y = y * 1.0000001
        last = weakref.ref(y.grad_fn)
        built = tracemalloc.get_traced_memory()[0]
        y.sum().backward()
        del y
        after = tracemalloc.get_traced_memory()[0]
        peak = tracemalloc.get_traced_memory()[1]
        expected = 1.0000001 ** (depth - 1)
        return {"depth": depth, "graph_bytes": built - baseline, "leftover_bytes": after - baseline,
                "peak_bytes": peak - baseline, "freed": first() is None and last() is None,
                "grad_ok": bool(np.allclose(x.grad.data, expected, rtol=1e-9)),
                "collections_disabled": not gc.isenabled()}
    finally:
        if trace:
            tracemalloc.stop()
        if was_enabled:
            gc.enable()


def test_deep_chain_is_differentiated_and_freed_without_gc(long_run):
    depth = 1_000_000 if long_run else 100_000
    limit = sys.getrecursionlimit()
    r = chain_depth_run(depth, trace=False)
    assert sys.getrecursionlimit() == limit  # nothing raised the limit to get through
    assert r["grad_ok"] and r["collections_disabled"]
    assert r["freed"], "the graph outlived its output: a reference cycle (needs gc.collect)"


def test_deep_chain_memory_returns_to_baseline(long_run, figures):
    depth = 1_000_000 if long_run else 20_000
    r = chain_depth_run(depth, trace=True)
    assert r["grad_ok"] and r["freed"]
    assert r["graph_bytes"] > 500 * depth  # the graph was really held while it existed ...
    # ... and is gone: what stays is allocator caches and free lists, a constant, not a share of the graph
    slack = max(65_536, 1e-4 * r["graph_bytes"])
    assert r["leftover_bytes"] < slack, f"{r['leftover_bytes']} B of {r['graph_bytes']} B still allocated"
    figures["max depth"] = (f"{depth:,}-op chain ({r['graph_bytes'] / 2**20:,.0f} MiB graph) freed on dropping "
                            f"its output, GC off: {r['leftover_bytes'] / 1024:+.1f} KiB vs baseline")


_TRAIN = textwrap.dedent("""
    import gc, json, resource, sys, tracemalloc
    import numpy as np
    import gradkit.autograd as ag
    from gradkit import nn, optim

    steps, warmup = int(sys.argv[1]), int(sys.argv[2])

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()

    ag.manual_seed(0)
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    X, Y = rng.standard_normal((64, 8)), rng.standard_normal((64, 1))
    X, Y = ag.from_numpy(X.astype(np.float32)), ag.from_numpy(Y.astype(np.float32))
    losses = [None, None]  # first and last: a growing list would itself be a leak

    def step():
        opt.zero_grad()
        loss = ((model(X) - Y) ** 2).mean()
        loss.backward()
        opt.step()
        losses[losses[0] is not None] = loss.item()  # a float, not the tensor (which would keep its graph)

    for _ in range(warmup):
        step()
    tracemalloc.start()
    rss0, traced0 = rss(), tracemalloc.get_traced_memory()[0]
    half = steps // 2
    for i in range(steps):
        step()
        if i == half:
            traced_half = tracemalloc.get_traced_memory()[0]
    rss1, traced1 = rss(), tracemalloc.get_traced_memory()[0]
    print(json.dumps({"rss0": rss0, "rss1": rss1, "traced0": traced0, "traced_half": traced_half,
                      "traced1": traced1, "steps": steps, "gc_counts": gc.get_count(),
                      "first_loss": losses[0], "last_loss": losses[-1]}))
""")


def mlp_memory_run(steps: int, warmup: int = 200) -> dict:
    out = subprocess.run([sys.executable, "-c", _TRAIN, str(steps), str(warmup)], capture_output=True, text=True,
                         timeout=1800, check=True)
    r = json.loads(out.stdout)
    r["rss_growth"] = (r["rss1"] - r["rss0"]) / r["rss0"]
    return r


def test_training_steps_keep_resident_memory_flat(long_run, figures):
    steps = 10_000 if long_run else 500
    r = mlp_memory_run(steps)
    budget = max(0.01 * steps / 10_000 * r["rss0"], 64 * 4096)
    assert r["last_loss"] < r["first_loss"]  # it trained
    assert r["rss1"] - r["rss0"] < budget, f"RSS grew {r['rss1'] - r['rss0']} B over {steps} steps"
    # live Python allocations over the second half: < 128 B per step. Free lists and caches plateau at
    # tens of KB; one step's graph holds > 8 KB of arrays, so keeping any of it per step would fail this.
    per_step = (r["traced1"] - r["traced_half"]) / (steps - steps // 2)
    assert per_step < 128, f"{per_step:.0f} B per step still allocated: {r}"
    figures["memory growth"] = (f"{r['rss_growth']:+.3%} RSS over {steps:,} MLP steps "
                                f"(traced {r['traced1'] - r['traced0']:+,} B)")
