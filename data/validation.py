"""Cross-validation of a user's ``train_eval`` function, sequential or in parallel through joblib.

``train_eval(X_train, y_train, X_val, y_val, **params)`` trains whatever it likes
and returns a score (higher is better) or a dict of named scores; a name
``"train_<name>"`` is read as the training-set counterpart of ``<name>``.
Every fold runs inside ``fork_rng(fold seed)`` -- its own generator behind
gradkit's randomness, seeded by a fold seed derived *before* dispatch and local to
the thread running it -- so ``n_jobs=1``, ``n_jobs=2``, threads and a Dask cluster
give identical results, and the caller's generator is untouched. The fold loop and
the failure rules (``error_score``, warnings) follow scikit-learn's
``sklearn/model_selection/_validation.py``.

Parallel runs go through ``joblib.Parallel`` (loky processes by default), so any
joblib backend serves them, e.g. a Dask cluster::

    from dask.distributed import Client
    import joblib
    client = Client()                      # or Client("scheduler-address:8786")
    with joblib.parallel_backend("dask"):
        cross_validate(train_eval, X, y, n_jobs=-1)

``train_eval`` must then be importable by the workers (defined in a module, not a
lambda or a notebook-local closure).
"""
from __future__ import annotations

import numbers
import sys
import traceback
import warnings
from typing import Any, Callable, Iterable

import numpy as np
from numpy.typing import NDArray

from gradkit.autograd.random import default_generator, fork_rng
from gradkit.data.checks import check_consistent_length, check_finite, to_numpy

TrainEval = Callable[..., Any]
Split = tuple[NDArray, NDArray]


class FitFailedWarning(UserWarning):
    """A ``train_eval`` call raised; the fold was scored ``error_score`` instead."""


# --------------------------------------------------------------------------- inputs

def check_cv(cv: Any, X: Any, y: Any = None) -> list[Split]:
    """Turn ``cv`` into a list of ``(train_idx, test_idx)`` pairs (scikit-learn's ``check_cv``).

    An int k gives ``StratifiedKFold(k)`` when ``y`` holds class labels (integer, bool or
    string dtype), else ``KFold(k)``; an object with ``split(X, y)`` is called; any other
    iterable is read as ``(train, test)`` index pairs.

    Args:
        cv: int, splitter or iterable of index pairs.
        X: the samples (only the length is used here).
        y: targets or None.

    Returns:
        The splits as integer index arrays.

    Raises:
        ValueError: ``cv`` of another type, no splits, a pair that is not two index arrays,
            indices out of range, an empty train or test set.

    Example:
        >>> [test.tolist() for _, test in check_cv(2, np.zeros(4), np.array([0, 0, 1, 1]))]
        [[0, 2], [1, 3]]
    """
    from gradkit.data.split import KFold, StratifiedKFold

    n = len(X)
    if isinstance(cv, (bool, np.bool_)) or isinstance(cv, (str, bytes)):
        raise ValueError(f"cv should be an int, a splitter with a split(X, y) method or an iterable of "
                         f"(train, test) index pairs, got cv={cv!r}")
    if isinstance(cv, numbers.Integral):
        splitter = StratifiedKFold(int(cv)) if _is_class_labels(y) else KFold(int(cv))
        pairs = list(splitter.split(X, y))
    elif hasattr(cv, "split"):
        pairs = list(cv.split(X, y))
    elif isinstance(cv, Iterable):
        pairs = list(cv)
    else:
        raise ValueError(f"cv should be an int, a splitter with a split(X, y) method or an iterable of "
                         f"(train, test) index pairs, got {type(cv).__name__} {cv!r}")
    if not pairs:
        raise ValueError(f"cv={cv!r} produced no (train, test) splits")
    return [_check_split(pair, i, n) for i, pair in enumerate(pairs)]


