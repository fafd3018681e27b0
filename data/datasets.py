"""Toy and real datasets, each returned as a tuple ``(X, y)`` of numpy arrays.

X is float64 of shape (n_samples, n_features); classification labels y are int64 of
shape (n_samples,); the regression target of :func:`make_polynomial` is float64 of
shape (n_samples, 1), the shape a ``Linear(..., 1)`` output has. Generators are
seeded: ``np.random.default_rng(seed)``, or gradkit's generator when ``seed`` is None.
The real datasets are read from the copies bundled with scikit-learn (extra
``datasets``: ``pip install 'gradkit[datasets]'``).
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray

from gradkit.data.checks import check_positive_int, resolve_rng

Seed = int | np.random.Generator | None


def _check_noise(noise: Any) -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not noise >= 0:
        raise ValueError(f"noise should be a non-negative number, but got noise={noise!r}")
    return float(noise)


def _class_sizes(n_samples: int, n_classes: int) -> NDArray:
    """Split n_samples into n_classes sizes that differ by at most one (first classes larger)."""
    sizes = np.full(n_classes, n_samples // n_classes)
    sizes[: n_samples % n_classes] += 1
    return sizes


def _shuffled(X: NDArray, y: NDArray, rng: np.random.Generator) -> tuple[NDArray, NDArray]:
    perm = rng.permutation(len(y))
    return X[perm], y[perm]


def make_polynomial(n_samples: int = 100, degree: int = 2, coef: Sequence[float] | None = None,
                    noise: float = 1.0, x_range: tuple[float, float] = (-5.0, 5.0),
                    seed: Seed = None) -> tuple[NDArray, NDArray]:
    """Polynomial regression data: y = sum_k coef[k] x^k + u, u ~ Uniform(-noise, noise).

    The default is y = x² + 3x + 3 plus noise bounded by 1. For another ``degree`` without
    ``coef`` the polynomial is x^degree + 3x + 3 (3x + 3 for degree 1, 3 for degree 0).
    x is drawn uniformly from ``x_range``.

    Args:
        n_samples: number of points.
        degree: polynomial degree (ignored when ``coef`` is given; its length sets the degree).
        coef: coefficients, constant term first.
        noise: half-width of the uniform noise (0 for none).
        x_range: (low, high) interval of x.
        seed: generator seed.

    Returns:
        ``(X, y)`` with X of shape (n_samples, 1) and y of shape (n_samples, 1), both float64.

    Raises:
        ValueError: non-positive ``n_samples``, negative ``degree`` or ``noise``, empty ``coef``,
            ``x_range`` with low >= high.

    Example:
        >>> X, y = make_polynomial(4, noise=0.0, seed=0)
        >>> bool(np.allclose(y, X ** 2 + 3 * X + 3))
        True
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    noise = _check_noise(noise)
    if coef is None:
        degree = check_positive_int(degree, "degree", minimum=0)
        coef_arr = np.zeros(degree + 1)
        coef_arr[0] = 3.0
        if degree >= 1:
            coef_arr[1] = 3.0
        if degree >= 2:
            coef_arr[degree] = 1.0
    else:
        coef_arr = np.asarray(coef, dtype=np.float64).ravel()
        if coef_arr.size == 0:
            raise ValueError("coef should hold at least one coefficient (the constant term)")
    low, high = x_range
    if not low < high:
        raise ValueError(f"x_range should be (low, high) with low < high, but got x_range={x_range!r}")
    rng = resolve_rng(seed)
    x = rng.uniform(low, high, size=(n_samples, 1))
    y = np.polynomial.polynomial.polyval(x, coef_arr)
    if noise > 0:
        y = y + rng.uniform(-noise, noise, size=y.shape)
    return x, y


