"""gradkit.nn.functional: the layers, activations and losses as functions (torch.nn.functional's names)."""
from __future__ import annotations

# --- linear, dropout, batch_norm, layer_norm, one_hot (owner: nn helper A) ---

# --- activations and losses, re-exported from nn/activation.py and nn/loss.py (owner: nn helper B) ---
