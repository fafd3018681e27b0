"""nn.Classifier / nn.Regressor: scikit-learn's estimator checks, its meta-estimators, gradkit's search, bad input."""
from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit import data, nn, optim
from gradkit.nn.estimator import NotFittedError, mlp

sklearn = pytest.importorskip("sklearn")
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402  (after the importorskip)

FAST = {"hidden_sizes": (32,), "lr": 1e-2, "epochs": 30, "seed": 0}  # small settings: the checks fit ~100 models


# Documented exception: the estimators implement scikit-learn's protocol without inheriting BaseEstimator
# (scikit-learn is an optional dependency of gradkit), which parametrize_with_checks warns about.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Estimator .* does not inherit", category=UserWarning)
    _sklearn_checks = parametrize_with_checks([nn.Classifier(**FAST), nn.Regressor(**FAST)])


@_sklearn_checks
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)


def _blobs(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X, y = data.make_blobs(n_samples=n, centers=3, seed=seed)
    return np.asarray(X, dtype=np.float64), np.asarray(y)


def _regression(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(n)


def test_pipeline_cross_val_score_and_gridsearchcv() -> None:
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _blobs()
    pipe = make_pipeline(StandardScaler(), nn.Classifier(hidden_sizes=(16,), lr=1e-2, epochs=20, seed=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.9
    search = GridSearchCV(pipe, {"classifier__lr": [1e-4, 1e-2], "classifier__epochs": [2, 20]}, cv=3).fit(X, y)
    assert search.best_params_ == {"classifier__epochs": 20, "classifier__lr": 1e-2}  # more training wins
    assert search.best_estimator_.score(X, y) > 0.9


def test_gradkit_grid_search_with_the_estimator() -> None:
    X, y = _blobs()

    def train_eval(X_tr, y_tr, X_val, y_val, **params):
        return nn.Classifier(hidden_sizes=(16,), seed=0, **params).fit(X_tr, y_tr).score(X_val, y_val)

    search = data.GridSearch(train_eval, {"lr": [1e-5, 1e-2], "epochs": [20]}, cv=3, progress=False).fit(X, y)
    assert search.best_params["lr"] == 1e-2 and search.best_score > 0.9


def test_predict_proba_is_softmax_of_the_network_and_predict_its_argmax() -> None:
    from scipy.special import softmax

    X, y = _blobs()
    clf = nn.Classifier(**FAST).fit(X, np.array(["a", "b", "c"])[y])
    with gk.no_grad():
        logits = clf.module_(gk.tensor(X)).numpy()
    np.testing.assert_allclose(clf.predict_proba(X), softmax(logits, axis=1), rtol=1e-10)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(softmax(logits, axis=1)), rtol=1e-8, atol=1e-12)
    assert clf.predict(X).tolist() == clf.classes_[logits.argmax(axis=1)].tolist()
    assert clf.classes_.tolist() == ["a", "b", "c"]


def test_scores_equal_sklearn_metrics() -> None:
    from sklearn.metrics import accuracy_score, r2_score

    X, y = _blobs()
    clf = nn.Classifier(hidden_sizes=(4,), epochs=3, seed=0).fit(X, y)
    assert clf.score(X, y) == pytest.approx(accuracy_score(y, clf.predict(X)))
    X, t = _regression()
    reg = nn.Regressor(hidden_sizes=(8,), epochs=5, seed=0).fit(X, t)
    assert reg.score(X, t) == pytest.approx(r2_score(t, reg.predict(X)))
    T = np.column_stack([t, -t])
    reg2 = nn.Regressor(hidden_sizes=(8,), epochs=5, seed=0).fit(X, T)
    assert reg2.predict(X).shape == (len(X), 2)
    assert reg2.score(X, T) == pytest.approx(r2_score(T, reg2.predict(X)))


def test_seed_makes_fit_reproducible_and_leaves_gradkit_generator_alone() -> None:
    X, y = _blobs()
    gk.manual_seed(123)
    before = gk.autograd.random.get_rng_state()
    a = nn.Classifier(**FAST).fit(X, y).predict_proba(X)
    assert gk.autograd.random.get_rng_state() == before
    b = nn.Classifier(**FAST).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = nn.Classifier(**{**FAST, "seed": 1}).fit(X, y).predict_proba(X)
    assert not np.array_equal(a, c)


def test_custom_module_loss_and_optimizer() -> None:
    X, t = _regression()
    factory = functools.partial(mlp, hidden_sizes=(8, 8))
    reg = nn.Regressor(factory, loss=nn.L1Loss, optimizer=optim.SGD, lr=0.05, epochs=40, seed=0).fit(X, t)
    assert [type(m).__name__ for m in reg.module_] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert reg.score(X, t) > 0.9
    assert len(reg.history_.train_loss) == 40


def test_get_set_params_and_repr() -> None:
    clf = nn.Classifier(lr=0.1)
    assert clf.get_params()["lr"] == 0.1 and clf.get_params()["epochs"] == 50
    assert clf.set_params(epochs=3) is clf and clf.epochs == 3
    assert repr(clf) == "Classifier(epochs=3, lr=0.1)"
    with pytest.raises(ValueError, match="Invalid parameter 'hidden' for estimator Classifier.*hidden_sizes"):
        clf.set_params(hidden=3)


@pytest.mark.parametrize("params, words", [
    ({"epochs": 0}, ["epochs", "positive integer", "epochs=0"]),
    ({"batch_size": 2.5}, ["batch_size", "positive integer", "2.5"]),
    ({"lr": -1.0}, ["lr", "positive number", "-1.0"]),
    ({"weight_decay": -0.1}, ["weight_decay", ">= 0", "-0.1"]),
    ({"dropout": 1.0}, ["dropout", "[0, 1)", "1.0"]),
    ({"hidden_sizes": (8, 0)}, ["hidden_sizes", "positive integers", "(8, 0)"]),
])
def test_bad_hyperparameters_are_named_in_fit(params, words) -> None:
    X, y = _blobs(30)
    with pytest.raises(ValueError) as exc:
        nn.Classifier(**params).fit(X, y)
    for word in words:
        assert word in str(exc.value)


def test_bad_input_messages() -> None:
    X, y = _blobs(30)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        nn.Classifier().predict(X)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array.*reshape"):
        nn.Classifier(**FAST).fit(X[:, 0], y)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        nn.Classifier(**FAST).fit(X, y + 0.5)
    with pytest.raises(ValueError, match="1 class"):
        nn.Classifier(**FAST).fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="inconsistent numbers of samples: X has 30, y has 29"):
        nn.Regressor(**FAST).fit(X, y[:-1])
    with pytest.raises(TypeError, match="module must be a factory"):
        nn.Regressor(module="mlp").fit(X, y)
    with pytest.raises(TypeError, match="must return a gradkit nn.Module, got int"):
        nn.Regressor(module=lambda n_in, n_out: 3).fit(X, y)
    clf = nn.Classifier(hidden_sizes=(4,), epochs=1, seed=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 1 features, but Classifier is expecting 2 features"):
        clf.predict(X[:, :1])
