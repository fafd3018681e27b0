"""Hyperparameter search by cross-validation: exhaustive :class:`GridSearch` and sampled :class:`RandomSearch`.

Candidates come from ``itertools.product`` over the sorted parameter names, in the
order of scikit-learn's ``ParameterGrid`` (``sklearn/model_selection/_search.py``);
every candidate is scored on the same splits with the same fold seeds, all fits go
to one joblib call (see :mod:`gradkit.data.validation`), and the best candidate is
the first one, in candidate order, with the highest mean validation score.
"""
from __future__ import annotations

import itertools
import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradkit.data.checks import resolve_rng
from gradkit.data.preprocessing import NotFittedError
from gradkit.data.validation import (CVResult, TrainEval, check_cv, check_error_score, check_n_jobs, check_Xy,
                                     evaluate_candidates)


def _as_grid_list(grid: Any, name: str) -> list[Mapping]:
    """A dict or a list of dicts as a non-empty list of non-empty dicts with string keys."""
    grids = [grid] if isinstance(grid, Mapping) else grid
    if not isinstance(grids, Sequence) or isinstance(grids, (str, bytes)) or not all(
            isinstance(g, Mapping) for g in grids):
        raise TypeError(f"{name} should be a dict or a list of dicts, got {type(grid).__name__} {grid!r}")
    if not grids or any(len(g) == 0 for g in grids):
        raise ValueError(f"{name} is empty ({grid!r}): give at least one parameter with at least one value, "
                         "e.g. {'lam': [0.01, 0.1, 1.0]}")
    for g in grids:
        for key in g:
            if not isinstance(key, str):
                raise TypeError(f"{name} keys must be parameter names (str), got {key!r}")
    return list(grids)


