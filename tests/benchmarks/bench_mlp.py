"""Workload 1: one SGD training step of an MLP 784-256-128-10 (ReLU, softmax cross-entropy, float32).

Contenders, all starting from the same weights and batch: gradkit (nn.Linear, nn.ReLU,
nn.CrossEntropyLoss, optim.SGD), the same step hand-written in numpy (the floor), PyTorch CPU
(nn + optim, numpy's thread count) and HIPS autograd (column empty when not installed). Each
contender runs in its own process, several rounds interleaved (see common.py); the ratios are
medians of per-round ratios.

Run:  python tests/benchmarks/bench_mlp.py [--quick] [--threads N] [--rounds R]
"""
from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import numpy as np

try:
    from .common import (
        Rounds,
        Target,
        default_rounds,
        import_hips_autograd,
        import_torch,
        main_for,
        make_case,
        print_table,
        run_rounds,
    )
except ImportError:  # run as a script
    from common import (
        Rounds,
        Target,
        default_rounds,
        import_hips_autograd,
        import_torch,
        main_for,
        make_case,
        print_table,
        run_rounds,
    )

SIZES = (784, 256, 128, 10)
LR = 0.01


def init_weights(sizes: tuple[int, ...] = SIZES, seed: int = 0) -> list[np.ndarray]:
    """[W1, b1, W2, b2, ...], W of shape (out, in) as in nn.Linear, U(-1/sqrt(in), 1/sqrt(in)), float32."""
    rng = np.random.default_rng(seed)
    ws = []
    for fan_in, fan_out in pairwise(sizes):
        bound = 1 / np.sqrt(fan_in)
        ws += [rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
               rng.uniform(-bound, bound, fan_out).astype(np.float32)]
    return ws


def make_batch(batch: int, sizes: tuple[int, ...] = SIZES, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A float32 input batch (batch, sizes[0]) and int64 class labels (batch,)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, sizes[0])).astype(np.float32),
            rng.integers(0, sizes[-1], batch).astype(np.int64))


