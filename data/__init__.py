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
from gradkit.data.validation import CVResult, FitFailedWarning, check_cv, cross_validate
from gradkit.data.search import GridSearch, RandomSearch, parameter_grid, parameter_sample
from gradkit.data.metrics import (UndefinedMetricWarning, accuracy_score, classification_report, confusion_matrix,
                                  f1_score, plot_confusion_matrix, precision_recall_fscore_support, precision_score,
                                  recall_score)