def _check_values(key: str, values: Any, name: str) -> None:
    """A grid entry must be a non-empty 1-D sequence of values (sklearn's ``ParameterGrid`` rule)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise ValueError(f"{name}[{key!r}] needs to be a list or a numpy array, but got {values!r} (of type "
                         f"{type(values).__name__}) instead. Single values need to be wrapped in a list with "
                         "one element.")
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ValueError(f"{name}[{key!r}] should be one-dimensional, got an array of shape {values.shape}")
    if len(values) == 0:
        raise ValueError(f"{name}[{key!r}] is an empty list: give it at least one value")


def parameter_grid(param_grid: Mapping | Sequence[Mapping]) -> list[dict]:
    """Every combination of a grid, in scikit-learn's ``ParameterGrid`` order (sorted names, last varies fastest).

    Args:
        param_grid: dict name -> list of values, or a list of such dicts (their grids one after another).

    Returns:
        The list of parameter dicts.

    Raises:
        ValueError: empty grid, empty value list, a single value not wrapped in a list.
        TypeError: not a dict or list of dicts; a non-string name.

    Example:
        >>> parameter_grid({"lam": [0.1, 1.0], "degree": [1, 2]})
        [{'degree': 1, 'lam': 0.1}, {'degree': 1, 'lam': 1.0}, {'degree': 2, 'lam': 0.1}, {'degree': 2, 'lam': 1.0}]
    """
    candidates = []
    for grid in _as_grid_list(param_grid, "param_grid"):
        keys = sorted(grid)
        for key in keys:
            _check_values(key, grid[key], "param_grid")
        candidates += [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]
    return candidates


def _check_distributions(param_distributions: Any) -> list[Mapping]:
    """Validate ``param_distributions``: dicts whose values are lists or have ``.rvs``."""
    grids = _as_grid_list(param_distributions, "param_distributions")
    for grid in grids:
        for key, values in grid.items():
            if not hasattr(values, "rvs"):
                _check_values(key, values, "param_distributions")
    return grids


def parameter_sample(param_distributions: Mapping | Sequence[Mapping], n_iter: int,
                     rng: np.random.Generator) -> list[dict]:
    """Draw ``n_iter`` candidates: lists uniformly, distributions by ``.rvs(random_state=rng)``.

    When every value is a list, candidates are drawn from the grid without replacement
    (at most the grid size, with a warning), as scikit-learn's ``ParameterSampler``.

    Example:
        >>> parameter_sample({"lam": [0.1, 1.0, 10.0]}, 2, np.random.default_rng(0))
        [{'lam': 1.0}, {'lam': 10.0}]
    """
    grids = _check_distributions(param_distributions)
    if all(not hasattr(v, "rvs") for g in grids for v in g.values()):
        grid = parameter_grid(grids)
        if n_iter > len(grid):
            warnings.warn(f"The total space of parameters {len(grid)} is smaller than n_iter={n_iter}. Running "
                          f"{len(grid)} iterations. For exhaustive searches, use GridSearch.", UserWarning,
                          stacklevel=3)
            n_iter = len(grid)
        return [grid[i] for i in rng.choice(len(grid), size=n_iter, replace=False)]
    candidates = []
    for _ in range(n_iter):
        grid = grids[int(rng.integers(len(grids)))] if len(grids) > 1 else grids[0]
        candidates.append({k: grid[k].rvs(random_state=rng) if hasattr(grid[k], "rvs")
                           else grid[k][int(rng.integers(len(grid[k])))] for k in sorted(grid)})
    return candidates


class _BaseSearch:
    """Shared fit / results / best / table / plot of the searches; subclasses produce the candidates."""

    def __init__(self, train_eval: TrainEval, cv: Any, n_jobs: int | None, progress: bool, seed: int | None,
                 error_score: Any, score_key: str | None, greater_is_better: bool) -> None:
        if not callable(train_eval):
            raise TypeError(f"train_eval should be a function train_eval(X_train, y_train, X_val, y_val, "
                            f"**params), got {train_eval!r}")
        if not isinstance(greater_is_better, bool):
            raise TypeError(f"greater_is_better must be True or False, got {greater_is_better!r}")
        self.train_eval = train_eval
        self.cv = cv
        self.n_jobs = check_n_jobs(n_jobs)
        self.progress = progress
        self.seed = seed
        self.error_score = check_error_score(error_score)
        self.score_key = score_key
        self.greater_is_better = greater_is_better
        self._results: list[CVResult] | None = None

    def _candidates(self, rng: np.random.Generator) -> list[dict]:
        raise NotImplementedError

    def fit(self, X: Any, y: Any = None) -> _BaseSearch:
        """Cross-validate every candidate on the same splits; returns ``self``.

        Raises:
            ValueError: bad ``X``/``y``/``cv`` (see :func:`~gradkit.data.validation.cross_validate`),
                every fit failed.
        """
        X_arr, y_arr = check_Xy(X, y)
        splits = check_cv(self.cv, X_arr, y_arr)
        rng = resolve_rng(self.seed)
        candidates = self._candidates(rng)
        fold_seed = None if self.seed is None else int(rng.integers(2**63))
        self._results = evaluate_candidates(
            self.train_eval, X_arr, y_arr, candidates, splits, n_jobs=self.n_jobs, progress=self.progress,
            seed=fold_seed, error_score=self.error_score, score_key=self.score_key,
            desc=f"{type(self).__name__}: {len(candidates)} candidates x {len(splits)} folds")
        return self

    @property
    def results(self) -> list[CVResult]:
        """One :class:`~gradkit.data.validation.CVResult` per candidate, in candidate order (``.params`` on each)."""
        if self._results is None:
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet: call .fit(X, y) first")
        return self._results

    def _objective(self) -> NDArray:
        """Mean scores oriented so that larger is better, NaN (failed) last."""
        means = np.array([r.mean for r in self.results])
        means = means if self.greater_is_better else -means
        return np.where(np.isnan(means), -np.inf, means)

    @property
    def ranks(self) -> NDArray:
        """Rank of each candidate (1 = best; ties share the lower rank, failed candidates last)."""
        objective = self._objective()
        return np.array([1 + int(np.sum(objective > v)) for v in objective])

    @property
    def best_index(self) -> int:
        """Index of the best candidate: highest mean score, ties broken by candidate (grid) order."""
        return int(np.argmax(self._objective()))  # argmax returns the first maximum

    @property
    def best_result(self) -> CVResult:
        """The :class:`~gradkit.data.validation.CVResult` of the best candidate."""
        return self.results[self.best_index]

    @property
    def best_params(self) -> dict:
        """Parameters of the best candidate."""
        return dict(self.best_result.params)

    @property
    def best_score(self) -> float:
        """Mean validation score of the best candidate."""
        return self.best_result.mean

    def table(self, digits: int = 4) -> str:
        """One line per candidate: rank, mean ± std of the primary score (and training score), parameters."""
        ranks = self.ranks
        lines = []
        for rank, result in zip(ranks, self.results):
            train = result.train_key
            extra = f"  train {result.means[train]:.{digits}f}" if train else ""
            lines.append(f"{rank:>4}  {result.key} {result.mean:.{digits}f} ± {result.std:.{digits}f}{extra}  "
                         f"{result.params}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table() if self._results is not None else repr(self)

    def plot(self, param: str | None = None, ax: Any = None, log: bool | None = None) -> Any:
        """Validation curve: mean validation score (± std band) against one hyperparameter, train score alongside.

        Other parameters are held at their best values; the best candidate is marked.

        Args:
            param: the hyperparameter on the x axis (default: the only one that varies).
            ax: matplotlib Axes (default: a new figure).
            log: logarithmic x axis (default: positive numbers spanning a factor >= 100).

        Returns:
            The matplotlib Axes.

        Raises:
            ImportError: matplotlib is missing (extra 'plot').
            ValueError: ``param`` unknown, or several parameters vary and ``param`` is None.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("plot needs matplotlib: pip install 'gradkit[plot]'") from exc
        results, best = self.results, self.best_params
        names = sorted({k for r in results for k in r.params})
        varying = [k for k in names if len({repr(r.params.get(k)) for r in results}) > 1]
        if param is None:
            if len(varying) != 1:
                raise ValueError(f"pass param=, one of {names}: {len(varying)} parameters vary ({varying})")
            param = varying[0]
        if param not in names:
            raise ValueError(f"param={param!r} is not a searched parameter; choose one of {names}")
        line = [r for r in results if param in r.params
                and all(repr(r.params.get(k)) == repr(best.get(k)) for k in names if k != param)]
        xs = [r.params[param] for r in line]
        numeric = all(isinstance(x, numbers.Real) and not isinstance(x, bool) for x in xs)
        if numeric:
            order = np.argsort(np.asarray(xs, dtype=np.float64), kind="stable")
            line, positions = [line[i] for i in order], np.asarray([xs[i] for i in order], dtype=np.float64)
        else:
            positions = np.arange(len(line), dtype=np.float64)
        if ax is None:
            _, ax = plt.subplots()
        key = line[0].key
        mean = np.array([r.mean for r in line])
        std = np.array([r.std for r in line])
        ax.plot(positions, mean, "o-", label=f"validation {key}")
        ax.fill_between(positions, mean - std, mean + std, alpha=0.2)
        train_key = line[0].train_key
        if train_key is not None:
            train_mean = np.array([r.means[train_key] for r in line])
            train_std = np.array([r.stds[train_key] for r in line])
            ax.plot(positions, train_mean, "s--", label=f"training {key}")
            ax.fill_between(positions, train_mean - train_std, train_mean + train_std, alpha=0.2)
        best_at = next(i for i, r in enumerate(line) if r is self.best_result)
        ax.plot([positions[best_at]], [mean[best_at]], "*", markersize=14,
                label=f"best {param}={line[best_at].params[param]!r}")
        if not numeric:
            ax.set_xticks(positions)
            ax.set_xticklabels([str(r.params[param]) for r in line])
        elif log or (log is None and positions.min() > 0 and positions.max() / positions.min() >= 100):
            ax.set_xscale("log")
        ax.set_xlabel(param)
        ax.set_ylabel(key)
        ax.set_title(f"{type(self).__name__}: {key} against {param}")
        ax.legend()
        return ax


