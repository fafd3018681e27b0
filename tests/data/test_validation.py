"""cross_validate, check_cv and CVResult: fold scores, cv forms, seeding, n_jobs parity, failures, bad input."""
from __future__ import annotations

import io
import sys
import warnings

import numpy as np
import pytest

from gradkit.autograd.random import default_generator, manual_seed
from gradkit.data.split import KFold, StratifiedKFold
from gradkit.data.validation import CVResult, FitFailedWarning, check_cv, cross_validate, fold_seeds


# ---------- train_eval functions at module level, so joblib workers can unpickle them ----------

def mean_predictor(X_train, y_train, X_val, y_val):
    """Negative validation MSE of predicting the training mean."""
    return -float(np.mean((y_val - y_train.mean()) ** 2))


def noisy_scores(X_train, y_train, X_val, y_val, offset=0.0):
    """A dict of scores that depend on gradkit's default generator (so on the fold seed)."""
    noise = default_generator().normal()
    return {"score": float(X_val.sum()) + offset + noise, "train_score": float(X_train.sum()) + noise}


def fails_on_first_fold(X_train, y_train, X_val, y_val):
    if 0 in X_val[:, 0]:
        raise ArithmeticError("boom on the fold holding sample 0")
    return 1.0


def always_fails(X_train, y_train, X_val, y_val):
    raise KeyError("always")


def returns_nan(X_train, y_train, X_val, y_val):
    return float("nan") if 0 in X_val[:, 0] else 1.0


def returns_list(X_train, y_train, X_val, y_val):
    return [1.0]


def record_sizes(X_train, y_train, X_val, y_val):
    return {"n_train": len(X_train), "n_val": len(X_val)}


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = np.arange(20.0).reshape(-1, 1)
    return X, rng.normal(size=20)


def test_fold_scores_equal_a_manual_loop(data):
    X, y = data
    result = cross_validate(mean_predictor, X, y, cv=4, progress=False)
    expected = [mean_predictor(X[tr], y[tr], X[te], y[te]) for tr, te in KFold(4).split(X, y)]
    np.testing.assert_array_equal(result.scores["score"], expected)
    assert result.mean == pytest.approx(np.mean(expected)) and result.std == pytest.approx(np.std(expected))
    assert result.key == "score" and result.n_folds == 4
    np.testing.assert_array_equal(result.test_sizes, [5, 5, 5, 5])


def test_gradkit_tensors_are_accepted_and_passed_on_as_arrays(data):
    from gradkit.autograd import tensor

    X, y = data
    result = cross_validate(mean_predictor, tensor(X), tensor(y), cv=4, progress=False)
    np.testing.assert_array_equal(result.scores["score"],
                                  cross_validate(mean_predictor, X, y, cv=4, progress=False).scores["score"])


def test_params_reach_train_eval(data):
    X, y = data
    a = cross_validate(noisy_scores, X, y, cv=2, progress=False, seed=0)
    b = cross_validate(noisy_scores, X, y, cv=2, progress=False, seed=0, params={"offset": 10.0})
    np.testing.assert_allclose(b.scores["score"] - a.scores["score"], 10.0)
    assert b.params == {"offset": 10.0}


# ---------- cv forms ----------

def test_int_cv_stratifies_class_labels_and_not_continuous_targets():
    X = np.zeros((12, 1))
    y_class = np.array([0] * 8 + [1] * 4)
    for y in (y_class, y_class.astype(bool), np.array(["a"] * 8 + ["b"] * 4)):
        got = [te.tolist() for _, te in check_cv(3, X, y)]
        assert got == [te.tolist() for _, te in StratifiedKFold(3).split(X, y)]
        assert got != [te.tolist() for _, te in KFold(3).split(X, y)]
    y_float = y_class.astype(float)
    assert [te.tolist() for _, te in check_cv(3, X, y_float)] == [te.tolist() for _, te in KFold(3).split(X)]
    assert [te.tolist() for _, te in check_cv(3, X, None)] == [te.tolist() for _, te in KFold(3).split(X)]


