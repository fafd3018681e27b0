"""Optimizer base class: parameter groups, per-parameter state, state_dict.

Follows torch/optim/optimizer.py: ``param_groups`` is a list of dicts (the
hyperparameters plus ``"params"``), ``state`` maps each parameter Tensor (hashed
by identity) to a dict of numpy arrays and Python numbers, and ``step()`` is
written by each subclass as a loop over groups, then over the parameters that
have a gradient, updating ``p.data`` in place with whole-array numpy.
"""
from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from gradkit.autograd.grad_mode import enable_grad
from gradkit.autograd.tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


def _typename(obj: Any) -> str:
    return type(obj).__module__ + "." + type(obj).__qualname__ if not isinstance(obj, Tensor) else "Tensor"


class Optimizer:
    """Base class of all optimizers.

    Subclasses validate their hyperparameters, call ``super().__init__(params,
    defaults)`` and write ``step()``. Parameters given as a list become one
    group; a list of dicts gives one group per dict, each dict's keys overriding
    ``defaults``. Keep ``params`` ordered (a list, not a set): ``state_dict``
    refers to parameters by position.

    Parameters whose ``grad`` is None are skipped (no update, no state);
    a zero gradient still applies momentum and weight decay. Non-finite
    gradients are not checked: NaN/inf propagate into the parameters and state
    exactly as in PyTorch (numpy may warn), except that Rprop, like
    ``torch.sign``, treats sign(NaN) as 0. Clip or check gradients first
    (``gradkit.nn.clip_grad_norm_``) when they can blow up. Each update bumps
    the parameter's version counter, as PyTorch's in-place updates do.

    Subclasses write ``step`` as: ``loss = self._run_closure(closure)``, then
    for each group ``for p, g in self._grads_of(group["params"],
    group["maximize"])``, update ``p.data`` in place, ``self._mark_updated(p)``.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts
            with a ``"params"`` entry and per-group hyperparameters.
        defaults: hyperparameter values used when a group does not set them.

    Raises:
        TypeError: ``params`` is a single Tensor or a set, or holds a non-Tensor.
        ValueError: ``params`` is empty, a Tensor is not a leaf, or a parameter
            appears in more than one group.

    Example:
        >>> import numpy as np
        >>> from gradkit.autograd import Tensor
        >>> from gradkit.optim import SGD
        >>> w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
        >>> b = Tensor(np.array([0.5]), requires_grad=True)
        >>> opt = SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
        >>> [g["lr"] for g in opt.param_groups]
        [0.1, 0.5]
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._step_count = 0  # read by lr schedulers to warn when they step first
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                "but got a single Tensor (wrap it in a list: [param])")
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering "
                "of tensors in sets will change between runs. Please use a list instead.")
        if isinstance(params, dict):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                "but got a dict (pass [dict] for one parameter group)")
        try:
            param_groups = list(params)
        except TypeError:
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {_typename(params)}") from None

        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a parameter group (e.g. layers unfrozen during fine-tuning).

        Missing hyperparameters are filled from ``defaults``.

        Args:
            param_group: dict with ``"params"`` (a Tensor or an ordered iterable
                of Tensors or of ``(name, Tensor)`` pairs) and optional
                hyperparameters.

        Raises:
            TypeError: not a dict, ``params`` is a set, or holds a non-Tensor.
            ValueError: a non-leaf Tensor, names given for only some params, or
                a parameter already in another group.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_typename(param_group)}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry")
        param_group = dict(param_group)  # do not mutate the caller's dict
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering "
                "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)

        tensors: list[Tensor] = []
        names: list[str] = []
        for param in params:
            if isinstance(param, tuple) and len(param) == 2:
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        if names and len(names) != len(tensors):
            raise ValueError("all optimizer params should be with/without names. Some param names are missing")
        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(param)}")
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        param_group["params"] = tensors
        if names:
            param_group["param_names"] = names

        for name, default in self.defaults.items():
            param_group.setdefault(name, default)

        if len({id(p) for p in tensors}) != len(tensors):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; "
                "each duplicate would be updated twice per step", UserWarning, stacklevel=3)

        existing: set[int] = set()
        for group in self.param_groups:
            existing.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer")
        if any(id(p) in existing for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters.

        Args:
            set_to_none: set ``p.grad = None`` (default; ``step`` then skips the
                parameter) instead of filling the gradient with zeros in place
                (``step`` then still applies momentum and weight decay).
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif p.grad.grad_fn is not None:  # a create_graph gradient: drop its graph
                    p.grad = Tensor(np.zeros_like(p.grad.data))
                else:
                    p.grad.data[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return the closure's loss.

        Args:
            closure: optional callable that recomputes the loss (it should zero
                the grads, run forward and backward, and return the loss); it is
                called under ``enable_grad``.

        Returns:
            The closure's return value, or None without a closure.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    def _run_closure(self, closure: Callable[[], Any] | None) -> Any:
        """Shared start of every ``step``: count the step, evaluate the closure."""
        self._step_count += 1
        if closure is None:
            return None
        with enable_grad():
            return closure()

    @staticmethod
    def _grads_of(params: Iterable[Tensor], maximize: bool) -> Iterator[tuple[Tensor, np.ndarray]]:
        """Yield ``(p, g)`` for parameters with a gradient; ``g = -∇`` when maximizing.

        ``g`` may be ``p.grad``'s own array: callers never write into it.
        """
        for p in params:
            if p.grad is None:
                continue
            g = p.grad.data
            if g.shape != p.data.shape:
                raise ValueError(
                    f"gradient shape {g.shape} does not match parameter shape {p.data.shape}"
                    + (f" (parameter {p.name!r})" if p.name else ""))
            if g.dtype is not p.data.dtype and g.dtype != p.data.dtype:  # keep float32 parameters float32
                g = g.astype(p.data.dtype)
            yield p, (-g if maximize else g)

    @staticmethod
    def _mark_updated(p: Tensor) -> None:
        """Bump the version counter, as PyTorch's in-place updates do.

        A graph that saved ``p`` before this step then refuses to backward
        instead of silently using the new values.
        """
        p._version_counter()[0] += 1

    # ------------------------------------------------------------------ (de)serialisation
    def state_dict(self) -> dict[str, Any]:
        """Return the optimizer state as plain numpy arrays and Python numbers.

        Format (PyTorch's)::

            {"state": {index: {name: array or number}},
             "param_groups": [{hyperparameters..., "params": [indices]}]}

        where ``index`` numbers the parameters in group order. Arrays are
        copies: stepping on afterwards does not change a saved state dict.

        Returns:
            The state dict.
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, p_state in self.state.items():
            key = index_of[id(p)] if isinstance(p, Tensor) and id(p) in index_of else p
            state[key] = {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else copy.deepcopy(v))
                          for k, v in p_state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict made by :meth:`state_dict` (possibly of another instance).

        Parameters are matched by position. Arrays are deep-copied and cast to
        their parameter's dtype; hyperparameters come from the state dict.

        Args:
            state_dict: the dict to load.

        Raises:
            ValueError: the number of groups, a group's size, or a state array's
                shape differs from this optimizer's.
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("state_dict must be a dict with 'state' and 'param_groups' entries")
        groups = self.param_groups
        saved_groups = copy.deepcopy(list(state_dict["param_groups"]))
        if len(groups) != len(saved_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)} saved, optimizer has {len(groups)})")
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size of "
                    f"optimizer's group (group {i}: {len(saved['params'])} saved, {len(group['params'])} here)")
        id_map: dict[int, Tensor] = {}
        for group, saved in zip(groups, saved_groups):
            for index, p in zip(saved["params"], group["params"]):
                id_map[int(index)] = p

        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            try:
                index = int(key)
            except (TypeError, ValueError):
                index = None
            if index is None or index not in id_map:
                state[key] = copy.deepcopy(value)
                continue
            p = id_map[index]
            state[p] = {name: self._cast_state_value(p, name, v) for name, v in value.items()}

        new_groups = []
        for group, saved in zip(groups, saved_groups):
            for name, v in group.items():  # JSON round trips turn tuples (betas, etas) into lists
                if isinstance(v, tuple) and isinstance(saved.get(name), list):
                    saved[name] = tuple(saved[name])
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.state = state
        self.param_groups = new_groups

    @staticmethod
    def _cast_state_value(p: Tensor, name: str, value: Any) -> Any:
        """Deep copy of one state entry; arrays in the parameter's dtype."""
        if name == "step" and isinstance(value, (np.ndarray, np.generic)):
            return value.item()  # the step count stays a Python number, as it was saved
        if isinstance(value, np.ndarray):
            if value.shape != p.data.shape:
                raise ValueError(
                    f"loaded state '{name}' has shape {value.shape}, but its parameter has shape {p.data.shape}")
            dtype = p.data.dtype if p.data.dtype.kind in "fc" else value.dtype
            return np.array(value, dtype=dtype, copy=True)
        if isinstance(value, np.generic):
            return value.item()
        return copy.deepcopy(value)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups,
                "_step_count": self._step_count}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_step_count", 0)


def _check_non_negative(**values: float) -> None:
    """Raise PyTorch's ``ValueError("Invalid learning rate: -0.1")`` for a negative (or NaN) value."""
    for name, value in values.items():
        label = {"lr": "learning rate", "eps": "epsilon value"}.get(name, f"{name} value")
        if not 0.0 <= value:
            raise ValueError(f"Invalid {label}: {value} ({name} must be >= 0)")


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start ← start + w (end − start)`` in place, rounded as PyTorch's ``lerp_``.

    PyTorch switches to ``end − (end − start)(1 − w)`` for ``|w| ≥ 0.5``, which is
    exact at w = 1; matching it keeps trajectories equal to the last bits.
    """
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)
