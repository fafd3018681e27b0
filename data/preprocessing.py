"""Feature scaling and data cleaning: ``StandardScaler``, ``MinMaxScaler``, ``drop_duplicates``, ``outlier_mask``.

Scalers learn their statistics in ``fit`` (call it on the training split only) and
apply them in ``transform``; results equal scikit-learn's. Unlike scikit-learn,
NaN is refused rather than treated as a missing value: clean the data first.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradkit.data.checks import check_array, check_consistent_length, to_numpy


class NotFittedError(ValueError, AttributeError):
    """Raised when ``transform`` is called before ``fit`` (as scikit-learn's ``NotFittedError``)."""


def _near_zero_to_one(scale: NDArray, constant: NDArray) -> NDArray:
    """Replace the scale of (near) constant features by 1 so they are not divided by ~0."""
    scale = scale.copy()
    scale[constant] = 1.0
    return scale


class _Scaler:
    """fit / transform / fit_transform / inverse_transform plumbing; subclasses define _fit and the maps."""

    def fit(self, X: Any, y: Any = None) -> _Scaler:
        """Learn the statistics of ``X`` (n_samples, n_features); ``y`` is ignored. Returns self."""
        X = check_array(X)
        self.n_features_in_ = X.shape[1]
        self.n_samples_seen_ = X.shape[0]
        self._fit(X)
        return self

    def _check_input(self, X: Any) -> NDArray:
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                                 "appropriate arguments before using this estimator.")
        X = check_array(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input.")
        return X

    def transform(self, X: Any) -> NDArray:
        """Scale ``X`` with the fitted statistics (returns a new array)."""
        return self._transform(self._check_input(X))

    def fit_transform(self, X: Any, y: Any = None) -> NDArray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X, y).transform(X)

    def inverse_transform(self, X: Any) -> NDArray:
        """Undo ``transform``: map scaled data back to the original units."""
        return self._inverse(self._check_input(X))

    def _fit(self, X: NDArray) -> None:
        raise NotImplementedError

    def _transform(self, X: NDArray) -> NDArray:
        raise NotImplementedError

    def _inverse(self, X: NDArray) -> NDArray:
        raise NotImplementedError


