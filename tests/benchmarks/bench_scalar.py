"""Workload 3: scalar autograd, one full-batch step of a 2-16-16-1 MLP on 100 two-moons points.

The step of micrograd's demo: ReLU hidden layers, the mean hinge loss relu(1 - y * score) with
y in {-1, +1}, backward, SGD. Contenders, from the same weights and points (float64):
micrograd's scalar ``Value`` objects (``pip install micrograd``; when it is missing, the
faithful inline copy below), gradkit with one 0-d Tensor per weight and per input (the same
neuron-by-neuron graph), gradkit batched (2-d tensors), the batched step hand-written in numpy
and the batched step in HIPS autograd (``value_and_grad`` of the functional loss). Each
contender runs in its own process, several rounds interleaved (see common.py); ratios are
medians of per-round ratios.

Run:  python tests/benchmarks/bench_scalar.py [--quick] [--threads N] [--rounds R]
"""
from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import numpy as np

try:
    from .common import (
        Target,
        default_rounds,
        import_hips_autograd,
        main_for,
        make_case,
        print_table,
        run_rounds,
    )
except ImportError:  # run as a script
    from common import (
        Target,
        default_rounds,
        import_hips_autograd,
        main_for,
        make_case,
        print_table,
        run_rounds,
    )

SIZES = (2, 16, 16, 1)
LR = 0.05


class _InlineValue:
    """micrograd's ``Value`` (engine.py), copied unchanged in behaviour, used only when micrograd is absent.

    Credit: Andrej Karpathy, micrograd (MIT licence), https://github.com/karpathy/micrograd
    """

    def __init__(self, data: float, _children: tuple = (), _op: str = "") -> None:
        self.data = data
        self.grad = 0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other: Any) -> _InlineValue:
        other = other if isinstance(other, _InlineValue) else _InlineValue(other)
        out = _InlineValue(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other: Any) -> _InlineValue:
        other = other if isinstance(other, _InlineValue) else _InlineValue(other)
        out = _InlineValue(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, other: float) -> _InlineValue:
        out = _InlineValue(self.data ** other, (self,), f"**{other}")

        def _backward() -> None:
            self.grad += (other * self.data ** (other - 1)) * out.grad
        out._backward = _backward
        return out

    def relu(self) -> _InlineValue:
        out = _InlineValue(max(self.data, 0), (self,), "ReLU")

        def _backward() -> None:
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def backward(self) -> None:
        topo: list = []
        visited: set = set()

        def build_topo(v: _InlineValue) -> None:
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)
        build_topo(self)
        self.grad = 1
        for v in reversed(topo):
            v._backward()

    def __neg__(self) -> _InlineValue:
        return self * -1

    def __radd__(self, other: Any) -> _InlineValue:
        return self + other

    def __sub__(self, other: Any) -> _InlineValue:
        return self + (-other)

    def __rsub__(self, other: Any) -> _InlineValue:
        return other + (-self)

    def __rmul__(self, other: Any) -> _InlineValue:
        return self * other

    def __truediv__(self, other: Any) -> _InlineValue:
        return self * other ** -1

    def __rtruediv__(self, other: Any) -> _InlineValue:
        return other * self ** -1


def micrograd_value() -> tuple[type, str]:
    """micrograd's Value class and where it came from ("micrograd" or "inline copy")."""
    try:
        from micrograd.engine import Value
        return Value, "micrograd"
    except ImportError:
        return _InlineValue, "inline copy"


