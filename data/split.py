"""Train/test splits and cross-validation splitters with scikit-learn's semantics (``seed=`` for ``random_state=``).

Layout follows ``sklearn/model_selection/_split.py``: :class:`BaseCrossValidator`
turns test masks or test indices into ``(train_idx, test_idx)`` pairs, and each
splitter writes only ``_iter_test_indices`` or ``_iter_test_masks`` plus
``get_n_splits``. Without shuffling, :class:`KFold` and :class:`StratifiedKFold`
give exactly scikit-learn's folds. With ``seed=None``, shuffling draws from
gradkit's generator (``gk.manual_seed``); with a seed, each ``split`` call uses a
fresh ``np.random.default_rng(seed)``, so the same seed gives the same folds
(the permutations differ from scikit-learn's, whose RandomState is another generator).
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, Iterator

import numpy as np
from numpy.typing import NDArray

from gradkit.data.checks import check_consistent_length, check_finite, num_samples, resolve_rng, to_numpy


def type_of_target(y: Any) -> str:
    """Classify a target like scikit-learn: 'binary', 'multiclass', 'continuous', 'multiclass-multioutput', ...

    Example:
        >>> type_of_target([0, 1, 1]), type_of_target([0, 1, 2]), type_of_target([0.5, 1.0])
        ('binary', 'multiclass', 'continuous')
    """
    arr = to_numpy(y)
    suffix = ""
    if arr.ndim == 2 and arr.shape[1] > 1:
        suffix = "-multioutput"
    elif arr.ndim > 2 or (arr.ndim == 2 and arr.shape[1] == 0):
        return "unknown"
    if arr.dtype.kind == "f" and arr.size and np.any(arr != np.round(arr)):
        if not np.isfinite(arr).all():
            raise ValueError("Input y contains NaN or infinity.")
        return "continuous" + suffix
    if arr.dtype.kind not in "biufUSO":
        return "unknown"
    if suffix:
        return "multiclass-multioutput"
    return "multiclass" if np.unique(arr.ravel()).size > 2 else "binary"


class BaseCrossValidator:
    """Base of all splitters: ``split(X, y=None)`` yields ``(train_idx, test_idx)`` index arrays.

    Subclasses implement ``_iter_test_masks`` (boolean masks) or ``_iter_test_indices``
    (integer arrays) and ``get_n_splits``; the train set is the complement of each test set.
    """

    def split(self, X: Any, y: Any = None) -> Iterator[tuple[NDArray, NDArray]]:
        """Yield ``(train_idx, test_idx)`` for each split of the samples of ``X``.

        Args:
            X: array-like of shape (n_samples, ...); only its length is used.
            y: optional targets of length n_samples.

        Raises:
            ValueError: ``X`` and ``y`` lengths differ (both named).
        """
        n = check_consistent_length(X, y, names=("X", "y"))
        indices = np.arange(n)
        for test_mask in self._iter_test_masks(X, y):
            yield indices[~test_mask], indices[test_mask]

    def _iter_test_masks(self, X: Any, y: Any = None) -> Iterator[NDArray]:
        """Boolean test masks, by default built from ``_iter_test_indices``."""
        n = num_samples(X)
        for test_index in self._iter_test_indices(X, y):
            mask = np.zeros(n, dtype=bool)
            mask[test_index] = True
            yield mask

    def _iter_test_indices(self, X: Any, y: Any = None) -> Iterator[NDArray]:
        raise NotImplementedError(f"{type(self).__name__} must implement _iter_test_indices or _iter_test_masks")

    def get_n_splits(self, X: Any = None, y: Any = None) -> int:
        """Return the number of splits."""
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class _BaseKFold(BaseCrossValidator):
    """Shared argument checks of the k-fold splitters (scikit-learn's ``_BaseKFold``)."""

    def __init__(self, n_splits: int, shuffle: bool, seed: int | np.random.Generator | None) -> None:
        if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral):
            raise ValueError(f"The number of folds must be of Integral type. {n_splits!r} of type "
                             f"{type(n_splits)} was passed.")
        if n_splits <= 1:
            raise ValueError("k-fold cross-validation requires at least one train/test split by setting "
                             f"n_splits=2 or more, got n_splits={n_splits}.")
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle must be True or False; got {shuffle!r}")
        if not shuffle and seed is not None:
            raise ValueError("Setting a seed has no effect since shuffle is False. You should leave seed "
                             "to its default (None), or set shuffle=True.")
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.seed = seed

    def split(self, X: Any, y: Any = None) -> Iterator[tuple[NDArray, NDArray]]:
        """Yield ``(train_idx, test_idx)`` for each fold.

        Raises:
            ValueError: ``n_splits`` greater than the number of samples (both numbers named),
                or ``X``/``y`` lengths differ.
        """
        n = check_consistent_length(X, y, names=("X", "y"))
        if self.n_splits > n:
            raise ValueError(f"Cannot have number of splits n_splits={self.n_splits} greater than the "
                             f"number of samples: n_samples={n}.")
        yield from super().split(X, y)

    def get_n_splits(self, X: Any = None, y: Any = None) -> int:
        """Return ``n_splits`` (``X`` and ``y`` are ignored)."""
        return self.n_splits


