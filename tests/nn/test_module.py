"""Module: registration by attribute, traversal, modes, grads, state dicts, repr, call scopes."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.autograd.tensor import Tensor


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.not_a_param = gk.tensor([1.0])  # plain tensor attribute: not registered

    def forward(self, x: Tensor) -> Tensor:
        return self.bn(self.fc(x)) * self.scale


def torch_block(torch):
    class TBlock(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(3, 4)
            self.bn = torch.nn.BatchNorm1d(4)
            self.scale = torch.nn.Parameter(torch.ones(1))
    return TBlock()


def test_attribute_assignment_registers_in_order():
    m = Block()
    assert list(m._parameters) == ["scale"]
    assert list(m._modules) == ["fc", "bn"]
    assert [n for n, _ in m.named_parameters()] == ["scale", "fc.weight", "fc.bias", "bn.weight", "bn.bias"]
    assert [n for n, _ in m.named_buffers()] == ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert all(p is not m.not_a_param for p in m.parameters())
    assert m.fc is m._modules["fc"] and m.scale is m._parameters["scale"]


def test_state_dict_keys_match_pytorch():
    torch = pytest.importorskip("torch")
    assert list(Block().state_dict()) == list(torch_block(torch).state_dict())
    seq = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Sequential(nn.Linear(3, 1)))
    tseq = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3),
                               torch.nn.Sequential(torch.nn.Linear(3, 1)))
    assert list(seq.state_dict()) == list(tseq.state_dict())


def test_state_dict_values_are_detached_and_share_memory():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad and sd["weight"].grad_fn is None
    m.weight.data[0, 0] = 123.0
    assert sd["weight"].data[0, 0] == 123.0  # as PyTorch: copy to snapshot
    snap = copy.deepcopy(m.state_dict())
    m.weight.data[0, 0] = 0.0
    assert snap["weight"].data[0, 0] == 123.0


def test_shared_parameters_listed_once_nn12():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.Linear(3, 3), shared)
    params = list(model.parameters())
    assert len(params) == 4 and len({id(p) for p in params}) == 4
    assert len(list(model.modules())) == 3  # Sequential, shared, the other Linear
    # PyTorch's state_dict lists the tied module under both names
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"]
    # a parameter tied between two modules
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.weight = a.weight
    assert len(list(nn.Sequential(a, b).parameters())) == 3


def test_train_eval_recursive_nn12():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(2)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model[1].train(False)
    assert model.training and model[0].training and not model[1][0].training and not model[1][1].training
    with pytest.raises(ValueError, match="boolean"):
        model.train("no")


def test_zero_grad_clears_every_parameter_nn13():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    x = gk.autograd.randn(4, 3)
    model(x).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.data.any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    # accumulation without zero_grad doubles; each forward builds a fresh graph
    out1 = model(x).sum()
    out1.backward()
    g1 = [p.grad.data.copy() for p in model.parameters()]
    out2 = model(x).sum()
    assert out2.grad_fn is not out1.grad_fn
    out2.backward()
    for p, g in zip(model.parameters(), g1):
        np.testing.assert_allclose(p.grad.data, 2 * g, rtol=1e-6)


def test_plain_list_of_modules_is_not_registered_nn15():
    class Bad(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = [nn.Linear(2, 2), nn.Linear(2, 2)]

    class Good(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

    with pytest.warns(UserWarning, match="NOT registered.*ModuleList"):
        bad = Bad()
    assert list(bad.parameters()) == []
    hidden = {id(p) for layer in bad.layers for p in layer.parameters()}
    assert hidden and not hidden & {id(p) for p in bad.parameters()}
    assert len(list(Good().parameters())) == 4


def test_assigning_wrong_types_to_registered_names_raises():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        m.weight = gk.tensor([[1.0]])
    m.bias = None
    assert m.bias is None and "bias" not in dict(m.named_parameters())
    bn = nn.BatchNorm1d(2)
    with pytest.raises(TypeError, match="buffer 'running_mean'"):
        bn.running_mean = [0.0, 0.0]
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        _ = m.nope


def test_register_buffer_and_persistence():
    m = nn.Module()
    m.register_buffer("steps", gk.tensor(0))
    m.register_buffer("cache", gk.tensor([1.0]), persistent=False)
    assert list(m.state_dict()) == ["steps"]
    assert [n for n, _ in m.named_buffers()] == ["steps", "cache"]
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", gk.tensor(0))
    with pytest.raises(TypeError, match="Tensor or None"):
        m.register_buffer("arr", np.zeros(2))
    with pytest.raises(TypeError, match="Parameter or None"):
        m.register_parameter("w", gk.tensor([1.0]))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        class Early(nn.Module):
            def __init__(self) -> None:
                self.w = nn.Parameter([1.0])
        Early()


def test_apply_visits_children_then_self():
    seen = []
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout()))
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "Dropout", "Sequential", "Sequential"]


def test_repr_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.2), nn.LayerNorm(4),
                         nn.Sequential(nn.Linear(4, 1, bias=False)), nn.Identity())
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Dropout(0.2),
                                 torch.nn.LayerNorm(4), torch.nn.Sequential(torch.nn.Linear(4, 1, bias=False)),
                                 torch.nn.Identity())
    def norm(text: str) -> str:  # PyTorch < 2.1 has no bias= in the norm layers' repr
        return text.replace(", bias=True, track", ", track").replace("affine=True, bias=True)", "affine=True)")

    assert norm(repr(ours)) == norm(repr(theirs))
    assert "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True" in repr(ours)


def test_forward_missing_raises():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_call_runs_forward_in_a_named_scope():
    model = nn.Sequential(nn.Linear(64, 10), nn.BatchNorm1d(10))
    out = model(gk.autograd.randn(3, 64, requires_grad=True))
    labels = [s.label for s in out.grad_fn.scope]
    assert labels == ["Sequential", "BatchNorm1d(10)"]
    assert out.grad_fn.scope[0].owner is model and out.grad_fn.scope[1].owner is model[1]
    lin_node = out.grad_fn.parents[0]
    assert lin_node.name == "Linear" and [s.label for s in lin_node.scope] == ["Sequential", "Linear(64→10)"]
    from gradkit.autograd import scope
    assert scope.current is None  # closed again
    with pytest.raises(RuntimeError):
        model(gk.autograd.randn(3, 5))
    assert scope.current is None  # closed after an exception too


def test_load_state_dict_roundtrip_into_fresh_model():
    torch = pytest.importorskip("torch")
    t = torch_block(torch).double()
    with torch.no_grad():
        t.bn.running_mean.uniform_()
        t.bn.num_batches_tracked.fill_(7)
    m = Block().double()
    result = m.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert result == ([], [])
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.data, t.state_dict()[k].numpy())
        assert v.dtype == t.state_dict()[k].numpy().dtype


def _snapshot(m: nn.Module) -> dict:
    return {k: v.data.copy() for k, v in m.state_dict().items()}


def test_load_state_dict_reports_everything_and_changes_nothing_sl02():
    m = Block()
    before = _snapshot(m)
    sd = {k: v.data.copy() + 1 for k, v in m.state_dict().items()}
    del sd["bn.running_var"], sd["scale"]
    sd["fc.extra"] = np.zeros(1)
    sd["fc.weight"] = np.zeros((5, 3), dtype=np.float32)
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(sd)
    msg = str(info.value)
    for part in ('Missing key(s)', '"bn.running_var"', '"scale"', 'Unexpected key(s)', '"fc.extra"',
                 "size mismatch for fc.weight", "(5, 3)", "(4, 3)", "unchanged"):
        assert part in msg
    after = _snapshot(m)
    assert all(np.array_equal(before[k], after[k]) for k in before)  # fc.bias etc. were not assigned


def test_load_state_dict_non_strict_sl03():
    m = Block()
    sd = {k: v.data + 1 for k, v in m.state_dict().items() if k != "scale"}
    sd["other"] = np.zeros(2)
    missing, unexpected = m.load_state_dict(sd, strict=False)
    assert missing == ["scale"] and unexpected == ["other"]
    np.testing.assert_array_equal(m.fc.bias.data, sd["fc.bias"])
    sd["fc.bias"] = np.zeros(9, dtype=np.float32)
    with pytest.raises(RuntimeError, match="size mismatch for fc.bias"):
        m.load_state_dict(sd, strict=False)
    with pytest.warns(UserWarning, match="matched none"):
        nn.Linear(2, 2).load_state_dict({"0.weight": np.zeros((2, 2))}, strict=False)


def test_load_state_dict_casts_dtype_with_warning_sl08():
    m64 = nn.Linear(3, 2).double()
    m32 = nn.Linear(3, 2)
    with pytest.warns(UserWarning, match=r"weight \(float64 -> float32\)"):
        m32.load_state_dict(m64.state_dict())
    assert m32.weight.dtype == np.float32
    np.testing.assert_array_equal(m32.weight.data, m64.weight.data.astype(np.float32))


def test_load_keeps_parameter_identity_for_optimizers():
    m = nn.Linear(2, 2)
    w = m.weight
    m.load_state_dict(nn.Linear(2, 2).state_dict())
    assert m.weight is w and w.requires_grad and w.is_leaf


def test_deepcopy_keeps_structure_and_parameters():
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    c = copy.deepcopy(m)
    assert isinstance(c[0].weight, nn.Parameter) and c[0].weight is not m[0].weight
    np.testing.assert_array_equal(c[0].weight.data, m[0].weight.data)
    assert list(c.state_dict()) == list(m.state_dict())


def test_double_converts_parameters_and_buffers_in_place():
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    w = m[0].weight
    m.double()
    assert m[0].weight is w and w.dtype == np.float64
    assert m[1].running_var.dtype == np.float64 and m[1].num_batches_tracked.dtype == np.int64


def test_parameter_is_a_trainable_tensor():
    p = nn.Parameter([1.0, 2.0])
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf and p.dtype == np.float32
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter([1.0], requires_grad=False).requires_grad
    with pytest.raises(RuntimeError, match="only floating point"):
        nn.Parameter(np.arange(3))
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.requires_grad and q.data is not p.data


# ---------------------------------------------------------------- forward hooks (PyTorch's register_forward_hook)
def _hooked(model):
    """Register on ``model`` (an MLP Sequential of either library) the same pre-hook and forward hooks."""
    calls = []
    model[0].register_forward_pre_hook(lambda m, args: calls.append(("pre", type(args).__name__)) or args[0] * 0.5)
    model[1].register_forward_hook(lambda m, args, out: calls.append(("relu", tuple(out.shape))))
    model[2].register_forward_hook(lambda m, args, out: out * 3)
    return calls


def test_forward_hooks_replace_inputs_and_outputs_and_gradients_follow_them_as_in_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.normal(size=(5, 3))
    ours_calls, theirs_calls = _hooked(ours), _hooked(theirs)
    y, ty = ours(gk.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    ty.sum().backward()
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-12, err_msg=name)
    assert ours_calls == theirs_calls == [("pre", "tuple"), ("relu", (5, 4))]


def test_forward_hooks_run_in_registration_order_and_are_removed_by_their_handles():
    layer = nn.Linear(2, 2)
    order = []
    first = layer.register_forward_hook(lambda m, args, out: order.append("first"))
    layer.register_forward_hook(lambda m, args, out: order.append("second"))
    with layer.register_forward_pre_hook(lambda m, args: order.append("pre")):
        layer(gk.autograd.randn(1, 2))
    assert order == ["pre", "first", "second"]
    first.remove()
    first.remove()  # a second remove() is harmless
    order.clear()
    layer(gk.autograd.randn(1, 2))
    assert order == ["second"]  # the context manager removed the pre-hook, remove() the first hook
    assert nn.Linear(2, 2)._forward_hooks == ()  # other instances have none


def test_a_hook_that_returns_none_changes_nothing_and_a_non_callable_is_refused():
    layer = nn.Linear(2, 2)
    x = gk.autograd.randn(3, 2)
    expected = layer(x).data
    layer.register_forward_pre_hook(lambda m, args: None)
    layer.register_forward_hook(lambda m, args, out: None)
    np.testing.assert_array_equal(layer(x).data, expected)
    with pytest.raises(TypeError, match="a hook must be callable, got int"):
        layer.register_forward_hook(3)