def make_xor(n_samples: int = 200, noise: float = 0.0, seed: Seed = None) -> tuple[NDArray, NDArray]:
    """XOR data: points uniform in [-1, 1]², label 1 where exactly one coordinate is positive.

    y = [x0 > 0] xor [x1 > 0]; then Gaussian noise of std ``noise`` is added to X (labels unchanged).

    Args:
        n_samples: number of points.
        noise: std of the Gaussian jitter added after labelling.
        seed: generator seed.

    Returns:
        ``(X, y)``: X float64 (n_samples, 2), y int64 (n_samples,).

    Example:
        >>> X, y = make_xor(8, seed=0)
        >>> bool((y == ((X[:, 0] > 0) ^ (X[:, 1] > 0))).all())
        True
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    noise = _check_noise(noise)
    rng = resolve_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)
    if noise > 0:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X, y


def make_moons(n_samples: int = 100, noise: float = 0.0, shuffle: bool = True,
               seed: Seed = None) -> tuple[NDArray, NDArray]:
    """Two interleaving half circles (scikit-learn's ``make_moons`` construction).

    Class 0: (cos t, sin t); class 1: (1 - cos t, 1/2 - sin t), t evenly spaced in [0, π];
    class 0 gets n_samples // 2 points. Gaussian noise of std ``noise`` is added.

    Args:
        n_samples: total number of points.
        noise: std of the Gaussian noise.
        shuffle: shuffle the samples (otherwise class 0 first).
        seed: generator seed.

    Returns:
        ``(X, y)``: X float64 (n_samples, 2), y int64 (n_samples,).

    Example:
        >>> X, y = make_moons(6, shuffle=False)
        >>> X[0].tolist(), y.tolist()
        ([1.0, 0.0], [0, 0, 0, 1, 1, 1])
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    noise = _check_noise(noise)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.vstack([np.append(np.cos(t_out), 1 - np.cos(t_in)),
                   np.append(np.sin(t_out), 1 - np.sin(t_in) - 0.5)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    rng = resolve_rng(seed)
    if shuffle:
        X, y = _shuffled(X, y, rng)
    if noise > 0:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X, y


def make_spirals(n_samples: int = 300, n_classes: int = 2, noise: float = 0.2, turns: float = 1.0,
                 shuffle: bool = True, seed: Seed = None) -> tuple[NDArray, NDArray]:
    """Interleaved spiral arms, one per class (the CS231n spiral data).

    Arm k: radius r in linspace(0, 1), angle θ = 2π·turns·r + 2πk/n_classes + noise·N(0, 1),
    point r·(sin θ, cos θ). Class sizes differ by at most one.

    Args:
        n_samples: total number of points.
        n_classes: number of arms, at least 2.
        noise: std of the Gaussian noise on the angle (radians).
        turns: how many full turns each arm makes.
        shuffle: shuffle the samples (otherwise grouped by class).
        seed: generator seed.

    Returns:
        ``(X, y)``: X float64 (n_samples, 2), y int64 (n_samples,) in ``range(n_classes)``.

    Example:
        >>> X, y = make_spirals(9, n_classes=3, seed=0)
        >>> X.shape, sorted(np.bincount(y).tolist())
        ((9, 2), [3, 3, 3])
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
    noise = _check_noise(noise)
    if not turns > 0:
        raise ValueError(f"turns should be positive, but got turns={turns!r}")
    rng = resolve_rng(seed)
    Xs, ys = [], []
    for k, size in enumerate(_class_sizes(n_samples, n_classes)):
        r = np.linspace(0.0, 1.0, size)
        theta = 2 * np.pi * (turns * r + k / n_classes) + noise * rng.standard_normal(size)
        Xs.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
        ys.append(np.full(size, k, dtype=np.int64))
    X, y = np.concatenate(Xs), np.concatenate(ys)
    if shuffle:
        X, y = _shuffled(X, y, rng)
    return X, y


def make_blobs(n_samples: int = 100, n_features: int = 2, centers: int | Any = 3, cluster_std: float = 1.0,
               center_box: tuple[float, float] = (-10.0, 10.0), shuffle: bool = True,
               seed: Seed = None) -> tuple[NDArray, NDArray]:
    """Isotropic Gaussian clusters: class k is centre_k + cluster_std · N(0, I).

    Centres are given, or drawn uniformly from ``center_box`` per coordinate. Class sizes
    differ by at most one.

    Args:
        n_samples: total number of points.
        n_features: dimension (ignored when ``centers`` is an array).
        centers: number of clusters or an array (n_centers, n_features) of centres.
        cluster_std: standard deviation of every cluster.
        center_box: (low, high) bounds of random centres.
        shuffle: shuffle the samples (otherwise grouped by class).
        seed: generator seed.

    Returns:
        ``(X, y)``: X float64 (n_samples, n_features), y int64 (n_samples,).

    Example:
        >>> X, y = make_blobs(6, centers=[[0.0, 0.0], [5.0, 5.0]], cluster_std=0.0, shuffle=False)
        >>> X.tolist()[2:4], y.tolist()
        ([[0.0, 0.0], [5.0, 5.0]], [0, 0, 0, 1, 1, 1])
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    cluster_std = _check_noise(cluster_std)
    rng = resolve_rng(seed)
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        n_centers = check_positive_int(centers, "centers")
        n_features = check_positive_int(n_features, "n_features")
        low, high = center_box
        if not low < high:
            raise ValueError(f"center_box should be (low, high) with low < high, but got {center_box!r}")
        center_arr = rng.uniform(low, high, size=(n_centers, n_features))
    else:
        center_arr = np.asarray(centers, dtype=np.float64)
        if center_arr.ndim != 2 or center_arr.shape[0] == 0:
            raise ValueError(f"centers should be an int or an array of shape (n_centers, n_features), "
                             f"but got shape {center_arr.shape}")
    sizes = _class_sizes(n_samples, center_arr.shape[0])
    y = np.repeat(np.arange(center_arr.shape[0], dtype=np.int64), sizes)
    X = center_arr[y] + cluster_std * rng.standard_normal((n_samples, center_arr.shape[1]))
    if shuffle:
        X, y = _shuffled(X, y, rng)
    return X, y


def _load_sklearn(name: str) -> tuple[NDArray, NDArray]:
    try:
        from sklearn import datasets as sk_datasets
    except ImportError as exc:
        raise ImportError(f"{name} needs scikit-learn (it ships the data): pip install 'gradkit[datasets]'") from exc
    X, y = getattr(sk_datasets, name)(return_X_y=True)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def load_digits() -> tuple[NDArray, NDArray]:
    """The 8x8 handwritten digits (1797 samples, 64 pixel features in 0..16, 10 classes).

    Returns:
        ``(X, y)``: X float64 (1797, 64), y int64 (1797,).

    Raises:
        ImportError: scikit-learn is not installed (names the ``datasets`` extra).

    Example:
        >>> X, y = load_digits()
        >>> X.shape, int(y.max())
        ((1797, 64), 9)
    """
    return _load_sklearn("load_digits")


def load_iris() -> tuple[NDArray, NDArray]:
    """Fisher's iris (150 samples, 4 features in cm, 3 classes of 50).

    Returns:
        ``(X, y)``: X float64 (150, 4), y int64 (150,).

    Raises:
        ImportError: scikit-learn is not installed (names the ``datasets`` extra).

    Example:
        >>> X, y = load_iris()
        >>> X.shape, np.bincount(y).tolist()
        ((150, 4), [50, 50, 50])
    """
    return _load_sklearn("load_iris")


def load_breast_cancer() -> tuple[NDArray, NDArray]:
    """Wisconsin diagnostic breast cancer (569 samples, 30 features, 0 = malignant, 1 = benign).

    Returns:
        ``(X, y)``: X float64 (569, 30), y int64 (569,).

    Raises:
        ImportError: scikit-learn is not installed (names the ``datasets`` extra).

    Example:
        >>> X, y = load_breast_cancer()
        >>> X.shape, np.bincount(y).tolist()
        ((569, 30), [212, 357])
    """
    return _load_sklearn("load_breast_cancer")