def make_problem(n_points: int = 100, sizes: tuple[int, ...] = SIZES,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Two-moons points X (n, 2), labels y in {-1, +1} (n,), weights [W1 (in, out), b1, ...] float64."""
    from gradkit.data import make_moons
    X, y = make_moons(n_points, noise=0.1, seed=seed)
    rng = np.random.default_rng(seed)
    ws = []
    for fan_in, fan_out in pairwise(sizes):
        ws += [rng.uniform(-1, 1, (fan_in, fan_out)), np.zeros(fan_out)]
    return np.asarray(X, np.float64), np.where(np.asarray(y) > 0, 1.0, -1.0), ws


# ----------------------------------------------------------------------------- scalar objects
def scalar_step_fn(X: np.ndarray, y: np.ndarray, ws: list[np.ndarray], make: Callable[[float], Any],
                   zero: Callable[[Any], None], update: Callable[[Any], None]) -> Callable[[], float]:
    """micrograd's neuron-by-neuron step for any scalar type: ``make`` wraps a float, ``zero`` clears a
    parameter's grad, ``update`` applies the SGD step to one parameter."""
    layers = [([[make(float(W[i, j])) for i in range(W.shape[0])] for j in range(W.shape[1])],
               [make(float(v)) for v in b]) for W, b in zip(ws[::2], ws[1::2])]
    params = [p for Ws, bs in layers for w_row in Ws for p in w_row] + [p for _, bs in layers for p in bs]
    inputs = [[make(float(v)) for v in row] for row in X]
    targets = [float(t) for t in y]
    scale = 1.0 / len(inputs)

    def forward(x: list) -> Any:
        for k, (Ws, bs) in enumerate(layers):
            out = [sum((wi * xi for wi, xi in zip(w_row, x)), b) for w_row, b in zip(Ws, bs)]
            x = [o.relu() for o in out] if k < len(layers) - 1 else out
        return x[0]

    def step() -> float:
        for p in params:
            zero(p)
        losses = [(1 + -t * forward(x)).relu() for x, t in zip(inputs, targets)]
        loss = sum(losses) * scale
        loss.backward()
        for p in params:
            update(p)
        return float(loss.data)

    return step


def micrograd_step_fn(X: np.ndarray, y: np.ndarray, ws: list[np.ndarray]) -> Callable[[], float]:
    """The step with micrograd's Value objects."""
    Value, _ = micrograd_value()

    def zero(p: Any) -> None:
        p.grad = 0

    def update(p: Any) -> None:
        p.data -= LR * p.grad

    return scalar_step_fn(X, y, ws, Value, zero, update)


def gradkit_0d_step_fn(X: np.ndarray, y: np.ndarray, ws: list[np.ndarray]) -> Callable[[], float]:
    """The same scalar graph with gradkit 0-d tensors (weights require grad, inputs do not)."""
    import gradkit.autograd as ag

    def make(v: float) -> Any:
        return ag.Tensor(np.float64(v), requires_grad=True)

    def zero(p: Any) -> None:
        p.grad = None

    def update(p: Any) -> None:
        if p.grad is not None:
            p.data -= LR * p.grad.data

    step = scalar_step_fn(X, y, ws, make, zero, update)
    return step


# ----------------------------------------------------------------------------- batched
def gradkit_batched_step_fn(X: np.ndarray, y: np.ndarray, ws: list[np.ndarray]) -> Callable[[], float]:
    """gradkit with (n, d) tensors: X @ W + b per layer."""
    import gradkit.autograd as ag

    params = [ag.Tensor(w, requires_grad=True) for w in ws]
    gx, gy = ag.from_numpy(X), ag.from_numpy(y)

    def step() -> float:
        h = gx
        for k in range(len(params) // 2):
            h = h @ params[2 * k] + params[2 * k + 1]
            if k < len(params) // 2 - 1:
                h = h.relu()
        loss = (1 - gy * h[:, 0]).relu().mean()
        loss.backward()
        for p in params:
            p.data -= LR * p.grad.data
            p.grad = None
        return loss.item()

    return step


def numpy_batched_step_fn(X: np.ndarray, y: np.ndarray, ws: list[np.ndarray]) -> Callable[[], float]:
    """The batched step hand-written in numpy (the floor)."""
    params = [w.copy() for w in ws]
    n_layers = len(params) // 2

    def step() -> float:
        acts, h = [X], X
        for k in range(n_layers):
            h = h @ params[2 * k] + params[2 * k + 1]
            if k < n_layers - 1:
                h = np.maximum(h, 0)
                acts.append(h)
        margin = 1 - y * h[:, 0]
        loss = np.maximum(margin, 0).mean()
        g = ((margin > 0) * -y / len(y))[:, None]
        for k in reversed(range(n_layers)):
            a = acts[k]
            gw, gb = a.T @ g, g.sum(0)
            if k > 0:
                g = (g @ params[2 * k].T) * (a > 0)
            params[2 * k] -= LR * gw
            params[2 * k + 1] -= LR * gb
        return float(loss)

    return step


def hips_batched_step_fn(X: np.ndarray, y: np.ndarray, ws: list[np.ndarray]) -> Callable[[], float] | None:
    """The batched step in HIPS autograd: value and grad of the functional loss, then SGD (None when missing)."""
    hips = import_hips_autograd()
    if hips is None:
        return None
    anp, _ = hips
    # HIPS, now in sys.modules (import_hips_autograd avoids gradkit's folder)
    from autograd import value_and_grad

    params = [w.copy() for w in ws]
    n_layers = len(params) // 2

    def loss_of(ps: list) -> Any:
        h = X
        for k in range(n_layers):
            h = anp.dot(h, ps[2 * k]) + ps[2 * k + 1]
            if k < n_layers - 1:
                h = anp.maximum(h, 0.0)
        return anp.mean(anp.maximum(1 - y * h[:, 0], 0.0))

    loss_and_grad = value_and_grad(loss_of)

    def step() -> float:
        loss, grads = loss_and_grad(params)
        for p, g in zip(params, grads):
            p -= LR * g
        return float(loss)

    return step


CONTENDERS = {"micrograd": micrograd_step_fn, "gradkit_0d": gradkit_0d_step_fn,
              "gradkit_batched": gradkit_batched_step_fn, "numpy_batched": numpy_batched_step_fn,
              "hips_batched": hips_batched_step_fn}
SCALAR = ("micrograd", "gradkit_0d")  # one step takes ~1 s at 100 points: one call per sample


def contender(name: str, n_points: int = 100, sizes: list[int] | tuple[int, ...] = SIZES) -> Callable[[], float] | None:
    """The step of contender ``name`` on ``n_points`` two-moons points (what a worker process times)."""
    X, y, ws = make_problem(n_points, tuple(sizes))
    return CONTENDERS[name](X, y, ws)


def measure(n_points: int = 100, sizes: tuple[int, ...] = SIZES, rounds: int = 5, repeat: int = 3,
            batched_number: int = 50, runner: Callable[[dict], dict] | None = None) -> dict:
    """Median seconds of one step per contender over ``rounds`` rounds (one process each) and medians of
    the per-round ratios (the scalar steps one call per sample, the batched ones ``batched_number``)."""
    params = {"n_points": n_points, "sizes": list(sizes)}
    cases = {name: make_case("bench_scalar", name, params, repeat, 1, warmup=1) if name in SCALAR else
             make_case("bench_scalar", name, params, repeat, batched_number, warmup=5) for name in CONTENDERS}
    res = run_rounds(cases, rounds, runner)
    return {"n_points": n_points, "sizes": list(sizes), "rounds": rounds, "micrograd_source": micrograd_value()[1],
            **{f"{k}_s": res.median(k) for k in CONTENDERS},
            "gradkit_0d_vs_micrograd": res.ratio("gradkit_0d", "micrograd"),
            "gradkit_batched_vs_numpy": res.ratio("gradkit_batched", "numpy_batched"),
            "gradkit_batched_vs_hips": res.ratio("gradkit_batched", "hips_batched"),
            "per_round": res.as_dict()}


def targets(r: dict) -> list[Target]:
    """The issue's scalar-workload targets from the measured row."""
    return [Target("scalar", "gradkit 0-d / micrograd Value", r["gradkit_0d_vs_micrograd"], 1.0),
            Target("scalar", "gradkit batched / numpy batched", r["gradkit_batched_vs_numpy"], 3.0),
            Target("scalar", "gradkit batched / hips autograd batched", r["gradkit_batched_vs_hips"], 1.0)]


def run(quick: bool = False, rounds: int | None = None) -> dict:
    """The workload, its table and its targets."""
    rounds = default_rounds(quick, rounds)
    r = measure(20 if quick else 100, SIZES, rounds, 2 if quick else 3, 10 if quick else 100)
    ms = [None if r[f"{k}_s"] is None else r[f"{k}_s"] * 1e3 for k in CONTENDERS]
    print_table(f"2-16-16-1 MLP, one full-batch step on {r['n_points']} two-moons points (ms, median of {rounds} "
                f"rounds; ratios: median of per-round ratios; micrograd: {r['micrograd_source']})",
                ["micrograd", "gk 0-d", "gk batched", "numpy batched", "hips batched", "gk 0-d/micrograd",
                 "gk batched/numpy", "gk batched/hips"],
                [ms + [r["gradkit_0d_vs_micrograd"], r["gradkit_batched_vs_numpy"], r["gradkit_batched_vs_hips"]]])
    return {"name": "scalar", "rounds": rounds, "rows": [r], "targets": targets(r)}


if __name__ == "__main__":
    main_for("scalar", run)
