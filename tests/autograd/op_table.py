"""The test-side op table: one line per differentiable op drives every per-op test.

Each entry gives the gradkit function (a lambda that also works on torch
tensors unless ``torch_fn`` is given), the numpy reference for its forward,
one value domain per input (``gradkit.autograd.testing.DOMAINS``), how input
shapes are drawn, and whether the op is smooth enough for gradgradcheck.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

import gradkit.autograd as ag


@dataclass(frozen=True)
class Op:
    name: str
    fn: Callable
    ref: Callable
    domains: tuple = ("real",)
    shapes: str = "any"          # any | broadcast | min1d | min2d | matmul | same
    torch_fn: Callable | None = None
    smooth: bool = True          # second derivatives checked too (all ops are; kept as a switch for new ones)
    unique: bool = False         # distinct values (ops with ties: max, min)


def _lse(a, axis=None, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def _softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


OPS: list[Op] = [
    # arithmetic (broadcasting)
    Op("add", lambda a, b: a + b, np.add, ("real", "real"), "broadcast"),
    Op("sub", lambda a, b: a - b, np.subtract, ("real", "real"), "broadcast"),
    Op("mul", lambda a, b: a * b, np.multiply, ("real", "real"), "broadcast"),
    Op("div", lambda a, b: a / b, np.divide, ("real", "nonzero"), "broadcast"),
    Op("neg", lambda a: -a, np.negative),
    Op("pow_tensor", lambda a, b: a ** b, np.power, ("positive", "real"), "broadcast"),
    Op("pow_int", lambda a: a ** 3, lambda a: a ** 3),
    Op("pow_frac", lambda a: a ** 2.5, lambda a: a ** 2.5, ("positive",)),
    Op("rpow", lambda a: 2 ** a, lambda a: 2 ** a),
    Op("rsub", lambda a: 2 - a, lambda a: 2 - a),
    Op("rdiv", lambda a: 2 / a, lambda a: 2 / a, ("nonzero",)),
    # elementwise
    Op("exp", lambda a: a.exp(), np.exp),
    Op("log", lambda a: a.log(), np.log, ("positive",)),
    Op("sqrt", lambda a: a.sqrt(), np.sqrt, ("positive",)),
    Op("sin", lambda a: a.sin(), np.sin),
    Op("cos", lambda a: a.cos(), np.cos),
    Op("tanh", lambda a: a.tanh(), np.tanh),
    Op("sigmoid", lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
    Op("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0), ("nonzero",)),
    Op("abs", lambda a: a.abs(), np.abs, ("nonzero",)),
    Op("clamp", lambda a: a.clamp(-0.55, 0.65), lambda a: np.clip(a, -0.55, 0.65), ("nonzero",)),
    Op("maximum", lambda a, b: ag.maximum(a, b), np.maximum, ("grid", "grid"), "same",
       torch_fn=lambda a, b: __import__("torch").maximum(a, b), unique=True),
    Op("minimum", lambda a, b: ag.minimum(a, b), np.minimum, ("grid", "grid"), "same",
       torch_fn=lambda a, b: __import__("torch").minimum(a, b), unique=True),
    Op("where", lambda a, b: ag.where(a > 0, a * b, b.sin()), lambda a, b: np.where(a > 0, a * b, np.sin(b)),
       ("nonzero", "real"), "broadcast", torch_fn=lambda a, b: __import__("torch").where(a > 0, a * b, b.sin())),
    # reductions
    Op("sum_all", lambda a: a.sum(), np.sum),
    Op("sum_dim0", lambda a: a.sum(0), lambda a: a.sum(0), shapes="min1d"),
    Op("sum_last_keepdim", lambda a: a.sum(-1, keepdim=True), lambda a: a.sum(-1, keepdims=True), shapes="min1d"),
    Op("mean_all", lambda a: a.mean(), np.mean),
    Op("mean_dim", lambda a: a.mean((0, -1)), lambda a: a.mean((0, -1)), shapes="min2d"),
    Op("mean_dim1_keepdim", lambda a: a.mean(1, keepdim=True), lambda a: a.mean(1, keepdims=True), shapes="min2d"),
    Op("var_dim0", lambda a: a.var(0), lambda a: a.var(0, ddof=1), shapes="min1d_2rows"),
    Op("var_biased", lambda a: a.var(-1, correction=0), lambda a: a.var(-1), shapes="min1d",
       torch_fn=lambda a: a.var(-1, correction=0)),
    Op("std_all", lambda a: a.std(), lambda a: a.std(ddof=1), ("grid",), shapes="min1d_2rows", unique=True),
    Op("max_all", lambda a: a.max(), np.max, ("grid",), torch_fn=lambda a: a.amax(), unique=True),
    Op("max_dim", lambda a: a.max(-1), lambda a: a.max(-1), ("grid",), shapes="min1d",
       torch_fn=lambda a: a.amax(-1), unique=True),
    Op("min_dim_keepdim", lambda a: a.min(0, keepdim=True), lambda a: a.min(0, keepdims=True), ("grid",),
       shapes="min1d",
       torch_fn=lambda a: a.amin(0, keepdim=True), unique=True),
    Op("logsumexp", lambda a: a.logsumexp(-1), lambda a: _lse(a, -1), shapes="min1d"),
    Op("logsumexp_all", lambda a: a.logsumexp(), lambda a: _lse(a),
       torch_fn=lambda a: a.logsumexp(tuple(range(a.ndim)))),
    Op("softmax", lambda a: a.softmax(-1), lambda a: _softmax(a, -1), shapes="min1d",
       torch_fn=lambda a: a.softmax(-1)),
    Op("log_softmax", lambda a: a.log_softmax(0), lambda a: np.log(_softmax(a, 0)), shapes="min1d",
       torch_fn=lambda a: a.log_softmax(0)),
    # shape
    Op("reshape", lambda a: a.reshape(-1), lambda a: a.reshape(-1)),
    Op("transpose", lambda a: a.transpose(0, -1), lambda a: np.swapaxes(a, 0, -1), shapes="min1d"),
    Op("T", lambda a: a.T, lambda a: a.T, shapes="min2d", torch_fn=lambda a: a.permute(*range(a.ndim - 1, -1, -1))),
    Op("flatten", lambda a: a.flatten(), lambda a: a.reshape(-1)),
    Op("unsqueeze_squeeze", lambda a: a.unsqueeze(1).squeeze(1), lambda a: a, shapes="min1d"),
    Op("expand", lambda a: a.unsqueeze(0).expand(3, *a.shape), lambda a: np.broadcast_to(a, (3,) + a.shape)),
    Op("getitem_slice", lambda a: a[1:, ...], lambda a: a[1:, ...], shapes="min1d"),
    Op("getitem_repeat", lambda a: a[[0, 0, -1]], lambda a: a[[0, 0, -1]], shapes="min1d",
       torch_fn=lambda a: a[__import__("torch").tensor([0, 0, -1])]),
    Op("getitem_mask", lambda a: a[a > 0], lambda a: a[a > 0], ("nonzero",)),
    Op("cat", lambda a, b: ag.cat([a, b * 2], 0), lambda a, b: np.concatenate([a, b * 2], 0), ("real", "real"),
       "same_min1d", torch_fn=lambda a, b: __import__("torch").cat([a, b * 2], 0)),
    Op("stack", lambda a, b: ag.stack([a, b], -1), lambda a, b: np.stack([a, b], -1), ("real", "real"), "same",
       torch_fn=lambda a, b: __import__("torch").stack([a, b], -1)),
    # linear algebra
    Op("matmul", lambda a, b: a @ b, np.matmul, ("real", "real"), "matmul"),
]
