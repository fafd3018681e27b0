"""Classification metrics equal to scikit-learn's: accuracy, confusion matrix, precision, recall, F1, report.

Every set-wise metric derives from the confusion matrix ``C[i, j]`` = number of
samples whose true label is ``labels[i]`` and whose predicted label is
``labels[j]`` (as in ``sklearn/metrics/_classification.py``): per label,
``tp = C[k, k]``, predicted count = column sum, true count (support) = row sum.
Ill-defined ratios (0 / 0) follow scikit-learn's ``zero_division`` rules.
"""
from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gradkit.data.checks import check_consistent_length, check_finite, to_numpy

AVERAGE_OPTIONS = ("binary", "micro", "macro", "weighted", None)
NORMALIZE_OPTIONS = ("true", "pred", "all", None)


class UndefinedMetricWarning(UserWarning):
    """A metric was ill-defined (e.g. precision with no predicted positives) and set by ``zero_division``."""


# --------------------------------------------------------------------------- input checks

def _as_labels(y: ArrayLike, name: str) -> NDArray:
    """Return ``y`` as a 1-D label array; refuse NaN/inf, 2-D input and non-integer floats."""
    arr = to_numpy(y)
    if arr.ndim == 2 and arr.shape[1] == 1:  # column vector, as sklearn's column_or_1d accepts
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} should be a 1-D array of class labels, but got an array of shape {arr.shape}")
    if arr.dtype.kind == "O":
        if all(isinstance(v, str) for v in arr):
            arr = arr.astype(str)
        elif all(isinstance(v, (numbers.Number, np.bool_)) for v in arr):
            arr = arr.astype(np.float64)
        else:
            raise ValueError(f"Mix of label input types (string and number) in {name}")
    if arr.dtype.kind in "fc":
        check_finite(arr, name)
        if arr.size and not np.all(arr == np.round(arr)):
            bad = arr[arr != np.round(arr)][0]
            raise ValueError(f"Classification metrics can't handle continuous targets: {name} holds the "
                             f"non-integer value {bad!r}; pass class labels, not scores or probabilities")
    return arr


def _check_targets(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray, NDArray, NDArray]:
    """Validate a pair of label arrays; return them with the sorted labels present in either."""
    yt, yp = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    check_consistent_length(yt, yp, names=("y_true", "y_pred"))
    if yt.size == 0:
        raise ValueError("Found empty input array (e.g., `y_true` or `y_pred`) while a minimum of 1 sample "
                         "is required.")
    if (yt.dtype.kind in "US") != (yp.dtype.kind in "US"):
        raise ValueError(f"Mix of label input types (string and number): y_true has dtype {yt.dtype}, "
                         f"y_pred has dtype {yp.dtype}")
    present = np.unique(np.concatenate([yt, yp]))
    return yt, yp, present


def _encode(y: NDArray, labels: NDArray) -> NDArray:
    """Return the position of each ``y`` in ``labels`` (-1 where absent)."""
    sorter = np.argsort(labels, kind="stable")
    ordered = labels[sorter]
    pos = np.clip(np.searchsorted(ordered, y), 0, len(labels) - 1)
    return np.where(ordered[pos] == y, sorter[pos], -1)


def _count_matrix(y_true: NDArray, y_pred: NDArray, labels: NDArray) -> NDArray:
    """``C[i, j]`` = #samples with true ``labels[i]`` and predicted ``labels[j]`` (others dropped)."""
    n = len(labels)
    t, p = _encode(y_true, labels), _encode(y_pred, labels)
    keep = (t >= 0) & (p >= 0)
    return np.bincount(t[keep] * n + p[keep], minlength=n * n).reshape(n, n).astype(np.int64)


# --------------------------------------------------------------------------- metrics

