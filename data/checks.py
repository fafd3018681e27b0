"""Input checks shared by gradkit.data: array conversion, length agreement, random generators.

The messages follow scikit-learn's ``sklearn.utils.validation`` so users see the
wording they already know ("Found input variables with inconsistent numbers of
samples", "Input X contains NaN", "Expected 2D array, got 1D array instead").
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradkit.autograd.random import default_generator


def resolve_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Return the generator to draw from: ``default_rng(seed)``, or gradkit's when ``seed`` is None.

    ``gk.manual_seed`` therefore controls every unseeded shuffle in gradkit.data;
    numpy's global random state is never touched.

    Example:
        >>> a = resolve_rng(0).permutation(5); b = resolve_rng(0).permutation(5)
        >>> bool((a == b).all())
        True
    """
    if seed is None:
        return default_generator()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed should be None, an int or a numpy Generator, but got seed={seed!r}")
    return np.random.default_rng(int(seed))


def to_numpy(a: Any) -> NDArray:
    """Return ``a`` as a numpy array without copying when possible (a gradkit Tensor gives its ``.data``).

    Example:
        >>> to_numpy([1, 2]).shape
        (2,)
    """
    if isinstance(a, np.ndarray):
        return a
    data = getattr(a, "data", None)
    if isinstance(data, np.ndarray):  # gradkit Tensor (or anything wrapping an array)
        return data
    return np.asarray(a)


def num_samples(a: Any, name: str = "X") -> int:
    """Return the length of the first axis of ``a``; ``TypeError`` for a 0-d array or scalar.

    Example:
        >>> num_samples(np.zeros((4, 2)))
        4
    """
    arr = to_numpy(a)
    if arr.ndim == 0:
        raise TypeError(f"Expected an array-like with a sample axis for {name}, got a scalar {arr!r}")
    return int(arr.shape[0])


def check_consistent_length(*arrays: Any, names: tuple[str, ...] | None = None) -> int:
    """Check that all non-None arrays have the same first-axis length and return it.

    Raises:
        ValueError: "Found input variables with inconsistent numbers of samples: [3, 4]"
            (the names are appended when given).

    Example:
        >>> check_consistent_length(np.zeros(3), [1, 2, 3])
        3
    """
    present = [(i, a) for i, a in enumerate(arrays) if a is not None]
    lengths = [num_samples(a) for _, a in present]
    if len(set(lengths)) > 1:
        msg = f"Found input variables with inconsistent numbers of samples: {lengths}"
        if names is not None:
            msg += " (" + ", ".join(f"{names[i]}: {n}" for (i, _), n in zip(present, lengths)) + ")"
        raise ValueError(msg)
    return lengths[0] if lengths else 0


def check_array(X: Any, name: str = "X", ensure_2d: bool = True, allow_nan: bool = False,
                min_samples: int = 1, numeric: bool = True) -> NDArray:
    """Validate a feature matrix the way scikit-learn's ``check_array`` does.

    Float input keeps its dtype (float32 stays float32); integer and bool input become float64.

    Args:
        X: array-like of shape (n_samples, n_features).
        name: name used in error messages.
        ensure_2d: require exactly two dimensions (1-D input gets a reshape hint).
        allow_nan: accept NaN (infinity is always refused).
        min_samples: minimum number of rows.
        numeric: convert to a floating dtype and check finiteness.

    Returns:
        The validated array (a copy only when a conversion was needed).

    Raises:
        ValueError: wrong number of dimensions, too few samples or features, NaN or infinity.

    Example:
        >>> check_array([[1, 2], [3, 4]]).dtype
        dtype('float64')
    """
    arr = to_numpy(X)
    if numeric:
        if arr.dtype.kind in "biu":
            arr = arr.astype(np.float64)
        elif arr.dtype.kind != "f":
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name} should contain numbers, but has dtype {arr.dtype}") from exc
    if ensure_2d:
        if arr.ndim == 0:
            raise ValueError(f"Expected 2D array, got scalar array instead: {name}={arr!r}.")
        if arr.ndim == 1:
            raise ValueError(
                f"Expected 2D array, got 1D array of shape {arr.shape} for {name} instead. Reshape your "
                "data either using array.reshape(-1, 1) if your data has a single feature or "
                "array.reshape(1, -1) if it contains a single sample.")
        if arr.ndim > 2:
            raise ValueError(f"Found array with dim {arr.ndim} for {name}; expected <= 2.")
    n = arr.shape[0] if arr.ndim else 0
    if n < min_samples:
        raise ValueError(f"Found array with {n} sample(s) (shape={arr.shape}) for {name} while a "
                         f"minimum of {min_samples} is required.")
    if ensure_2d and arr.shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={arr.shape}) for {name} while a "
                         "minimum of 1 is required.")
    if numeric:
        check_finite(arr, name, allow_nan=allow_nan)
    return arr


def check_finite(arr: NDArray, name: str = "X", allow_nan: bool = False) -> None:
    """Raise ``ValueError`` when a float array holds NaN (unless allowed) or infinity.

    Example:
        >>> check_finite(np.array([1.0, np.nan]))
        Traceback (most recent call last):
        ...
        ValueError: Input X contains NaN (1 value(s), first at index (1,)).
    """
    if arr.dtype.kind not in "fc" or np.isfinite(arr).all():
        return
    nan = np.isnan(arr)
    if nan.any() and not allow_nan:
        first = tuple(int(i) for i in np.argwhere(nan)[0])
        raise ValueError(f"Input {name} contains NaN ({int(nan.sum())} value(s), first at index {first}).")
    inf = np.isinf(arr)
    if inf.any():
        first = tuple(int(i) for i in np.argwhere(inf)[0])
        raise ValueError(f"Input {name} contains infinity ({int(inf.sum())} value(s), first at index {first}).")


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """Return ``value`` as int when it is an integer (not bool) >= ``minimum``; else ``ValueError``.

    Example:
        >>> check_positive_int(3, "n_samples")
        3
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} should be an integer >= {minimum}, but got {name}={value!r}")
    return int(value)
