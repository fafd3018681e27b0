"""GridSearch / RandomSearch: candidate order, recovery of a known λ, DA-10 cases, n_jobs and Dask parity, plot."""
from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from gradkit.data.preprocessing import NotFittedError
from gradkit.data.search import GridSearch, RandomSearch, parameter_grid, parameter_sample
from gradkit.data.validation import FitFailedWarning, cross_validate


# ---------- train_eval functions at module level, so joblib workers can unpickle them ----------

def ridge(X_train, y_train, X_val, y_val, lam):
    """Closed-form ridge regression w = (X'X + λI)^-1 X'y; negative MSEs on validation and training data."""
    w = np.linalg.solve(X_train.T @ X_train + lam * np.eye(X_train.shape[1]), X_train.T @ y_train)
    return {"score": -float(np.mean((X_val @ w - y_val) ** 2)),
            "train_score": -float(np.mean((X_train @ w - y_train) ** 2))}


def ridge_mse(X_train, y_train, X_val, y_val, lam):
    """Validation MSE (lower is better)."""
    return -ridge(X_train, y_train, X_val, y_val, lam)["score"]


def constant(X_train, y_train, X_val, y_val, a, b=0):
    """Score depends only on a (ties across b): a=1 and a=3 tie for the best."""
    return {1: 1.0, 2: 0.5, 3: 1.0}[a]


def fails_for_negative(X_train, y_train, X_val, y_val, a):
    if a < 0:
        raise ValueError(f"a must be >= 0, got {a}")
    return -abs(a - 1.0)


def nan_for_zero(X_train, y_train, X_val, y_val, a):
    return float("nan") if a == 0 else float(a)


def noisy(X_train, y_train, X_val, y_val, a, kind="x"):
    """Depends on the fold seed through gradkit's default generator."""
    from gradkit.autograd.random import default_generator

    return {"score": a + default_generator().normal() + float(X_val.sum()), "train_score": a - 1.0}


def noisy_on_dask(X_train, y_train, X_val, y_val, a):
    """``noisy``'s score plus whether this fit ran inside a Dask worker."""
    from dask.distributed import get_worker

    try:
        get_worker()
        on_worker = 1.0
    except ValueError:
        on_worker = 0.0
    return {"score": noisy(X_train, y_train, X_val, y_val, a)["score"], "on_dask_worker": on_worker}


