"""One test-side table of optimizer configurations, shared by the optim tests.

Each row: an id, the gradkit class name (also torch.optim's), constructor
kwargs, and the overrides of a second parameter group. The helpers build the
same float64 problem for gradkit and torch and a deterministic gradient rule,
so tests feed identical gradient arrays to both optimizers.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gradkit import optim
from gradkit.autograd.tensor import Tensor


class Config(NamedTuple):
    id: str
    name: str  # class name in gradkit.optim and torch.optim
    kwargs: dict[str, Any]
    group1: dict[str, Any]  # overrides for the second parameter group

    @property
    def cls(self) -> type:
        return getattr(optim, self.name)


_G1 = {  # per-optimizer settings of the second group: different from the first
    "SGD": {"lr": 0.01, "momentum": 0.5},
    "Adagrad": {"lr": 0.05, "lr_decay": 0.1},
    "Adadelta": {"rho": 0.8, "lr": 0.5},
    "RMSprop": {"lr": 0.005, "centered": True},
    "Adam": {"lr": 0.01, "betas": (0.8, 0.99)},
    "AdamW": {"weight_decay": 0.3},
    "Rprop": {"lr": 0.1, "etas": (0.4, 1.1)},
}

_ROWS = [
    ("sgd", "SGD", {"lr": 0.05}),
    ("sgd-momentum", "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("sgd-dampening", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.9}),
    ("sgd-nesterov", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("sgd-weight-decay", "SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}),
    ("sgd-maximize", "SGD", {"lr": 0.05, "momentum": 0.9, "maximize": True}),
    ("adagrad", "Adagrad", {"lr": 0.1}),
    ("adagrad-decay", "Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1}),
    ("adagrad-initial-acc", "Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}),
    ("adagrad-maximize", "Adagrad", {"lr": 0.1, "maximize": True}),
    ("adadelta", "Adadelta", {}),
    ("adadelta-options", "Adadelta", {"rho": 0.5, "eps": 1e-4, "weight_decay": 0.1}),
    ("adadelta-maximize", "Adadelta", {"lr": 0.5, "maximize": True}),
    ("rmsprop", "RMSprop", {"lr": 0.01}),
    ("rmsprop-momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("rmsprop-centered", "RMSprop", {"lr": 0.01, "centered": True}),
    ("rmsprop-centered-momentum-wd", "RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5,
                                                 "weight_decay": 0.1}),
    ("rmsprop-small-alpha", "RMSprop", {"lr": 0.01, "alpha": 0.3, "centered": True}),
    ("rmsprop-maximize", "RMSprop", {"lr": 0.01, "maximize": True}),
    ("adam", "Adam", {"lr": 0.05}),
    ("adam-amsgrad", "Adam", {"lr": 0.05, "amsgrad": True}),
    ("adam-weight-decay", "Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("adam-betas-amsgrad-wd", "Adam", {"lr": 0.05, "betas": (0.5, 0.9), "amsgrad": True, "weight_decay": 0.1}),
    ("adam-small-beta1", "Adam", {"lr": 0.05, "betas": (0.3, 0.99)}),
    ("adam-maximize", "Adam", {"lr": 0.05, "maximize": True}),
    ("adamw", "AdamW", {"lr": 0.05}),
    ("adamw-amsgrad", "AdamW", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("adamw-maximize", "AdamW", {"lr": 0.05, "maximize": True}),
    ("rprop", "Rprop", {"lr": 0.05}),
    ("rprop-options", "Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}),
    ("rprop-maximize", "Rprop", {"lr": 0.05, "maximize": True}),
]

CONFIGS = [Config(i, name, kwargs, _G1[name]) for i, name, kwargs in _ROWS]
CONFIG_IDS = [c.id for c in CONFIGS]

# (optimizer name, kwargs, words the ValueError message must contain)
BAD_HYPERPARAMETERS = [
    ("SGD", {"lr": -0.1}, ["Invalid learning rate", "-0.1", "lr"]),
    ("SGD", {"lr": 0.1, "momentum": -0.5}, ["momentum", "-0.5"]),
    ("SGD", {"lr": 0.1, "weight_decay": -1e-3}, ["weight_decay", "-0.001"]),
    ("SGD", {"lr": 0.1, "nesterov": True}, ["Nesterov", "momentum", "dampening"]),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}, ["Nesterov", "dampening=0.1"]),
    ("Adagrad", {"lr": -1.0}, ["Invalid learning rate", "-1.0"]),
    ("Adagrad", {"lr_decay": -0.1}, ["lr_decay", "-0.1"]),
    ("Adagrad", {"initial_accumulator_value": -1.0}, ["initial_accumulator_value", "-1.0"]),
    ("Adagrad", {"eps": -1e-10}, ["epsilon", "eps"]),
    ("Adadelta", {"rho": 1.5}, ["rho", "1.5"]),
    ("Adadelta", {"eps": -1.0}, ["epsilon", "-1.0"]),
    ("RMSprop", {"alpha": -0.9}, ["alpha", "-0.9"]),
    ("RMSprop", {"momentum": -0.1}, ["momentum", "-0.1"]),
    ("Adam", {"lr": -0.001}, ["Invalid learning rate", "-0.001"]),
    ("Adam", {"betas": (1.0, 0.999)}, ["Invalid beta parameter at index 0", "1.0"]),
    ("Adam", {"betas": (0.9, -0.1)}, ["Invalid beta parameter at index 1", "-0.1"]),
    ("Adam", {"eps": -1e-8}, ["epsilon", "-1e-08"]),
    ("Adam", {"weight_decay": -0.1}, ["weight_decay", "-0.1"]),
    ("AdamW", {"betas": (0.9, 1.0)}, ["Invalid beta parameter at index 1", "1.0"]),
    ("AdamW", {"weight_decay": -0.01}, ["weight_decay", "-0.01"]),
    ("Rprop", {"lr": -0.01}, ["Invalid learning rate", "-0.01"]),
    ("Rprop", {"etas": (1.2, 0.5)}, ["Invalid eta values", "1.2", "0.5"]),
    ("Rprop", {"etas": (0.5, 1.0)}, ["Invalid eta values", "etaplus"]),
    ("Rprop", {"step_sizes": (1.0, 1e-3)}, ["step_sizes", "1.0", "0.001"]),
    ("Rprop", {"step_sizes": (-1.0, 1.0)}, ["step_sizes", "-1.0"]),
]


# ---------------------------------------------------------------------- the shared problem
SHAPES = {"W": (3, 4), "b": (4,), "s": (), "unused": (2,)}  # "unused" never gets a gradient


def initial_arrays(seed: int = 0, dtype: Any = np.float64) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.normal(size=shape).astype(dtype) for k, shape in SHAPES.items()}


def targets(seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.normal(size=shape) for k, shape in SHAPES.items()}


def gradient(name: str, x: np.ndarray, step: int, target: np.ndarray) -> np.ndarray | None:
    """Deterministic, non-quadratic gradient rule; None for "unused" and for "b" every 4th step."""
    if name == "unused" or (name == "b" and step % 4 == 3):
        return None
    phase = np.cos(0.7 * step + np.arange(x.size).reshape(x.shape))
    return (1.5 * (x - target) + 0.3 * np.sin(2.0 * x) + 0.1 * phase).astype(x.dtype)


def make_gradkit(config: Config, arrays: dict[str, np.ndarray], **extra: Any) -> tuple[Any, dict[str, Tensor]]:
    """gradkit params and optimizer with two groups: (W, unused) and (b, s) with group1 overrides."""
    params = {k: Tensor(v.copy(), requires_grad=True, name=k) for k, v in arrays.items()}
    groups = [{"params": [params["W"], params["unused"]]},
              {"params": [params["b"], params["s"]], **config.group1}]
    return config.cls(groups, **{**config.kwargs, **extra}), params


def make_torch(torch: Any, config: Config, arrays: dict[str, np.ndarray]) -> tuple[Any, dict[str, Any]]:
    params = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in arrays.items()}
    groups = [{"params": [params["W"], params["unused"]]},
              {"params": [params["b"], params["s"]], **config.group1}]
    kwargs = dict(config.kwargs)
    kwargs.setdefault("foreach", False)  # the single-tensor path is the reference
    return getattr(torch.optim, config.name)(groups, **kwargs), params