def gradkit_mlp(sizes: tuple[int, ...]) -> object:
    """gradkit nn.Sequential(Linear, ReLU, ..., Linear) holding :func:`init_weights`."""
    from gradkit import nn
    from gradkit.autograd import no_grad

    layers: list = []
    for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        layers += [nn.Linear(fan_in, fan_out)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
    model = nn.Sequential(*layers)
    with no_grad():
        for p, w in zip(model.parameters(), init_weights(sizes)):
            p.data[...] = w
    return model


def torch_mlp(torch: Any, sizes: tuple[int, ...]) -> Any:
    """The same model in PyTorch (torch.nn.Sequential) holding :func:`init_weights`."""
    layers: list = []
    for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        layers += [torch.nn.Linear(fan_in, fan_out)] + ([torch.nn.ReLU()] if i < len(sizes) - 2 else [])
    model = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for p, w in zip(model.parameters(), init_weights(sizes)):
            p.copy_(torch.from_numpy(w))
    return model


# ----------------------------------------------------------------------------- the contenders
def numpy_step_fn(x: np.ndarray, y: np.ndarray, sizes: tuple[int, ...] = SIZES) -> Callable[[], float]:
    """The step hand-written in numpy (forward, explicit backward, in-place SGD): the floor."""
    ws = init_weights(sizes)
    params = [w.T.copy() if w.ndim == 2 else w for w in ws]  # (in, out): x @ W without a transpose
    n = x.shape[0]
    rows = np.arange(n)

    def step() -> float:
        acts, h = [x], x
        n_layers = len(params) // 2
        for i in range(n_layers):
            z = h @ params[2 * i]
            z += params[2 * i + 1]
            if i < n_layers - 1:
                np.maximum(z, 0, out=z)
                acts.append(z)
            h = z
        shifted = h - h.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -logp[rows, y].mean()
        g = np.exp(logp)
        g[rows, y] -= 1
        g /= n
        for i in reversed(range(n_layers)):
            a = acts[i]
            gw, gb = a.T @ g, g.sum(0)
            if i > 0:
                g = g @ params[2 * i].T
                g *= a > 0
            params[2 * i] -= LR * gw
            params[2 * i + 1] -= LR * gb
        return float(loss)

    return step


def gradkit_step_fn(x: np.ndarray, y: np.ndarray, sizes: tuple[int, ...] = SIZES) -> Callable[[], float]:
    """gradkit: nn.Sequential(Linear, ReLU, ...), nn.CrossEntropyLoss, optim.SGD."""
    from gradkit import nn, optim
    from gradkit.autograd import from_numpy

    model = gradkit_mlp(sizes)
    loss_fn, opt = nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=LR)
    gx, gy = from_numpy(x), from_numpy(y)

    def step() -> float:
        opt.zero_grad()
        loss = loss_fn(model(gx), gy)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def torch_step_fn(x: np.ndarray, y: np.ndarray, sizes: tuple[int, ...] = SIZES) -> Callable[[], float] | None:
    """PyTorch CPU: torch.nn.Sequential, CrossEntropyLoss, torch.optim.SGD (None when torch is missing)."""
    torch = import_torch()
    if torch is None:
        return None
    model = torch_mlp(torch, sizes)
    loss_fn, opt = torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=LR)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step() -> float:
        opt.zero_grad()
        loss = loss_fn(model(tx), ty)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def hips_step_fn(x: np.ndarray, y: np.ndarray, sizes: tuple[int, ...] = SIZES) -> Callable[[], float] | None:
    """HIPS autograd: value and grad of a functional loss, then the SGD update (None when autograd is missing)."""
    hips = import_hips_autograd()
    if hips is None:
        return None
    anp, _ = hips
    # HIPS, now in sys.modules (import_hips_autograd avoids gradkit's folder)
    from autograd import value_and_grad

    params = [w.T.copy() if w.ndim == 2 else w for w in init_weights(sizes)]
    onehot = np.eye(sizes[-1], dtype=np.float32)[y]

    def loss_of(ps: list) -> object:
        h = x
        for i in range(len(ps) // 2):
            h = anp.dot(h, ps[2 * i]) + ps[2 * i + 1]
            if i < len(ps) // 2 - 1:
                h = anp.maximum(h, 0.0)
        m = anp.max(h, axis=1, keepdims=True)
        logp = h - m - anp.log(anp.sum(anp.exp(h - m), axis=1, keepdims=True))
        return -anp.sum(logp * onehot) / x.shape[0]

    loss_and_grad = value_and_grad(loss_of)

    def step() -> float:
        loss, grads = loss_and_grad(params)
        for p, g in zip(params, grads):
            p -= LR * g
        return float(loss)

    return step


CONTENDERS = {"numpy": numpy_step_fn, "gradkit": gradkit_step_fn, "torch": torch_step_fn, "hips": hips_step_fn}


def contender(name: str, batch: int, sizes: list[int] | tuple[int, ...] = SIZES) -> Callable[[], object] | None:
    """The step of contender ``name`` on the batch of ``batch`` rows (what a worker process times)."""
    x, y = make_batch(batch, tuple(sizes))
    return CONTENDERS[name](x, y, tuple(sizes))


def measure(batch: int, sizes: tuple[int, ...] = SIZES, rounds: int = 5, repeat: int = 11, number: int = 5,
            runner: Callable[[dict], dict] | None = None) -> dict:
    """Median seconds of one training step per contender over ``rounds`` rounds of one process each,
    and medians of the per-round ratios gradkit / peer and peer / numpy."""
    cases = {name: make_case("bench_mlp", name, {"batch": batch, "sizes": list(sizes)}, repeat, number, warmup=3)
             for name in CONTENDERS}
    res: Rounds = run_rounds(cases, rounds, runner)
    return {"batch": batch, "sizes": list(sizes), "rounds": rounds,
            **{f"{k}_s": res.median(k) for k in CONTENDERS},
            **{f"{k}_vs_numpy": res.ratio(k, "numpy") for k in CONTENDERS if k != "numpy"},
            "gradkit_vs_torch": res.ratio("gradkit", "torch"), "gradkit_vs_hips": res.ratio("gradkit", "hips"),
            "per_round": res.as_dict()}


def targets(b32: dict, b256: dict) -> list[Target]:
    """The issue's MLP targets from the rows of batch 32 and 256."""
    return [Target("mlp", "batch 256: gradkit / numpy", b256["gradkit_vs_numpy"], 1.15),
            Target("mlp", "batch 256: gradkit / torch (faster)", b256["gradkit_vs_torch"], 1.0),
            Target("mlp", "batch 32: gradkit / numpy", b32["gradkit_vs_numpy"], 1.3),
            Target("mlp", "batch 32: gradkit / hips autograd", b32["gradkit_vs_hips"], 1.0),
            Target("mlp", "batch 256: gradkit / hips autograd", b256["gradkit_vs_hips"], 1.0)]


def run(quick: bool = False, rounds: int | None = None) -> dict:
    """Both batch sizes, the table and the targets."""
    rounds = default_rounds(quick, rounds)
    repeat, number = (3, 2) if quick else (11, 5)
    rows = [measure(b, SIZES, rounds, repeat, number) for b in (32, 256)]
    print_table(f"MLP 784-256-128-10 SGD step (ms, median of {rounds} rounds; ratios: median of per-round ratios)",
                ["batch", "numpy", "gradkit", "torch", "hips autograd",
                 "gk/numpy", "torch/numpy", "hips/numpy", "gk/torch", "gk/hips"],
                [[str(r["batch"])] + [None if r[f"{k}_s"] is None else r[f"{k}_s"] * 1e3
                                      for k in ("numpy", "gradkit", "torch", "hips")]
                 + [r["gradkit_vs_numpy"], r["torch_vs_numpy"], r["hips_vs_numpy"], r["gradkit_vs_torch"],
                    r["gradkit_vs_hips"]] for r in rows])
    return {"name": "mlp", "rounds": rounds, "rows": rows, "targets": targets(*rows)}


if __name__ == "__main__":
    main_for("mlp", run)
