"""Map-style datasets: ``Dataset``, ``TensorDataset``, ``Subset`` and ``random_split``.

Datasets hold and return numpy arrays; :class:`gradkit.data.DataLoader` turns
whole batches into Tensors (one array per field per batch, not one per sample).
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray

from gradkit.data.checks import resolve_rng, to_numpy


class Dataset:
    """Abstract map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__()``.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self): return 3
        ...     def __getitem__(self, i): return np.array([i]), np.array(i * i)
        >>> len(Squares()), Squares()[2][1].item()
        (3, 4)
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


class TensorDataset(Dataset):
    """Dataset of equally long arrays; sample ``i`` is ``tuple(a[i] for a in arrays)``.

    Args:
        *arrays: numpy arrays, gradkit Tensors (their ``.data`` is used, not copied) or
            nested lists, all with the same first dimension.

    Attributes:
        arrays: tuple of the numpy arrays (the DataLoader batches them by fancy indexing).

    Raises:
        ValueError: no arrays, a 0-d array, or first dimensions that differ (all lengths named).

    Example:
        >>> ds = TensorDataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 0]))
        >>> len(ds), ds[1][0].tolist(), int(ds[1][1])
        (3, [2.0, 3.0], 1)
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        converted = tuple(to_numpy(a) for a in arrays)
        for i, a in enumerate(converted):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset array {i} is 0-d (a scalar); every array needs a sample axis")
        lengths = [a.shape[0] for a in converted]
        if len(set(lengths)) > 1:
            raise ValueError(f"Size mismatch between arrays: first dimensions are {lengths}; "
                             "all arrays need the same number of samples")
        self.arrays: tuple[NDArray, ...] = converted

    def __getitem__(self, index: int) -> tuple[NDArray, ...]:
        return tuple(a[index] for a in self.arrays)

    def __len__(self) -> int:
        return int(self.arrays[0].shape[0])

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.arrays)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Args:
        dataset: the dataset to draw from.
        indices: sequence of integer indices into ``dataset``.

    Raises:
        IndexError: an index outside ``[-len(dataset), len(dataset))``.

    Example:
        >>> ds = TensorDataset(np.arange(5))
        >>> [int(s[0]) for s in Subset(ds, [4, 0])]
        [4, 0]
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int] | NDArray) -> None:
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = idx.astype(np.intp)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise TypeError(f"Subset indices should be a 1-D sequence of integers, got dtype {idx.dtype} "
                            f"and shape {idx.shape}")
        n = len(dataset)
        if idx.size and (idx.max() >= n or idx.min() < -n):
            bad = idx[(idx >= n) | (idx < -n)][0]
            raise IndexError(f"Subset index {int(bad)} is out of range for a dataset of length {n}")
        self.dataset = dataset
        self.indices = idx

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __repr__(self) -> str:
        return f"Subset({self.dataset!r}, {len(self)} samples)"


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 seed: int | np.random.Generator | None = None) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping Subsets of the given lengths (PyTorch semantics).

    Fractions summing to 1 become ``floor(f * n)`` samples each, and the remaining
    samples go one at a time to the parts in order (round robin), as in
    ``torch.utils.data.random_split``; as there, lengths summing to 1 are fractions
    even when they are integers (``[0, 1]`` puts everything in the second part), and
    a part left empty by fractions gives a warning.

    Args:
        dataset: dataset to split.
        lengths: integer lengths summing to ``len(dataset)``, or fractions summing to 1.
        seed: seed for ``np.random.default_rng``; None uses gradkit's generator (``gk.manual_seed``).

    Returns:
        One :class:`Subset` per entry of ``lengths``.

    Raises:
        ValueError: negative lengths, or lengths that do not add up (the sum and ``len(dataset)`` named).

    Example:
        >>> parts = random_split(TensorDataset(np.arange(10)), [0.7, 0.3], seed=0)
        >>> [len(p) for p in parts]
        [7, 3]
    """
    n = len(dataset)
    lengths = list(lengths)
    if any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in lengths):
        raise TypeError(f"lengths should be ints or fractions, got {lengths}")
    if any(v < 0 for v in lengths):
        raise ValueError(f"lengths should be non-negative, got {lengths}")
    total = sum(lengths)
    if math.isclose(total, 1.0) and total <= 1:  # fractions (PyTorch's test: so are [0, 1], [1])
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):  # remainder round robin, as PyTorch does
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
        lengths = counts
    elif not all(isinstance(v, numbers.Integral) for v in lengths):
        raise ValueError(f"Fractions in lengths should sum to 1, but they sum to {total} ({lengths})")
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of the "
                         f"input dataset ({n}): lengths={lengths}")
    perm = resolve_rng(seed).permutation(n)
    bounds = np.cumsum([0] + list(lengths))
    return [Subset(dataset, perm[start:stop]) for start, stop in zip(bounds[:-1], bounds[1:])]
