"""gradkit.nn: modules, layers, activations, losses, initialisation, regularisation, persistence, training."""
from __future__ import annotations

# --- module system, layers, init, regularization, save/load (owner: nn helper A) ---
from gradkit.nn.module import Module  # noqa: I001  (module system first: the layers build on it)
from gradkit.nn.parameter import Parameter
from gradkit.nn.container import ModuleDict, ModuleList, Sequential
from gradkit.nn.linear import Identity, Linear
from gradkit.nn.dropout import Dropout
from gradkit.nn.normalization import BatchNorm1d, LayerNorm
from gradkit.nn import functional, init
from gradkit.nn.regularization import clip_grad_norm_, clip_grad_value_, l1_penalty, l2_penalty
from gradkit.nn.serialization import CheckpointError, load, load_checkpoint, save, save_checkpoint

# --- activations, losses, training loop (owner: nn helper B) ---
from gradkit.nn.activation import ELU, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, Softmax, Softplus, Tanh  # noqa: E402
from gradkit.nn.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss,  # noqa: E402
                             NLLLoss)
from gradkit.nn.callbacks import Callback, EarlyStopping, GradientHealth  # noqa: E402
from gradkit.nn.training import History, evaluate, fit  # noqa: E402

# --- scikit-learn estimators (owner: demo helper) ---
from gradkit.nn.estimator import Classifier, Regressor  # noqa: E402
