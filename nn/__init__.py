"""gradkit.nn: modules, layers, activations, losses, initialisation, regularisation, persistence, training."""
from __future__ import annotations

# --- module system, layers, init, regularization, save/load (owner: nn helper A) ---

# --- activations, losses, training loop (owner: nn helper B) ---
