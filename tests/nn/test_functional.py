"""nn.functional: one_hot (the layer functions are tested beside their modules: test_linear, test_dropout,
test_normalization; activations and losses in test_activation and test_loss)."""
from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.nn import functional as F


def test_one_hot_matches_pytorch():
    torch = pytest.importorskip("torch")
    idx = np.array([[0, 3], [2, 1]])
    for num_classes in (-1, 5):
        ours = F.one_hot(gk.tensor(idx), num_classes)
        theirs = torch.nn.functional.one_hot(torch.tensor(idx), num_classes).numpy()
        assert ours.dtype == np.int64 and not ours.requires_grad
        np.testing.assert_array_equal(ours.data, theirs)


def test_one_hot_bad_input():
    with pytest.raises(TypeError, match="index tensor"):
        F.one_hot(gk.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="non-negative, got -1"):
        F.one_hot(gk.tensor([0, -1]), 3)
    with pytest.raises(ValueError, match="smaller than num_classes: got 3 with num_classes=3"):
        F.one_hot(gk.tensor([3]), 3)
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        F.one_hot(gk.tensor([0]), 0)
    assert F.one_hot(gk.tensor(np.zeros(0, dtype=np.int64)), 4).shape == (0, 4)
