"""Classification metrics: equality with scikit-learn on random and edge-case labels, bad input (DA-11)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradkit.data.metrics import (UndefinedMetricWarning, accuracy_score, classification_report, confusion_matrix,
                                  f1_score, plot_confusion_matrix, precision_recall_fscore_support, precision_score,
                                  recall_score)
from tests.hypothesis_budget import examples

skm = pytest.importorskip("sklearn.metrics")

SCORES = [(precision_score, "precision_score"), (recall_score, "recall_score"), (f1_score, "f1_score")]
ZERO_DIVISION = ["warn", 0, 1, np.nan]


def outcome(fn, *args, **kwargs):
    """The value, or the exception type, with warnings silenced (warnings are tested separately)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kwargs)
        except ValueError:
            return ValueError


def assert_same(ours, theirs) -> None:
    if theirs is ValueError or ours is ValueError:
        assert ours is theirs
    else:
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-15)


def assert_same_prfs(ours, theirs) -> None:
    if theirs is ValueError or ours is ValueError:
        assert ours is theirs
        return
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)


def assert_matches_sklearn(y_true, y_pred, labels=None) -> None:
    """Every metric, average and zero_division option gives scikit-learn's value (or both raise)."""
    assert_same(outcome(accuracy_score, y_true, y_pred), outcome(skm.accuracy_score, y_true, y_pred))
    assert_same(outcome(accuracy_score, y_true, y_pred, normalize=False),
                outcome(skm.accuracy_score, y_true, y_pred, normalize=False))
    for normalize in (None, "true", "pred", "all"):
        ours = outcome(confusion_matrix, y_true, y_pred, labels=labels, normalize=normalize)
        theirs = outcome(skm.confusion_matrix, y_true, y_pred, labels=labels, normalize=normalize)
        assert_same(ours, theirs)
        if theirs is not ValueError and normalize is None:
            assert ours.dtype == theirs.dtype
    for average in ("binary", "micro", "macro", "weighted", None):
        for ours_fn, name in SCORES:  # the public wrappers, default zero_division
            assert_same(outcome(ours_fn, y_true, y_pred, labels=labels, average=average),
                        outcome(getattr(skm, name), y_true, y_pred, labels=labels, average=average))
        for zero_division in ZERO_DIVISION[1:]:  # all three scores at once for the other options
            kwargs = dict(labels=labels, average=average, zero_division=zero_division)
            assert_same_prfs(outcome(precision_recall_fscore_support, y_true, y_pred, **kwargs),
                             outcome(skm.precision_recall_fscore_support, y_true, y_pred, **kwargs))
    for beta in (0.0, 0.5, np.inf):
        assert_same_prfs(outcome(precision_recall_fscore_support, y_true, y_pred, beta=beta, labels=labels),
                         outcome(skm.precision_recall_fscore_support, y_true, y_pred, beta=beta, labels=labels))
    assert outcome(classification_report, y_true, y_pred, labels=labels, output_dict=True) == outcome(
        skm.classification_report, y_true, y_pred, labels=labels, output_dict=True)
    if np.any(np.asarray(y_true) == np.asarray(y_pred)):
        # (scikit-learn prints supports as floats when no sample is right, a quirk not copied)
        for digits in (2, 4):
            assert outcome(classification_report, y_true, y_pred, labels=labels, digits=digits) == outcome(
                skm.classification_report, y_true, y_pred, labels=labels, digits=digits)


label_pairs = st.integers(1, 25).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 3), min_size=n, max_size=n), st.lists(st.integers(0, 3), min_size=n, max_size=n),
    st.sampled_from(["int", "str", "bool"])))


@settings(max_examples=examples(10), deadline=None)
@given(label_pairs)
def test_metrics_equal_sklearn_on_random_labels(pair):
    t, p, kind = pair
    y_true, y_pred = np.array(t), np.array(p)
    if kind == "str":
        y_true, y_pred = np.array(list("abcd"))[y_true], np.array(list("abcd"))[y_pred]
    elif kind == "bool":
        y_true, y_pred = y_true % 2 == 1, y_pred % 2 == 1
    assert_matches_sklearn(y_true, y_pred)


@settings(max_examples=examples(10), deadline=None)
@given(label_pairs, st.data())
def test_metrics_equal_sklearn_with_labels_argument(pair, data):
    t, p, _ = pair
    y_true, y_pred = np.array(t), np.array(p)
    labels = data.draw(st.lists(st.integers(0, 5), min_size=1, max_size=5, unique=True))
    assert_matches_sklearn(y_true, y_pred, labels=labels)