def test_cv_accepts_splitter_objects_and_index_pairs(data):
    X, y = data
    splitter = KFold(4, shuffle=True, seed=0)
    r1 = cross_validate(record_sizes, X, y, cv=splitter, progress=False)
    pairs = list(splitter.split(X))
    r2 = cross_validate(mean_predictor, X, y, cv=iter(pairs), progress=False)
    np.testing.assert_array_equal(r2.scores["score"], [mean_predictor(X[a], y[a], X[b], y[b]) for a, b in pairs])
    np.testing.assert_array_equal(r1.scores["n_val"], [len(b) for _, b in pairs])
    r3 = cross_validate(record_sizes, X, y, cv=[(np.arange(5, 20), np.arange(5))], progress=False)
    assert r3.scores["n_train"].tolist() == [15.0] and r3.scores["n_val"].tolist() == [5.0]


@pytest.mark.parametrize("cv, match", [
    (True, "cv should be an int"), ("5", "cv should be an int"), (3.5, "cv should be an int"),
    ([], "produced no"), ([(np.arange(3),)], "not a \\(train, test\\) pair"),
    ([(np.arange(3), np.array([25]))], r"must lie in \[0, 20\)"),
    ([(np.arange(3), np.array([], dtype=int))], "test set is empty"),
    ([(np.array([0.5]), np.arange(3))], "1-D array of integers")])
