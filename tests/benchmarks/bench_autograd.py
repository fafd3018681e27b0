"""Autograd benchmarks: per-op overhead, an MLP training step, deep chains.

Run:  python tests/benchmarks/bench_autograd.py [--quick]
Prints a table of median times and ratios against hand-written numpy (and PyTorch when it
imports), all measured in this run, and writes tests/benchmarks/results/bench_autograd.json.
Not a test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

import gradkit as gk
import gradkit.autograd as ag

try:
    import torch
    torch.set_num_threads(2)
except ImportError:  # PyTorch columns are left empty
    torch = None


def median_time(fn: Callable[[], object], repeat: int, number: int) -> float:
    """Median over ``repeat`` runs of the mean time of ``number`` calls, after a warm-up, in seconds."""
    for _ in range(max(1, number // 10)):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


# ----------------------------------------------------------------------------- per-op overhead
def bench_ops(shape: tuple, repeat: int, number: int) -> list[dict]:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape).astype(np.float32)
    ops = {
        "mul": (lambda x, y: x * y, np.multiply),
        "add": (lambda x, y: x + y, np.add),
        "exp": (lambda x, y: x.exp(), lambda x, y: np.exp(x)),
        "tanh": (lambda x, y: x.tanh(), lambda x, y: np.tanh(x)),
        "relu": (lambda x, y: x.relu(), lambda x, y: np.maximum(x, 0)),
        "sum": (lambda x, y: x.sum(), lambda x, y: np.sum(x)),
    }
    rows = []
    for name, (fn, np_fn) in ops.items():
        x, y = ag.Tensor(a, requires_grad=True), ag.Tensor(b, requires_grad=True)
        seed = ag.Tensor(np.ones_like(np_fn(a, b)))

        def gk_step() -> None:
            fn(x, y).backward(seed)

        def gk_nograd() -> None:
            with gk.no_grad():
                fn(x, y)

        row = {"op": name, "shape": str(shape),
               "numpy_fwd_us": median_time(lambda: np_fn(a, b), repeat, number) * 1e6,
               "gradkit_fwd_bwd_us": median_time(gk_step, repeat, number) * 1e6,
               "gradkit_nograd_fwd_us": median_time(gk_nograd, repeat, number) * 1e6}
        if torch is not None:
            tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
            tseed = torch.ones_like(torch.as_tensor(np_fn(a, b)))
            row["torch_fwd_bwd_us"] = median_time(lambda: fn(tx, ty).backward(tseed), repeat, number) * 1e6
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------- MLP step
SIZES = (784, 256, 128, 10)


def init_weights(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    ws = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        ws += [rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
               rng.uniform(-bound, bound, fan_out).astype(np.float32)]
    return ws


def numpy_step(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, lr: float = 0.01) -> float:
    """One SGD step of the MLP with a hand-written backward: the floor gradkit is measured against."""
    W1, b1, W2, b2, W3, b3 = params
    z1 = x @ W1 + b1
    h1 = np.maximum(z1, 0)
    z2 = h1 @ W2 + b2
    h2 = np.maximum(z2, 0)
    logits = h2 @ W3 + b3
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -logp[np.arange(n), y].mean()
    g = np.exp(logp)
    g[np.arange(n), y] -= 1
    g /= n
    gW3, gb3 = h2.T @ g, g.sum(0)
    g = (g @ W3.T) * (z2 > 0)
    gW2, gb2 = h1.T @ g, g.sum(0)
    g = (g @ W2.T) * (z1 > 0)
    gW1, gb1 = x.T @ g, g.sum(0)
    for p, gp in zip(params, (gW1, gb1, gW2, gb2, gW3, gb3)):
        p -= lr * gp
    return float(loss)


def gradkit_step(params: list[ag.Tensor], x: ag.Tensor, y: np.ndarray, lr: float = 0.01) -> float:
    W1, b1, W2, b2, W3, b3 = params
    h = (x @ W1 + b1).relu()
    h = (h @ W2 + b2).relu()
    logp = (h @ W3 + b3).log_softmax(-1)
    loss = -logp[np.arange(x.shape[0]), y].mean()
    loss.backward()
    with gk.no_grad():
        for p in params:
            p.data -= lr * p.grad.data
            p.grad = None
    return loss.item()


def torch_step(params: list, x, y, lr: float = 0.01) -> float:
    W1, b1, W2, b2, W3, b3 = params
    h = (x @ W1 + b1).relu()
    h = (h @ W2 + b2).relu()
    loss = torch.nn.functional.cross_entropy(h @ W3 + b3, y)
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
    return loss.item()


def bench_mlp(batch: int, repeat: int, number: int) -> dict:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], batch)
    np_params = init_weights()
    gk_params = [ag.Tensor(w, requires_grad=True) for w in init_weights()]
    gx = ag.Tensor(x)
    row = {"batch": batch,
           "numpy_ms": median_time(lambda: numpy_step(np_params, x, y), repeat, number) * 1e3,
           "gradkit_ms": median_time(lambda: gradkit_step(gk_params, gx, y), repeat, number) * 1e3}
    if torch is not None:
        t_params = [torch.tensor(w, requires_grad=True) for w in init_weights()]
        tx, ty = torch.tensor(x), torch.tensor(y)
        row["torch_ms"] = median_time(lambda: torch_step(t_params, tx, ty), repeat, number) * 1e3
    return row


# ----------------------------------------------------------------------------- deep chains
def bench_chain(length: int) -> dict:
    x = ag.tensor(1.0, requires_grad=True, dtype=np.float64)
    start = time.perf_counter()
    y = x
    for _ in range(length):
        y = y * 1.0000001 + 0.0
    mid = time.perf_counter()
    y.backward()
    end = time.perf_counter()
    return {"ops": 2 * length, "forward_s": mid - start, "backward_s": end - mid, "total_s": end - start}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    args = parser.parse_args(argv)
    repeat, number = (3, 20) if args.quick else (7, 200)

    results: dict = {"numpy": np.__version__, "torch": getattr(torch, "__version__", None)}
    print("Per-op forward+backward (µs), float32")
    results["ops"] = bench_ops((8,), repeat, number) + bench_ops((256, 256), repeat, max(5, number // 10))
    header = f"{'op':6} {'shape':11} {'numpy fwd':>10} {'gk no_grad':>11} {'gk fwd+bwd':>11} {'torch f+b':>10}"
    print(header)
    for r in results["ops"]:
        print(f"{r['op']:6} {r['shape']:11} {r['numpy_fwd_us']:10.2f} {r['gradkit_nograd_fwd_us']:11.2f} "
              f"{r['gradkit_fwd_bwd_us']:11.2f} {r.get('torch_fwd_bwd_us', float('nan')):10.2f}")

    print("\nMLP 784-256-128-10 training step (ms), float32, SGD")
    results["mlp"] = [bench_mlp(b, repeat, max(3, number // 20)) for b in (32, 256)]
    for r in results["mlp"]:
        t = r.get("torch_ms", float("nan"))
        print(f"batch {r['batch']:4}: numpy {r['numpy_ms']:.3f}  gradkit {r['gradkit_ms']:.3f} "
              f"({r['gradkit_ms'] / r['numpy_ms']:.2f}x numpy)  torch {t:.3f} ({t / r['numpy_ms']:.2f}x numpy)")

    print("\nDeep chains (y = y * c + 0), forward + backward")
    results["chains"] = [bench_chain(n) for n in ((5_000, 50_000) if args.quick else (5_000, 50_000))]
    for r in results["chains"]:
        print(f"{r['ops']:7} ops: forward {r['forward_s']:.3f} s, backward {r['backward_s']:.3f} s, "
              f"total {r['total_s']:.3f} s")

    out = Path(__file__).parent / "results" / "bench_autograd.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