class KFold(_BaseKFold):
    """K-fold cross-validation: consecutive folds (shuffled first when ``shuffle``), each the test set once.

    The first ``n_samples % n_splits`` folds have ``n_samples // n_splits + 1`` samples,
    the others ``n_samples // n_splits``.

    Args:
        n_splits: number of folds, at least 2.
        shuffle: shuffle the samples before cutting them into folds.
        seed: seed used when ``shuffle``; None draws from gradkit's generator.

    Raises:
        ValueError: ``n_splits`` not an int >= 2, or a seed without ``shuffle``.
        TypeError: ``shuffle`` not a bool.

    Example:
        >>> [test.tolist() for _, test in KFold(n_splits=3).split(np.zeros(5))]
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False,
                 seed: int | np.random.Generator | None = None) -> None:
        super().__init__(n_splits, shuffle, seed)

    def _iter_test_indices(self, X: Any, y: Any = None) -> Iterator[NDArray]:
        n = num_samples(X)
        indices = resolve_rng(self.seed).permutation(n) if self.shuffle else np.arange(n)
        fold_sizes = np.full(self.n_splits, n // self.n_splits, dtype=int)
        fold_sizes[: n % self.n_splits] += 1
        current = 0
        for size in fold_sizes:
            yield indices[current:current + size]
            current += size


class StratifiedKFold(_BaseKFold):
    """K-fold that keeps each class's proportion in every fold (scikit-learn's allocation).

    Classes are numbered by first appearance; the sorted labels are dealt round robin
    to the folds to fix how many samples of each class every fold gets (within one of
    ideal), and each class's samples go to the folds in blocks, preserving data order
    (the block labels are shuffled per class when ``shuffle``). Relabelling ``y``
    leaves the folds unchanged.

    Args:
        n_splits: number of folds, at least 2.
        shuffle: shuffle each class's fold assignment.
        seed: seed used when ``shuffle``; None draws from gradkit's generator.

    Raises:
        ValueError: a continuous or multi-output ``y`` ("Supported target types are ..."), or
            ``n_splits`` larger than every class; a ``UserWarning`` when only the smallest
            class has fewer than ``n_splits`` members.

    Example:
        >>> y = np.array([0, 0, 0, 0, 1, 1])
        >>> [test.tolist() for _, test in StratifiedKFold(n_splits=2).split(np.zeros(6), y)]
        [[0, 1, 4], [2, 3, 5]]
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False,
                 seed: int | np.random.Generator | None = None) -> None:
        super().__init__(n_splits, shuffle, seed)

    def split(self, X: Any, y: Any = None) -> Iterator[tuple[NDArray, NDArray]]:
        """Yield ``(train_idx, test_idx)`` for each stratified fold; ``y`` is required."""
        if y is None:
            raise ValueError("StratifiedKFold.split needs the class labels y to stratify on")
        yield from super().split(X, y)

    def _make_test_folds(self, y: Any) -> NDArray:
        y = to_numpy(y)
        target_type = type_of_target(y)
        allowed = ("binary", "multiclass")
        if target_type not in allowed:
            raise ValueError(f"Supported target types are: {allowed}. Got {target_type!r} instead.")
        y = y.reshape(-1)
        _, y_idx, y_inv = np.unique(y, return_index=True, return_inverse=True)
        # encode classes by order of first appearance, so relabelling y cannot change the folds
        _, class_perm = np.unique(y_idx, return_inverse=True)
        y_encoded = class_perm[y_inv.reshape(-1)]
        n_classes = len(y_idx)
        y_counts = np.bincount(y_encoded)
        if np.all(self.n_splits > y_counts):
            raise ValueError(f"n_splits={self.n_splits} cannot be greater than the number of members in "
                             f"each class (class sizes: {y_counts.tolist()}).")
        if self.n_splits > y_counts.min():
            warnings.warn(f"The least populated class in y has only {y_counts.min()} members, which is "
                          f"less than n_splits={self.n_splits}.", UserWarning, stacklevel=4)
        # samples per class per fold: deal the sorted labels round robin over the folds
        y_order = np.sort(y_encoded)
        allocation = np.asarray([np.bincount(y_order[i::self.n_splits], minlength=n_classes)
                                 for i in range(self.n_splits)])
        rng = resolve_rng(self.seed) if self.shuffle else None
        test_folds = np.empty(len(y), dtype=np.intp)
        for k in range(n_classes):
            folds_for_class = np.arange(self.n_splits).repeat(allocation[:, k])
            if rng is not None:
                rng.shuffle(folds_for_class)
            test_folds[y_encoded == k] = folds_for_class
        return test_folds

    def _iter_test_masks(self, X: Any, y: Any = None) -> Iterator[NDArray]:
        test_folds = self._make_test_folds(y)
        for i in range(self.n_splits):
            yield test_folds == i