def ridge_problem(seed: int = 0, n: int = 100, d: int = 40, noise_var: float = 10.0):
    """y = Xw + e with w ~ N(0, I), e ~ N(0, σ²): the Bayes-optimal ridge penalty is λ* = σ²/1 = 10."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + rng.normal(size=n) * np.sqrt(noise_var)
    return X, y


LAMBDAS = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]


# ---------- candidates ----------

@pytest.mark.parametrize("grid", [
    {"lam": [1.0, 0.1], "degree": [3, 1, 2]},
    [{"kernel": ["rbf"], "gamma": [1, 2]}, {"kernel": ["linear"], "C": np.array([1, 10])}],
])
def test_parameter_grid_order_equals_sklearn(grid):
    sk = pytest.importorskip("sklearn.model_selection")
    assert parameter_grid(grid) == list(sk.ParameterGrid(grid))


@pytest.mark.parametrize("grid, match", [
    ({}, "param_grid is empty"), ([], "param_grid is empty"), ({"lam": []}, r"param_grid\['lam'\] is an empty"),
    ({"lam": 0.1}, "Single values need to be wrapped in a list"), ({"lam": "abc"}, "wrapped in a list"),
    ({"lam": np.ones((2, 2))}, "one-dimensional")])
def test_empty_or_malformed_grid_raises(grid, match):
    with pytest.raises(ValueError, match=match):
        GridSearch(ridge, grid)


def test_grid_of_wrong_type_raises():
    with pytest.raises(TypeError, match="dict or a list of dicts"):
        GridSearch(ridge, [("lam", [1.0])])
    with pytest.raises(TypeError, match="parameter names"):
        GridSearch(ridge, {1: [1.0]})


def test_parameter_sample_draws_lists_without_replacement_and_distributions_with_rvs():
    stats = pytest.importorskip("scipy.stats")
    grid = {"a": [1, 2, 3], "b": ["x", "y"]}
    drawn = parameter_sample(grid, 6, np.random.default_rng(0))
    assert sorted(map(str, drawn)) == sorted(map(str, parameter_grid(grid)))  # all 6, each once
    with pytest.warns(UserWarning, match="smaller than n_iter=7"):
        assert len(parameter_sample(grid, 7, np.random.default_rng(0))) == 6
    dists = {"lam": stats.loguniform(1e-3, 1e3), "degree": [1, 2, 3]}
    a = parameter_sample(dists, 20, np.random.default_rng(1))
    assert a == parameter_sample(dists, 20, np.random.default_rng(1))
    assert all(1e-3 <= c["lam"] <= 1e3 and c["degree"] in (1, 2, 3) for c in a)
    assert len({c["lam"] for c in a}) == 20 and {c["degree"] for c in a} == {1, 2, 3}


# ---------- recovering a known hyperparameter ----------

def test_grid_search_recovers_the_bayes_optimal_ridge_penalty():
    X, y = ridge_problem()
    search = GridSearch(ridge, {"lam": LAMBDAS}, cv=5, progress=False).fit(X, y)
    assert search.best_params == {"lam": 10.0}
    assert search.best_score == max(r.mean for r in search.results)
    expected = [cross_validate(ridge, X, y, cv=5, progress=False, params={"lam": lam}).mean for lam in LAMBDAS]
    np.testing.assert_array_equal([r.mean for r in search.results], expected)
    train = [r.means["train_score"] for r in search.results]
    assert all(a >= b for a, b in zip(train, train[1:]))  # training fit only worsens as λ grows


def test_greater_is_better_false_minimises():
    X, y = ridge_problem()
    search = GridSearch(ridge_mse, {"lam": LAMBDAS}, cv=5, progress=False, greater_is_better=False).fit(X, y)
    assert search.best_params == {"lam": 10.0}
    assert search.best_score == min(r.mean for r in search.results)


def test_random_search_candidates_follow_the_seed_and_find_the_best():
    X, y = ridge_problem()
    search = RandomSearch(ridge, {"lam": LAMBDAS}, n_iter=6, seed=3, progress=False).fit(X, y)
    assert [r.params for r in search.results] == parameter_sample({"lam": LAMBDAS}, 6, np.random.default_rng(3))
    assert search.best_params == {"lam": 10.0}
    with pytest.raises(ValueError, match="n_iter should be a positive integer"):
        RandomSearch(ridge, {"lam": LAMBDAS}, n_iter=0)
    with pytest.raises(ValueError, match=r"param_distributions\['lam'\] is an empty list"):
        RandomSearch(ridge, {"lam": []})
    with pytest.raises(ValueError, match="param_distributions is empty"):
        RandomSearch(ridge, {})


# ---------- DA-10: failures, non-finite scores, ties ----------

def test_failing_config_is_recorded_with_warning():
    X, y = np.arange(10.0).reshape(-1, 1), np.zeros(10)
    with pytest.warns(FitFailedWarning, match=r"5 of 15 fits failed.*params=\{'a': -1\}.*a must be >= 0"):
        search = GridSearch(fails_for_negative, {"a": [-1, 0, 1]}, cv=5, progress=False).fit(X, y)
    assert np.isnan(search.results[0].scores["score"]).all()
    assert all("a must be >= 0" in e for e in search.results[0].errors)
    assert search.best_params == {"a": 1} and search.ranks.tolist() == [3, 2, 1]


def test_failing_config_reraises_when_asked():
    X, y = np.arange(10.0).reshape(-1, 1), np.zeros(10)
    with pytest.raises(ValueError, match="a must be >= 0, got -1"):
        GridSearch(fails_for_negative, {"a": [0, -1]}, cv=5, progress=False, error_score="raise").fit(X, y)


def test_non_finite_score_warns_and_ranks_last():
    X, y = np.arange(10.0).reshape(-1, 1), np.zeros(10)
    with pytest.warns(UserWarning, match=r"non-finite for params=\{'a': 0\}"):
        search = GridSearch(nan_for_zero, {"a": [0, -5, -2]}, cv=2, progress=False).fit(X, y)
    assert search.best_params == {"a": -2} and search.ranks.tolist() == [3, 2, 1]


def test_ties_are_broken_by_grid_order():
    X, y = np.arange(6.0).reshape(-1, 1), np.zeros(6)
    search = GridSearch(constant, {"a": [2, 3, 1], "b": [0, 1]}, cv=2, progress=False).fit(X, y)
    # sorted keys, last varies fastest: (a=2,b=0) (2,1) (3,0) (3,1) (1,0) (1,1); a=3 and a=1 tie
    assert search.best_index == 2 and search.best_params == {"a": 3, "b": 0}
    assert search.ranks.tolist() == [5, 5, 1, 1, 1, 1]
    again = GridSearch(constant, {"a": [1, 3], "b": [0]}, cv=2, progress=False).fit(X, y)
    assert again.best_params == {"a": 1, "b": 0}


def test_results_before_fit_raise_not_fitted():
    search = GridSearch(ridge, {"lam": [1.0]})
    with pytest.raises(NotFittedError, match="call .fit"):
        _ = search.best_params


# ---------- parallel parity ----------

def test_grid_search_n_jobs_2_identical_to_n_jobs_1():
    pytest.importorskip("joblib")
    X, y = np.arange(12.0).reshape(-1, 1), np.zeros(12)
    grid = {"a": [0.0, 0.5, 1.0], "kind": ["x", "y"]}
    serial = GridSearch(noisy, grid, cv=3, seed=1, progress=False).fit(X, y)
    parallel = GridSearch(noisy, grid, cv=3, seed=1, n_jobs=2, progress=False).fit(X, y)
    assert [r.params for r in serial.results] == [r.params for r in parallel.results]
    for a, b in zip(serial.results, parallel.results):
        np.testing.assert_array_equal(a.scores["score"], b.scores["score"])
    assert serial.best_params == parallel.best_params and serial.best_score == parallel.best_score


def test_dask_backend_spreads_the_same_search():
    pytest.importorskip("joblib")
    distributed = pytest.importorskip("dask.distributed")
    import joblib

    X, y = np.arange(12.0).reshape(-1, 1), np.zeros(12)
    grid = {"a": [0.0, 1.0]}
    serial = GridSearch(noisy, grid, cv=3, seed=2, progress=False).fit(X, y)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None):
        with joblib.parallel_backend("dask"):
            on_dask = GridSearch(noisy_on_dask, grid, cv=3, seed=2, n_jobs=-1, progress=False).fit(X, y)
    for a, b in zip(serial.results, on_dask.results):
        np.testing.assert_array_equal(a.scores["score"], b.scores["score"])
        assert (b.scores["on_dask_worker"] == 1.0).all()  # every fit ran on the cluster


# ---------- table, progress, plot ----------

def test_table_lists_every_candidate_with_rank():
    X, y = ridge_problem()
    search = GridSearch(ridge, {"lam": [1.0, 10.0]}, cv=3, progress=False).fit(X, y)
    lines = search.table().splitlines()
    assert len(lines) == 2
    for line, rank, result in zip(lines, search.ranks, search.results):
        assert line.split()[0] == str(rank) and f"{result.mean:.4f}" in line and str(result.params) in line


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_counts_candidates_times_folds(monkeypatch):
    pytest.importorskip("tqdm")
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    GridSearch(nan_for_zero, {"a": [1, 2, 3]}, cv=2).fit(np.zeros((4, 1)), np.zeros(4))
    assert "3 candidates x 2 folds" in terminal.getvalue() and "/6" in terminal.getvalue()


def test_plot_draws_validation_and_training_curves():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = ridge_problem()
    grid = {"lam": [100.0, 0.1, 10.0, 1.0]}
    search = GridSearch(ridge, grid, cv=3, progress=False).fit(X, y)
    ax = search.plot()
    val, train, best = ax.get_lines()
    np.testing.assert_array_equal(val.get_xdata(), sorted(grid["lam"]))
    by_lam = {r.params["lam"]: r for r in search.results}
    np.testing.assert_allclose(val.get_ydata(), [by_lam[v].mean for v in sorted(grid["lam"])])
    np.testing.assert_allclose(train.get_ydata(), [by_lam[v].means["train_score"] for v in sorted(grid["lam"])])
    assert best.get_xdata()[0] == search.best_params["lam"]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "lam"
    plt.close("all")


def test_plot_with_several_parameters_needs_param():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = np.arange(12.0).reshape(-1, 1), np.zeros(12)
    search = GridSearch(noisy, {"a": [0.0, 1.0, 2.0], "kind": ["x", "y"]}, cv=3, seed=0, progress=False).fit(X, y)
    with pytest.raises(ValueError, match=r"pass param=, one of \['a', 'kind'\]"):
        search.plot()
    with pytest.raises(ValueError, match="param='c' is not a searched parameter"):
        search.plot(param="c")
    ax = search.plot(param="kind")  # categorical axis, a held at its best value
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y"]
    ax = search.plot(param="a", ax=plt.subplots()[1])
    assert ax.get_lines()[0].get_xdata().tolist() == [0.0, 1.0, 2.0] and ax.get_xscale() == "linear"
    plt.close("all")


def test_grid_search_with_joblib_threads_identical_to_n_jobs_1():
    """Folds running in threads of one process draw from their own generators (fork_rng), not a shared one."""
    joblib = pytest.importorskip("joblib")
    X, y = np.arange(12.0).reshape(-1, 1), np.zeros(12)
    grid = {"a": [0.0, 0.5, 1.0], "kind": ["x", "y"]}
    serial = GridSearch(noisy, grid, cv=3, seed=4, progress=False).fit(X, y)
    with joblib.parallel_backend("threading", n_jobs=2):
        threaded = GridSearch(noisy, grid, cv=3, seed=4, n_jobs=2, progress=False).fit(X, y)
    for a, b in zip(serial.results, threaded.results):
        np.testing.assert_array_equal(a.scores["score"], b.scores["score"])
