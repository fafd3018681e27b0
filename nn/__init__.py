"""gradkit.nn: modules, layers, activations, losses, initialisation, regularisation, persistence, training."""
from __future__ import annotations

# --- module system, layers, init, regularization, save/load (owner: nn helper A) ---

# --- activations, losses, training loop (owner: nn helper B) ---
from gradkit.nn.activation import ELU, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, Softmax, Softplus, Tanh  # noqa: E402
from gradkit.nn.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss,  # noqa: E402
                             NLLLoss)
