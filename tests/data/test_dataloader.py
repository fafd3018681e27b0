"""DataLoader: batching, shuffling per epoch, seeds, collate_fn, fast path, bad input (DA-01..DA-04)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradkit.autograd.random import manual_seed
from gradkit.autograd.tensor import Tensor
from gradkit.data.dataloader import DataLoader, default_collate
from gradkit.data.dataset import Dataset, TensorDataset, random_split
from tests.hypothesis_budget import examples


def make_dataset(n: int = 10) -> TensorDataset:
    X = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(X, y)


def epoch_order(loader: DataLoader) -> list[int]:
    """Sample ids (the y column holds each sample's index) in the order one epoch yields them."""
    return [int(v) for _, yb in loader for v in yb.data]


class ListDataset(Dataset):
    """A plain Dataset (not a TensorDataset): takes the generic per-sample path."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        self.X, self.y = X, y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        return self.X[i], self.y[i]


# ---------- DA-01: argument checks, PyTorch wording ----------

@pytest.mark.parametrize("batch_size", [0, -1, 2.0, True, None, "4"])
def test_batch_size_must_be_positive_int(batch_size):
    with pytest.raises(ValueError, match=r"batch_size should be a positive integer value, but got "
                                         rf"batch_size={batch_size!r}"):
        DataLoader(make_dataset(), batch_size=batch_size)


@pytest.mark.parametrize("name", ["drop_last", "shuffle"])
@pytest.mark.parametrize("value", [1, "yes", None])
def test_flags_must_be_bool(name, value):
    with pytest.raises(ValueError, match=rf"{name} should be a boolean value, but got {name}={value!r}"):
        DataLoader(make_dataset(), **{name: value})


def test_collate_fn_must_be_callable():
    with pytest.raises(TypeError, match="collate_fn should be callable"):
        DataLoader(make_dataset(), collate_fn=3)


# ---------- DA-02: every index once, len, last batch ----------

@settings(max_examples=examples(25), deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), shuffle=st.booleans(), drop_last=st.booleans(),
       seed=st.integers(0, 1000))
def test_one_epoch_visits_every_index_once(n, batch_size, shuffle, drop_last, seed):
    loader = DataLoader(make_dataset(n), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    batches = list(loader)
    expected_len = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(loader) == expected_len == len(batches)
    sizes = [len(yb.data) for _, yb in batches]
    assert all(s == batch_size for s in sizes[:-1])
    if batches:
        assert sizes[-1] == (batch_size if drop_last or n % batch_size == 0 else n % batch_size)
    ids = [int(v) for _, yb in batches for v in yb.data]
    assert len(ids) == len(set(ids))
    if not drop_last:
        assert sorted(ids) == list(range(n))
    if not shuffle:
        assert ids == list(range(len(ids)))
    for xb, yb in batches:  # features stay aligned with their labels
        assert np.array_equal(xb.data, make_dataset(n).arrays[0][yb.data])


def test_batches_match_torch_dataloader_without_shuffle():
    torch = pytest.importorskip("torch")
    ds = make_dataset(11)
    ref = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*(torch.from_numpy(a) for a in ds.arrays)),
                                      batch_size=4)
    ours = list(DataLoader(ds, batch_size=4))
    assert len(ours) == len(ref)
    for (xb, yb), (xr, yr) in zip(ours, ref):
        assert np.array_equal(xb.data, xr.numpy()) and np.array_equal(yb.data, yr.numpy())


def test_yields_tuples_of_tensors_keeping_dtypes_and_fresh_memory():
    ds = make_dataset(6)
    batch = next(iter(DataLoader(ds, batch_size=4, shuffle=True, seed=0)))
    assert isinstance(batch, tuple) and len(batch) == 2
    xb, yb = batch
    assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
    assert xb.data.dtype == np.float32 and yb.data.dtype == np.int64
    assert xb.shape == (4, 2) and not xb.requires_grad
    assert not np.shares_memory(xb.data, ds.arrays[0])
    xb.data[:] = -1  # changing a batch never changes the dataset
    assert ds.arrays[0].min() == 0


# ---------- DA-03: shuffling ----------

def test_shuffle_same_seed_same_sequence_epochs_differ():
    ds = make_dataset(30)
    a = DataLoader(ds, batch_size=7, shuffle=True, seed=123)
    b = DataLoader(ds, batch_size=7, shuffle=True, seed=123)
    epochs_a = [epoch_order(a) for _ in range(3)]
    epochs_b = [epoch_order(b) for _ in range(3)]
    assert epochs_a == epochs_b  # reproducible sequence of epochs
    assert len({tuple(e) for e in epochs_a}) == 3  # every epoch a fresh order
    assert all(sorted(e) == list(range(30)) for e in epochs_a)
    assert epochs_a[0] != list(range(30))
    assert epoch_order(DataLoader(ds, batch_size=7, shuffle=True, seed=124)) != epochs_a[0]


def test_shuffle_never_touches_numpy_global_rng():
    state = np.random.get_state()
    for seed in (0, None):
        for _ in DataLoader(make_dataset(20), batch_size=3, shuffle=True, seed=seed):
            pass
    after = np.random.get_state()
    assert np.array_equal(after[1], state[1]) and after[2] == state[2]


def test_unseeded_shuffle_follows_gradkit_manual_seed():
    ds = make_dataset(25)
    manual_seed(42)
    loader = DataLoader(ds, batch_size=5, shuffle=True)
    first, second = epoch_order(loader), epoch_order(loader)
    manual_seed(42)
    again = DataLoader(ds, batch_size=5, shuffle=True)
    assert [epoch_order(again), epoch_order(again)] == [first, second]
    assert first != second


# ---------- fast path and generic path ----------

def test_tensor_dataset_batches_without_per_sample_getitem(monkeypatch):
    def per_sample_access(self, index):
        raise AssertionError("per-sample __getitem__ used for a TensorDataset")

    monkeypatch.setattr(TensorDataset, "__getitem__", per_sample_access)
    ds = make_dataset(9)
    assert sum(len(yb.data) for _, yb in DataLoader(ds, batch_size=4, shuffle=True, seed=0)) == 9
    train, _ = random_split(ds, [6, 3], seed=0)  # Subsets of a TensorDataset take the fast path too
    ids = [int(v) for _, yb in DataLoader(train, batch_size=4) for v in yb.data]
    assert ids == train.indices.tolist()


def test_generic_dataset_gives_same_batches_as_fast_path():
    ds = make_dataset(13)
    generic = ListDataset(*ds.arrays)
    fast = list(DataLoader(ds, batch_size=5, shuffle=True, seed=9))
    slow = list(DataLoader(generic, batch_size=5, shuffle=True, seed=9))
    assert len(fast) == len(slow)
    for (xf, yf), (xs, ys) in zip(fast, slow):
        assert np.array_equal(xf.data, xs.data) and xf.data.dtype == xs.data.dtype
        assert np.array_equal(yf.data, ys.data)


def test_collate_fn_receives_list_of_samples_and_its_result_is_yielded():
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return {"n": len(samples), "ids": [int(s[1]) for s in samples]}

    out = list(DataLoader(make_dataset(7), batch_size=3, collate_fn=collate))
    assert seen == [3, 3, 1]
    assert out[0] == {"n": 3, "ids": [0, 1, 2]} and out[2]["ids"] == [6]


def test_default_collate_keeps_strings_and_refuses_ragged_samples_like_torch():
    """Strings are left a list (PyTorch's collate; a string Tensor was made before), dicts go key by key,
    and samples whose sequences differ in length raise PyTorch's error instead of being cut short."""
    torch_collate = pytest.importorskip("torch.utils.data").default_collate
    batch = [("cat", np.array([1.0, 2.0]), {"id": 3, "tag": "a"}),
             ("dog", np.array([3.0, 4.0]), {"id": 4, "tag": "b"})]
    names, xb, meta = default_collate(batch)
    t_names, t_xb, t_meta = torch_collate(batch)
    assert names == list(t_names) == ["cat", "dog"] and meta["tag"] == list(t_meta["tag"]) == ["a", "b"]
    np.testing.assert_array_equal(xb.data, t_xb.numpy())
    assert meta["id"].tolist() == t_meta["id"].tolist()
    ragged = [(1, 2), (3, 4, 5)]
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        torch_collate(ragged)
    with pytest.raises(RuntimeError, match=r"should be of equal size, got sizes \[2, 3\]"):
        default_collate(ragged)


def test_default_collate_stacks_fields_and_single_arrays():
    xb, yb = default_collate([(np.array([1.0, 2.0]), 0), (np.array([3.0, 4.0]), 1)])
    assert xb.data.tolist() == [[1.0, 2.0], [3.0, 4.0]] and yb.data.tolist() == [0, 1]
    single = default_collate([np.zeros(3), np.ones(3)])
    assert isinstance(single, Tensor) and single.shape == (2, 3)


# ---------- DA-04: empty dataset, mismatched lengths ----------

def test_empty_dataset_gives_empty_iteration():
    empty = TensorDataset(np.zeros((0, 2)), np.zeros(0))
    for shuffle in (False, True):
        loader = DataLoader(empty, batch_size=3, shuffle=shuffle, seed=0)
        assert len(loader) == 0 and list(loader) == []


def test_mismatched_x_and_y_lengths_name_both():
    with pytest.raises(ValueError, match=r"\[10, 9\]"):
        DataLoader(TensorDataset(np.zeros((10, 2)), np.zeros(9)))