EDGE_CASES = {
    "all one class": ([1, 1, 1, 1], [1, 1, 1, 1]),
    "all one class, all wrong": ([0, 0, 0], [1, 1, 1]),
    "no positive predicted": ([0, 1, 1, 0], [0, 0, 0, 0]),
    "no positive true": ([0, 0, 0], [0, 1, 0]),
    "class never predicted": ([0, 1, 2, 2, 1], [0, 1, 1, 1, 0]),
    "class only predicted": ([0, 0, 1, 1], [0, 2, 1, 2]),
    "string labels": (["cat", "dog", "dog", "bird"], ["cat", "cat", "dog", "bird"]),
    "binary strings": (["no", "yes", "yes"], ["yes", "yes", "no"]),
    "single sample": ([3], [3]),
    "float integral labels": ([0.0, 1.0, 2.0], [0.0, 2.0, 2.0]),
    "negative labels": ([-1, 1, -1, 1], [-1, -1, 1, 1]),
    "column vectors": ([[0], [1], [1]], [[0], [1], [0]]),
}


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_metrics_equal_sklearn_on_edge_cases(case):
    y_true, y_pred = EDGE_CASES[case]
    assert_matches_sklearn(y_true, y_pred)


def test_pos_label_and_string_binary_labels_match_sklearn():
    y_true, y_pred = ["no", "yes", "yes", "no"], ["yes", "yes", "no", "no"]
    for fn, name in SCORES:
        assert fn(y_true, y_pred, pos_label="yes") == getattr(skm, name)(y_true, y_pred, pos_label="yes")
        assert fn(y_true, y_pred, pos_label="no") == getattr(skm, name)(y_true, y_pred, pos_label="no")
    assert f1_score([0, 1, 1], [1, 1, 0], pos_label=0) == skm.f1_score([0, 1, 1], [1, 1, 0], pos_label=0)


def test_confusion_matrix_definition():
    """C[i, j] counts samples whose true label is labels[i] and predicted label labels[j]."""
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    labels = [3, 1, 0, 2]
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    for i, a in enumerate(labels):
        for j, b in enumerate(labels):
            assert cm[i, j] == np.sum((y_true == a) & (y_pred == b))
    assert cm.sum() == 50


def test_confusion_matrix_drops_samples_outside_labels():
    cm = confusion_matrix([0, 1, 2, 2], [0, 2, 2, 1], labels=[2, 0])
    np.testing.assert_array_equal(cm, skm.confusion_matrix([0, 1, 2, 2], [0, 2, 2, 1], labels=[2, 0]))
    assert cm.sum() == 2  # the samples involving label 1 are left out


def test_confusion_matrix_single_label_warns_like_sklearn():
    with pytest.warns(UserWarning, match="single label"):
        cm = confusion_matrix([1, 1], [1, 1])
    np.testing.assert_array_equal(cm, [[2]])


def test_confusion_matrix_bad_labels_and_normalize():
    with pytest.raises(ValueError, match="at least one label"):
        confusion_matrix([0, 1], [0, 1], labels=[])
    with pytest.raises(ValueError, match="must be in y_true"):
        confusion_matrix([0, 1], [0, 1], labels=[5])
    with pytest.raises(ValueError, match="normalize must be one of.*'true'.*'pred'.*'all'"):
        confusion_matrix([0, 1], [0, 1], normalize="rows")


def test_precision_without_predicted_positives_is_zero_with_warning():
    with pytest.warns(UndefinedMetricWarning, match="Precision is ill-defined.*no predicted samples"):
        assert precision_score([0, 1, 1], [0, 0, 0]) == 0.0
    with pytest.warns(UndefinedMetricWarning, match="Recall is ill-defined.*no true samples"):
        assert recall_score([0, 0, 0], [0, 1, 0]) == 0.0
    with pytest.warns(UndefinedMetricWarning, match="F-score is ill-defined.*true nor predicted"):
        assert f1_score([0, 0], [0, 0]) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an explicit zero_division is silent
        assert precision_score([0, 1, 1], [0, 0, 0], zero_division=1) == 1.0
        assert np.isnan(precision_score([0, 1, 1], [0, 0, 0], zero_division=np.nan))


def test_macro_average_ignores_nan_zero_division_like_sklearn():
    y_true, y_pred = [0, 1, 2, 2], [0, 1, 1, 1]
    ours = precision_score(y_true, y_pred, average="macro", zero_division=np.nan)
    assert ours == skm.precision_score(y_true, y_pred, average="macro", zero_division=np.nan)
    assert ours == pytest.approx((1.0 + 1 / 3) / 2)  # class 2 (never predicted) is left out


def test_metrics_accept_gradkit_tensors():
    from gradkit.autograd import tensor

    y_true, y_pred = np.array([0, 1, 2, 1]), np.array([0, 2, 2, 1])
    assert accuracy_score(tensor(y_true), tensor(y_pred)) == accuracy_score(y_true, y_pred)
    np.testing.assert_array_equal(confusion_matrix(tensor(y_true), y_pred), confusion_matrix(y_true, y_pred))


