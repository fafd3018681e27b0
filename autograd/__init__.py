"""gradkit.autograd: Tensors, function nodes, the backward engine, and gradient checking.

Example:
    >>> import gradkit as gk
    >>> x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> loss = (x * x).sum()
    >>> loss.backward()
    >>> x.grad.tolist()
    [2.0, 4.0, 6.0]
"""
from gradkit.autograd.tensor import Tensor, from_numpy, tensor  # noqa: I001  (tensor first: it binds the ops)
from gradkit.autograd.anomaly import AnomalyError, detect_anomaly
from gradkit.autograd.creation import arange, eye, full, ones, ones_like, rand, randn, zeros, zeros_like
from gradkit.autograd.dtypes import get_default_dtype, set_default_dtype
from gradkit.autograd.engine import backward
from gradkit.autograd.function import Function
from gradkit.autograd.functional import grad, hessian, hvp, jacobian
from gradkit.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from gradkit.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from gradkit.autograd.ops import (abs, argmax, argmin, cat, clamp, cos, exp, expand, flatten, log, log_softmax,
                                  logsumexp, matmul, max, maximum, mean, min, minimum, permute, relu, reshape,
                                  sigmoid, sign, sin, softmax, sqrt, squeeze, stack, std, sum, tanh, transpose,
                                  unsqueeze, var, where)
from gradkit.autograd.random import default_generator, manual_seed

__all__ = [
    "Tensor", "tensor", "from_numpy", "zeros", "ones", "full", "zeros_like", "ones_like", "randn", "rand",
    "arange", "eye", "set_default_dtype", "get_default_dtype", "manual_seed", "default_generator",
    "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled", "backward", "grad", "jacobian", "hessian",
    "hvp", "Function", "detect_anomaly", "AnomalyError", "gradcheck", "gradgradcheck", "numerical_grad",
    "GradcheckError", "draw_graph", "graph_text", "GraphvizNotFoundError", "trace_backward",
    "cat", "stack", "where", "maximum", "minimum", "exp", "log", "sqrt", "sin",
    "cos", "tanh", "sigmoid", "relu", "abs", "sign", "clamp", "sum", "mean", "var", "std", "max", "min", "argmax",
    "argmin", "logsumexp", "softmax", "log_softmax", "reshape", "flatten", "transpose", "permute", "squeeze",
    "unsqueeze", "expand", "matmul",
]


_LAZY = {"draw_graph": "draw", "graph_text": "draw", "GraphvizNotFoundError": "draw", "trace_backward": "trace"}


def __getattr__(name: str):  # drawing imports graphviz only when used
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f"gradkit.autograd.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'gradkit.autograd' has no attribute {name!r}")