def test_bad_cv_raises(data, cv, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        cross_validate(mean_predictor, X, y, cv=cv, progress=False)


def test_int_cv_errors_come_from_the_splitter(data):
    X, y = data
    with pytest.raises(ValueError, match="n_splits=2 or more"):
        cross_validate(mean_predictor, X, y, cv=1, progress=False)
    with pytest.raises(ValueError, match="n_splits=21 greater than the number of samples: n_samples=20"):
        cross_validate(mean_predictor, X, y, cv=21, progress=False)


# ---------- seeding and parallel parity ----------

def test_same_seed_same_scores_and_caller_generator_untouched(data):
    X, y = data
    manual_seed(123)
    state = default_generator().bit_generator.state
    a = cross_validate(noisy_scores, X, y, cv=4, progress=False, seed=7)
    assert default_generator().bit_generator.state == state  # fold seeding restores the caller's state
    b = cross_validate(noisy_scores, X, y, cv=4, progress=False, seed=7)
    c = cross_validate(noisy_scores, X, y, cv=4, progress=False, seed=8)
    np.testing.assert_array_equal(a.scores["score"], b.scores["score"])
    assert not np.array_equal(a.scores["score"], c.scores["score"])


def test_unseeded_run_follows_manual_seed(data):
    X, y = data
    manual_seed(5)
    a = cross_validate(noisy_scores, X, y, cv=3, progress=False)
    manual_seed(5)
    b = cross_validate(noisy_scores, X, y, cv=3, progress=False)
    np.testing.assert_array_equal(a.scores["score"], b.scores["score"])


def test_fold_seeds_are_distinct_and_reproducible():
    seeds = fold_seeds(3, 10)
    assert len(set(seeds)) == 10 and seeds == fold_seeds(3, 10) and seeds != fold_seeds(4, 10)


def test_n_jobs_2_gives_identical_results(data):
    pytest.importorskip("joblib")
    X, y = data
    serial = cross_validate(noisy_scores, X, y, cv=4, n_jobs=1, progress=False, seed=0)
    parallel = cross_validate(noisy_scores, X, y, cv=4, n_jobs=2, progress=False, seed=0)
    for name in ("score", "train_score"):
        np.testing.assert_array_equal(serial.scores[name], parallel.scores[name])


# ---------- failures and non-finite scores ----------

def test_failed_fold_is_scored_nan_with_warning(data):
    X, y = data
    with pytest.warns(FitFailedWarning, match="1 of 4 fits failed.*ArithmeticError: boom"):
        result = cross_validate(fails_on_first_fold, X, y, cv=4, progress=False)
    assert np.isnan(result.scores["score"][0]) and (result.scores["score"][1:] == 1.0).all()
    assert "ArithmeticError" in result.errors[0] and result.errors[1:] == [None, None, None]
    assert np.isnan(result.mean)
    with pytest.warns(FitFailedWarning):
        result = cross_validate(fails_on_first_fold, X, y, cv=4, progress=False, error_score=-1.0)
    assert result.scores["score"].tolist() == [-1.0, 1.0, 1.0, 1.0]


def test_error_score_raise_reraises_the_original_error(data):
    X, y = data
    with pytest.raises(ArithmeticError, match="boom"):
        cross_validate(fails_on_first_fold, X, y, cv=4, progress=False, error_score="raise")


def test_all_fits_failing_raises(data):
    X, y = data
    with pytest.raises(ValueError, match="All the 4 fits failed.*KeyError"):
        cross_validate(always_fails, X, y, cv=4, progress=False)


def test_non_finite_score_warns(data):
    X, y = data
    with pytest.warns(UserWarning, match="non-finite"):
        result = cross_validate(returns_nan, X, y, cv=4, progress=False)
    assert np.isnan(result.scores["score"][0])


def test_non_numeric_return_value_raises(data):
    X, y = data
    with pytest.raises(TypeError, match="number or a dict of numbers.*list"):
        cross_validate(returns_list, X, y, cv=2, progress=False)


# ---------- bad input ----------

@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_X_or_y_raises(data, bad, word):
    X, y = data
    X_bad, y_bad = X.copy(), y.copy()
    X_bad[3, 0], y_bad[4] = bad, bad
    with pytest.raises(ValueError, match=f"X contains {word}"):
        cross_validate(mean_predictor, X_bad, y, progress=False)
    with pytest.raises(ValueError, match=f"y contains {word}"):
        cross_validate(mean_predictor, X, y_bad, progress=False)


def test_length_mismatch_and_empty_input_raise(data):
    X, y = data
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[20, 19\]"):
        cross_validate(mean_predictor, X, y[:-1], progress=False)
    with pytest.raises(ValueError, match="X is empty"):
        cross_validate(mean_predictor, np.zeros((0, 2)), np.zeros(0), progress=False)


@pytest.mark.parametrize("kwargs, match", [({"n_jobs": 0}, "n_jobs should be None or a non-zero integer"),
                                           ({"n_jobs": True}, "n_jobs"),
                                           ({"error_score": "ignore"}, "error_score should be 'raise' or a number")])
def test_bad_options_raise(data, kwargs, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        cross_validate(mean_predictor, X, y, progress=False, **kwargs)


def test_score_key_must_be_returned(data):
    X, y = data
    with pytest.raises(ValueError, match=r"score_key='acc' is not among.*\['score', 'train_score'\]"):
        cross_validate(noisy_scores, X, y, cv=2, progress=False, score_key="acc")
    result = cross_validate(noisy_scores, X, y, cv=2, progress=False, score_key="train_score")
    assert result.key == "train_score"


# ---------- CVResult and progress ----------

def test_cv_result_table_and_repr():
    result = CVResult({"score": np.array([0.5, 1.0]), "train_score": np.array([0.75, 1.0])}, "score",
                      params={"lam": 0.1}, test_sizes=np.array([3, 2]))
    lines = result.table().splitlines()
    assert lines[0].split() == ["fold", "n_val", "score", "train_score"]
    assert lines[2].split() == ["0", "3", "0.5000", "0.7500"]
    assert lines[-2].split() == ["mean", "0.7500", "0.8750"] and lines[-1].split() == ["std", "0.2500", "0.1250"]
    assert str(result) == result.table()
    assert repr(result) == "CVResult(score=0.75 ± 0.25 over 2 folds, params={'lam': 0.1})"
    assert result.train_key == "train_score" and result["train_score"].tolist() == [0.75, 1.0]
    with pytest.raises(ValueError, match="key='acc' is not one of the scores"):
        CVResult({"score": np.ones(2)}, "acc")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_and_when_asked(data, monkeypatch):
    pytest.importorskip("tqdm")
    X, y = data
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    cross_validate(mean_predictor, X, y, cv=4)
    assert "folds" in terminal.getvalue() and "0/4" in terminal.getvalue()  # tqdm bar over the 4 folds
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    cross_validate(mean_predictor, X, y, cv=4, progress=False)
    assert terminal.getvalue() == ""
    log = io.StringIO()  # not a terminal: no bar even with progress=True
    monkeypatch.setattr(sys, "stderr", log)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cross_validate(mean_predictor, X, y, cv=4)
    assert log.getvalue() == ""