class GridSearch(_BaseSearch):
    """Exhaustive search: cross-validate every combination of ``param_grid`` and keep the best.

    best = argmax over candidates c of mean_f train_eval(X[train_f], y[train_f], X[val_f], y[val_f], **c)

    Args:
        train_eval: ``train_eval(X_train, y_train, X_val, y_val, **params)`` -> score or dict of scores
            (``"train_<name>"`` keys are training scores, drawn by :meth:`plot`).
        param_grid: dict name -> list of values, or a list of such dicts.
        cv: int, splitter or iterable of (train, test) pairs (see
            :func:`~gradkit.data.validation.check_cv`).
        n_jobs: 1 in this process, else through joblib (loky processes or an enclosing
            ``joblib.parallel_backend``, e.g. 'dask'); results do not depend on it.
        progress: tqdm bar over candidates x folds when stderr is a terminal.
        seed: base of the fold seeds (see :func:`~gradkit.data.validation.cross_validate`).
        error_score: score of a failed fit (with a warning), or 'raise'.
        score_key: the score that ranks candidates when ``train_eval`` returns a dict.
        greater_is_better: False to pick the lowest mean (e.g. a validation loss).

    Attributes:
        results: list of :class:`~gradkit.data.validation.CVResult`, one per candidate.
        best_params, best_score, best_index, best_result, ranks: the winner and the ranking.

    Raises:
        ValueError: empty grid, a value not in a list, bad ``n_jobs``/``error_score``.

    Example:
        >>> def train_eval(X_tr, y_tr, X_val, y_val, shift):
        ...     return -float(np.mean((y_val - (y_tr.mean() + shift)) ** 2))
        >>> X = np.arange(10.0).reshape(-1, 1)
        >>> search = GridSearch(train_eval, {"shift": [-1.0, 0.0, 1.0]}, cv=5, progress=False).fit(X, X[:, 0])
        >>> search.best_params
        {'shift': 0.0}
    """

    def __init__(self, train_eval: TrainEval, param_grid: Mapping | Sequence[Mapping], cv: Any = 5,
                 n_jobs: int | None = 1, progress: bool = True, *, seed: int | None = None,
                 error_score: Any = np.nan, score_key: str | None = None, greater_is_better: bool = True) -> None:
        super().__init__(train_eval, cv, n_jobs, progress, seed, error_score, score_key, greater_is_better)
        self.param_grid = param_grid
        self.candidates = parameter_grid(param_grid)

    def _candidates(self, rng: np.random.Generator) -> list[dict]:
        return self.candidates

    def __repr__(self) -> str:
        return f"GridSearch({len(self.candidates)} candidates, cv={self.cv!r}, n_jobs={self.n_jobs})"


