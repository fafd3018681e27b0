"""Splitters and train/test splits: scikit-learn parity, partition properties, bad input (DA-06..DA-09)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradkit.autograd.random import manual_seed
from gradkit.data.split import (KFold, LeaveOneOut, StratifiedKFold, train_test_split, train_val_test_split,
                                type_of_target)
from tests.hypothesis_budget import examples

sk_split = pytest.importorskip("sklearn.model_selection")


# ---------- shared invariant checkers (like sklearn's check_cv_coverage) ----------

def check_cv_coverage(folds: list[tuple[np.ndarray, np.ndarray]], n_samples: int, n_splits: int) -> None:
    """Test folds are disjoint and cover every index once; train is the complement of test."""
    assert len(folds) == n_splits
    seen = np.zeros(n_samples, dtype=int)
    for train, test in folds:
        assert train.dtype.kind == "i" and test.dtype.kind == "i"
        assert np.intersect1d(train, test).size == 0
        assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(n_samples))
        assert len(np.unique(test)) == len(test)
        seen[test] += 1
    assert (seen == 1).all()


def check_stratified(folds: list[tuple[np.ndarray, np.ndarray]], y: np.ndarray, n_splits: int) -> None:
    """Every fold holds each class count_k / n_splits samples, within one."""
    classes, counts = np.unique(y, return_counts=True)
    for _, test in folds:
        for c, count in zip(classes, counts):
            assert abs(np.sum(y[test] == c) - count / n_splits) < 1 + 1e-9


def folds_as_lists(folds) -> list[tuple[list[int], list[int]]]:
    return [(tr.tolist(), te.tolist()) for tr, te in folds]


# ---------- scikit-learn parity ----------

@pytest.mark.parametrize("n_samples, n_splits", [(n, k) for n in (2, 5, 7, 10, 23) for k in (2, 3, 5) if k <= n])
def test_kfold_without_shuffle_equals_sklearn(n_samples, n_splits):
    X = np.zeros((n_samples, 2))
    ours = folds_as_lists(KFold(n_splits).split(X))
    ref = folds_as_lists(sk_split.KFold(n_splits).split(X))
    assert ours == ref


@pytest.mark.parametrize("labels", [
    [0] * 10 + [1] * 5,
    [2, 0, 1, 1, 0, 2, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0],
    ["b", "a", "a", "c", "b", "a", "c", "c", "a", "b", "a", "c"],
    [1, 1, 1, 1, 1, 1, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3],
])
@pytest.mark.parametrize("n_splits", [2, 3])
def test_stratified_kfold_without_shuffle_equals_sklearn(labels, n_splits):
    y = np.array(labels)
    X = np.zeros((len(y), 1))
    ours = folds_as_lists(StratifiedKFold(n_splits).split(X, y))
    ref = folds_as_lists(sk_split.StratifiedKFold(n_splits).split(X, y))
    assert ours == ref


def test_stratified_kfold_equals_sklearn_on_random_labels():
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(10, 60))
        y = rng.integers(0, 4, n)
        y[:4] = rng.permutation(4)  # every class present, first appearances not in sorted order
        k = int(rng.integers(2, 5))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ours = folds_as_lists(StratifiedKFold(k).split(np.zeros(n), y))
            ref = folds_as_lists(sk_split.StratifiedKFold(k).split(np.zeros(n), y))
        assert ours == ref


def test_leave_one_out_equals_sklearn():
    X = np.zeros((6, 3))
    assert folds_as_lists(LeaveOneOut().split(X)) == folds_as_lists(sk_split.LeaveOneOut().split(X))
    assert LeaveOneOut().get_n_splits(X) == 6
    check_cv_coverage(list(LeaveOneOut().split(X)), 6, 6)


@pytest.mark.parametrize("n_samples", [4, 10, 17, 101])
@pytest.mark.parametrize("test_size", [0.25, 0.1, 0.5, 3])
def test_train_test_split_sizes_equal_sklearn(n_samples, test_size):
    X = np.arange(n_samples)
    ours = train_test_split(X, test_size=test_size, seed=0)
    ref = sk_split.train_test_split(X, test_size=test_size, random_state=0)
    assert [len(a) for a in ours] == [len(a) for a in ref]


def test_train_test_split_without_shuffle_equals_sklearn():
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    ours = train_test_split(X, y, test_size=0.3, shuffle=False)
    ref = sk_split.train_test_split(X, y, test_size=0.3, shuffle=False)
    for a, b in zip(ours, ref):
        assert np.array_equal(a, b)


# ---------- property tests (DA-07, DA-09) ----------

@settings(max_examples=examples(25), deadline=None)
@given(n_samples=st.integers(2, 60), n_splits=st.integers(2, 10), shuffle=st.booleans(),
       seed=st.integers(0, 2**31 - 1))
def test_kfold_partition_property(n_samples, n_splits, shuffle, seed):
    n_splits = min(n_splits, n_samples)
    cv = KFold(n_splits, shuffle=shuffle, seed=seed if shuffle else None)
    folds = list(cv.split(np.zeros(n_samples)))
    check_cv_coverage(folds, n_samples, n_splits)
    sizes = [len(te) for _, te in folds]
    assert max(sizes) - min(sizes) <= 1
    assert cv.get_n_splits() == n_splits
    again = list(cv.split(np.zeros(n_samples)))
    assert folds_as_lists(folds) == folds_as_lists(again)  # same seed -> same folds


@settings(max_examples=examples(25), deadline=None)
@given(counts=st.lists(st.integers(3, 20), min_size=2, max_size=4), n_splits=st.integers(2, 3),
       shuffle=st.booleans(), seed=st.integers(0, 2**31 - 1), order_seed=st.integers(0, 1000))
def test_stratified_kfold_partition_and_balance(counts, n_splits, shuffle, seed, order_seed):
    y = np.repeat(np.arange(len(counts)), counts)
    y = np.random.default_rng(order_seed).permutation(y)
    cv = StratifiedKFold(n_splits, shuffle=shuffle, seed=seed if shuffle else None)
    folds = list(cv.split(np.zeros(len(y)), y))
    check_cv_coverage(folds, len(y), n_splits)
    check_stratified(folds, y, n_splits)
    assert folds_as_lists(folds) == folds_as_lists(cv.split(np.zeros(len(y)), y))
    # relabelling the classes (any bijection) gives identical index sets
    relabelled = np.array([f"class{9 - v}" for v in y])
    assert folds_as_lists(folds) == folds_as_lists(cv.split(np.zeros(len(y)), relabelled))
    for _, test in folds:  # indices come out in data order
        assert np.all(np.diff(test) > 0)


@settings(max_examples=examples(25), deadline=None)
@given(counts=st.lists(st.integers(2, 15), min_size=2, max_size=3), test_size=st.floats(0.2, 0.5),
       seed=st.integers(0, 2**31 - 1))
def test_stratified_train_test_split_keeps_proportions(counts, test_size, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    n = len(y)
    n_test = int(np.ceil(test_size * n))
    if n_test < len(counts) or n - n_test < len(counts):
        return
    X = np.arange(n) * 10
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, stratify=y, seed=seed)
    assert len(X_te) == n_test and len(X_tr) == n - n_test
    assert np.array_equal(np.sort(np.concatenate([X_tr, X_te])), X)
    assert np.array_equal(y_tr, y[X_tr // 10]) and np.array_equal(y_te, y[X_te // 10])  # rows stay aligned
    for c, count in enumerate(counts):
        assert abs(np.sum(y_te == c) - count * n_test / n) < 1 + 1e-9
        assert abs(np.sum(y_tr == c) - count * (n - n_test) / n) < 1 + 1e-9
    again = train_test_split(X, y, test_size=test_size, stratify=y, seed=seed)
    assert np.array_equal(again[0], X_tr) and np.array_equal(again[1], X_te)


def test_train_val_test_split_is_70_15_15_partition():
    X = np.arange(200).reshape(100, 2)
    y = np.arange(100) % 4
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(X, y, stratify=y, seed=1)
    assert (len(X_tr), len(X_va), len(X_te)) == (70, 15, 15)
    rows = np.concatenate([X_tr[:, 0], X_va[:, 0], X_te[:, 0]]) // 2
    assert np.array_equal(np.sort(rows), np.arange(100))
    assert np.array_equal(y_va, y[X_va[:, 0] // 2])
    for part, size in ((y_tr, 70), (y_va, 15), (y_te, 15)):
        assert np.all(np.abs(np.bincount(part, minlength=4) - size / 4) < 1 + 1e-9)
    again = train_val_test_split(X, y, stratify=y, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(again, (X_tr, X_va, X_te, y_tr, y_va, y_te)))
    assert not np.array_equal(train_val_test_split(X, seed=2)[0], X_tr)


def test_unseeded_shuffles_follow_gradkit_manual_seed_and_leave_numpy_global_state():
    state = np.random.get_state()
    manual_seed(7)
    a = folds_as_lists(KFold(3, shuffle=True).split(np.zeros(12)))
    b = train_test_split(np.arange(12))
    manual_seed(7)
    assert folds_as_lists(KFold(3, shuffle=True).split(np.zeros(12))) == a
    assert np.array_equal(train_test_split(np.arange(12))[0], b[0])
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]


# ---------- bad input (DA-06, DA-08, DA-04) ----------

@pytest.mark.parametrize("n_splits", [2.0, "3", None, True])
def test_kfold_rejects_non_integer_n_splits(n_splits):
    with pytest.raises(ValueError, match="must be of Integral type"):
        KFold(n_splits)


@pytest.mark.parametrize("n_splits", [1, 0, -2])
def test_kfold_rejects_fewer_than_two_splits(n_splits):
    with pytest.raises(ValueError, match=f"n_splits=2 or more, got n_splits={n_splits}"):
        KFold(n_splits)


def test_kfold_rejects_non_bool_shuffle_and_seed_without_shuffle():
    with pytest.raises(TypeError, match="shuffle must be True or False; got 1"):
        KFold(3, shuffle=1)
    with pytest.raises(ValueError, match="seed has no effect since shuffle is False"):
        StratifiedKFold(3, seed=0)


@pytest.mark.parametrize("cv", [KFold(5), StratifiedKFold(5)])
def test_more_splits_than_samples_names_both_numbers(cv):
    with pytest.raises(ValueError, match="n_splits=5 greater than the number of samples: n_samples=4"):
        list(cv.split(np.zeros(4), np.array([0, 1, 0, 1])))


@pytest.mark.parametrize("cv", [KFold(2), StratifiedKFold(2), LeaveOneOut()])
def test_split_rejects_mismatched_x_and_y_lengths(cv):
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[6, 5\].*X: 6, y: 5"):
        list(cv.split(np.zeros(6), np.array([0, 1, 0, 1, 0])))


def test_stratified_kfold_rejects_continuous_target():
    with pytest.raises(ValueError, match="Supported target types are.*'continuous'"):
        list(StratifiedKFold(2).split(np.zeros(4), np.array([0.1, 0.5, 0.2, 0.9])))
    with pytest.raises(ValueError, match="needs the class labels y"):
        list(StratifiedKFold(2).split(np.zeros(4)))


def test_stratified_kfold_every_class_too_small_raises():
    y = np.array([0, 0, 1, 1, 2, 2])
    with pytest.raises(ValueError, match="n_splits=3 cannot be greater than the number of members in each class"):
        list(StratifiedKFold(3).split(np.zeros(6), y))


def test_stratified_kfold_smallest_class_too_small_warns():
    y = np.array([0] * 10 + [1] * 2)
    with pytest.warns(UserWarning, match="least populated class in y has only 2 members.*n_splits=3"):
        folds = list(StratifiedKFold(3).split(np.zeros(12), y))
    check_cv_coverage(folds, 12, 3)


def test_leave_one_out_needs_two_samples():
    with pytest.raises(ValueError, match="Cannot perform LeaveOneOut with n_samples=1"):
        list(LeaveOneOut().split(np.zeros((1, 2))))


def test_train_test_split_bad_input():
    with pytest.raises(ValueError, match="At least one array required"):
        train_test_split()
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[5, 4\]"):
        train_test_split(np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError, match="test_size=1.5 should be either positive"):
        train_test_split(np.zeros(5), test_size=1.5)
    with pytest.raises(ValueError, match="test_size=5 should be either positive and smaller than the number of "
                                         "samples 5"):
        train_test_split(np.zeros(5), test_size=5)
    with pytest.raises(ValueError, match=r"only 1 member.*\[2\]"):
        train_test_split(np.zeros(7), stratify=np.array([0, 0, 0, 1, 1, 1, 2]))
    with pytest.raises(ValueError, match="not implemented for shuffle=False"):
        train_test_split(np.zeros(6), stratify=np.array([0, 1] * 3), shuffle=False)
    with pytest.raises(ValueError, match="leaving no training samples"):
        train_val_test_split(np.zeros(10), val_size=0.5, test_size=0.5)


def test_type_of_target_matches_sklearn():
    sk_multiclass = pytest.importorskip("sklearn.utils.multiclass")
    for y in ([0, 1], [1, 2, 3], ["a", "b"], [0.0, 1.0, 2.0], [0.5, 1.5], [[1, 2], [3, 4]]):
        assert type_of_target(np.array(y)) == sk_multiclass.type_of_target(np.array(y))


def test_nan_labels_are_refused():
    y = np.array([0.0, 1.0, np.nan, 1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="contains NaN"):
        list(StratifiedKFold(2).split(np.zeros(6), y))
    with pytest.raises(ValueError, match="Input stratify contains NaN"):
        train_test_split(np.zeros(6), stratify=y, test_size=2)