def _is_class_labels(y: Any) -> bool:
    """True for a 1-D target of integer, bool or string dtype (a classification target)."""
    if y is None:
        return False
    arr = to_numpy(y)
    return arr.ndim == 1 and arr.dtype.kind in "biuUSO"


def _check_split(pair: Any, i: int, n: int) -> Split:
    """Validate one (train, test) pair of index arrays for ``n`` samples."""
    try:
        train, test = pair
    except (TypeError, ValueError) as exc:
        raise ValueError(f"split {i} of cv is not a (train, test) pair: {pair!r}") from exc
    out = []
    for name, idx in (("train", train), ("test", test)):
        arr = np.asarray(idx)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise ValueError(f"split {i}: {name} indices must be a 1-D array of integers, got dtype "
                             f"{arr.dtype} and shape {arr.shape}")
        if arr.size == 0:
            raise ValueError(f"split {i}: the {name} set is empty")
        if arr.min() < 0 or arr.max() >= n:
            raise ValueError(f"split {i}: {name} indices must lie in [0, {n}) for {n} samples, got "
                             f"min {arr.min()} and max {arr.max()}")
        out.append(arr.astype(np.intp))
    return out[0], out[1]


def check_Xy(X: Any, y: Any) -> tuple[NDArray, NDArray | None]:
    """Return ``X`` and ``y`` as numpy arrays of equal length, refusing empty input and NaN/inf numbers.

    Raises:
        ValueError: empty ``X``, lengths differ (both named), NaN or infinity in numeric ``X`` or ``y``.

    Example:
        >>> X, y = check_Xy([[1.0], [2.0]], [0, 1]); X.shape, y.shape
        ((2, 1), (2,))
    """
    X_arr = to_numpy(X)
    if X_arr.ndim == 0:
        raise ValueError(f"X should be an array with one sample per row, got the scalar {X_arr!r}")
    y_arr = None if y is None else to_numpy(y)
    check_consistent_length(X_arr, y_arr, names=("X", "y"))
    if len(X_arr) == 0:
        raise ValueError(f"X is empty (shape {X_arr.shape}): cross-validation needs samples")
    check_finite(X_arr, "X")
    if y_arr is not None:
        check_finite(y_arr, "y")
    return X_arr, y_arr


def check_n_jobs(n_jobs: Any) -> int | None:
    """Return ``n_jobs`` when it is None or a non-zero int (joblib's convention), else ``ValueError``.

    Example:
        >>> check_n_jobs(-1)
        -1
    """
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs should be None or a non-zero integer (-1 = all cores), got n_jobs={n_jobs!r}")
    return int(n_jobs)


def check_error_score(error_score: Any) -> Any:
    """Return ``error_score`` when it is 'raise' or a number, else ``ValueError``."""
    if error_score == "raise" or (isinstance(error_score, numbers.Real) and not isinstance(error_score, bool)):
        return error_score
    raise ValueError(f"error_score should be 'raise' or a number (e.g. np.nan), got error_score={error_score!r}")


def fold_seeds(seed: int | None, n_folds: int) -> list[int]:
    """Derive one independent seed per fold from ``seed`` (None: one draw from gradkit's generator).

    Example:
        >>> fold_seeds(0, 3) == fold_seeds(0, 3)
        True
    """
    base = int(default_generator().integers(2**63)) if seed is None else seed
    return [int(child.generate_state(1)[0]) for child in np.random.SeedSequence(base).spawn(n_folds)]


# --------------------------------------------------------------------------- one fold

def _to_float(value: Any, name: str) -> float:
    """A score as float: numbers, 0-d arrays and one-element tensors (``.item()``)."""
    if hasattr(value, "item") and not isinstance(value, numbers.Number):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"train_eval must return a number or a dict of numbers, but {name} is "
                        f"{type(value).__name__} {value!r}")
    return float(value)