class RandomSearch(_BaseSearch):
    """Random search: cross-validate ``n_iter`` sampled settings and keep the best.

    Lists are sampled uniformly (without replacement when every value is a list), objects with
    ``.rvs(random_state=rng)`` (scipy.stats distributions) are drawn from.

    Args:
        train_eval: as :class:`GridSearch`.
        param_distributions: dict name -> list or distribution, or a list of such dicts.
        n_iter: number of candidates, at least 1.
        cv, n_jobs, progress, error_score, score_key, greater_is_better: as :class:`GridSearch`.
        seed: seeds the sampling and the fold seeds (None: gradkit's generator, ``gk.manual_seed``).

    Raises:
        ValueError: empty distributions, ``n_iter`` < 1, bad ``n_jobs``/``error_score``.

    Example:
        >>> def train_eval(X_tr, y_tr, X_val, y_val, shift):
        ...     return -float(np.mean((y_val - (y_tr.mean() + shift)) ** 2))
        >>> X = np.arange(10.0).reshape(-1, 1)
        >>> search = RandomSearch(train_eval, {"shift": [-2.0, 0.0, 3.0]}, n_iter=3, seed=0, progress=False)
        >>> search.fit(X, X[:, 0]).best_params
        {'shift': 0.0}
    """

    def __init__(self, train_eval: TrainEval, param_distributions: Mapping | Sequence[Mapping], n_iter: int = 10,
                 cv: Any = 5, seed: int | None = None, n_jobs: int | None = 1, progress: bool = True, *,
                 error_score: Any = np.nan, score_key: str | None = None, greater_is_better: bool = True) -> None:
        super().__init__(train_eval, cv, n_jobs, progress, seed, error_score, score_key, greater_is_better)
        if isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or n_iter < 1:
            raise ValueError(f"n_iter should be a positive integer, got n_iter={n_iter!r}")
        self.n_iter = int(n_iter)
        _check_distributions(param_distributions)
        self.param_distributions = param_distributions

    def _candidates(self, rng: np.random.Generator) -> list[dict]:
        return parameter_sample(self.param_distributions, self.n_iter, rng)

    def __repr__(self) -> str:
        return f"RandomSearch(n_iter={self.n_iter}, cv={self.cv!r}, seed={self.seed!r}, n_jobs={self.n_jobs})"
