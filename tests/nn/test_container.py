"""Sequential, ModuleList, ModuleDict: registration, indexing, names as PyTorch."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn


def test_sequential_applies_in_order_and_matches_manual_chain():
    a, b = nn.Linear(3, 4), nn.Linear(4, 2)
    model = nn.Sequential(a, b)
    x = gk.autograd.randn(5, 3)
    np.testing.assert_array_equal(model(x).data, b(a(x)).data)


def test_sequential_indexing_slicing_append():
    layers = [nn.Linear(2, 2) for _ in range(3)]
    model = nn.Sequential(*layers)
    assert model[0] is layers[0] and model[-1] is layers[2] and len(model) == 3
    assert list(model) == layers
    sub = model[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:]
    extra = nn.Linear(2, 2)
    model.append(extra)
    assert model[3] is extra and "3.weight" in model.state_dict()
    with pytest.raises(IndexError, match="out of range"):
        model[10]


def test_sequential_from_ordered_dict_uses_names():
    torch = pytest.importorskip("torch")
    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("norm", nn.BatchNorm1d(3))]))
    tmodel = torch.nn.Sequential(OrderedDict([("fc", torch.nn.Linear(2, 3)), ("norm", torch.nn.BatchNorm1d(3))]))
    assert list(model.state_dict()) == list(tmodel.state_dict())
    assert model.fc is model[0]


def test_module_list_registers_and_has_no_forward():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    layers.append(nn.Linear(2, 1))
    layers.extend([nn.Dropout()])
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "Linear", "Linear", "Dropout"]
    assert len(list(layers.parameters())) == 6
    assert list(layers.state_dict())[:2] == ["1.weight", "1.bias"]
    del layers[0]
    assert list(layers.state_dict())[:2] == ["0.weight", "0.bias"]
    with pytest.raises(NotImplementedError, match="forward"):
        layers(gk.autograd.randn(1, 2))
    with pytest.raises(TypeError, match="iterable of modules"):
        layers.extend(nn.Linear(1, 1))


def test_module_dict_registers_by_key():
    heads = nn.ModuleDict({"cls": nn.Linear(4, 3)})
    heads["reg"] = nn.Linear(4, 1)
    assert list(heads) == ["cls", "reg"] and "reg" in heads and len(heads) == 2
    assert list(heads.state_dict()) == ["cls.weight", "cls.bias", "reg.weight", "reg.bias"]
    assert heads["cls"].out_features == 3
    del heads["cls"]
    assert list(heads.keys()) == ["reg"]


def test_containers_nested_train_eval():
    model = nn.Sequential(nn.ModuleList([nn.Dropout()]), nn.ModuleDict({"d": nn.Dropout()}))
    model.eval()
    assert not model[0][0].training and not model[1]["d"].training