def accuracy_score(y_true: ArrayLike, y_pred: ArrayLike, *, normalize: bool = True) -> float:
    """Fraction (or count) of exactly matching labels.

    accuracy = (1/n) * sum_i [y_true_i == y_pred_i]

    Args:
        y_true: 1-D array of true labels (ints, bools or strings).
        y_pred: 1-D array of predicted labels, same length.
        normalize: return the fraction (True) or the number of correct labels (False).

    Returns:
        The accuracy as a Python float.

    Raises:
        ValueError: empty input, different lengths, NaN/inf or non-integer float labels,
            string labels mixed with numbers.

    Example:
        >>> accuracy_score([0, 1, 2, 3], [0, 2, 1, 3])
        0.5
    """
    yt, yp, _ = _check_targets(y_true, y_pred)
    correct = yt == yp
    return float(correct.mean() if normalize else correct.sum())


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, *, labels: ArrayLike | None = None,
                     normalize: str | None = None) -> NDArray:
    """Confusion matrix ``C`` where ``C[i, j]`` counts samples of true class ``labels[i]`` predicted as ``labels[j]``.

    Rows are true labels, columns predicted labels; samples whose true or
    predicted label is not in ``labels`` are left out.

    Args:
        y_true: 1-D array of true labels.
        y_pred: 1-D array of predicted labels, same length.
        labels: label order of the rows/columns (default: sorted labels present in either array).
        normalize: None (counts), 'true' (rows sum to 1), 'pred' (columns sum to 1) or 'all'.

    Returns:
        Array of shape (n_labels, n_labels): int64 counts, or float64 when normalized.

    Raises:
        ValueError: bad input (see :func:`accuracy_score`), empty ``labels``, no label of
            ``labels`` in ``y_true``, unknown ``normalize``.

    Example:
        >>> confusion_matrix(["cat", "dog", "dog"], ["cat", "cat", "dog"])
        array([[1, 0],
               [1, 1]])
    """
    if normalize not in NORMALIZE_OPTIONS:
        raise ValueError(f"normalize must be one of {NORMALIZE_OPTIONS}, got normalize={normalize!r}")
    yt, yp, present = _check_targets(y_true, y_pred)
    if labels is None:
        labels_arr = present
    else:
        labels_arr = np.asarray(labels)
        if labels_arr.size == 0:
            raise ValueError("'labels' should contain at least one label.")
        if len(np.intersect1d(yt, labels_arr)) == 0:
            raise ValueError(f"At least one label specified must be in y_true: labels={labels_arr.tolist()}, "
                             f"y_true holds {np.unique(yt).tolist()}")
    cm = _count_matrix(yt, yp, labels_arr)
    if normalize is not None:
        axis = {"true": 1, "pred": 0, "all": None}[normalize]
        total = cm.sum(axis=axis, keepdims=axis is not None)
        cm = np.divide(cm, total, out=np.zeros(cm.shape), where=total != 0)  # empty row/col -> 0, as sklearn
    if cm.shape == (1, 1):
        warnings.warn("A single label was found in 'y_true' and 'y_pred'. For the confusion matrix to have "
                      "the correct shape, use the 'labels' parameter to pass all known labels.", UserWarning,
                      stacklevel=2)
    return cm


def _check_zero_division(zero_division: Any) -> float:
    """Return the value that replaces 0/0, validating ``zero_division``."""
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return 0.0
    elif isinstance(zero_division, numbers.Real) and not isinstance(zero_division, bool):
        if zero_division in (0, 1):
            return float(zero_division)
        if np.isnan(zero_division):
            return float("nan")
    raise ValueError(f"zero_division must be one of 'warn', 0.0, 1.0 or np.nan, got zero_division={zero_division!r}")


def _divide(num: NDArray, den: NDArray, metric: str, modifier: str, warn: bool, zero_division: Any) -> NDArray:
    """``num / den`` with 0/0 replaced by ``zero_division`` (warning when it is 'warn' and ``warn``)."""
    zero = den == 0
    result = num / np.where(zero, 1, den).astype(np.float64)
    if zero.any():
        result[zero] = _check_zero_division(zero_division)
        if warn and isinstance(zero_division, str):
            where = "due to" if result.shape[0] == 1 else "in labels with"
            warnings.warn(f"{metric.capitalize()} is ill-defined and being set to 0.0 {where} no {modifier} "
                          "samples. Use `zero_division` parameter to control this behavior.",
                          UndefinedMetricWarning, stacklevel=3)
    return result


def _nanaverage(values: NDArray, weights: NDArray | None) -> float:
    """Weighted mean ignoring NaN (zero_division=nan); all-zero weights fall back to the plain mean."""
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    if weights is None or weights[keep].sum() == 0:
        return float(values[keep].mean())
    return float(np.average(values[keep], weights=weights[keep]))


