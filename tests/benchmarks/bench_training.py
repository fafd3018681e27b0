"""Workload 6: full training, an MLP on scikit-learn's digits to 97% test accuracy, gradkit vs PyTorch.

Digits scaled to [0, 1], a stratified 75/25 split, MLP 64-128-64-10 (ReLU), cross-entropy,
Adam (lr 1e-3), batch 32, shuffled each epoch; the test accuracy is checked after every epoch
and training stops at 97% (or after the epoch limit). Both frameworks start from the same
weights and see the same batches in the same order; the wall time includes the per-epoch
evaluation. Contenders: gradkit, PyTorch and HIPS autograd (``grad`` of the functional loss with
the same Adam update written in numpy, torch's formula and defaults). Each runs in its own
process, several rounds interleaved (see common.py), and first trains one untimed epoch
(PyTorch's first optimizer step imports and sets up for seconds). Reports the epochs needed,
the median time and the medians of the per-round time ratios.

Run:  python tests/benchmarks/bench_training.py [--quick] [--threads N] [--rounds R]
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

try:
    from .bench_mlp import gradkit_mlp, init_weights, torch_mlp
    from .common import (
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
    from bench_mlp import gradkit_mlp, init_weights, torch_mlp
    from common import (
        Target,
        default_rounds,
        import_hips_autograd,
        import_torch,
        main_for,
        make_case,
        print_table,
        run_rounds,
    )

SIZES = (64, 128, 64, 10)
LR, BATCH, TARGET_ACC, MAX_EPOCHS = 1e-3, 32, 0.97, 100
BETAS, EPS = (0.9, 0.999), 1e-8  # Adam's defaults in torch and gradkit


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


def hips_trainer(sizes: tuple[int, ...]) -> Callable[..., tuple[int | None, float]] | None:
    """HIPS autograd: grad of the functional loss, Adam written in numpy (None when autograd is missing)."""
    hips = import_hips_autograd()
    if hips is None:
        return None
    anp, grad = hips
    n_layers = len(sizes) - 1
    onehot = np.eye(sizes[-1], dtype=np.float32)

    def forward(ps: list, x: Any, lib: Any) -> Any:
        h = x
        for k in range(n_layers):
            h = lib.dot(h, ps[2 * k]) + ps[2 * k + 1]
            if k < n_layers - 1:
                h = lib.maximum(h, 0.0)
        return h

    def loss_of(ps: list, x: np.ndarray, target: np.ndarray) -> Any:
        h = forward(ps, x, anp)
        m = anp.max(h, axis=1, keepdims=True)
        logp = h - m - anp.log(anp.sum(anp.exp(h - m), axis=1, keepdims=True))
        return -anp.sum(logp * target) / x.shape[0]

    grad_of = grad(loss_of)

    def train(data: tuple, max_epochs: int) -> tuple[int | None, float]:
        X_tr, X_te, y_tr, y_te = data
        params = [w.T.copy() if w.ndim == 2 else w.copy() for w in init_weights(sizes)]  # (in, out)
        m, v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
        (b1, b2), t, acc = BETAS, 0, 0.0
        for epoch in range(1, max_epochs + 1):
            for idx in batches(len(X_tr), epoch):
                t += 1
                for p, g, mp, vp in zip(params, grad_of(params, X_tr[idx], onehot[y_tr[idx]]), m, v):
                    mp *= b1
                    mp += (1 - b1) * g
                    vp *= b2
                    vp += (1 - b2) * g * g
                    p -= (LR / (1 - b1 ** t)) * mp / (np.sqrt(vp / (1 - b2 ** t)) + EPS)
            acc = float((forward(params, X_te, np).argmax(1) == y_te).mean())
            if acc >= TARGET_ACC:
                return epoch, acc
        return None, acc

    return train


TRAINERS = {"gradkit": gradkit_trainer, "torch": torch_trainer, "hips": hips_trainer}


def contender(name: str, sizes: list[int] | tuple[int, ...] = SIZES, max_epochs: int = MAX_EPOCHS,
              n_train: int | None = None, n_test: int | None = None) -> Callable[[], dict] | None:
    """Training to the target for ``name``, after one untimed epoch (what a worker process times).

    ``n_train``/``n_test`` keep the first rows of each split (small smoke runs). The callable
    returns ``{"epochs": epochs run, "reached": 1.0 or 0.0, "accuracy": last test accuracy}``.
    """
    X_tr, X_te, y_tr, y_te = load()
    data = (X_tr[:n_train], X_te[:n_test], y_tr[:n_train], y_te[:n_test])
    train = TRAINERS[name](tuple(sizes))
    if train is None:
        return None
    train(data, 1)  # warm-up

    def run() -> dict:
        epochs, acc = train(data, max_epochs)
        return {"epochs": epochs if epochs is not None else max_epochs, "reached": float(epochs is not None),
                "accuracy": acc}

    return run


def measure(sizes: tuple[int, ...] = SIZES, max_epochs: int = MAX_EPOCHS, rounds: int = 5,
            n_train: int | None = None, n_test: int | None = None,
            runner: Callable[[dict], dict] | None = None) -> dict:
    """Median wall time to the target per framework over ``rounds`` rounds (one process each, one
    training in each), epochs needed, accuracy, and medians of the per-round time ratios."""
    params = {"sizes": list(sizes), "max_epochs": max_epochs, "n_train": n_train, "n_test": n_test}
    cases = {name: make_case("bench_training", name, params, repeat=1, number=1, warmup=0) for name in TRAINERS}
    res = run_rounds(cases, rounds, runner)
    row: dict[str, Any] = {"sizes": list(sizes), "batch": BATCH, "lr": LR, "target_accuracy": TARGET_ACC,
                           "max_epochs": max_epochs, "rounds": rounds}
    for name in TRAINERS:
        row[f"{name}_time_s"] = res.median(name)
        reached = res.median(name, "reached")
        row[f"{name}_epochs"] = None if not reached else int(res.median(name, "epochs"))
        row[f"{name}_accuracy"] = res.median(name, "accuracy")
    row["gradkit_vs_torch"] = res.ratio("gradkit", "torch")
    row["gradkit_vs_hips"] = res.ratio("gradkit", "hips")
    row["per_round"] = res.as_dict()
    return row


def targets(r: dict) -> list[Target]:
    """The issue's training targets: gradkit no slower than PyTorch, and than HIPS autograd."""
    return [Target("training", "digits to 97%: gradkit time / torch time", r["gradkit_vs_torch"], 1.0),
            Target("training", "digits to 97%: gradkit time / hips autograd time", r["gradkit_vs_hips"], 1.0)]


def run(quick: bool = False, rounds: int | None = None) -> dict:
    """The workload, its table and its targets."""
    rounds = default_rounds(quick, rounds)
    r = measure(SIZES, MAX_EPOCHS, rounds)
    print_table(f"Digits MLP {'-'.join(map(str, SIZES))}, Adam, batch {BATCH}, to {TARGET_ACC:.0%} test accuracy "
                f"(median of {rounds} rounds; gk/peer: median of per-round ratios)",
                ["framework", "epochs", "test accuracy", "wall time (s)", "gk/framework"],
                [[k, str(r[f"{k}_epochs"]), r[f"{k}_accuracy"], r[f"{k}_time_s"],
                  {"gradkit": 1.0, "torch": r["gradkit_vs_torch"], "hips": r["gradkit_vs_hips"]}[k]]
                 for k in TRAINERS])
    return {"name": "training", "rounds": rounds, "rows": [r], "targets": targets(r)}


if __name__ == "__main__":
    main_for("training", run)
