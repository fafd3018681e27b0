"""Workload 6: full training, an MLP on scikit-learn's digits to 97% test accuracy, gradkit vs PyTorch.

Digits scaled to [0, 1], a stratified 75/25 split, MLP 64-128-64-10 (ReLU), cross-entropy,
Adam (lr 1e-3), batch 32, shuffled each epoch; the test accuracy is checked after every epoch
and training stops at 97% (or after the epoch limit). Both frameworks start from the same
weights and see the same batches in the same order; the wall time includes the per-epoch
evaluation. Reports the epochs needed and the time, repeats interleaved. Each framework first
trains one untimed epoch (PyTorch's first optimizer step imports and sets up for seconds).

Run:  python tests/benchmarks/bench_training.py [--quick]
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

try:
    from .bench_mlp import gradkit_mlp, torch_mlp
    from .common import Target, import_torch, main_for, print_table, ratio
except ImportError:  # run as a script
    from bench_mlp import gradkit_mlp, torch_mlp
    from common import Target, import_torch, main_for, print_table, ratio

SIZES = (64, 128, 64, 10)
LR, BATCH, TARGET_ACC, MAX_EPOCHS = 1e-3, 32, 0.97, 100


def load(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Digits (float32 in [0, 1]) split 75/25 stratified: X_train, X_test, y_train, y_test."""
    from gradkit.data import load_digits, train_test_split
    X, y = load_digits()
    X = (X / 16.0).astype(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, seed=seed)
    return X_tr, X_te, y_tr.astype(np.int64), y_te.astype(np.int64)


def batches(n: int, epoch: int, seed: int = 0) -> list[np.ndarray]:
    """Index batches of one epoch (the same for every framework)."""
    order = np.random.default_rng([seed, epoch]).permutation(n)
    return [order[i:i + BATCH] for i in range(0, n, BATCH)]


def gradkit_trainer(sizes: tuple[int, ...]) -> Callable[..., tuple[int | None, float]]:
    """gradkit: returns train(data, max_epochs) -> (epochs to the target or None, last test accuracy)."""
    from gradkit import nn, optim
    from gradkit.autograd import from_numpy, no_grad

    def train(data: tuple, max_epochs: int) -> tuple[int | None, float]:
        X_tr, X_te, y_tr, y_te = data
        model = gradkit_mlp(sizes)
        loss_fn, opt = nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=LR)
        acc = 0.0
        for epoch in range(1, max_epochs + 1):
            model.train()
            for idx in batches(len(X_tr), epoch):
                opt.zero_grad()
                loss_fn(model(from_numpy(X_tr[idx])), from_numpy(y_tr[idx])).backward()
                opt.step()
            model.eval()
            with no_grad():
                acc = float((model(from_numpy(X_te)).data.argmax(1) == y_te).mean())
            if acc >= TARGET_ACC:
                return epoch, acc
        return None, acc

    return train


def torch_trainer(sizes: tuple[int, ...]) -> Callable[..., tuple[int | None, float]] | None:
    """PyTorch, the same loop (None when torch is missing)."""
    torch = import_torch()
    if torch is None:
        return None

    def train(data: tuple, max_epochs: int) -> tuple[int | None, float]:
        X_tr, X_te, y_tr, y_te = (torch.from_numpy(a) for a in data)
        model = torch_mlp(torch, sizes)
        loss_fn, opt = torch.nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=LR)
        acc = 0.0
        for epoch in range(1, max_epochs + 1):
            model.train()
            for idx in batches(len(X_tr), epoch):
                ti = torch.from_numpy(idx)
                opt.zero_grad()
                loss_fn(model(X_tr[ti]), y_tr[ti]).backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                acc = float((model(X_te).argmax(1) == y_te).double().mean())
            if acc >= TARGET_ACC:
                return epoch, acc
        return None, acc

    return train


def measure(sizes: tuple[int, ...] = SIZES, max_epochs: int = MAX_EPOCHS, repeat: int = 3,
            data: Any = None) -> dict:
    """Median wall time to the target per framework (repeats interleaved), epochs needed, accuracy."""
    data = load() if data is None else data
    trainers = {"gradkit": gradkit_trainer(sizes), "torch": torch_trainer(sizes)}
    live = [k for k, v in trainers.items() if v is not None]
    for name in live:  # warm-up
        trainers[name](data, 1)
    samples: dict[str, list[float]] = {k: [] for k in live}
    outcome: dict[str, tuple[int | None, float]] = {}
    for r in range(repeat):
        for name in live[r % len(live):] + live[:r % len(live)]:
            start = time.perf_counter()
            outcome[name] = trainers[name](data, max_epochs)
            samples[name].append(time.perf_counter() - start)
    row: dict[str, Any] = {"sizes": list(sizes), "batch": BATCH, "lr": LR, "target_accuracy": TARGET_ACC,
                           "max_epochs": max_epochs}
    for name in trainers:
        row[f"{name}_time_s"] = statistics.median(samples[name]) if name in samples else None
        row[f"{name}_epochs"], row[f"{name}_accuracy"] = outcome.get(name, (None, None))
    row["gradkit_vs_torch"] = ratio(row["gradkit_time_s"], row["torch_time_s"])
    return row


def run(quick: bool = False) -> dict:
    """The workload, its table and its target (gradkit no slower than PyTorch)."""
    r = measure(SIZES, MAX_EPOCHS, 1 if quick else 3)
    print_table(f"Digits MLP {'-'.join(map(str, SIZES))}, Adam, batch {BATCH}, to {TARGET_ACC:.0%} test accuracy",
                ["framework", "epochs", "test accuracy", "wall time (s)"],
                [[k, str(r[f"{k}_epochs"]), r[f"{k}_accuracy"], r[f"{k}_time_s"]] for k in ("gradkit", "torch")])
    targets = [Target("training", "digits to 97%: gradkit time / torch time", r["gradkit_vs_torch"], 1.0)]
    return {"name": "training", "rows": [r], "targets": targets}


if __name__ == "__main__":
    main_for("training", run)