def _set_wise_labels(present: NDArray, average: str | None, labels: ArrayLike | None, pos_label: Any) -> Any:
    """Validate ``average``/``pos_label`` and return the labels to score (sklearn's ``_check_set_wise_labels``)."""
    if average not in AVERAGE_OPTIONS:
        raise ValueError(f"average has to be one of {AVERAGE_OPTIONS}, got average={average!r}")
    if average == "binary":
        if len(present) > 2:
            raise ValueError(f"Target is multiclass but average='binary'. Please choose another average "
                             f"setting, one of {[a for a in AVERAGE_OPTIONS if a != 'binary']!r}.")
        present_list = present.tolist()
        if pos_label not in present_list and len(present_list) >= 2:
            raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should be one of {present_list}")
        return [pos_label]
    if pos_label not in (None, 1):
        warnings.warn(f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' (got "
                      f"{average!r}). You may use labels=[pos_label] to specify a single positive class.",
                      UserWarning, stacklevel=3)
    return labels


def precision_recall_fscore_support(
        y_true: ArrayLike, y_pred: ArrayLike, *, beta: float = 1.0, labels: ArrayLike | None = None,
        pos_label: Any = 1, average: str | None = None, warn_for: tuple[str, ...] = ("precision", "recall", "f-score"),
        zero_division: Any = "warn") -> tuple[Any, Any, Any, NDArray | None]:
    """Precision, recall, F-beta and support per label, or averaged.

    precision = tp / (tp + fp),  recall = tp / (tp + fn),
    F_beta = (1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp),  support = tp + fn.

    Args:
        y_true: 1-D array of true labels.
        y_pred: 1-D array of predicted labels, same length.
        beta: weight of recall in the F-score (beta=1 gives F1).
        labels: labels to score (default: all present, sorted); absent labels score 0/0.
        pos_label: the positive class when ``average='binary'``.
        average: 'binary' (only ``pos_label``), 'micro' (global counts), 'macro' (mean over labels),
            'weighted' (mean weighted by support) or None (one value per label).
        warn_for: which metrics warn when ill-defined.
        zero_division: value for 0/0: 'warn' (0 plus an :class:`UndefinedMetricWarning`), 0, 1 or np.nan
            (then left out of averages).

    Returns:
        (precision, recall, fbeta, support): floats when averaged (support None), else arrays.

    Raises:
        ValueError: bad labels (see :func:`accuracy_score`), unknown ``average`` (lists the options),
            multiclass target with 'binary', ``pos_label`` not a label, bad ``zero_division``.

    Example:
        >>> p, r, f, s = precision_recall_fscore_support([0, 1, 1, 1], [0, 1, 0, 0])
        >>> r.tolist(), s.tolist()
        ([1.0, 0.3333333333333333], [1, 3])
    """
    _check_zero_division(zero_division)
    if not isinstance(beta, numbers.Real) or not beta >= 0:
        raise ValueError(f"beta should be >= 0, got beta={beta!r}")
    yt, yp, present = _check_targets(y_true, y_pred)
    labels = _set_wise_labels(present, average, labels, pos_label)
    chosen = present if labels is None else np.asarray(labels)
    # Count over every present label too, so samples of unlisted labels still count as fp/fn.
    everything = np.concatenate([chosen, np.setdiff1d(present, chosen)])
    cm = _count_matrix(yt, yp, everything)
    n = len(chosen)
    tp, pred_sum, true_sum = np.diag(cm)[:n], cm.sum(axis=0)[:n], cm.sum(axis=1)[:n]
    if average == "micro":
        tp, pred_sum, true_sum = tp.sum(keepdims=True), pred_sum.sum(keepdims=True), true_sum.sum(keepdims=True)
    precision = _divide(tp, pred_sum, "precision", "predicted", "precision" in warn_for, zero_division)
    recall = _divide(tp, true_sum, "recall", "true", "recall" in warn_for, zero_division)
    if np.isposinf(beta):
        fscore = recall
    elif beta == 0:
        fscore = precision
    else:
        b2 = float(beta) ** 2
        fscore = _divide((1 + b2) * tp.astype(np.float64), b2 * true_sum + pred_sum.astype(np.float64), "f-score",
                         "true nor predicted", "f-score" in warn_for, zero_division)
    if average is None:
        return precision, recall, fscore, true_sum
    weights = true_sum if average == "weighted" else None
    return (_nanaverage(precision, weights), _nanaverage(recall, weights), _nanaverage(fscore, weights), None)


