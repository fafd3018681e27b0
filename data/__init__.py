"""gradkit.data: datasets, loaders, splits, cross-validation, search, preprocessing and metrics."""
from __future__ import annotations

# --- datasets, loaders, splits, preprocessing, dataset generators (owner: data helper A) ---

# --- validation, hyperparameter search, metrics (owner: data helper B) ---
