"""gradkit.data: datasets, loaders, splits, cross-validation, search, preprocessing and metrics."""
from __future__ import annotations

# --- datasets, loaders, splits, preprocessing, dataset generators (owner: data helper A) ---
from gradkit.data.dataset import Dataset, Subset, TensorDataset, random_split
from gradkit.data.dataloader import DataLoader, default_collate
from gradkit.data.split import (BaseCrossValidator, KFold, LeaveOneOut, StratifiedKFold, train_test_split,
                                train_val_test_split)
from gradkit.data.preprocessing import MinMaxScaler, NotFittedError, StandardScaler, drop_duplicates, outlier_mask
from gradkit.data.datasets import (load_breast_cancer, load_digits, load_iris, make_blobs, make_moons,
                                   make_polynomial, make_spirals, make_xor)

# --- validation, hyperparameter search, metrics (owner: data helper B) ---