def test_classification_report_target_names_and_errors():
    y_true, y_pred = [0, 1, 2, 2], [0, 1, 1, 2]
    names = ["setosa", "versicolor", "virginica"]
    assert classification_report(y_true, y_pred, target_names=names) == skm.classification_report(
        y_true, y_pred, target_names=names)
    with pytest.raises(ValueError, match="Number of classes, 3, does not match size of target_names, 2"):
        classification_report(y_true, y_pred, target_names=names[:2])
    with pytest.warns(UserWarning, match="labels size, 2, does not match size of target_names, 3"):
        classification_report(y_true, y_pred, labels=[0, 1], target_names=names)


def test_classification_report_prints_integer_support_when_nothing_is_right():
    report = classification_report([0, 1], [1, 0], zero_division=0)
    assert report.splitlines()[2].split() == ["0", "0.00", "0.00", "0.00", "1"]


# ---------- bad input (DA-11) ----------

@pytest.mark.parametrize("fn", [accuracy_score, confusion_matrix, precision_score, recall_score, f1_score,
                                classification_report])
def test_empty_input_raises(fn):
    with pytest.raises(ValueError, match="empty input"):
        fn([], [])


@pytest.mark.parametrize("fn", [accuracy_score, confusion_matrix, precision_score, f1_score])
def test_length_mismatch_names_both_lengths(fn):
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[3, 2\]"):
        fn([0, 1, 1], [0, 1])


@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (np.inf, "infinity")])
@pytest.mark.parametrize("fn", [accuracy_score, confusion_matrix, recall_score])
def test_nan_or_inf_predictions_raise(fn, bad, word):
    with pytest.raises(ValueError, match=f"y_pred contains {word}"):
        fn([0, 1, 1], [0.0, bad, 1.0])


def test_unknown_average_lists_the_options():
    with pytest.raises(ValueError, match=r"average has to be one of \('binary', 'micro', 'macro', 'weighted', "
                                         r"None\), got average='mean'"):
        f1_score([0, 1], [0, 1], average="mean")


def test_binary_average_on_multiclass_target_raises():
    with pytest.raises(ValueError, match="Target is multiclass but average='binary'.*'macro'"):
        precision_score([0, 1, 2], [0, 1, 1])


def test_invalid_pos_label_raises_listing_labels():
    with pytest.raises(ValueError, match=r"pos_label=2 is not a valid label. It should be one of \[0, 1\]"):
        recall_score([0, 1, 1], [0, 1, 0], pos_label=2)
    with pytest.raises(ValueError, match=r"pos_label=1 is not a valid label.*\['a', 'b'\]"):
        recall_score(["a", "b"], ["b", "b"])


def test_pos_label_ignored_warning_for_non_binary_average():
    with pytest.warns(UserWarning, match="pos_label .* is ignored"):
        f1_score([0, 1, 2], [0, 1, 1], average="macro", pos_label=2)


def test_continuous_and_mixed_labels_raise():
    with pytest.raises(ValueError, match="continuous targets.*0.5"):
        accuracy_score([0, 1], [0.5, 1.0])
    with pytest.raises(ValueError, match="Mix of label input types"):
        accuracy_score(["a", "b"], [0, 1])
    with pytest.raises(ValueError, match=r"1-D array of class labels.*\(2, 2\)"):
        accuracy_score([[0, 1], [1, 0]], [[0, 1], [1, 0]])


def test_bad_zero_division_raises():
    with pytest.raises(ValueError, match="zero_division must be one of 'warn', 0.0, 1.0 or np.nan"):
        f1_score([0, 1], [0, 1], zero_division=0.5)


# ---------- plot ----------

def test_plot_confusion_matrix_draws_counts_and_labels():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y_true, y_pred = ["cat", "dog", "dog", "bird"], ["cat", "cat", "dog", "bird"]
    _, ax = plt.subplots()
    out = plot_confusion_matrix(y_true, y_pred, ax=ax)
    assert out is ax
    cm = confusion_matrix(y_true, y_pred)
    assert [t.get_text() for t in ax.texts] == [str(v) for v in cm.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["bird", "cat", "dog"]
    assert ax.get_xlabel() == "Predicted label" and ax.get_ylabel() == "True label"
    ax = plot_confusion_matrix(y_true, y_pred, normalize="true", display_labels=["B", "C", "D"])
    assert [t.get_text() for t in ax.texts] == [format(v, ".2g") for v in confusion_matrix(
        y_true, y_pred, normalize="true").ravel()]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["B", "C", "D"]
    plt.close("all")