def _as_scores(out: Any) -> dict[str, float]:
    """``train_eval``'s return value as a dict name -> float (a bare number is named 'score')."""
    if isinstance(out, dict):
        if not out:
            raise TypeError("train_eval returned an empty dict; return a number or a dict of named scores")
        return {str(k): _to_float(v, f"score {k!r}") for k, v in out.items()}
    return {"score": _to_float(out, "the returned value")}


def _evaluate_fold(train_eval: TrainEval, X: NDArray, y: NDArray | None, train: NDArray, test: NDArray,
                   params: dict, seed: int, error_score: Any) -> tuple[dict[str, float] | None, str | None]:
    """Run one fit; return (scores, None), or (None, formatted error) when it raised and errors are scored."""
    y_train = None if y is None else y[train]
    y_test = None if y is None else y[test]
    with fork_rng(seed):  # this fold's own generator, even when folds run in threads
        try:
            out = train_eval(X[train], y_train, X[test], y_test, **params)
        except Exception:
            if error_score == "raise":
                raise
            return None, traceback.format_exc()
    return _as_scores(out), None


# --------------------------------------------------------------------------- running many folds

def progress_bar(iterable: Iterable, total: int, enabled: bool, desc: str) -> Iterable:
    """Wrap ``iterable`` in a tqdm bar on stderr when ``enabled``, stderr is a terminal and tqdm is installed.

    tqdm is the optional extra 'progress' (``pip install 'gradkit[progress]'``); without
    it, or in logs and CI (no terminal), the iterable is returned unchanged.

    Example:
        >>> list(progress_bar(range(3), total=3, enabled=False, desc="folds"))
        [0, 1, 2]
    """
    if not enabled or not getattr(sys.stderr, "isatty", lambda: False)():
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, leave=False)


def _run(tasks: list[tuple], n_jobs: int | None, progress: bool, desc: str) -> list:
    """Evaluate the fold tasks in order: in this process for ``n_jobs=1``, else through joblib."""
    if n_jobs == 1:
        results: Iterable = (_evaluate_fold(*task) for task in tasks)
    else:
        try:
            import joblib
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("n_jobs != 1 needs joblib: pip install 'gradkit[parallel]'") from exc
        results = joblib.Parallel(n_jobs=n_jobs, return_as="generator")(
            joblib.delayed(_evaluate_fold)(*task) for task in tasks)
    return list(progress_bar(results, total=len(tasks), enabled=progress, desc=desc))


def primary_key(names: list[str], score_key: str | None) -> str:
    """The score that ranks candidates: ``score_key``, else 'score', else the first name without 'train_'.

    Example:
        >>> primary_key(["train_acc", "acc"], None)
        'acc'
    """
    if score_key is not None:
        if score_key not in names:
            raise ValueError(f"score_key={score_key!r} is not among the scores train_eval returned: {names}")
        return score_key
    if "score" in names:
        return "score"
    return next((n for n in names if not n.startswith("train_")), names[0])


