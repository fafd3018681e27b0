"""Module: the base class of layers and models (parameters, buffers and sub-modules by attribute).

Assigning a :class:`Parameter`, a ``Module`` or a registered buffer to an
attribute files it in the ordered dicts ``_parameters``, ``_modules`` or
``_buffers`` (as ``torch.nn.Module.__setattr__`` does); everything else is a
plain attribute. So a *plain Python list* of modules is NOT registered: its
parameters are not in ``parameters()`` and an optimizer would never train
them. Hold sub-modules in :class:`~gradkit.nn.ModuleList`,
:class:`~gradkit.nn.ModuleDict` or :class:`~gradkit.nn.Sequential` (assigning a
list of Modules warns).
"""
from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np

from gradkit.autograd.grad_mode import no_grad
from gradkit.autograd import scope
from gradkit.autograd.scope import Scope
from gradkit.autograd.tensor import RemovableHandle, Tensor
from gradkit.nn.parameter import Parameter


_new = object.__new__


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _check_name(kind: str, name: Any, owner: "Module") -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got {name!r}')
    if hasattr(owner, name) and name not in owner._parameters and name not in owner._buffers \
            and name not in owner._modules:
        raise KeyError(f"attribute {name!r} already exists")


class Module:
    """Base class of all layers and models: subclass it, create layers in ``__init__``, write ``forward``.

    Calling a module runs ``forward`` inside an autograd scope labelled like
    ``Linear(64→10)``, so graph drawings box each module call.

    Note:
        Only attributes holding a Parameter, a Module or a registered buffer are
        registered. Sub-modules kept in a plain Python list or dict are NOT (their
        parameters are missing from ``parameters()``, optimizers and ``state_dict()``):
        use ``nn.ModuleList``, ``nn.ModuleDict`` or ``nn.Sequential``.

    Example:
        >>> import gradkit as gk
        >>> from gradkit import nn
        >>> class MLP(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.hidden = nn.Linear(2, 3)
        ...         self.out = nn.Linear(3, 1)
        ...     def forward(self, x):
        ...         return self.out(self.hidden(x).relu())
        >>> model = MLP()
        >>> [name for name, _ in model.named_parameters()]
        ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
        >>> model(gk.autograd.randn(4, 2)).shape
        (4, 1)
    """

    training: bool
    # Hooks of a module call (lists in the instance once one is registered; empty class defaults until then,
    # so a call without hooks pays two lookups)
    _forward_pre_hooks: list | tuple = ()
    _forward_hooks: list | tuple = ()

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = OrderedDict()

    # ------------------------------------------------------------------ call
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # ``with named_scope(self._scope_label, self)`` written out: every layer call pays for it, and the
        # context manager object and its two method calls cost as much as a small layer's forward
        prev = scope.current
        call = _new(Scope)  # no __init__ (a Python call costing as much as the rest): a module call's scope
        call.owner = self  # has only its owner, and asks it for the label if a drawing reads one
        scope.current = (call,) if prev is None else prev + (call,)
        try:
            if self._forward_pre_hooks or self._forward_hooks:
                return self._call_with_hooks(args, kwargs)
            return self.forward(*args, **kwargs)
        finally:
            scope.current = prev

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook in list(self._forward_pre_hooks):
            new_args = hook(self, args)
            if new_args is not None:
                args = new_args if isinstance(new_args, tuple) else (new_args,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks):
            new_output = hook(self, args, output)
            if new_output is not None:
                output = new_output
        return output

    def register_forward_pre_hook(self, hook: Callable[["Module", tuple], Any]) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward``; a non-None result replaces the
        positional arguments (a non-tuple becomes a 1-tuple), as in PyTorch.

        Returns:
            A handle whose ``remove()`` unregisters the hook (also a context manager).
        """
        return self._register_hook("_forward_pre_hooks", hook)

    def register_forward_hook(self, hook: Callable[["Module", tuple, Any], Any]) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every ``forward``; a non-None result replaces the
        output, as in PyTorch. Gradients flow through what the hook returns.

        Returns:
            A handle whose ``remove()`` unregisters the hook (also a context manager).

        Example (record each layer's activations):
            >>> import gradkit as gk
            >>> from gradkit import nn
            >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
            >>> seen = {}
            >>> with model[1].register_forward_hook(lambda m, args, out: seen.update(relu=out.shape)):
            ...     _ = model(gk.autograd.randn(4, 2))
            >>> seen
            {'relu': (4, 3)}
        """
        return self._register_hook("_forward_hooks", hook)

    def _register_hook(self, name: str, hook: Callable) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
        hooks = self.__dict__.get(name)
        if hooks is None:  # the first one: the instance gets its own list (hooks run in registration order)
            hooks = self.__dict__[name] = []
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def _scope_label(self) -> str:
        """Short label of a call for graph drawings: the class name and a compact ``extra_repr``."""
        extra = self.extra_repr()
        name = type(self).__name__
        return f"{name}({extra})" if extra and len(extra) <= 24 and "\n" not in extra else name

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._discard(name)
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(gradkit.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if "_modules" not in d:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._discard(name)
            d["_modules"][name] = value
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(gradkit.nn.Module or None expected)")
            d["_modules"][name] = None
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(gradkit Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            if type(value) in (list, tuple) and value and any(isinstance(v, Module) for v in value):
                warnings.warn(f"{type(self).__name__}.{name} is a plain {type(value).__name__} of Modules: they "
                              "are NOT registered (their parameters are not in parameters() and will not be "
                              "trained or saved); use nn.ModuleList or nn.Sequential", UserWarning, stacklevel=2)
            object.__setattr__(self, name, value)

    def _discard(self, name: str) -> None:
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            d[key].pop(name, None)
        d["_non_persistent_buffers"].discard(name)

    def __getattr__(self, name: str) -> Any:  # only called when normal lookup fails (hot: self.weight)
        d = self.__dict__
        params = d.get("_parameters")
        if params is not None:
            if name in params:
                return params[name]
            buffers = d["_buffers"]
            if name in buffers:
                return buffers[name]
            modules = d["_modules"]
            if name in modules:
                return modules[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if name in d[key]:
                del d[key][name]
                d["_non_persistent_buffers"].discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias=False``) as ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name("parameter", name, self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(gradkit.nn.Parameter or None required)")
        self._discard(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a non-trainable tensor (running statistics, counters) saved in ``state_dict``.

        Args:
            name: attribute name (no dots).
            tensor: the buffer, or None.
            persistent: False keeps it out of ``state_dict``.

        Raises:
            TypeError: ``tensor`` is not a Tensor or None.
            KeyError: the name is empty, contains a dot, or is another attribute.

        Example:
            >>> import gradkit as gk
            >>> m = gk.nn.Module(); m.register_buffer("count", gk.tensor(0))
            >>> list(m.state_dict())
            ['count']
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name("buffer", name, self)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(gradkit Tensor or None required)")
        self._discard(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register ``module`` as the child ``name`` (what attribute assignment does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f"module name can't be empty or contain \".\", got {name!r}")
        self._discard(name)
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """Yield ``(qualified name, module)`` for self and every descendant (a shared one once)."""
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:  # depth-first, children in registration order, no recursion
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in memo:
                    continue
                memo.add(id(module))
            yield name, module
            children = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        """Self and every descendant module, each once."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """Yield ``(name, module)`` for the direct children (a shared one once)."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator["Module"]:
        """The direct child modules."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, key: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        seen = set()
        for mod_prefix, module in modules:
            for name, value in module.__dict__[key].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(qualified name, parameter)``; a parameter shared by several modules comes once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters of self and (``recurse``) its descendants, each shared one once.

        Example:
            >>> from gradkit import nn
            >>> [tuple(p.shape) for p in nn.Linear(3, 2).parameters()]
            [(2, 3), (2,)]
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """Yield ``(qualified name, buffer)`` for self and (``recurse``) its descendants."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers of self and (``recurse``) its descendants."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> "Module":
        """The descendant named by a dotted path such as ``"encoder.0"``."""
        module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r} (in path {target!r})")
            module = child
        return module

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn`` on every descendant (children first) and then on self; return self.

        Example:
            >>> from gradkit import nn
            >>> def init(m):
            ...     if isinstance(m, nn.Linear):
            ...         nn.init.zeros_(m.weight)
            >>> float(nn.Sequential(nn.Linear(2, 2)).apply(init)[0].weight.sum().item())
            0.0
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (``mode=True``) or evaluation mode on self and every descendant; return self."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> "Module":
        """Evaluation mode (Dropout is the identity, BatchNorm uses running statistics); same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set ``requires_grad`` of every parameter (freeze with False); return self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradient of every parameter: set ``.grad`` to None (default), or fill it with zeros.

        Only parameters (leaves) keep ``.grad``; intermediate results are rebuilt by each forward.
        """
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad = Tensor._make(np.zeros_like(p.grad.data))

    # ------------------------------------------------------------------ dtype
    def _apply_to_floats(self, dtype: Any) -> "Module":
        dtype = np.dtype(dtype)
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is not None and t.data.dtype.kind == "f" and t.data.dtype != dtype:
                        t.data = t.data.astype(dtype)
                        if t.grad is not None:
                            t.grad = Tensor._make(t.grad.data.astype(dtype))
        return self

    def to(self, dtype: Any) -> "Module":
        """Convert floating point parameters and buffers to ``dtype`` in place (same Parameter objects)."""
        return self._apply_to_floats(dtype)

    def double(self) -> "Module":
        """Floating point parameters and buffers to float64."""
        return self._apply_to_floats(np.float64)

    def float(self) -> "Module":
        """Floating point parameters and buffers to float32."""
        return self._apply_to_floats(np.float32)

    # ------------------------------------------------------------------ state
    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by qualified name (``"0.weight"``, ``"bn.running_mean"``).

        Values are detached Tensors sharing memory with the module (as PyTorch:
        copy them, e.g. with ``copy.deepcopy``, to keep a snapshot). A parameter
        shared by two modules appears under both names.

        Returns:
            An ordered dict name -> Tensor.

        Example:
            >>> from gradkit import nn
            >>> list(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)).state_dict())  # doctest: +NORMALIZE_WHITESPACE
            ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var',
             '1.num_batches_tracked']
        """
        out: OrderedDict = OrderedDict() if destination is None else destination
        for mod_prefix, module in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            head = f"{mod_prefix}." if mod_prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[head + name] = p if keep_vars else p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent_buffers:
                    out[head + name] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into the parameters and buffers, in place.

        Everything is validated before anything is assigned: on error the model is
        unchanged. Values with another floating dtype are cast with a UserWarning.

        Args:
            state_dict: name -> Tensor or numpy array (e.g. from :meth:`state_dict` or ``nn.load``).
            strict: require exactly the module's keys.

        Returns:
            ``(missing_keys, unexpected_keys)`` (a NamedTuple; both empty when strict succeeds).

        Raises:
            RuntimeError: listing, in one message, every missing key and unexpected
                key (when ``strict``) and every shape mismatch (always).

        Example:
            >>> from gradkit import nn
            >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
            >>> b.load_state_dict(a.state_dict())
            IncompatibleKeys(missing_keys=[], unexpected_keys=[])
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"expected a dict of name -> tensor, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched, casts, values = [], [], {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            arr = value.data if isinstance(value, Tensor) else np.asarray(value)
            if arr.shape != target.data.shape:
                mismatched.append(f"size mismatch for {key}: copying a param with shape {arr.shape} from "
                                  f"checkpoint, the shape in current model is {target.data.shape}.")
                continue
            if arr.dtype != target.data.dtype:
                casts.append(f"{key} ({arr.dtype} -> {target.data.dtype})")
            values[key] = arr
        errors = list(mismatched)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors)
                               + "\nNothing was loaded: the model is unchanged.")
        if own and not values:
            warnings.warn(f"load_state_dict(strict=False) matched none of {type(self).__name__}'s {len(own)} keys: "
                          "nothing was loaded (is this the state dict of another model?)", UserWarning, stacklevel=2)
        if casts:
            warnings.warn("load_state_dict: casting checkpoint values to the model's dtype: " + ", ".join(casts),
                          UserWarning, stacklevel=2)
        with no_grad():
            for key, arr in values.items():
                own[key].copy_(arr)
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """The layer's configuration shown inside its repr (override in layers)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(m), 2) for key, m in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            body = extra_lines[0] if len(extra_lines) == 1 and not child_lines else "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))
