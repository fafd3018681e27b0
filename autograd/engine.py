"""The backward engine: reverse topological order without recursion.

1. Walk the graph from the outputs with an explicit stack, counting for each
   node how many consumers it has in this graph (HIPS autograd's ``toposort``).
2. Process a node once all its consumers have sent their gradient (count 0):
   call its ``backward``, sum each returned gradient back to its input's shape
   (the one ``sum_to`` call site), and pass it on to the parent node or
   accumulate it into the leaf's ``.grad``.
Every node runs exactly once per backward, however many paths reach it, so
the work is linear in the number of edges and a 10**6-op chain needs no stack.
"""
from __future__ import annotations

import gc
from typing import Any, Callable, Sequence

import numpy as np

from gradkit.autograd import anomaly, grad_mode
from gradkit.autograd.tensor import Tensor


def _seed_gradient(t: Tensor, g: Any) -> Tensor:
    if g is None:
        if t.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs, but the output has shape "
                               f"{tuple(t.shape)}: pass gradient= (a tensor of that shape) to backward()")
        return Tensor._make(np.array(1, dtype=t.data.dtype).reshape(t.data.shape))
    g = g if isinstance(g, Tensor) else Tensor(g, dtype=t.dtype)
    if g.shape != t.shape:
        raise RuntimeError(f"invalid gradient: expected shape {tuple(t.shape)} (the output's) but got "
                           f"{tuple(g.shape)}")
    if g.dtype != t.dtype:
        g = g.to(t.dtype)
    return g


def _run_hooks(t: Tensor, g: Tensor) -> Tensor:
    for hook in list(t._hooks):
        new = hook(g)
        if new is not None:
            g = new if isinstance(new, Tensor) else Tensor(new)
    return g


def _accumulate(leaf: Tensor, g: Tensor, create_graph: bool, owned: bool = False) -> None:
    """``leaf.grad += g``; a first gradient is copied so no two ``.grad`` share memory, unless ``owned``.

    ``owned``: nothing but this walk refers to ``g``'s array (see ``Function.fresh_gradients``),
    so it becomes ``.grad`` as it is: one parameter-sized copy less per leaf and backward.
    """
    if leaf.grad is None:  # with create_graph a differentiable copy: one gradient may reach several leaves
        if create_graph:
            leaf.grad = g + 0
        else:
            leaf.grad = g if owned else Tensor._make(g.data.copy())
    elif create_graph or leaf.grad._requires_grad:
        leaf.grad = leaf.grad + g
    else:
        leaf.grad.data += g.data


def _match_input(g: Tensor, inp: np.ndarray, node: Any) -> Tensor:
    """Sum a broadcast-shaped gradient back to the input's shape and give it the input's dtype."""
    if g.data.shape != inp.shape:
        g = ops.sum_to(g, inp.shape, node)
    if g.data.dtype != inp.dtype:
        g = ops.cast(g, inp.dtype)
    return g


def _order(roots: Sequence[Any]) -> dict:
    """Count, for each node reachable from ``roots``, its consumers within the graph."""
    consumers: dict = dict.fromkeys(roots, 0)
    stack = list(roots)
    while stack:
        for p in stack.pop().parents:
            if p is None or isinstance(p, Tensor):
                continue
            if p in consumers:
                consumers[p] += 1
            else:  # first visit
                consumers[p] = 1
                stack.append(p)
    return consumers


