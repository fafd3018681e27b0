"""scikit-learn-compatible estimators: :class:`Classifier` and :class:`Regressor` wrap a gradkit network.

Each estimator holds a *module factory* ``module(n_features, n_outputs) -> Module``
(default: an MLP of ``hidden_sizes`` with ReLU and optional dropout), a loss
class and an optimizer class, and follows scikit-learn's estimator protocol
(``sklearn/base.py``): ``__init__`` only stores its arguments, ``fit`` validates
them and learns attributes ending in ``_`` (``module_``, ``classes_``,
``n_features_in_``, ``history_``), ``get_params`` / ``set_params`` read the
``__init__`` signature. So a gradkit model drops into scikit-learn's ``Pipeline``,
``cross_val_score`` and ``GridSearchCV`` -- and into gradkit's own search.
scikit-learn itself is not needed: its estimator tags are built only when
scikit-learn asks for them (``__sklearn_tags__``).

Randomness: ``seed=None`` draws initialisation, dropout and shuffling from
gradkit's generator (``gk.manual_seed``); an int makes every ``fit`` identical.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 2)); y = (X[:, 0] > 0).astype(int)
    >>> clf = Classifier(hidden_sizes=(8,), lr=0.05, epochs=30, seed=0).fit(X, y)
    >>> clf.score(X, y) > 0.9, clf.predict_proba(X[:2]).shape
    (True, (2, 2))
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import numbers
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradkit.autograd.grad_mode import no_grad
from gradkit.autograd.random import fork_rng
from gradkit.autograd.tensor import from_numpy
from gradkit.nn.activation import ReLU
from gradkit.nn.container import Sequential
from gradkit.nn.dropout import Dropout
from gradkit.nn.linear import Linear
from gradkit.nn.loss import CrossEntropyLoss, MSELoss
from gradkit.nn.module import Module
from gradkit.nn.training import fit as fit_loop

__all__ = ["Classifier", "NotFittedError", "Regressor", "mlp"]


class NotFittedError(ValueError, AttributeError):
    """``predict``/``score`` called before ``fit`` (both a ValueError and an AttributeError, as scikit-learn's)."""


@functools.cache
def _not_fitted_class(sklearn_error: type | None) -> type[NotFittedError]:
    """NotFittedError, also a subclass of scikit-learn's when scikit-learn is loaded (its checks catch that one)."""
    if sklearn_error is None:
        return NotFittedError
    return type("NotFittedError", (NotFittedError, sklearn_error), {"__module__": __name__})


def _not_fitted(owner: str) -> NotFittedError:
    sklearn_exceptions = sys.modules.get("sklearn.exceptions")  # never imported here: only used if already loaded
    cls = _not_fitted_class(getattr(sklearn_exceptions, "NotFittedError", None))
    return cls(f"This {owner} instance is not fitted yet. Call 'fit' with appropriate arguments before using "
               "this estimator.")


def mlp(n_features: int, n_outputs: int, hidden_sizes: tuple[int, ...] = (100,), dropout: float = 0.0) -> Sequential:
    """The default network: ``Linear -> ReLU [-> Dropout]`` per hidden size, then ``Linear(., n_outputs)``.

    Example:
        >>> mlp(4, 3, hidden_sizes=(8,))
        Sequential(
          (0): Linear(in_features=4, out_features=8, bias=True)
          (1): ReLU()
          (2): Linear(in_features=8, out_features=3, bias=True)
        )
    """
    layers: list[Module] = []
    width = n_features
    for size in hidden_sizes:
        layers += [Linear(width, size), ReLU()] + ([Dropout(dropout)] if dropout > 0 else [])
        width = size
    layers.append(Linear(width, n_outputs))
    return Sequential(*layers)


@contextlib.contextmanager
def _seeded(seed: int | None) -> Iterator[None]:
    """With an int seed, run with a private generator ``default_rng(seed)`` behind gradkit's randomness
    (``fork_rng``: local to this thread, so fits in parallel threads cannot interfere)."""
    if seed is None:
        yield
        return
    with fork_rng(seed):
        yield


class _Minibatches:
    """Re-iterable minibatches of ``(X, y)`` numpy arrays, reshuffled each epoch from gradkit's generator."""

    def __init__(self, X: NDArray, y: NDArray, batch_size: int) -> None:
        self.X, self.y, self.batch_size = X, y, batch_size

    def __len__(self) -> int:
        return (len(self.X) + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[tuple[NDArray, NDArray]]:
        from gradkit.autograd.random import default_generator

        order = default_generator().permutation(len(self.X))
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            yield self.X[idx], self.y[idx]


# ---------------------------------------------------------------------------------------------------- input checks
def _check_X(X: Any, owner: str) -> NDArray:
    """``X`` as a 2-D finite float64 array, with scikit-learn's wording for every refusal."""
    if X is None:
        raise ValueError(f"{owner} needs X, a 2D array of shape (n_samples, n_features), got None")
    scipy_sparse = sys.modules.get("scipy.sparse")  # a sparse matrix can only exist if scipy is loaded
    if scipy_sparse is not None and scipy_sparse.issparse(X):
        raise TypeError(f"Sparse data was passed to {owner} ({type(X).__name__}), but dense data is required: "
                        "use X.toarray() to convert to a dense numpy array.")
    arr = np.asarray(X)
    if np.iscomplexobj(arr):
        raise ValueError("Complex data not supported: X has a complex dtype")
    arr = arr.astype(np.float64)  # TypeError for non-numeric objects ("float() argument must be a string or ...")
    if arr.ndim != 2:
        raise ValueError(f"Expected 2D array, got {arr.ndim}D array instead: X of shape {arr.shape}. Reshape your "
                         "data either using array.reshape(-1, 1) if your data has a single feature or "
                         "array.reshape(1, -1) if it contains a single sample.")
    for axis, what in ((0, "sample"), (1, "feature")):
        if arr.shape[axis] == 0:
            raise ValueError(f"Found array with 0 {what}(s) (shape={arr.shape}) while a minimum of 1 is required.")
    if np.isnan(arr).any():
        raise ValueError("Input X contains NaN.")
    if not np.isfinite(arr).all():
        raise ValueError("Input X contains infinity or a value too large for dtype('float64').")
    return arr


def _check_y(y: Any, n: int, owner: str) -> NDArray:
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None")
    arr = np.asarray(y)
    if np.iscomplexobj(arr):
        raise ValueError("Complex data not supported: y has a complex dtype")
    if arr.ndim == 0 or len(arr) != n:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: X has {n}, y has "
                         f"{arr.shape[0] if arr.ndim else 'a scalar'}")
    return arr


def _check_positive(value: Any, name: str, integer: bool) -> None:
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        raise ValueError(f"{name} must be a positive {'integer' if integer else 'number'}, got {name}={value!r}")


# ---------------------------------------------------------------------------------------------------- base
class _Estimator:
    """What Classifier and Regressor share: the parameters, the protocol, training and the forward pass."""

    _default_loss: Callable[[], Module]

    def __init__(self, module: Callable[[int, int], Module] | None = None, *, hidden_sizes: tuple[int, ...] = (100,),
                 dropout: float = 0.0, loss: Callable[[], Module] | None = None, optimizer: Callable | None = None,
                 lr: float = 1e-3, weight_decay: float = 0.0, epochs: int = 50, batch_size: int = 32,
                 seed: int | None = None, progress: bool = False) -> None:
        self.module = module
        self.hidden_sizes = hidden_sizes
        self.dropout = dropout
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.seed = seed
        self.progress = progress

    # ------------------------------------------------------------------ scikit-learn protocol
    @classmethod
    def _param_names(cls) -> list[str]:
        init = cls.__init__
        return sorted(p.name for p in inspect.signature(init).parameters.values()
                      if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments by name (scikit-learn's ``get_params``).

        Args:
            deep: accepted for scikit-learn compatibility (no nested estimators here).
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> _Estimator:
        """Set constructor arguments by name; returns ``self``.

        Raises:
            ValueError: an unknown parameter name (the valid ones are listed).
        """
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {type(self).__name__}. Valid parameters "
                                 f"are: {valid!r}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if not _same(v, defaults.get(k))]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "module_")

    def _sklearn_tags(self, kind: str) -> Any:
        from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags

        return Tags(estimator_type=kind, target_tags=TargetTags(required=True, multi_output=kind == "regressor",
                                                                single_output=True),
                    transformer_tags=None,
                    classifier_tags=ClassifierTags(multi_class=True) if kind == "classifier" else None,
                    regressor_tags=RegressorTags() if kind == "regressor" else None,
                    input_tags=InputTags(two_d_array=True))

    # ------------------------------------------------------------------ training and inference
    def _check_params(self) -> None:
        _check_positive(self.epochs, "epochs", integer=True)
        _check_positive(self.batch_size, "batch_size", integer=True)
        _check_positive(self.lr, "lr", integer=False)
        if isinstance(self.weight_decay, bool) or not isinstance(self.weight_decay, numbers.Real) \
                or self.weight_decay < 0:
            raise ValueError(f"weight_decay must be a number >= 0, got weight_decay={self.weight_decay!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, numbers.Real) \
                or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be a probability in [0, 1), got dropout={self.dropout!r}")
        if self.module is None:
            sizes = self.hidden_sizes
            if not isinstance(sizes, (tuple, list)) or not all(
                    isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
                raise ValueError(f"hidden_sizes must be a tuple of positive integers, got hidden_sizes={sizes!r}")
        elif not callable(self.module):
            raise TypeError(f"module must be a factory module(n_features, n_outputs) -> Module, or None for the "
                            f"default MLP; got {self.module!r}")

    def _build(self, n_features: int, n_outputs: int) -> Module:
        if self.module is None:
            return mlp(n_features, n_outputs, tuple(self.hidden_sizes), float(self.dropout))
        model = self.module(n_features, n_outputs)
        if not isinstance(model, Module):
            raise TypeError(f"module(n_features, n_outputs) must return a gradkit nn.Module, got "
                            f"{type(model).__name__}")
        return model

    def _make_optimizer(self, model: Module) -> Any:
        if self.optimizer is None:
            from gradkit.optim import Adam  # the default; nn does not depend on optim otherwise

            return Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        kwargs = {"lr": self.lr} | ({"weight_decay": self.weight_decay} if self.weight_decay else {})
        return self.optimizer(model.parameters(), **kwargs)

    def _train(self, X: NDArray, target: NDArray, n_outputs: int, default_loss: Callable[[], Module]) -> None:
        with _seeded(self.seed):
            model = self._build(X.shape[1], n_outputs).double()  # float64 like scikit-learn's estimators
            loss_fn = (self.loss or default_loss)()
            self.history_ = fit_loop(model, loss_fn, self._make_optimizer(model),
                                     _Minibatches(X, target, int(self.batch_size)), epochs=int(self.epochs),
                                     progress=self.progress)
        model.zero_grad()
        model.eval()
        self.module_ = model
        self.n_features_in_ = X.shape[1]

    def _forward(self, X: Any) -> NDArray:
        """Network outputs for ``X`` in eval mode, without a graph."""
        if not self.__sklearn_is_fitted__():
            raise _not_fitted(type(self).__name__)
        arr = _check_X(X, type(self).__name__)
        if arr.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {arr.shape[1]} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input.")
        self.module_.eval()
        with no_grad():
            return np.asarray(self.module_(from_numpy(arr)).numpy(), dtype=np.float64)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):  # e.g. arrays, whose == is elementwise
        return a is b


# ---------------------------------------------------------------------------------------------------- public
class Classifier(_Estimator):
    """A scikit-learn classifier around a gradkit network trained on the softmax cross-entropy.

    p(class k | x) = softmax(f(x))_k,  f = module(n_features, n_classes);  predict = classes_[argmax_k f(x)_k]

    Args:
        module: factory ``module(n_features, n_classes) -> nn.Module`` returning logits, or None for
            :func:`mlp` with ``hidden_sizes`` and ``dropout`` (grid-search those, or pass
            ``functools.partial`` factories as values of ``module``).
        hidden_sizes: hidden layer widths of the default MLP.
        dropout: dropout probability after each hidden ReLU of the default MLP.
        loss: loss class called with no arguments (default :class:`~gradkit.nn.CrossEntropyLoss`),
            applied to ``(logits, class indices)``.
        optimizer: optimizer class called as ``optimizer(params, lr=lr[, weight_decay=...])``
            (default ``gradkit.optim.Adam``).
        lr: learning rate.
        weight_decay: L2 coefficient passed to the optimizer.
        epochs: passes over the training data.
        batch_size: minibatch size.
        seed: None (gradkit's generator) or an int that makes ``fit`` reproducible.
        progress: ``nn.fit``'s progress bar.

    Attributes:
        module_: the trained network (eval mode). classes_: the sorted labels.
        n_features_in_: number of input features. history_: the ``nn.History`` of ``fit``.

    Raises:
        ValueError: (in ``fit``) bad hyperparameters, NaN/inf/empty/1-D ``X``, continuous ``y`` or a
            single class; (in ``predict``) a different number of features than in ``fit``.
        NotFittedError: ``predict``/``predict_proba``/``score`` before ``fit``.

    Example:
        >>> X = np.array([[0.0], [0.1], [0.9], [1.0]]); y = np.array(["a", "a", "b", "b"])
        >>> clf = Classifier(hidden_sizes=(4,), lr=0.1, epochs=40, batch_size=4, seed=0).fit(X, y)
        >>> clf.predict(X).tolist(), clf.classes_.tolist()
        (['a', 'a', 'b', 'b'], ['a', 'b'])
    """

    def fit(self, X: Any, y: Any) -> Classifier:
        """Train a fresh network on ``(X, y)``; returns ``self``."""
        self._check_params()
        arr = _check_X(X, type(self).__name__)
        labels = _check_y(y, len(arr), type(self).__name__)
        if labels.ndim == 2 and labels.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected. Please change the shape of "
                          "y to (n_samples,), for example using ravel().", _data_conversion_warning(), stacklevel=2)
            labels = labels.ravel()
        if labels.ndim != 1:
            raise ValueError(f"y should be a 1d array of class labels, got an array of shape {labels.shape}")
        if labels.dtype.kind == "f":
            if not np.isfinite(labels).all():
                raise ValueError("Input y contains NaN or infinity.")
            if not np.all(labels == np.round(labels)):
                raise ValueError("Unknown label type: continuous. Maybe you are trying to fit a classifier, which "
                                 "expects discrete classes on a regression target with continuous values.")
        classes, encoded = np.unique(labels, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"y contains 1 class ({classes[0]!r}): a classifier needs samples of at least 2 "
                             "classes")
        self.classes_ = classes
        self._train(arr, encoded.astype(np.int64), len(classes), CrossEntropyLoss)
        return self

    def predict_log_proba(self, X: Any) -> NDArray:
        """Log class probabilities (a stable log-softmax of the logits), shape (n_samples, n_classes)."""
        logits = self._forward(X)
        shifted = logits - logits.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))

    def predict_proba(self, X: Any) -> NDArray:
        """Class probabilities, shape (n_samples, n_classes), columns in the order of ``classes_``."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X: Any) -> NDArray:
        """The most probable class of each sample (labels from ``classes_``)."""
        best = self._forward(X).argmax(axis=1)  # first, so an unfitted estimator raises NotFittedError
        return self.classes_[best]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy of ``predict(X)`` against ``y``."""
        return float(np.mean(self.predict(X) == np.asarray(y).ravel()))

    def __sklearn_tags__(self) -> Any:
        return self._sklearn_tags("classifier")