class LeaveOneOut(BaseCrossValidator):
    """Each sample is the test set once: ``n_samples`` splits.

    Raises:
        ValueError: fewer than 2 samples.

    Example:
        >>> [(tr.tolist(), te.tolist()) for tr, te in LeaveOneOut().split(np.zeros(3))]
        [([1, 2], [0]), ([0, 2], [1]), ([0, 1], [2])]
    """

    def _iter_test_indices(self, X: Any, y: Any = None) -> Iterator[NDArray]:
        n = num_samples(X)
        if n <= 1:
            raise ValueError(f"Cannot perform LeaveOneOut with n_samples={n}.")
        for i in range(n):
            yield np.array([i])

    def get_n_splits(self, X: Any = None, y: Any = None) -> int:
        """Return the number of samples in ``X`` (required)."""
        if X is None:
            raise ValueError("The 'X' parameter should not be None.")
        return num_samples(X)


def _validate_sizes(n: int, test_size: float | int | None, train_size: float | int | None,
                    default_test_size: float) -> tuple[int, int]:
    """Return (n_train, n_test) as scikit-learn's ``_validate_shuffle_split`` does."""
    if test_size is None and train_size is None:
        test_size = default_test_size

    def kind(v: Any) -> str:
        if v is None:
            return "none"
        if isinstance(v, bool):
            return "bad"
        if isinstance(v, numbers.Integral):
            return "i"
        return "f" if isinstance(v, numbers.Real) else "bad"

    for name, v in (("test_size", test_size), ("train_size", train_size)):
        k = kind(v)
        if k == "bad":
            raise ValueError(f"Invalid value for {name}: {v!r}")
        if (k == "i" and not 0 < v < n) or (k == "f" and not 0 < v < 1):
            raise ValueError(f"{name}={v} should be either positive and smaller than the number of samples "
                             f"{n} or a float in the (0, 1) range")
    tk, rk = kind(test_size), kind(train_size)
    if tk == "f" and rk == "f" and train_size + test_size > 1:
        raise ValueError(f"The sum of test_size and train_size = {train_size + test_size}, should be in the "
                         "(0, 1) range. Reduce test_size and/or train_size.")
    n_test = math.ceil(test_size * n) if tk == "f" else test_size
    n_train = math.floor(train_size * n) if rk == "f" else train_size
    if train_size is None:
        n_train = n - n_test
    elif test_size is None:
        n_test = n - n_train
    if n_train + n_test > n:
        raise ValueError(f"The sum of train_size and test_size = {n_train + n_test}, should be smaller than "
                         f"the number of samples {n}. Reduce test_size and/or train_size.")
    if n_train == 0:
        raise ValueError(f"With n_samples={n}, test_size={test_size} and train_size={train_size}, the "
                         "resulting train set will be empty. Adjust any of the aforementioned parameters.")
    return int(n_train), int(n_test)


