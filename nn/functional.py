"""gradkit.nn.functional: the layers, activations and losses as functions (torch.nn.functional's names)."""
from __future__ import annotations

# --- linear, dropout, batch_norm, layer_norm, one_hot (owner: nn helper A) ---
from typing import Any

import numpy as np

from gradkit.autograd.tensor import Tensor
from gradkit.nn.dropout import dropout
from gradkit.nn.linear import linear
from gradkit.nn.normalization import batch_norm, layer_norm


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """One-hot encode class indices: ``out[..., c] = 1 if tensor[...] == c else 0`` (int64, no gradient).

    Args:
        tensor: integer class indices, any shape.
        num_classes: number of classes; -1 infers ``max + 1``.

    Returns:
        int64 Tensor of shape ``tensor.shape + (num_classes,)``.

    Raises:
        TypeError: non-integer input.
        ValueError: a negative index, or an index >= num_classes.

    Example:
        >>> import gradkit as gk
        >>> gk.nn.functional.one_hot(gk.tensor([0, 2]), 3).tolist()
        [[1, 0, 0], [0, 0, 1]]
    """
    idx = np.asarray(tensor.data if isinstance(tensor, Tensor) else tensor)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to index tensor (integer dtype), got dtype {idx.dtype}")
    if idx.size and idx.min() < 0:
        raise ValueError(f"Class values must be non-negative, got {int(idx.min())}")
    if num_classes == -1:
        if idx.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes")
        num_classes = int(idx.max()) + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive int or -1, got {num_classes!r}")
    elif idx.size and idx.max() >= num_classes:
        raise ValueError(f"Class values must be smaller than num_classes: got {int(idx.max())} with "
                         f"num_classes={num_classes}")
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.intp), 1, axis=-1)
    return Tensor._make(out)


# --- activations and losses, re-exported from nn/activation.py and nn/loss.py (owner: nn helper B) ---
from gradkit.nn.activation import (elu, leaky_relu, log_softmax, prelu, relu, sigmoid, softmax, softplus,  # noqa: E402
                                   tanh)
from gradkit.nn.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,  # noqa: E402
                             huber_loss, l1_loss, mse_loss, nll_loss)
