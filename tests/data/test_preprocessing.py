"""Scalers equal scikit-learn's; drop_duplicates and outlier_mask; bad input (DA-12)."""
from __future__ import annotations

import numpy as np
import pytest

from gradkit.data.preprocessing import MinMaxScaler, NotFittedError, StandardScaler, drop_duplicates, outlier_mask

sk_pre = pytest.importorskip("sklearn.preprocessing")


def make_features(seed: int = 0, n: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # wide scales, an offset and a constant column
    return rng.normal(size=(n, 4)) * np.array([1.0, 100.0, 1e-3, 0.0]) + np.array([0.0, 5.0, -3.0, 7.0])


SCALER_PAIRS = [
    (lambda: StandardScaler(), lambda: sk_pre.StandardScaler()),
    (lambda: StandardScaler(with_mean=False), lambda: sk_pre.StandardScaler(with_mean=False)),
    (lambda: StandardScaler(with_std=False), lambda: sk_pre.StandardScaler(with_std=False)),
    (lambda: MinMaxScaler(), lambda: sk_pre.MinMaxScaler()),
    (lambda: MinMaxScaler((-2, 3)), lambda: sk_pre.MinMaxScaler(feature_range=(-2, 3))),
    (lambda: MinMaxScaler(clip=True), lambda: sk_pre.MinMaxScaler(clip=True)),
]


@pytest.mark.parametrize("ours, ref", SCALER_PAIRS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_scalers_equal_sklearn(ours, ref, dtype):
    X_train = (make_features(0) * (1 if dtype != np.int64 else 10)).astype(dtype)
    X_test = (make_features(1, n=7) * (1 if dtype != np.int64 else 10)).astype(dtype)
    a, b = ours().fit(X_train), ref().fit(X_train)
    for out, expected in ((a.transform(X_test), b.transform(X_test)),
                          (a.inverse_transform(X_test), b.inverse_transform(X_test)),
                          (ours().fit_transform(X_train), ref().fit_transform(X_train))):
        assert out.dtype == expected.dtype
        np.testing.assert_allclose(out, expected, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=0)


def test_scaler_statistics_come_from_training_data_only():
    X_train, X_test = make_features(0), make_features(1) + 50.0
    sc = StandardScaler().fit(X_train)
    np.testing.assert_allclose(sc.mean_, X_train.mean(axis=0))
    np.testing.assert_allclose(sc.scale_[:3], X_train.std(axis=0)[:3])
    assert sc.scale_[3] == 1.0  # constant feature is only centred
    np.testing.assert_allclose(sc.transform(X_test), (X_test - X_train.mean(0)) / sc.scale_)
    mm = MinMaxScaler().fit(X_train)
    assert np.array_equal(mm.data_min_, X_train.min(axis=0))
    assert mm.transform(X_test)[:, 0].min() > 1.0  # shifted test data leaves [0, 1]: not refitted


@pytest.mark.parametrize("scaler", [StandardScaler(), MinMaxScaler()])
def test_inverse_transform_round_trips(scaler):
    X = make_features(2)
    np.testing.assert_allclose(scaler.fit(X).inverse_transform(scaler.transform(X)), X, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scaler", [StandardScaler(), MinMaxScaler()])
def test_scalers_reject_bad_input(scaler):
    X = make_features(0)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        type(scaler)().transform(X)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"contains NaN.*\(3, 1\)"):
        scaler.fit(bad)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="contains infinity"):
        scaler.fit(bad)
    with pytest.raises(ValueError, match=r"Expected 2D array, got 1D array.*reshape\(-1, 1\)"):
        scaler.fit(X[:, 0])
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        scaler.fit(X[:0])
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        scaler.fit(X[:, :0])
    scaler.fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but .* is expecting 4 features"):
        scaler.transform(X[:, :3])
    with pytest.raises(ValueError, match="contains NaN"):
        scaler.transform(np.full((2, 4), np.nan))


def test_scalers_accept_one_sample_and_match_sklearn():
    X = np.array([[1.0, -2.0, 3.0]])
    np.testing.assert_array_equal(StandardScaler().fit_transform(X), sk_pre.StandardScaler().fit_transform(X))
    np.testing.assert_array_equal(MinMaxScaler().fit_transform(X), sk_pre.MinMaxScaler().fit_transform(X))


@pytest.mark.parametrize("scaler", [StandardScaler(), MinMaxScaler()])
def test_transform_is_batch_and_order_invariant(scaler):
    X = make_features(4)
    full = scaler.fit(X).transform(X)
    np.testing.assert_allclose(np.vstack([scaler.transform(X[:7]), scaler.transform(X[7:])]), full, atol=1e-7)
    perm = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(scaler.transform(X[perm]), full[perm], atol=1e-7)
    refit = type(scaler)().fit(X[perm])  # statistics do not depend on sample order
    np.testing.assert_allclose(refit.transform(X), full, atol=1e-7)


def test_minmax_rejects_inverted_range():
    with pytest.raises(ValueError, match=r"must be smaller than maximum. Got \(1, 0\)"):
        MinMaxScaler((1, 0))


def test_drop_duplicates_keeps_first_occurrence_in_order():
    X = np.array([[1, 2], [3, 4], [1, 2], [5, 6], [3, 4], [1, 2]])
    y = np.array([0, 1, 1, 0, 1, 0])
    Xu, yu, idx = drop_duplicates(X, y, return_index=True)
    assert idx.tolist() == [0, 1, 2, 3]  # row 2 repeats X of row 0 but has another label: kept
    assert Xu.tolist() == X[[0, 1, 2, 3]].tolist() and yu.tolist() == [0, 1, 1, 0]
    assert drop_duplicates(X).tolist() == [[1, 2], [3, 4], [5, 6]]
    order = np.random.default_rng(0).permutation(6)  # result follows the data order
    assert drop_duplicates(X[order], return_index=True)[1].tolist() == \
        sorted(np.unique(X[order], axis=0, return_index=True)[1].tolist())


def test_drop_duplicates_bad_input():
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[3, 2\].*X: 3, y: 2"):
        drop_duplicates(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="contains NaN"):
        drop_duplicates(np.array([[np.nan, 1.0], [np.nan, 1.0]]))


def test_outlier_mask_zscore_matches_definition():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    X[10, 1] = 8.0
    X[50, 2] = -9.0
    z = np.abs((X - X.mean(0)) / X.std(0))
    expected = (z > 3.0).any(axis=1)
    mask = outlier_mask(X)
    assert np.array_equal(mask, expected) and mask[10] and mask[50]
    assert np.array_equal(outlier_mask(X, threshold=2.0), (z > 2.0).any(axis=1))


def test_outlier_mask_iqr_matches_tukey_fences():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(101, 2))
    X[5, 0] = 6.0
    q1, q3 = np.percentile(X, [25, 75], axis=0)
    lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    expected = ((X < lo) | (X > hi)).any(axis=1)
    mask = outlier_mask(X, method="iqr")
    assert np.array_equal(mask, expected) and mask[5]
    assert outlier_mask(X[:, 0], method="iqr").shape == (101,)


def test_outlier_mask_constant_feature_flags_nothing():
    X = np.column_stack([np.full(20, 0.1), np.arange(20.0)])
    assert not outlier_mask(X).any() and not outlier_mask(X, method="iqr").any()


def test_outlier_mask_bad_input():
    with pytest.raises(ValueError, match=r"one of \('zscore', 'iqr'\), but got method='mad'"):
        outlier_mask(np.zeros((3, 1)), method="mad")
    with pytest.raises(ValueError, match="threshold should be positive"):
        outlier_mask(np.zeros((3, 1)), threshold=0)
    with pytest.raises(ValueError, match="contains infinity"):
        outlier_mask(np.array([1.0, np.inf]))