def _approximate_mode(class_counts: NDArray, n_draws: int, rng: np.random.Generator) -> NDArray:
    """Per-class draw counts closest to proportional, summing to ``n_draws`` (ties broken at random).

    floor(count_k / n * n_draws) each, then the leftover draws go to the largest remainders
    (scikit-learn's ``_approximate_mode``); never more than one off the proportional value.
    """
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            inds = rng.choice(inds, size=add_now, replace=False)
            floored[inds] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(np.int64)


def _split_indices(n: int, n_train: int, n_test: int, stratify: Any, shuffle: bool,
                   rng_seed: int | np.random.Generator | None) -> tuple[NDArray, NDArray]:
    """Train and test index arrays as ``train_test_split`` draws them."""
    if not shuffle:
        if stratify is not None:
            raise ValueError("Stratified train/test split is not implemented for shuffle=False")
        return np.arange(n_train), np.arange(n_train, n_train + n_test)
    rng = resolve_rng(rng_seed)
    if stratify is None:
        perm = rng.permutation(n)
        return perm[n_test:n_test + n_train], perm[:n_test]
    y = to_numpy(stratify)
    check_finite(y, "stratify")
    if y.ndim == 2:  # multi-output labels: stratify on whole rows
        y = np.array([" ".join(row.astype(str)) for row in y])
    classes, y_indices, class_counts = np.unique(y, return_inverse=True, return_counts=True)
    y_indices = y_indices.reshape(-1)
    if class_counts.min() < 2:
        raise ValueError("The least populated classes in y have only 1 member, which is too few. The "
                         "minimum number of groups for any class cannot be less than 2. Classes with too "
                         f"few members are: {classes[class_counts < 2].tolist()}")
    if n_train < len(classes):
        raise ValueError(f"The train_size = {n_train} should be greater or equal to the number of "
                         f"classes = {len(classes)}")
    if n_test < len(classes):
        raise ValueError(f"The test_size = {n_test} should be greater or equal to the number of "
                         f"classes = {len(classes)}")
    class_indices = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(class_counts)[:-1])
    n_i = _approximate_mode(class_counts, n_train, rng)
    t_i = _approximate_mode(class_counts - n_i, n_test, rng)
    train, test = [], []
    for i in range(len(classes)):
        members = class_indices[i][rng.permutation(class_counts[i])]
        train.append(members[:n_i[i]])
        test.append(members[n_i[i]:n_i[i] + t_i[i]])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _take(a: Any, idx: NDArray) -> NDArray:
    return to_numpy(a)[idx]


