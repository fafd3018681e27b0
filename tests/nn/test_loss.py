"""Losses: values and input gradients against PyTorch (float64, every reduction), stability at huge
logits, target validation (NN-02..NN-05), gradcheck, fused vs composed cross-entropy, modules."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit import nn
from gradkit.autograd import gradcheck, gradgradcheck
from gradkit.nn import functional as F
from gradkit.nn import loss as L
from tests.hypothesis_budget import examples

REDUCTIONS = ["mean", "sum", "none"]


def _compare(fn, torch_fn, inputs, wrt=(0,), seed=0, rtol=1e-10, atol=1e-12):
    """Run ``fn`` on gradkit tensors and ``torch_fn`` on torch tensors of the same float64 inputs;
    compare outputs and the gradients of the inputs listed in ``wrt`` (random upstream gradient)."""
    torch = pytest.importorskip("torch")
    gs = [gk.tensor(a, requires_grad=i in wrt) if a.dtype.kind == "f" else gk.tensor(a)
          for i, a in enumerate(inputs)]
    ts = [torch.tensor(a, requires_grad=i in wrt) if a.dtype.kind == "f" else torch.tensor(a)
          for i, a in enumerate(inputs)]
    out, ref = fn(*gs), torch_fn(*ts)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=rtol, atol=atol)
    u = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(gk.tensor(u))
    ref.backward(torch.tensor(u))
    for i in wrt:
        assert np.isfinite(gs[i].grad.data).all()
        np.testing.assert_allclose(gs[i].grad.data, ts[i].grad.numpy(), rtol=rtol, atol=atol)
    return out


def _tf():
    return pytest.importorskip("torch").nn.functional


rng0 = np.random.default_rng(0)
X = rng0.standard_normal((6, 4))
Y = rng0.standard_normal((6, 4))
P = rng0.uniform(0.01, 0.99, (6, 4))
B = (rng0.random((6, 4)) > 0.5).astype(np.float64)
T = rng0.integers(0, 4, 6)
W = rng0.uniform(0.5, 2.0, 4)


# ---------------------------------------------------------------------------- regression losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kwargs", [("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {}),
                                          ("huber_loss", {"delta": 0.3})])
def test_regression_losses_match_torch(name, kwargs, reduction):
    y = Y.copy()
    y[0, 0] = X[0, 0]  # |x - y| = 0: the l1 subgradient
    _compare(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kwargs),
             lambda a, b: getattr(_tf(), name)(a, b, reduction=reduction, **kwargs), [X, y], wrt=(0, 1))


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.huber_loss, F.binary_cross_entropy,
                                F.binary_cross_entropy_with_logits])
def test_elementwise_losses_refuse_mismatched_shapes(fn):
    with pytest.raises(ValueError, match=r"target shape \(6, 1\) differs from input shape \(6,\)"):
        fn(gk.tensor(np.full(6, 0.5)), gk.tensor(np.full((6, 1), 0.5)))


def test_huber_rejects_non_positive_delta():
    with pytest.raises(ValueError, match="delta must be positive, got 0"):
        F.huber_loss(gk.tensor([1.0]), gk.tensor([0.0]), delta=0)
    with pytest.raises(ValueError, match="delta must be positive, got -1"):
        nn.HuberLoss(delta=-1)


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.huber_loss, F.binary_cross_entropy,
                                F.binary_cross_entropy_with_logits])
def test_reduction_is_validated(fn):
    with pytest.raises(ValueError, match=r"'avg' is not a valid value for reduction; choose one of 'mean', 'sum', "
                                         r"'none'"):
        fn(gk.tensor([0.5]), gk.tensor([1.0]), reduction="avg")


@pytest.mark.parametrize("cls", [nn.MSELoss, nn.L1Loss, nn.HuberLoss, nn.BCELoss, nn.BCEWithLogitsLoss,
                                 nn.CrossEntropyLoss, nn.NLLLoss])
def test_loss_modules_validate_reduction_at_construction(cls):
    with pytest.raises(ValueError, match="'elementwise_mean' is not a valid value for reduction"):
        cls(reduction="elementwise_mean")


# ---------------------------------------------------------------------------- BCE
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_matches_torch(reduction, weighted):
    w = W if weighted else None
    _compare(lambda a, b: F.binary_cross_entropy(a, b, None if w is None else gk.tensor(w), reduction),
             lambda a, b: _tf().binary_cross_entropy(a, b, None if w is None else __import__("torch").tensor(w),
                                                     reduction=reduction),
             [P, B], wrt=(0, 1))


def test_bce_at_exactly_zero_and_one_nn04():
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-50])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    out = _compare(lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
                   lambda a, b: _tf().binary_cross_entropy(a, b, reduction="none"), [p, y])
    assert out.tolist()[:4] == [100.0, 100.0, 0.0, 0.0]  # log terms clamped at -100


def test_bce_target_grad_is_finite_at_zero_and_one():
    # PyTorch returns inf here (unclamped logs); gradkit differentiates the clamped loss it computed
    p = gk.tensor([0.0, 1.0], dtype="float64")
    y = gk.tensor([0.5, 0.5], dtype="float64", requires_grad=True)
    F.binary_cross_entropy(p, y, reduction="sum").backward()
    assert y.grad.tolist() == [100.0, -100.0]


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan")])
def test_bce_rejects_inputs_outside_unit_interval(bad):
    with pytest.raises(ValueError, match=r"between 0 and 1 \(got " + ("nan" if bad != bad else str(bad))):
        F.binary_cross_entropy(gk.tensor([0.5, bad]), gk.tensor([1.0, 0.0]))


def test_bce_gradcheck():
    p = gk.tensor(P[:2], requires_grad=True)
    y = gk.tensor(P[2:4], requires_grad=True)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b), (p, y))
    assert gradgradcheck(lambda a, b: F.binary_cross_entropy(a, b), (p, y))


# ---------------------------------------------------------------------------- BCE with logits
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight", "pos_weight", "both"])
def test_bce_with_logits_matches_torch(reduction, options):
    torch = pytest.importorskip("torch")
    w = W if options in ("weight", "both") else None
    pw = W[::-1].copy() if options in ("pos_weight", "both") else None
    x = X * 5
    x[0, 0] = 0.0  # softplus kink-free at 0: gradient sigmoid(0) - y
    _compare(lambda a, b: F.binary_cross_entropy_with_logits(
                 a, b, None if w is None else gk.tensor(w), reduction, None if pw is None else gk.tensor(pw)),
             lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
                 a, b, None if w is None else torch.tensor(w), reduction=reduction,
                 pos_weight=None if pw is None else torch.tensor(pw)),
             [x, P], wrt=(0, 1))


@pytest.mark.parametrize("magnitude", [1000.0, 1e4])
def test_bce_with_logits_huge_logits_nn05(magnitude):
    x = np.array([magnitude, -magnitude, magnitude, -magnitude, 0.0])
    y = np.array([0.0, 0.0, 1.0, 1.0, 0.3])
    out = _compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
                   lambda a, b: _tf().binary_cross_entropy_with_logits(a, b, reduction="none"), [x, y])
    assert np.isfinite(out.data).all()
    g = gk.tensor(x, requires_grad=True)
    F.binary_cross_entropy_with_logits(g, gk.tensor(y), reduction="sum").backward()
    np.testing.assert_allclose(g.grad.data, 1 / (1 + np.exp(-np.clip(x, -500, 500))) - y, atol=1e-15)


def test_bce_with_logits_gradcheck():
    x = gk.tensor(X[:2] * 3, requires_grad=True)
    y = gk.tensor(P[:2], requires_grad=True)
    fn = lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=gk.tensor(W))  # noqa: E731
    assert gradcheck(fn, (x, y))
    assert gradgradcheck(fn, (x, y))


# ---------------------------------------------------------------------------- cross-entropy / NLL
CE_CASES = [
    ("indices", {}),
    ("weight", {"weight": True}),
    ("ignore", {"ignore": True}),
    ("weight_ignore", {"weight": True, "ignore": True}),
    ("smooth", {"label_smoothing": 0.2}),
    ("smooth_weight_ignore", {"weight": True, "ignore": True, "label_smoothing": 0.1}),
]


def _ce_args(case, torch_side):
    mod = pytest.importorskip("torch") if torch_side else gk
    kw = {}
    if case.get("weight"):
        kw["weight"] = mod.tensor(W)
    if case.get("label_smoothing"):
        kw["label_smoothing"] = case["label_smoothing"]
    t = T.copy()
    if case.get("ignore"):
        t[[1, 4]] = 3 if "weight" in case else -100
        kw["ignore_index"] = 3 if "weight" in case else -100
    return t, kw


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, case", CE_CASES, ids=[c[0] for c in CE_CASES])
@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_cross_entropy_class_indices_match_torch(name, case, reduction, scale):
    torch = pytest.importorskip("torch")
    t, kw = _ce_args(case, False)
    _, tkw = _ce_args(case, True)
    _compare(lambda a, b: F.cross_entropy(a, b, reduction=reduction, **kw),
             lambda a, b: torch.nn.functional.cross_entropy(a, b, reduction=reduction, **tkw), [X * scale, t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore_index, present", [(-100, True), (-100, False), (-1, True), (2, True),
                                                   (2, False), (7, False)])
def test_cross_entropy_ignore_index_in_and_outside_the_classes_matches_torch(ignore_index, present, reduction):
    """The unweighted path decides "nothing ignored" without scanning when ignore_index lies outside [0, C)."""
    torch = pytest.importorskip("torch")
    t = np.where(T == 2, 0, T)  # no 2 among the targets unless put there
    if present:
        t[[0, 3]] = ignore_index
    _compare(lambda a, b: F.cross_entropy(a, b, ignore_index=ignore_index, reduction=reduction),
             lambda a, b: torch.nn.functional.cross_entropy(a, b, ignore_index=ignore_index, reduction=reduction),
             [X, t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets_match_torch(reduction, weighted, smoothing):
    torch = pytest.importorskip("torch")
    probs = P / P.sum(1, keepdims=True)
    _compare(lambda a, b: F.cross_entropy(a, b, gk.tensor(W) if weighted else None, reduction=reduction,
                                          label_smoothing=smoothing),
             lambda a, b: torch.nn.functional.cross_entropy(a, b, torch.tensor(W) if weighted else None,
                                                            reduction=reduction, label_smoothing=smoothing),
             [X * 100, probs], wrt=(0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_and_unbatched_match_torch(reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x3, t3 = rng.standard_normal((2, 3, 4)), rng.integers(0, 3, (2, 4))
    _compare(lambda a, b: F.cross_entropy(a, b, reduction=reduction),
             lambda a, b: torch.nn.functional.cross_entropy(a, b, reduction=reduction), [x3, t3])
    _compare(lambda a, b: F.nll_loss(a, b, reduction=reduction),
             lambda a, b: torch.nn.functional.nll_loss(a, b, reduction=reduction), [x3, t3])
    _compare(lambda a, b: F.cross_entropy(a, b, reduction=reduction, label_smoothing=0.1),
             lambda a, b: torch.nn.functional.cross_entropy(a, b, reduction=reduction, label_smoothing=0.1),
             [x3[0, :, 0], np.array(2)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, case", CE_CASES[:4], ids=[c[0] for c in CE_CASES[:4]])
def test_nll_loss_matches_torch(name, case, reduction):
    torch = pytest.importorskip("torch")
    t, kw = _ce_args(case, False)
    _, tkw = _ce_args(case, True)
    logp = X - np.log(np.exp(X).sum(1, keepdims=True))
    _compare(lambda a, b: F.nll_loss(a, b, reduction=reduction, **kw),
             lambda a, b: torch.nn.functional.nll_loss(a, b, reduction=reduction, **tkw), [logp, t])


def test_cross_entropy_huge_logits_nn03():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -1e4]])
    t = np.array([1, 2, 0])
    out = _compare(lambda a, b: F.cross_entropy(a, b, reduction="none"),
                   lambda a, b: _tf().cross_entropy(a, b, reduction="none"), [x, t])
    assert np.isfinite(out.data).all()
    composed = F.nll_loss(F.log_softmax(gk.tensor(x), 1), gk.tensor(t), reduction="none")
    np.testing.assert_allclose(out.data, composed.data, rtol=1e-10)


def test_fused_cross_entropy_equals_composed_form_with_grads():
    x1 = gk.tensor(X, requires_grad=True)
    x2 = gk.tensor(X, requires_grad=True)
    t = gk.tensor(T)
    fused = F.cross_entropy(x1, t, gk.tensor(W))
    assert fused.grad_fn.name == "SoftmaxCrossEntropy"
    composed = F.nll_loss(F.log_softmax(x2, 1), t, gk.tensor(W))
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12)
    fused.backward()
    composed.backward()
    np.testing.assert_allclose(x1.grad.data, x2.grad.data, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_gradcheck_and_double_backward(reduction):
    t = np.array([0, 2, 3])
    t_ign = np.array([0, -100, 3])
    x = gk.tensor(X[:3], requires_grad=True)
    for kwargs in ({}, {"weight": gk.tensor(W)}, {"label_smoothing": 0.2}):
        for target in (t, t_ign):
            def fn(a, target=target, kwargs=kwargs):
                return F.cross_entropy(a, gk.tensor(target), reduction=reduction, **kwargs)
            assert gradcheck(fn, x)
            assert gradgradcheck(fn, x)
    probs = gk.tensor(P[:3] / P[:3].sum(1, keepdims=True), requires_grad=True)
    assert gradgradcheck(lambda a, b: F.cross_entropy(a, b, reduction=reduction), (x, probs))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_class_weight_gradient_gradcheck(reduction):
    # PyTorch refuses a weight that requires grad; gradkit differentiates it (incl. the 'mean' denominator)
    x = gk.tensor(X[:4])
    w = gk.tensor(W, requires_grad=True)
    t = gk.tensor([0, 3, -100, 3])
    assert gradcheck(lambda v: F.cross_entropy(x, t, v, reduction=reduction), w)
    assert gradcheck(lambda v: F.cross_entropy(x, t, v, reduction=reduction, label_smoothing=0.2), w)
    assert gradcheck(lambda v: F.nll_loss(x, t, v, reduction=reduction), w)


@pytest.mark.parametrize("loss", ["cross_entropy", "cross_entropy-smoothing", "cross_entropy-weight-grad",
                                  "nll_loss"])
@pytest.mark.parametrize("targets, weight", [([1, 1, 1], None), ([1, 1, 1], W), ([0, 2, 2], [0.0, 0.0, 0.0, 1.0]),
                                             ([1, 0, 2], [0.0, 1.0, 0.0, 1.0])],
                         ids=["all-ignored", "all-ignored-weighted", "zero-weights", "ignored-and-zero-weight"])
def test_mean_over_zero_total_weight_gives_torch_nan_loss_and_gradients(loss, targets, weight):
    """'mean' when the kept targets weigh nothing (ignore_index=1): 0/0, a NaN loss as PyTorch; the
    gradient is PyTorch's too -- 0 on ignored rows (they are skipped), NaN only where a kept row's
    coefficient 0 * 1/0 reaches it -- not NaN everywhere."""
    torch = pytest.importorskip("torch")
    name, _, variant = loss.partition("-")
    kwargs = {"ignore_index": 1, "label_smoothing": 0.2} if variant == "smoothing" else {"ignore_index": 1}
    x, t = (X[:3], np.array(targets))
    gx = gk.tensor(x, requires_grad=True)
    gw = None if weight is None else gk.tensor(np.asarray(weight, dtype=np.float64),
                                               requires_grad=variant == "weight-grad")
    tx = torch.tensor(x, requires_grad=True)
    tw = None if weight is None else torch.tensor(np.asarray(weight, dtype=np.float64))
    inp, t_inp = (F.log_softmax(gx, 1), torch.log_softmax(tx, 1)) if name == "nll_loss" else (gx, tx)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning either
        out = getattr(F, name)(inp, gk.tensor(t), weight=gw, **kwargs)
        out.backward()
    ref = getattr(torch.nn.functional, name)(t_inp, torch.tensor(t), weight=tw, **kwargs)
    ref.backward()
    assert np.isnan(out.item()) and np.isnan(ref.item())
    np.testing.assert_allclose(gx.grad.data, tx.grad.numpy(), rtol=1e-12, atol=0)  # NaNs in the same places


@settings(max_examples=examples(40), deadline=None)
@given(data=st.data())
def test_classification_loss_options_match_torch(data):
    """cross_entropy / nll_loss on random combinations of their options -- unbatched, (N, C) and (N, C, d...)
    inputs, class-index or probability targets, ignore_index (present or not), class weights with zeros,
    label smoothing, every reduction, logits up to 1e2 -- give PyTorch's loss and input gradient."""
    torch = pytest.importorskip("torch")
    draw = data.draw
    n_classes, extra = draw(st.integers(1, 5)), draw(st.lists(st.integers(1, 3), max_size=2))
    unbatched = not extra and draw(st.booleans())
    shape = (n_classes,) if unbatched else (draw(st.integers(1, 4)), n_classes, *extra)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal(shape) * draw(st.sampled_from([1.0, 10.0, 100.0]))
    name = draw(st.sampled_from(["cross_entropy", "nll_loss"]))
    kwargs = {"reduction": draw(st.sampled_from(REDUCTIONS))}
    if draw(st.booleans()):
        kept = rng.random(n_classes) < draw(st.sampled_from([0.5, 1.0]))  # some class weights 0
        kwargs["weight"] = rng.uniform(0.1, 2.0, n_classes) * kept
    if name == "cross_entropy" and draw(st.booleans()):
        t = np.moveaxis(rng.dirichlet(np.ones(n_classes), size=shape[:1] + shape[2:]), -1, 1) if not unbatched \
            else rng.dirichlet(np.ones(n_classes))
    else:
        t = rng.integers(0, n_classes, size=() if unbatched else (shape[0], *extra))
        kwargs["ignore_index"] = draw(st.sampled_from([-100, 0]))
    if name == "cross_entropy":
        kwargs["label_smoothing"] = draw(st.sampled_from([0.0, 0.1, 0.5]))
    ours_kw = {k: gk.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
    theirs_kw = {k: torch.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
    gx, tx = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = getattr(F, name)(gx, gk.tensor(t), **ours_kw)
    ref = getattr(torch.nn.functional, name)(tx, torch.tensor(t), **theirs_kw)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-9, atol=1e-12)
    u = rng.standard_normal(out.shape)
    out.backward(gk.tensor(u))
    ref.backward(torch.tensor(u))
    np.testing.assert_allclose(gx.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_cross_entropy_all_ignored_mean_is_nan_without_warning():
    x = gk.tensor(X[:2], requires_grad=True)
    out = F.cross_entropy(x, gk.tensor([-100, -100]))
    assert np.isnan(out.item())
    assert F.cross_entropy(x, gk.tensor([-100, -100]), reduction="sum").item() == 0.0


# ---------------------------------------------------------------------------- target errors (NN-02)
@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("bad", [5, 4, -1, -7])
def test_class_target_out_of_bounds(fn, bad):
    with pytest.raises(IndexError, match=f"^Target {bad} is out of bounds.$"):
        fn(gk.tensor(X), gk.tensor([0, 1, bad, 2, 3, 0]))


def test_ignore_index_is_not_out_of_bounds_but_other_negatives_are():
    F.cross_entropy(gk.tensor(X), gk.tensor([0, 1, -100, 2, 3, 0]))
    with pytest.raises(IndexError, match="Target -100 is out of bounds."):
        F.cross_entropy(gk.tensor(X), gk.tensor([0, 1, -100, 2, 3, 0]), ignore_index=-1)


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_float_class_targets_are_a_type_error(fn):
    with pytest.raises(TypeError, match="class-index targets must be integers, got dtype float64"):
        fn(gk.tensor(X), gk.tensor(T.astype(np.float64)))


def test_integer_targets_of_input_shape_are_a_type_error():
    with pytest.raises(TypeError, match="class probabilities and must be floating point, got dtype int64"):
        F.cross_entropy(gk.tensor(X), gk.tensor(np.eye(4, dtype=np.int64)[T]))


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_wrong_target_length_names_both_shapes(fn):
    with pytest.raises(ValueError, match=r"target shape \(5,\) does not match input shape \(6, 4\).*\(6,\)"):
        fn(gk.tensor(X), gk.tensor(T[:5]))


def test_bad_class_weight_and_smoothing():
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\).*got \(3,\)"):
        F.cross_entropy(gk.tensor(X), gk.tensor(T), gk.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0, got 1.5"):
        F.cross_entropy(gk.tensor(X), gk.tensor(T), label_smoothing=1.5)
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0, got -0.1"):
        nn.CrossEntropyLoss(label_smoothing=-0.1)


# ---------------------------------------------------------------------------- modules
def test_loss_modules_equal_functions_and_reprs():
    x, t = gk.tensor(X), gk.tensor(T)
    probs, target = gk.tensor(P), gk.tensor(B)
    assert nn.MSELoss()(x, gk.tensor(Y)).item() == F.mse_loss(x, gk.tensor(Y)).item()
    assert nn.L1Loss(reduction="sum")(x, gk.tensor(Y)).item() == F.l1_loss(x, gk.tensor(Y), "sum").item()
    assert nn.HuberLoss(delta=0.5)(x, gk.tensor(Y)).item() == F.huber_loss(x, gk.tensor(Y), delta=0.5).item()
    assert nn.BCELoss(weight=gk.tensor(W))(probs, target).item() == \
        F.binary_cross_entropy(probs, target, gk.tensor(W)).item()
    assert nn.BCEWithLogitsLoss(pos_weight=gk.tensor(W))(x, target).item() == \
        F.binary_cross_entropy_with_logits(x, target, pos_weight=gk.tensor(W)).item()
    assert nn.CrossEntropyLoss(ignore_index=1, label_smoothing=0.1)(x, t).item() == \
        F.cross_entropy(x, t, ignore_index=1, label_smoothing=0.1).item()
    np.testing.assert_array_equal(nn.NLLLoss(reduction="none")(x, t).data, F.nll_loss(x, t, reduction="none").data)
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.L1Loss(reduction="sum")) == "L1Loss(reduction='sum')"
    assert repr(nn.HuberLoss(delta=0.5)) == "HuberLoss(delta=0.5)"
    assert repr(nn.CrossEntropyLoss(ignore_index=1, label_smoothing=0.1)) == \
        "CrossEntropyLoss(ignore_index=1, label_smoothing=0.1)"


def test_float32_losses_stay_float32():
    x = gk.tensor(X.astype(np.float32), requires_grad=True)
    for loss in (F.cross_entropy(x, gk.tensor(T)), F.mse_loss(x, Y), F.binary_cross_entropy_with_logits(x, B),
                 F.cross_entropy(x, gk.tensor(T), label_smoothing=0.1)):
        assert loss.dtype == np.float32
        x.grad = None
        loss.backward()
        assert x.grad.dtype == np.float32


def test_reduce_helper_rejects_unknown_reduction():
    with pytest.raises(ValueError, match="choose one of 'mean', 'sum', 'none'"):
        L.check_reduction("batchmean")


def test_loss_weights_are_buffers_and_do_not_promote_the_loss():
    m = nn.CrossEntropyLoss(weight=[1.0, 2.0, 1.0, 0.5])
    assert list(m.state_dict()) == ["weight"] and m.weight.dtype == np.float32
    assert list(nn.BCEWithLogitsLoss(pos_weight=W).state_dict()) == ["pos_weight"]
    assert list(nn.NLLLoss().state_dict()) == []
    x = gk.tensor(X.astype(np.float32), requires_grad=True)
    w64 = gk.tensor(W)  # float64 weights with float32 logits: loss and grads stay float32
    for loss in (F.cross_entropy(x, gk.tensor(T), w64), F.cross_entropy(x, gk.tensor(T), w64, label_smoothing=0.1),
                 F.binary_cross_entropy_with_logits(x, B, w64, pos_weight=w64)):
        assert loss.dtype == np.float32
        x.grad = None
        loss.backward()
        assert x.grad.dtype == np.float32


def test_nll_all_ignored_mean_is_nan():
    assert np.isnan(F.nll_loss(gk.tensor(X[:2]), gk.tensor([-100, -100])).item())
    assert np.isnan(F.cross_entropy(gk.tensor(X[:2]), gk.tensor([-100, -100]), label_smoothing=0.1).item())