class StandardScaler(_Scaler):
    """Standardize features: z = (x - mean) / std, with the population std (ddof=0) of the fitted data.

    A feature that is constant in the training data gets scale 1 (it is only centred),
    detected as scikit-learn does (variance within rounding error of 0).

    Args:
        with_mean: subtract the mean.
        with_std: divide by the standard deviation.

    Attributes:
        mean_, var_, scale_: per-feature statistics (None when switched off).
        n_features_in_, n_samples_seen_: shape of the fitted data.

    Raises:
        ValueError: 1-D input (with a reshape hint), no samples or features, NaN or infinity,
            a different number of features than at fit time.
        NotFittedError: ``transform`` before ``fit``.

    Example:
        >>> sc = StandardScaler().fit(np.array([[0.0], [2.0], [4.0]]))
        >>> sc.mean_.tolist(), sc.transform(np.array([[4.0]])).round(4).tolist()
        ([2.0], [[1.2247]])
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean = with_mean
        self.with_std = with_std

    def _fit(self, X: NDArray) -> None:
        # statistics in float64 whatever the input dtype, like scikit-learn's incremental mean/var
        X64 = X.astype(np.float64, copy=False)
        n = X.shape[0]
        mean = X64.mean(axis=0)
        var = ((X64 - mean) ** 2).mean(axis=0)
        self.mean_ = mean.astype(X.dtype) if self.with_mean else None
        if self.with_std:
            eps = np.finfo(np.float64).eps
            constant = var <= n * eps * var + (n * mean * eps) ** 2  # sklearn's _is_constant_feature
            self.var_ = var.astype(X.dtype)
            self.scale_ = _near_zero_to_one(np.sqrt(var), constant).astype(X.dtype)
        else:
            self.var_ = None
            self.scale_ = None

    def _transform(self, X: NDArray) -> NDArray:
        out = X.copy()
        if self.with_mean:
            out -= self.mean_
        if self.with_std:
            out /= self.scale_
        return out

    def _inverse(self, X: NDArray) -> NDArray:
        out = X.copy()
        if self.with_std:
            out *= self.scale_
        if self.with_mean:
            out += self.mean_
        return out

    def __repr__(self) -> str:
        return f"StandardScaler(with_mean={self.with_mean}, with_std={self.with_std})"


class MinMaxScaler(_Scaler):
    """Scale each feature to ``feature_range``: x' = (x - min) / (max - min) * (hi - lo) + lo.

    Stored as ``x' = x * scale_ + min_``. A constant feature gets range 1 (so it maps to
    ``lo + x - min = lo``). Values outside the fitted range land outside ``feature_range``
    unless ``clip=True``.

    Args:
        feature_range: (lo, hi) with lo < hi.
        clip: clip transformed values into ``feature_range``.

    Attributes:
        data_min_, data_max_, data_range_, scale_, min_: per-feature statistics.

    Raises:
        ValueError: lo >= hi, and the input errors of :class:`StandardScaler`.

    Example:
        >>> MinMaxScaler().fit_transform(np.array([[1.0], [3.0], [5.0]])).ravel().tolist()
        [0.0, 0.5, 1.0]
    """

    def __init__(self, feature_range: tuple[float, float] = (0, 1), clip: bool = False) -> None:
        if len(feature_range) != 2 or not feature_range[0] < feature_range[1]:
            raise ValueError("Minimum of desired feature range must be smaller than maximum. "
                             f"Got {tuple(feature_range)}.")
        self.feature_range = tuple(feature_range)
        self.clip = clip

    def _fit(self, X: NDArray) -> None:
        lo, hi = self.feature_range
        self.data_min_ = X.min(axis=0)
        self.data_max_ = X.max(axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        constant = self.data_range_ < 10 * np.finfo(self.data_range_.dtype).eps
        self.scale_ = (hi - lo) / _near_zero_to_one(self.data_range_, constant)
        self.min_ = lo - self.data_min_ * self.scale_

    def _transform(self, X: NDArray) -> NDArray:
        out = X * self.scale_ + self.min_
        if self.clip:
            np.clip(out, self.feature_range[0], self.feature_range[1], out=out)
        return out

    def _inverse(self, X: NDArray) -> NDArray:
        return (X - self.min_) / self.scale_

    def __repr__(self) -> str:
        return f"MinMaxScaler(feature_range={self.feature_range}, clip={self.clip})"


def drop_duplicates(X: Any, y: Any = None, return_index: bool = False) -> Any:
    """Remove repeated samples, keeping the first occurrence and the original order.

    A sample is a duplicate when its row of ``X`` and its label in ``y`` (if given) both
    equal those of an earlier sample; equal rows with different labels are all kept.

    Args:
        X: array of shape (n_samples, ...).
        y: optional labels or targets of length n_samples.
        return_index: also return the indices of the kept samples.

    Returns:
        ``X_unique`` (and ``y_unique`` when ``y`` is given, and ``index`` when asked), as a tuple
        when more than one.

    Raises:
        ValueError: X and y lengths differ, NaN or infinity in X.

    Example:
        >>> X = np.array([[1, 2], [3, 4], [1, 2]]); y = np.array([0, 1, 0])
        >>> Xu, yu = drop_duplicates(X, y)
        >>> Xu.tolist(), yu.tolist()
        ([[1, 2], [3, 4]], [0, 1])
    """
    X_arr = to_numpy(X)
    check_array(X_arr, ensure_2d=False, min_samples=0)  # NaN never equals itself: refuse it
    n = check_consistent_length(X_arr, y, names=("X", "y"))
    if n == 0:
        keep = np.arange(0)
    else:
        rows = X_arr.reshape(n, -1)
        key = np.unique(rows, axis=0, return_inverse=True)[1].reshape(n, 1)
        if y is not None:
            y_rows = to_numpy(y).reshape(n, -1)
            key = np.hstack([key, np.unique(y_rows, axis=0, return_inverse=True)[1].reshape(n, 1)])
        keep = np.sort(np.unique(key, axis=0, return_index=True)[1])
    out = [X_arr[keep]]
    if y is not None:
        out.append(to_numpy(y)[keep])
    if return_index:
        out.append(keep)
    return out[0] if len(out) == 1 else tuple(out)


def outlier_mask(X: Any, method: str = "zscore", threshold: float | None = None) -> NDArray:
    """Flag outlying samples by univariate rules: each feature is tested on its own.

    - ``"zscore"``: |x - mean| / std > threshold (default 3.0; population std; a constant
      feature flags nothing).
    - ``"iqr"``: x < Q1 - threshold * IQR or x > Q3 + threshold * IQR (default 1.5, Tukey's fences;
      quartiles by linear interpolation).

    A sample is an outlier when any of its features is. Keep the inliers with
    ``X[~outlier_mask(X)]``; compute the mask on the training split only.

    Args:
        X: array of shape (n_samples,) or (n_samples, n_features).
        method: ``"zscore"`` or ``"iqr"``.
        threshold: cut-off (see above); must be positive.

    Returns:
        Boolean array of shape (n_samples,), True for outliers.

    Raises:
        ValueError: an unknown method (the options named), a non-positive threshold, NaN or
            infinity, no samples.

    Example:
        >>> outlier_mask(np.array([1.0, 2.0, 3.0, 2.0, 100.0]), method="iqr").tolist()
        [False, False, False, False, True]
    """
    methods = ("zscore", "iqr")
    if method not in methods:
        raise ValueError(f"outlier_mask method should be one of {methods}, but got method={method!r}")
    if threshold is None:
        threshold = 3.0 if method == "zscore" else 1.5
    if not threshold > 0:
        raise ValueError(f"threshold should be positive, but got threshold={threshold!r}")
    X_arr = to_numpy(X)
    X2 = check_array(X_arr.reshape(-1, 1) if X_arr.ndim == 1 else X_arr)
    if method == "zscore":
        mean = X2.mean(axis=0)
        std = X2.std(axis=0)
        dev = np.abs(X2 - mean)
        # constant feature: std 0 and every deviation 0 -> not an outlier, without dividing by 0
        flagged = dev > threshold * std
    else:
        q1, q3 = np.percentile(X2, [25, 75], axis=0)
        iqr = q3 - q1
        flagged = (X2 < q1 - threshold * iqr) | (X2 > q3 + threshold * iqr)
    return flagged.any(axis=1)