class CVResult:
    """Per-fold scores of one parameter setting, with their mean, standard deviation and a printable table.

    Attributes:
        scores: dict score name -> array of shape (n_folds,) (``error_score`` where a fold failed).
        key: the primary score name (``mean`` and ``std`` refer to it).
        params: the keyword arguments given to ``train_eval``.
        errors: per fold, None or the formatted traceback of a failed fit.
        test_sizes: number of validation samples per fold.

    Example:
        >>> r = CVResult({"score": np.array([0.5, 1.0])}, "score")
        >>> r.mean, r.std
        (0.75, 0.25)
    """

    def __init__(self, scores: dict[str, NDArray], key: str, params: dict | None = None,
                 errors: list[str | None] | None = None, test_sizes: NDArray | None = None) -> None:
        self.scores = {name: np.asarray(v, dtype=np.float64) for name, v in scores.items()}
        if key not in self.scores:
            raise ValueError(f"key={key!r} is not one of the scores {list(self.scores)}")
        self.key = key
        self.params = dict(params or {})
        n = len(self.scores[key])
        self.errors = list(errors) if errors is not None else [None] * n
        self.test_sizes = np.asarray(test_sizes) if test_sizes is not None else None

    @property
    def n_folds(self) -> int:
        """Number of folds."""
        return len(self.scores[self.key])

    @property
    def mean(self) -> float:
        """Mean over folds of the primary score (NaN when a fold failed, as scikit-learn)."""
        return float(np.mean(self.scores[self.key]))

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0) over folds of the primary score."""
        return float(np.std(self.scores[self.key]))

    @property
    def means(self) -> dict[str, float]:
        """Mean over folds of every score."""
        return {name: float(np.mean(v)) for name, v in self.scores.items()}

    @property
    def stds(self) -> dict[str, float]:
        """Standard deviation (ddof=0) over folds of every score."""
        return {name: float(np.std(v)) for name, v in self.scores.items()}

    @property
    def train_key(self) -> str | None:
        """Name of the training-set counterpart of the primary score, if ``train_eval`` returned one."""
        name = "train_" + self.key
        return name if name in self.scores else None

    def __getitem__(self, name: str) -> NDArray:
        return self.scores[name]

    def table(self, digits: int = 4) -> str:
        """Fold-by-fold table of every score, then mean and std rows."""
        names = list(self.scores)
        head = ["fold"] + (["n_val"] if self.test_sizes is not None else []) + names
        rows = []
        for i in range(self.n_folds):
            row = [str(i)] + ([str(self.test_sizes[i])] if self.test_sizes is not None else [])
            row += [f"{self.scores[n][i]:.{digits}f}" for n in names]
            rows.append(row)
        pad = [""] if self.test_sizes is not None else []
        rows.append(["mean"] + pad + [f"{self.means[n]:.{digits}f}" for n in names])
        rows.append(["std"] + pad + [f"{self.stds[n]:.{digits}f}" for n in names])
        widths = [max(len(r[c]) for r in [head] + rows) for c in range(len(head))]
        lines = ["  ".join(cell.rjust(w) for cell, w in zip(r, widths)) for r in [head] + rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.insert(len(lines) - 2, "-" * len(lines[0]))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        params = f", params={self.params}" if self.params else ""
        return f"CVResult({self.key}={self.mean:.4g} ± {self.std:.4g} over {self.n_folds} folds{params})"


def _last_line(text: str) -> str:
    """The ``ExceptionType: message`` line of a formatted traceback."""
    return text.strip().splitlines()[-1]


def evaluate_candidates(train_eval: TrainEval, X: NDArray, y: NDArray | None, candidates: list[dict],
                        splits: list[Split], *, n_jobs: int | None, progress: bool, seed: int | None,
                        error_score: Any, score_key: str | None, desc: str) -> list[CVResult]:
    """Cross-validate every parameter dict on the same splits and fold seeds; one :class:`CVResult` each.

    All (candidate, fold) fits go to one joblib call; failures and non-finite scores are
    reported here, in the calling process, so warnings are never lost in workers.
    """
    seeds = fold_seeds(seed, len(splits))
    tasks = [(train_eval, X, y, train, test, params, seeds[f], error_score)
             for params in candidates for f, (train, test) in enumerate(splits)]
    outcomes = _run(tasks, n_jobs, progress, desc)
    names: list[str] = []
    for scores, _ in outcomes:
        if scores is not None:
            if names and list(scores) != names:
                raise ValueError(f"train_eval returned different score names on different fits: {names} "
                                 f"and {list(scores)}")
            names = list(scores)
    failed = [(i, err) for i, (_, err) in enumerate(outcomes) if err is not None]
    if len(failed) == len(outcomes):
        raise ValueError(f"All the {len(outcomes)} fits failed. The first failure (params={candidates[0]}, "
                         f"fold 0) was {_last_line(failed[0][1])}:\n{failed[0][1]}")
    if failed:
        i, err = failed[0]
        warnings.warn(f"{len(failed)} of {len(outcomes)} fits failed and were scored error_score={error_score}. "
                      f"First failure (params={candidates[i // len(splits)]}, fold {i % len(splits)}): "
                      f"{_last_line(err)}\n{err}",
                      FitFailedWarning, stacklevel=3)
    key = primary_key(names, score_key)
    test_sizes = np.array([len(test) for _, test in splits])
    results = []
    for c, params in enumerate(candidates):
        chunk = outcomes[c * len(splits):(c + 1) * len(splits)]
        scores = {n: np.array([s[n] if s is not None else float(error_score) for s, _ in chunk]) for n in names}
        errors = [err for _, err in chunk]
        fitted = np.array([err is None for err in errors])
        bad = [n for n in names if not np.isfinite(scores[n][fitted]).all()]
        if bad:
            warnings.warn(f"One or more of the scores {bad} are non-finite for params={params}: "
                          f"{ {n: scores[n].tolist() for n in bad} }", UserWarning, stacklevel=3)
        results.append(CVResult(scores, key, params, errors, test_sizes))
    return results


def cross_validate(train_eval: TrainEval, X: Any, y: Any = None, cv: Any = 5, n_jobs: int | None = 1,
                   progress: bool = True, *, params: dict | None = None, seed: int | None = None,
                   error_score: Any = np.nan, score_key: str | None = None) -> CVResult:
    """K-fold cross-validation of ``train_eval``: train on k-1 folds, score on the held-out fold, k times.

    CV score = (1/k) * sum_f train_eval(X[train_f], y[train_f], X[val_f], y[val_f], **params)

    Args:
        train_eval: ``train_eval(X_train, y_train, X_val, y_val, **params)`` -> a score or a dict of
            scores (``"train_<name>"`` keys are training scores). Module-level when ``n_jobs != 1``.
        X: samples, array-like (a Tensor gives its array); ``train_eval`` receives numpy slices.
        y: targets or None.
        cv: int (StratifiedKFold for integer/bool/string labels, else KFold), a splitter with
            ``split(X, y)``, or an iterable of (train, test) index pairs.
        n_jobs: 1 runs in this process; other values (None, -1, k) run folds through joblib
            (loky processes, or the backend of an enclosing ``joblib.parallel_backend``).
        progress: show a tqdm bar over folds when stderr is a terminal and tqdm is installed.
        params: keyword arguments for ``train_eval``.
        seed: base of the per-fold seeds given to gradkit's default generator during each fold
            (None: drawn from that generator, so ``gk.manual_seed`` fixes it).
        error_score: score of a fold whose ``train_eval`` raised (with a :class:`FitFailedWarning`),
            or 'raise' to re-raise.
        score_key: the primary score when ``train_eval`` returns a dict (default: 'score', else the
            first name not starting with 'train_').

    Returns:
        A :class:`CVResult`.

    Raises:
        ValueError: empty or non-finite ``X``/``y``, length mismatch, bad ``cv``/``n_jobs``/
            ``error_score``, every fit failed.
        TypeError: ``train_eval`` returned something other than a number or a dict of numbers.

    Example:
        >>> def train_eval(X_tr, y_tr, X_val, y_val):
        ...     return -float(np.mean((y_val - y_tr.mean()) ** 2))
        >>> X = np.arange(8.0).reshape(-1, 1)
        >>> cross_validate(train_eval, X, X[:, 0], cv=2, progress=False).scores["score"]
        array([-17.25, -17.25])
    """
    n_jobs = check_n_jobs(n_jobs)
    error_score = check_error_score(error_score)
    X_arr, y_arr = check_Xy(X, y)
    splits = check_cv(cv, X_arr, y_arr)
    return evaluate_candidates(train_eval, X_arr, y_arr, [dict(params or {})], splits, n_jobs=n_jobs,
                               progress=progress, seed=seed, error_score=error_score, score_key=score_key,
                               desc="folds")[0]