def precision_score(y_true: ArrayLike, y_pred: ArrayLike, *, labels: ArrayLike | None = None, pos_label: Any = 1,
                    average: str | None = "binary", zero_division: Any = "warn") -> Any:
    """Precision: of the samples predicted as a class, the fraction that truly are.

    precision = tp / (tp + fp) = C[k, k] / sum_i C[i, k]

    Args:
        y_true, y_pred, labels, pos_label, average, zero_division: see
            :func:`precision_recall_fscore_support` (``average`` defaults to 'binary').

    Returns:
        A float, or an array per label when ``average=None``.

    Raises:
        ValueError: see :func:`precision_recall_fscore_support`.

    Example:
        >>> precision_score([0, 1, 1, 0], [1, 1, 1, 0])
        0.6666666666666666
    """
    return precision_recall_fscore_support(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                           warn_for=("precision",), zero_division=zero_division)[0]


def recall_score(y_true: ArrayLike, y_pred: ArrayLike, *, labels: ArrayLike | None = None, pos_label: Any = 1,
                 average: str | None = "binary", zero_division: Any = "warn") -> Any:
    """Recall: of the samples of a class, the fraction predicted as it.

    recall = tp / (tp + fn) = C[k, k] / sum_j C[k, j]

    Args:
        y_true, y_pred, labels, pos_label, average, zero_division: see
            :func:`precision_recall_fscore_support` (``average`` defaults to 'binary').

    Returns:
        A float, or an array per label when ``average=None``.

    Raises:
        ValueError: see :func:`precision_recall_fscore_support`.

    Example:
        >>> recall_score([0, 1, 1, 0], [1, 1, 0, 0])
        0.5
    """
    return precision_recall_fscore_support(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                           warn_for=("recall",), zero_division=zero_division)[1]


def f1_score(y_true: ArrayLike, y_pred: ArrayLike, *, labels: ArrayLike | None = None, pos_label: Any = 1,
             average: str | None = "binary", zero_division: Any = "warn") -> Any:
    """F1: harmonic mean of precision and recall.

    F1 = 2 tp / (2 tp + fp + fn)

    Args:
        y_true, y_pred, labels, pos_label, average, zero_division: see
            :func:`precision_recall_fscore_support` (``average`` defaults to 'binary').

    Returns:
        A float, or an array per label when ``average=None``.

    Raises:
        ValueError: see :func:`precision_recall_fscore_support`.

    Example:
        >>> f1_score([0, 1, 2, 2], [0, 2, 2, 2], average="macro")
        0.6
    """
    return precision_recall_fscore_support(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                           warn_for=("f-score",), zero_division=zero_division)[2]