class Regressor(_Estimator):
    """A scikit-learn regressor around a gradkit network trained on the mean squared error.

    y_hat = f(x),  f = module(n_features, n_outputs);  loss = mean (y_hat - y)^2

    Args: as :class:`Classifier` (``loss`` defaults to :class:`~gradkit.nn.MSELoss`); ``y`` may be
    1-D (one output; ``predict`` returns 1-D) or 2-D (one column per output).

    Attributes:
        module_, n_features_in_, history_: as :class:`Classifier`. n_outputs_: number of targets.

    Raises:
        ValueError, NotFittedError: as :class:`Classifier` (NaN/inf in ``y`` too).

    Example:
        >>> X = np.linspace(-1, 1, 40).reshape(-1, 1)
        >>> reg = Regressor(hidden_sizes=(16,), lr=0.02, epochs=60, batch_size=8, seed=0).fit(X, 2 * X[:, 0])
        >>> reg.score(X, 2 * X[:, 0]) > 0.95
        True
    """

    def fit(self, X: Any, y: Any) -> Regressor:
        """Train a fresh network on ``(X, y)``; returns ``self``."""
        self._check_params()
        arr = _check_X(X, type(self).__name__)
        target = _check_y(y, len(arr), type(self).__name__)
        if target.ndim > 2:
            raise ValueError(f"y should be 1d or 2d (n_samples, n_outputs), got an array of shape {target.shape}")
        target = target.astype(np.float64)
        if not np.isfinite(target).all():
            raise ValueError("Input y contains NaN or infinity.")
        self._one_output = target.ndim == 1
        matrix = target.reshape(len(target), -1)
        self.n_outputs_ = matrix.shape[1]
        self._train(arr, matrix, self.n_outputs_, MSELoss)
        return self

    def predict(self, X: Any) -> NDArray:
        """Predicted targets: shape (n_samples,) when fitted on a 1-D ``y``, else (n_samples, n_outputs)."""
        out = self._forward(X)
        return out[:, 0] if self._one_output else out

    def score(self, X: Any, y: Any) -> float:
        """Coefficient of determination R² = 1 - SS_res / SS_tot (averaged over outputs), as scikit-learn's."""
        y_true = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
        y_pred = self.predict(X).reshape(len(X), -1)
        ss_res = ((y_true - y_pred) ** 2).sum(axis=0)
        ss_tot = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
        # sklearn's r2_score: a constant target scores 1 if predicted exactly, else 0
        r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), np.where(ss_res == 0, 1.0, 0.0))
        return float(np.mean(r2))

    def __sklearn_tags__(self) -> Any:
        return self._sklearn_tags("regressor")


def _data_conversion_warning() -> type[Warning]:
    """scikit-learn's DataConversionWarning when it is installed (its checks look for it), else UserWarning."""
    try:
        from sklearn.exceptions import DataConversionWarning
    except ImportError:
        return UserWarning
    return DataConversionWarning
