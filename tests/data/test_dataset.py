"""Dataset, TensorDataset, Subset and random_split (PyTorch semantics)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from gradkit.autograd.random import manual_seed
from gradkit.data.dataset import Dataset, Subset, TensorDataset, random_split


def test_tensor_dataset_indexes_all_arrays_together():
    X = np.arange(12.0).reshape(4, 3)
    y = np.array([3, 1, 2, 0])
    ds = TensorDataset(X, y)
    assert len(ds) == 4
    x2, y2 = ds[2]
    assert x2.tolist() == X[2].tolist() and int(y2) == 2
    assert ds.arrays[0] is X  # no copy


def test_tensor_dataset_rejects_mismatched_lengths_naming_them():
    with pytest.raises(ValueError, match=r"first dimensions are \[4, 3\]"):
        TensorDataset(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.float64(1.0))


def test_base_dataset_requires_subclass_methods():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())


def test_subset_maps_indices_and_checks_range():
    ds = TensorDataset(np.arange(10) * 2)
    sub = Subset(ds, [7, 2, 2])
    assert len(sub) == 3 and [int(sub[i][0]) for i in range(3)] == [14, 4, 4]
    nested = Subset(sub, [2, 0])
    assert [int(nested[i][0]) for i in range(2)] == [4, 14]
    with pytest.raises(IndexError, match="index 10 is out of range for a dataset of length 10"):
        Subset(ds, [1, 10])
    with pytest.raises(TypeError, match="integers"):
        Subset(ds, [0.5])


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.34, 0.33, 0.33], [10, 0], [0, 1], [1], [0.05, 0.95]])
def test_random_split_is_a_partition_with_pytorch_lengths(lengths):
    """Lengths as PyTorch reads them: [0, 1] and [1] are fractions (they sum to 1), and a part that
    fractions leave empty ([0, 1]; 0.05 of 10 rounds to 0, then gets the remainder) warns as there."""
    torch = pytest.importorskip("torch")
    ds = TensorDataset(np.arange(10))
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        parts = random_split(ds, lengths, seed=0)
    with warnings.catch_warnings(record=True) as theirs_warned:
        warnings.simplefilter("always")
        ref = torch.utils.data.random_split(range(10), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [len(r) for r in ref]
    assert [str(w.message) for w in ours_warned] == [str(w.message) for w in theirs_warned]
    values = np.concatenate([[int(p[i][0]) for i in range(len(p))] for p in parts])
    assert np.array_equal(np.sort(values), np.arange(10))


def test_random_split_reproducible_and_unseeded_follows_manual_seed():
    ds = TensorDataset(np.arange(20))
    a = random_split(ds, [5, 15], seed=1)
    b = random_split(ds, [5, 15], seed=1)
    assert a[0].indices.tolist() == b[0].indices.tolist()
    assert random_split(ds, [5, 15], seed=2)[0].indices.tolist() != a[0].indices.tolist()
    state = np.random.get_state()
    manual_seed(5)
    c = random_split(ds, [5, 15])
    manual_seed(5)
    assert random_split(ds, [5, 15])[1].indices.tolist() == c[1].indices.tolist()
    assert np.array_equal(np.random.get_state()[1], state[1])


def test_random_split_bad_lengths():
    ds = TensorDataset(np.arange(10))
    with pytest.raises(ValueError, match=r"Sum of input lengths \(9\) does not equal the length of the input "
                                         r"dataset \(10\)"):
        random_split(ds, [4, 5])
    with pytest.raises(ValueError, match="sum to 0.9"):
        random_split(ds, [0.5, 0.4])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(ds, [-1, 11])