def classification_report(y_true: ArrayLike, y_pred: ArrayLike, *, labels: ArrayLike | None = None,
                          target_names: list[str] | None = None, digits: int = 2, output_dict: bool = False,
                          zero_division: Any = "warn") -> str | dict:
    """Text (or dict) report of precision, recall, F1 and support per class, laid out as scikit-learn's.

    Rows per label, then 'accuracy' (micro average when every present label is listed,
    else 'micro avg'), 'macro avg' and 'weighted avg'.

    Args:
        y_true: 1-D array of true labels.
        y_pred: 1-D array of predicted labels.
        labels: labels to report (default: all present, sorted).
        target_names: display names, one per label.
        digits: decimals in the text report.
        output_dict: return a nested dict instead of text.
        zero_division: see :func:`precision_recall_fscore_support`.

    Returns:
        The report string, or a dict ``{name: {"precision", "recall", "f1-score", "support"}, "accuracy": float, ...}``.

    Raises:
        ValueError: bad labels; ``target_names`` length differs from the number of classes.

    Example:
        >>> print(classification_report([0, 1, 1], [0, 1, 0]))
                      precision    recall  f1-score   support
        <BLANKLINE>
                   0       0.50      1.00      0.67         1
                   1       1.00      0.50      0.67         2
        <BLANKLINE>
            accuracy                           0.67         3
           macro avg       0.75      0.75      0.67         3
        weighted avg       0.83      0.67      0.67         3
        <BLANKLINE>
    """
    yt, yp, present = _check_targets(y_true, y_pred)
    labels_given = labels is not None
    labels_arr = np.asarray(labels) if labels_given else present
    micro_is_accuracy = not labels_given or set(labels_arr.tolist()) >= set(present.tolist())
    if target_names is not None and len(labels_arr) != len(target_names):
        if labels_given:
            warnings.warn(f"labels size, {len(labels_arr)}, does not match size of target_names, "
                          f"{len(target_names)}", UserWarning, stacklevel=2)
        else:
            raise ValueError(f"Number of classes, {len(labels_arr)}, does not match size of target_names, "
                             f"{len(target_names)}. Try specifying the labels parameter")
    names = [str(lab) for lab in labels_arr] if target_names is None else list(target_names)
    headers = ["precision", "recall", "f1-score", "support"]
    p, r, f1, s = precision_recall_fscore_support(yt, yp, labels=labels_arr, average=None,
                                                  zero_division=zero_division)
    rows = list(zip(names, p, r, f1, s))
    averages = []
    for average in ("micro", "macro", "weighted"):
        heading = "accuracy" if average == "micro" and micro_is_accuracy else f"{average} avg"
        avg_p, avg_r, avg_f1, _ = precision_recall_fscore_support(yt, yp, labels=labels_arr, average=average,
                                                                  zero_division=zero_division)
        averages.append((heading, avg_p, avg_r, avg_f1, int(np.sum(s))))
    if output_dict:
        report: dict = {name: dict(zip(headers, [float(v) for v in vals])) for name, *vals in rows}
        for heading, *vals in averages:
            report[heading] = vals[0] if heading == "accuracy" else dict(zip(headers, [float(v) for v in vals]))
        return report
    width = max(max(len(n) for n in names), len("weighted avg"), digits)
    text = ("{:>{width}s} " + " {:>9}" * 4).format("", *headers, width=width) + "\n\n"
    row_fmt = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for row in rows:
        text += row_fmt.format(*row, width=width, digits=digits)
    text += "\n"
    for heading, *vals in averages:
        if heading == "accuracy":
            text += ("{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f} {:>9}\n").format(
                heading, "", "", vals[2], vals[3], width=width, digits=digits)
        else:
            text += row_fmt.format(heading, *vals, width=width, digits=digits)
    return text


def plot_confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, *, labels: ArrayLike | None = None,
                          display_labels: list[str] | None = None, normalize: str | None = None,
                          ax: Any = None, cmap: str = "Blues", values_format: str | None = None) -> Any:
    """Draw the confusion matrix as a heat map with counts in the cells (rows true, columns predicted).

    C[i, j] = #samples of true ``labels[i]`` predicted ``labels[j]`` (see :func:`confusion_matrix`).

    Args:
        y_true, y_pred, labels, normalize: as :func:`confusion_matrix`.
        display_labels: tick names (default: the labels).
        ax: matplotlib Axes to draw on (default: a new figure).
        cmap: colour map name.
        values_format: format spec of the cell texts (default 'd' for counts, '.2g' normalized).

    Returns:
        The matplotlib Axes.

    Raises:
        ImportError: matplotlib is not installed (extra 'plot').

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> ax = plot_confusion_matrix([0, 1, 1], [0, 1, 0])
        >>> [t.get_text() for t in ax.texts]
        ['1', '0', '1', '1']
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plot_confusion_matrix needs matplotlib: pip install 'gradkit[plot]'") from exc
    yt, yp, present = _check_targets(y_true, y_pred)
    labels_arr = present if labels is None else np.asarray(labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a 1x1 matrix is fine to draw
        cm = confusion_matrix(yt, yp, labels=labels_arr, normalize=normalize)
    if ax is None:
        _, ax = plt.subplots()
    fmt = values_format or ("d" if normalize is None else ".2g")
    image = ax.imshow(cm, interpolation="nearest", cmap=cmap)
    threshold = (cm.max() + cm.min()) / 2.0
    for i, j in np.ndindex(*cm.shape):
        colour = image.cmap(0.0) if cm[i, j] > threshold else image.cmap(1.0)  # readable on either end
        ax.text(j, i, format(cm[i, j], fmt), ha="center", va="center", color=colour)
    names = [str(v) for v in labels_arr] if display_labels is None else list(display_labels)
    ax.set(xticks=np.arange(len(names)), yticks=np.arange(len(names)), xticklabels=names, yticklabels=names,
           xlabel="Predicted label", ylabel="True label")
    ax.figure.colorbar(image, ax=ax)
    return ax
