"""gradkit.nn.functional: the layers, activations and losses as functions (torch.nn.functional's names)."""
from __future__ import annotations

# --- linear, dropout, batch_norm, layer_norm, one_hot (owner: nn helper A) ---

# --- activations and losses, re-exported from nn/activation.py and nn/loss.py (owner: nn helper B) ---
from gradkit.nn.activation import (elu, leaky_relu, log_softmax, prelu, relu, sigmoid, softmax, softplus,  # noqa: E402
                                   tanh)
from gradkit.nn.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,  # noqa: E402
                             huber_loss, l1_loss, mse_loss, nll_loss)