def train_test_split(*arrays: Any, test_size: float | int | None = 0.25, train_size: float | int | None = None,
                     stratify: Any = None, shuffle: bool = True,
                     seed: int | np.random.Generator | None = None) -> list[NDArray]:
    """Split arrays into random train and test parts (scikit-learn's ``train_test_split``).

    n_test = ceil(test_size * n) for a fraction (or test_size itself for an int), n_train = n - n_test.
    With ``stratify`` the class counts of each part are proportional to the class counts
    of ``stratify`` (within one sample).

    Args:
        *arrays: arrays (numpy, lists or Tensors) with the same first dimension.
        test_size: fraction in (0, 1) or number of test samples.
        train_size: fraction or number of train samples (default: the rest).
        stratify: class labels to stratify on, or None.
        shuffle: shuffle before splitting (required for ``stratify``).
        seed: seed of ``np.random.default_rng``; None uses gradkit's generator.

    Returns:
        ``[a_train, a_test, b_train, b_test, ...]`` as numpy arrays.

    Raises:
        ValueError: no arrays, lengths that differ (all named), bad sizes, or a class with one member.

    Example:
        >>> X_tr, X_te, y_tr, y_te = train_test_split(np.arange(8).reshape(4, 2), np.arange(4), seed=0)
        >>> X_tr.shape, X_te.shape
        ((3, 2), (1, 2))
    """
    if not arrays:
        raise ValueError("At least one array required as input")
    n = check_consistent_length(*arrays, stratify,
                                names=tuple(f"array {i}" for i in range(len(arrays))) + ("stratify",))
    if n == 0:
        raise ValueError("train_test_split got arrays with 0 samples; at least 2 are required")
    n_train, n_test = _validate_sizes(n, test_size, train_size, default_test_size=0.25)
    train, test = _split_indices(n, n_train, n_test, stratify, shuffle, seed)
    out: list[NDArray] = []
    for a in arrays:
        out += [_take(a, train), _take(a, test)]
    return out


def train_val_test_split(*arrays: Any, val_size: float | int = 0.15, test_size: float | int = 0.15,
                         stratify: Any = None, seed: int | np.random.Generator | None = None) -> list[NDArray]:
    """Split arrays into train, validation and test parts (70/15/15 by default).

    n_test = ceil(test_size * n), n_val = ceil(val_size * n) (ints are taken as counts),
    n_train = n - n_val - n_test. Two stratified-if-asked ``train_test_split`` calls:
    first the test part off all samples, then the validation part off the rest.

    Args:
        *arrays: arrays with the same first dimension.
        val_size: fraction in (0, 1) or number of validation samples.
        test_size: fraction in (0, 1) or number of test samples.
        stratify: class labels to stratify on, or None.
        seed: seed of ``np.random.default_rng``; None uses gradkit's generator.

    Returns:
        ``[a_train, a_val, a_test, b_train, b_val, b_test, ...]``.

    Raises:
        ValueError: sizes that leave no training samples, or the errors of :func:`train_test_split`.

    Example:
        >>> parts = train_val_test_split(np.arange(100), seed=0)
        >>> [len(p) for p in parts]
        [70, 15, 15]
    """
    if not arrays:
        raise ValueError("At least one array required as input")
    n = check_consistent_length(*arrays, stratify,
                                names=tuple(f"array {i}" for i in range(len(arrays))) + ("stratify",))
    _, n_test = _validate_sizes(n, test_size, None, default_test_size=0.15)
    _, n_val = _validate_sizes(n, val_size, None, default_test_size=0.15)
    if n_val + n_test >= n:
        raise ValueError(f"val_size={val_size} and test_size={test_size} take {n_val} + {n_test} of the "
                         f"{n} samples, leaving no training samples")
    rng = resolve_rng(seed)
    rest, test = _split_indices(n, n - n_test, n_test, stratify, True, rng)
    strat_rest = None if stratify is None else to_numpy(stratify)[rest]
    rest_train, rest_val = _split_indices(len(rest), len(rest) - n_val, n_val, strat_rest, True, rng)
    train, val = rest[rest_train], rest[rest_val]
    out: list[NDArray] = []
    for a in arrays:
        out += [_take(a, train), _take(a, val), _take(a, test)]
    return out
