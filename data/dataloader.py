"""``DataLoader``: batches of Tensors from a dataset, optionally shuffled with a fresh order each epoch."""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

from gradkit.autograd.tensor import from_numpy
from gradkit.data.checks import resolve_rng, to_numpy
from gradkit.data.dataset import Dataset, Subset, TensorDataset


def default_collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into Tensors: tuples field by field, single arrays into one Tensor.

    ``default_collate([(x0, y0), (x1, y1)])`` is ``(Tensor(stack([x0, x1])), Tensor(stack([y0, y1])))``.
    As PyTorch's: dicts key by key, strings stay a list of strings, and samples whose
    sequences differ in length are refused.

    Example:
        >>> xb, yb = default_collate([(np.array([1.0, 2.0]), 0), (np.array([3.0, 4.0]), 1)])
        >>> xb.shape, yb.tolist()
        ((2, 2), [0, 1])
    """
    first = samples[0]
    if isinstance(first, (str, bytes)):  # names, labels as text: nothing to stack
        return list(samples)
    if isinstance(first, (tuple, list)):
        lengths = {len(s) for s in samples}
        if len(lengths) > 1:
            raise RuntimeError(f"each element in list of batch should be of equal size, got sizes "
                               f"{[len(s) for s in samples]}")
        return tuple(default_collate([s[i] for s in samples]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    return from_numpy(np.stack([to_numpy(s) for s in samples]))


def _array_source(dataset: Dataset) -> tuple[tuple[NDArray, ...], NDArray | None] | None:
    """Return (arrays, index map) when ``dataset`` is a TensorDataset, possibly inside Subsets, else None."""
    index_map = None
    while isinstance(dataset, Subset):
        index_map = dataset.indices if index_map is None else dataset.indices[index_map]
        dataset = dataset.dataset
    if type(dataset) is TensorDataset:  # a subclass may override __getitem__
        return dataset.arrays, index_map
    return None


class DataLoader:
    """Iterate over a dataset in batches, yielding tuples of Tensors.

    Each epoch (each ``for`` loop over the loader) visits every sample once. With
    ``shuffle=True`` every epoch draws a fresh permutation from the loader's own
    generator: ``np.random.default_rng(seed)`` created once in ``__init__``, so
    successive epochs differ and two loaders built with the same seed give the same
    sequence of epochs; with ``seed=None`` gradkit's generator is used, which
    ``gk.manual_seed`` controls. numpy's global random state is never used.

    For a :class:`TensorDataset` (or a :class:`Subset` of one) and no ``collate_fn``, a batch
    is one fancy-indexing ``array[batch_indices]`` per array, wrapped without a copy
    by ``from_numpy``; other datasets are read sample by sample and stacked by
    :func:`default_collate` (or your ``collate_fn``, which receives the list of samples).

    Batch count: ``ceil(n / batch_size)``, or ``floor(n / batch_size)`` with ``drop_last``;
    the last batch then has ``n mod batch_size`` samples. A final batch of one sample
    makes BatchNorm fail in training: use ``drop_last=True`` then. An empty dataset
    gives an empty iteration (``len(loader) == 0``).

    Args:
        dataset: the dataset to load from.
        batch_size: samples per batch, a positive int.
        shuffle: draw a new random order every epoch.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        seed: seed of the loader's own generator (only used when ``shuffle``).
        collate_fn: function from a list of samples to a batch.

    Raises:
        ValueError: ``batch_size`` not a positive int (bools refused), ``shuffle`` or ``drop_last``
            not a bool.

    Example:
        >>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
        >>> [tuple(xb.shape) for xb, yb in DataLoader(ds, batch_size=2)]
        [(2, 2), (2, 2), (1, 2)]
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, collate_fn: Callable[[list[Any]], Any] | None = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")
        if not isinstance(shuffle, bool):
            raise ValueError(f"shuffle should be a boolean value, but got shuffle={shuffle!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn should be callable, but got {collate_fn!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.collate_fn = collate_fn
        self._rng = None if seed is None else resolve_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _batch_indices(self) -> Iterator[NDArray]:
        n = len(self.dataset)
        rng = self._rng if self._rng is not None else resolve_rng(None)
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield order[start:start + self.batch_size]

    def __iter__(self) -> Iterator[Any]:
        source = _array_source(self.dataset) if self.collate_fn is None else None
        if source is not None:
            arrays, index_map = source
            for idx in self._batch_indices():
                rows = idx if index_map is None else index_map[idx]
                # fancy indexing copies: each batch array is fresh, so wrapping without a copy is safe
                yield tuple(from_numpy(a[rows]) for a in arrays)
            return
        collate = self.collate_fn if self.collate_fn is not None else default_collate
        for idx in self._batch_indices():
            yield collate([self.dataset[int(i)] for i in idx])

    def __repr__(self) -> str:
        return (f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed})")
