"""Synthetic generators (seeded, documented formulas) and the scikit-learn-bundled real datasets."""
from __future__ import annotations

import builtins

import numpy as np
import pytest

from gradkit.autograd.random import manual_seed
from gradkit.data.datasets import (load_breast_cancer, load_digits, load_iris, make_blobs, make_moons,
                                   make_polynomial, make_spirals, make_xor)

GENERATORS = [make_polynomial, make_xor, make_moons, make_spirals, make_blobs]
CLASSIFIERS = [make_xor, make_moons, make_spirals, make_blobs]


@pytest.mark.parametrize("make", GENERATORS)
def test_same_seed_same_data_different_seed_different_data(make):
    kwargs = {"noise": 0.1} if make is make_moons else {}
    X1, y1 = make(50, seed=3, **kwargs)
    X2, y2 = make(50, seed=3, **kwargs)
    X3, _ = make(50, seed=4, **kwargs)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("make", GENERATORS)
def test_unseeded_generators_follow_manual_seed_not_numpy_global(make):
    kwargs = {"noise": 0.1} if make is make_moons else {}
    state = np.random.get_state()
    manual_seed(11)
    a = make(30, **kwargs)[0]
    manual_seed(11)
    assert np.array_equal(make(30, **kwargs)[0], a)
    assert np.array_equal(np.random.get_state()[1], state[1])


@pytest.mark.parametrize("make", CLASSIFIERS)
def test_classification_generators_return_float_x_and_int64_labels(make):
    X, y = make(41, seed=0)
    assert X.dtype == np.float64 and X.shape == (41, 2)
    assert y.dtype == np.int64 and y.shape == (41,)
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1 if make is not make_xor else set(np.unique(y)) <= {0, 1}


def test_make_polynomial_default_is_x2_3x_3_with_bounded_noise():
    X, y = make_polynomial(500, seed=0)
    assert X.shape == (500, 1) and y.shape == (500, 1)
    residual = y - (X ** 2 + 3 * X + 3)
    assert np.abs(residual).max() <= 1.0 and np.abs(residual).max() > 0.9  # uniform on [-1, 1]
    assert X.min() >= -5 and X.max() <= 5
    X, y = make_polynomial(50, noise=0.0, seed=0)
    np.testing.assert_allclose(y, X ** 2 + 3 * X + 3)


def test_make_polynomial_degree_and_coefficients():
    X, y = make_polynomial(30, degree=3, noise=0.0, seed=1)
    np.testing.assert_allclose(y, X ** 3 + 3 * X + 3)
    X, y = make_polynomial(30, coef=[1.0, 0.0, -2.0, 0.5], noise=0.25, x_range=(0, 2), seed=2)
    assert np.abs(y - (1 - 2 * X ** 2 + 0.5 * X ** 3)).max() <= 0.25
    assert X.min() >= 0 and X.max() <= 2


def test_make_xor_labels_follow_quadrants():
    X, y = make_xor(300, seed=0)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))


def test_make_moons_equals_sklearn_without_noise_and_shuffle():
    sk = pytest.importorskip("sklearn.datasets")
    for n in (10, 11):
        X, y = make_moons(n, shuffle=False)
        Xs, ys = sk.make_moons(n, shuffle=False)
        np.testing.assert_allclose(X, Xs)
        assert np.array_equal(y, ys)


def test_make_spirals_arms_and_radius():
    X, y = make_spirals(300, n_classes=3, noise=0.0, shuffle=False)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.max() <= 1 + 1e-12
    for k in range(3):
        r = radius[y == k]
        theta = np.arctan2(X[y == k, 0], X[y == k, 1])  # point is r * (sin θ, cos θ)
        expected = 2 * np.pi * (r + k / 3)
        d = np.angle(np.exp(1j * (theta - expected)))
        assert np.abs(d[r > 1e-9]).max() < 1e-9


def test_make_blobs_clusters_around_centres():
    centers = np.array([[0.0, 0.0, 0.0], [10.0, -10.0, 5.0]])
    X, y = make_blobs(400, centers=centers, cluster_std=0.5, seed=0)
    assert X.shape == (400, 3)
    for k in range(2):
        np.testing.assert_allclose(X[y == k].mean(0), centers[k], atol=0.15)
        np.testing.assert_allclose(X[y == k].std(0), 0.5, atol=0.1)
    X, _ = make_blobs(10, n_features=4, centers=3, seed=0)
    assert X.shape == (10, 4)


@pytest.mark.parametrize("call, match", [
    (lambda: make_moons(0), "n_samples should be an integer >= 1, but got n_samples=0"),
    (lambda: make_xor(2.5), "n_samples=2.5"),
    (lambda: make_xor(True), "n_samples=True"),
    (lambda: make_moons(10, noise=-1), "noise should be a non-negative number, but got noise=-1"),
    (lambda: make_spirals(10, n_classes=1), "n_classes should be an integer >= 2"),
    (lambda: make_polynomial(10, x_range=(1, 1)), "low < high"),
    (lambda: make_polynomial(10, degree=-1), "degree should be an integer >= 0"),
    (lambda: make_blobs(10, centers=np.zeros(3)), r"shape \(3,\)"),
])
def test_generators_reject_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("load, name", [(load_digits, "load_digits"), (load_iris, "load_iris"),
                                        (load_breast_cancer, "load_breast_cancer")])
def test_real_datasets_equal_sklearn_copies(load, name):
    sk = pytest.importorskip("sklearn.datasets")
    X, y = load()
    Xs, ys = getattr(sk, name)(return_X_y=True)
    assert X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(X, Xs)
    np.testing.assert_array_equal(y, ys)


def test_real_dataset_without_sklearn_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name == "sklearn" or name.startswith("sklearn."):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match=r"load_iris needs scikit-learn.*gradkit\[datasets\]"):
        load_iris()