def run_backward(outputs: Sequence[Tensor], grad_outputs: Sequence[Any] | None, retain_graph: bool,
                 create_graph: bool, capture: dict | None = None,
                 observer: Callable[[Any, Tensor | None, list], None] | None = None) -> None:
    """Backpropagate from ``outputs``.

    With ``capture`` (a dict keyed by tensors), gradients of those tensors are
    stored there instead of being accumulated into leaves' ``.grad`` (``grad()``).
    With ``observer``, nothing is written anywhere (no ``.grad``, no hooks) and
    ``observer(node, upstream, sends)`` is called for each node in the order it
    runs, ``sends`` listing ``(input index, parent, gradient as returned, gradient
    summed to the input's shape)`` (``trace_backward``).
    """
    grads: dict = {}
    # each leaf's contributions are summed first, so its hooks run once with the total (as PyTorch)
    leaf_grads: dict = {}
    owned: set = set()  # leaves whose summed gradient is an array made in this walk and held by nothing else
    root_nodes = []
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward expects Tensors, got {type(t).__name__} at position {i}")
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn "
                               "(it was made from tensors without requires_grad=True, or under no_grad)")
        g = _seed_gradient(t, None if grad_outputs is None else grad_outputs[i])
        node = t.grad_fn
        if node is None:  # a leaf is its own output
            leaf_grads[t] = g if t not in leaf_grads else leaf_grads[t] + g
            continue
        if node._released:
            from gradkit.autograd.function import raise_released
            raise_released(node)
        if node not in grads:
            root_nodes.append(node)
            grads[node] = g
        else:
            grads[node] = grads[node] + g

    if capture is not None:
        for t in capture:
            if t.grad_fn is not None:
                t.grad_fn._watch(t)
    consumers = _order(root_nodes)
    ready = [n for n in root_nodes if consumers[n] == 0]
    processed = 0
    # A node's output is held by its consumers' inputs, and consumers run (and release them) first, so
    # an activation is freed as soon as its last consumer has run (as in PyTorch) -- except the outputs
    # that a backward reads (``ctx.output``) or the walk looks up (hooks, retain_grad, grad()'s inputs):
    # those are held until the walk ends (their nodes are the ones with an ``_out`` reference).
    held_outputs = None if retain_graph else [n._out() for n in consumers if n._out is not None]
    prev_mode, prev_in_backward = grad_mode._enabled, anomaly._in_backward
    grad_mode._enabled = create_graph
    anomaly._in_backward = True
    # The walk creates no reference cycles, so the cyclic collector has nothing to find, but over a
    # large graph its passes cost as much as the walk itself: pause it (PyTorch's engine is not
    # subject to it either).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    check_values = anomaly._enabled
    try:
        while ready:
            node = ready.pop()
            processed += 1
            g = grads.pop(node, None)
            if node._watched and observer is None:
                out = node._out()
                if out is not None and out.grad_fn is node and g is not None:
                    if out._hooks:
                        g = _run_hooks(out, g)
                    if out._retains_grad:
                        _accumulate(out, g, create_graph)
                    if capture is not None and out in capture:
                        capture[out] = g if capture[out] is None else capture[out] + g
            parents = node.parents
            if g is not None:
                if node._released:
                    from gradkit.autograd.function import raise_released
                    raise_released(node)
                in_grads = type(node).backward(node, g)
                if type(in_grads) is not tuple:
                    in_grads = (in_grads,)
                if len(in_grads) != len(parents):
                    raise RuntimeError(f"function {node.name} returned an incorrect number of gradients "
                                       f"(expected {len(parents)}, got {len(in_grads)})")
            else:  # nothing reached this node: it sends nothing, but its parents must still be counted down
                in_grads = (None,) * len(parents)
            sends = [] if observer is not None else None
            fresh = node.fresh_gradients
            inputs = node.inputs
            i = -1
            for p, gi in zip(parents, in_grads):
                i += 1
                if p is None:
                    continue
                if gi is not None:
                    if type(gi) is not Tensor and not isinstance(gi, Tensor):
                        gi = Tensor._make(np.asarray(gi))
                    raw = gi
                    arr, inp = gi.data, inputs[i].data
                    if arr.shape != inp.shape or (arr.dtype is not inp.dtype and arr.dtype != inp.dtype):
                        gi = _match_input(gi, inp, node)
                    if check_values:
                        anomaly.check_backward(node, i, gi.data)
                if sends is not None:
                    sends.append((i, p, None if gi is None else raw, gi))
                if type(p) is not Tensor and not isinstance(p, Tensor):
                    if gi is not None:
                        prev = grads.get(p)
                        grads[p] = gi if prev is None else prev + gi
                    c = consumers[p] = consumers[p] - 1
                    if not c:
                        ready.append(p)
                    continue
                if gi is not None:
                    prev = leaf_grads.get(p)
                    if prev is None:
                        leaf_grads[p] = gi
                        # made here: by a fresh-gradient op (a view of its new array included: Linear's
                        # column-major dW), or summed/cast to the input and not a view
                        if (fresh and gi is raw) or (gi is not raw and gi.data.base is None):
                            owned.add(p)
                    elif p in owned and not create_graph and observer is None:
                        prev.data += gi.data  # into the array this walk made for p: no new one
                    else:
                        leaf_grads[p] = prev + gi
                        owned.add(p)
            if observer is not None:
                observer(node, g, sends)
            if not retain_graph:
                node._release()
        if processed != len(consumers):
            raise RuntimeError(f"the graph contains a cycle: {len(consumers) - processed} nodes never became "
                               "ready (a node's output was fed back into one of its own inputs)")
        if observer is None:
            for leaf, g in leaf_grads.items():
                _deliver_leaf(leaf, g, create_graph, capture, leaf in owned)
    finally:
        grad_mode._enabled = prev_mode
        anomaly._in_backward = prev_in_backward
        if gc_was_enabled:
            gc.enable()
        del held_outputs  # the walk is over: the outputs it read may go


def _deliver_leaf(leaf: Tensor, g: Tensor, create_graph: bool, capture: dict | None, owned: bool) -> None:
    if leaf._hooks:  # a hook may keep the gradient it is given: .grad gets a copy
        g, owned = _run_hooks(leaf, g), False
    if capture is not None:
        if leaf in capture:
            capture[leaf] = g if capture[leaf] is None else capture[leaf] + g
        return
    _accumulate(leaf, g, create_graph, owned)


def backward(tensors: Sequence[Tensor], grad_tensors: Sequence[Any] | None = None, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """Accumulate the gradients of ``tensors`` into the leaves' ``.grad`` (``Tensor.backward`` for several)."""
    run_backward(tuple(tensors), grad_tensors, retain_graph or create_graph, create_graph)


from gradkit.autograd import ops  # noqa: E402  (ops import the engine's Tensor)
