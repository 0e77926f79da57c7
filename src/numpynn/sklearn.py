"""scikit-learn estimators built on numpynn (needs the ``sklearn`` extra).

``NumpyNNClassifier`` and ``NumpyNNRegressor`` follow scikit-learn's conventions, so they work
in ``Pipeline``, ``cross_val_score`` and ``GridSearchCV``: hyper-parameters are set in
``__init__`` only, learned state ends in ``_``, inputs are validated by scikit-learn's own
utilities. The network is ``numpynn.mlp`` and it trains with ``Sequential.fit``.

Beyond ``MLPClassifier``: ``dropout``, ``sample_weight`` and ``class_weight``, one activation
per hidden layer, ``validation_loss_curve_`` beside ``loss_curve_``, numpynn ``callbacks``, and
float32 training (the model's floating type follows ``X``: float32 stays float32).

X is (n_samples, n_features); the fitted network is ``model_`` (a ``numpynn.Sequential``, e.g.
for ``numpynn.save`` or ``numpynn.to_onnx``).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin  # type: ignore[import-untyped]
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]
from sklearn.utils import check_random_state  # type: ignore[import-untyped]
from sklearn.utils.class_weight import compute_sample_weight  # type: ignore[import-untyped]
from sklearn.utils.multiclass import check_classification_targets  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted, validate_data  # type: ignore[import-untyped]

from ._typing import Array
from .callbacks import Callback, EarlyStopping, PrintProgress
from .model import Sequential, mlp
from .optimizers import OPTIMIZERS, SGD, Optimizer
from .validation import (
    check_fraction,
    check_non_negative,
    check_positive_int,
    check_sample_weight,
)

# alpha is MLPClassifier's L2 penalty, added to the loss; AdamW's decay is decoupled from it.
ESTIMATOR_OPTIMIZERS = sorted(name for name in OPTIMIZERS if name != "adamw")
ADAMW_NOTE = ": AdamW's decoupled weight decay is not the L2 penalty alpha; use adam with alpha"

FLOAT_DTYPES = (np.float64, np.float32)  # float32 X stays float32; anything else -> float64


class _NumpyNNEstimator(BaseEstimator):
    """What the classifier and the regressor share: the network, its training and checks."""

    _output_activation = "identity"

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        *,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        momentum: float = 0.9,
        alpha: float = 1e-4,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        shuffle: bool = True,
        dropout: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float | None = None,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        callbacks: Sequence[Callback] | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.dropout = dropout
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    # --- training ----------------------------------------------------------------------

    def _fit(self, X: Array, T: Array, weights: Array | None, labels: Array | None) -> None:
        """Build a new network and train it on X (n_samples, n_features) and targets T
        (class indices (n_samples,) or values (n_samples, n_outputs)); ``labels`` (class
        indices) stratifies the validation split of a classifier."""
        seed = self._start(X, T)
        validation_data = None
        fraction = self._validation_fraction()
        if fraction:
            stratify = labels if labels is not None and np.bincount(labels).min() >= 2 else None
            arrays = [X, T] if weights is None else [X, T, weights]
            parts = train_test_split(
                *arrays, test_size=fraction, random_state=seed, stratify=stratify
            )
            X, X_val, T, T_val = parts[:4]
            weights = parts[4] if weights is not None else None
            validation_data = (X_val, T_val)
        self._optimizer = self._new_optimizer(len(X))

        stopper = EarlyStopping(
            monitor="val_loss" if self.early_stopping else "loss",
            patience=self.n_iter_no_change,
            min_delta=self.tol,
            restore_best_weights=self.early_stopping,
        )
        history = self.model_.fit(
            X,
            T,
            optimizer=self._optimizer,
            epochs=self.max_iter,
            batch_size=self._batch_size(len(X)),
            validation_data=validation_data,
            shuffle=self.shuffle,
            seed=self._rng,
            callbacks=[stopper, *self._user_callbacks()],
            sample_weight=weights,
        )
        self.loss_curve_: list[float] = history["loss"]
        self.validation_loss_curve_: list[float] | None = history.get("val_loss")
        self.n_iter_: int = len(self.loss_curve_)
        if self.n_iter_ == self.max_iter and not self.model_.stop_training:
            warnings.warn(
                f"{type(self).__name__}: the maximum number of epochs (max_iter={self.max_iter}) "
                "was reached and the optimisation has not converged yet",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _partial_fit(self, X: Array, T: Array, weights: Array | None) -> None:
        """One epoch over (X, T) continuing from the current weights and optimiser state."""
        if not hasattr(self, "model_"):
            self._start(X, T)
            self._optimizer = self._new_optimizer(len(X))
            self.loss_curve_ = []
            self.validation_loss_curve_ = None
            self.n_iter_ = 0
        history = self.model_.fit(
            X,
            T,
            optimizer=self._optimizer,
            epochs=1,
            batch_size=self._batch_size(len(X)),
            shuffle=self.shuffle,
            seed=self._rng,
            callbacks=self._user_callbacks(),
            sample_weight=weights,
        )
        self.loss_curve_ += history["loss"]
        self.n_iter_ += 1

    def _start(self, X: Array, T: Array) -> int:
        """Check the hyper-parameters, seed the generator and build a new network; return the
        seed (it also drives the validation split)."""
        self._check_params()
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._rng = np.random.default_rng(seed)
        self.model_ = self._new_model(X, T)
        return seed

    def _new_model(self, X: Array, T: Array) -> Sequential:
        n_outputs = self._n_outputs(T)
        return mlp(
            [X.shape[1], *self.hidden_layer_sizes, n_outputs],
            activation=self.activation,
            output=self._output_activation,
            dropout=self.dropout,
            dtype=X.dtype,
            seed=self._rng,
        )

    def _new_optimizer(self, n_samples: int) -> Optimizer:
        # MLPClassifier's L2 term: (alpha / 2) ||W||^2 / batch_size added to the mean loss
        weight_decay = self.alpha / self._batch_size(n_samples)
        if self.optimizer == "sgd":
            return SGD(self.learning_rate, momentum=self.momentum, weight_decay=weight_decay)
        optimizer_class = OPTIMIZERS[self.optimizer]
        return optimizer_class(lr=self.learning_rate, weight_decay=weight_decay)

    def _user_callbacks(self) -> list[Callback]:
        return [*(self.callbacks or ()), *([PrintProgress()] if self.verbose else [])]

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_samples)
        return min(int(self.batch_size), n_samples)

    def _validation_fraction(self) -> float:
        if self.validation_fraction is None:
            return 0.1 if self.early_stopping else 0.0
        return float(self.validation_fraction)

    def _n_outputs(self, T: Array) -> int:
        raise NotImplementedError

    def _check_params(self) -> None:
        """Hyper-parameter checks at fit time (scikit-learn convention: not in __init__)."""
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            raise TypeError(
                f"hidden_layer_sizes must be a sequence of layer widths, e.g. ({sizes},), "
                f"got {sizes!r}"
            )
        if not all(_is_int(n) and n >= 1 for n in sizes):
            raise ValueError(f"hidden_layer_sizes must hold positive integers, got {sizes!r}")
        if self.optimizer not in ESTIMATOR_OPTIMIZERS:
            raise ValueError(
                f"optimizer must be one of {ESTIMATOR_OPTIMIZERS}, got {self.optimizer!r}"
                + ADAMW_NOTE * (self.optimizer == "adamw")
            )
        batch_size = self.batch_size
        if batch_size != "auto" and not (_is_int(batch_size) and int(batch_size) >= 1):
            raise ValueError(
                f"batch_size must be a positive integer or 'auto', got {self.batch_size!r}"
            )
        for name in ("max_iter", "n_iter_no_change"):
            check_positive_int(name, getattr(self, name))
        for name in ("alpha", "tol"):
            check_non_negative(name, getattr(self, name))
        check_fraction("dropout", self.dropout)
        if self.validation_fraction is not None:
            check_fraction("validation_fraction", self.validation_fraction)
        if self.early_stopping and not self._validation_fraction():
            raise ValueError("early_stopping needs validation_fraction > 0, got 0")
        if self.callbacks is not None and not all(isinstance(c, Callback) for c in self.callbacks):
            raise TypeError(
                f"callbacks must be a list of numpynn.Callback objects, got {self.callbacks!r}"
            )

    def _validate(self, X: npt.ArrayLike, y: npt.ArrayLike, **kwargs: Any) -> tuple[Array, Array]:
        """X as a float32 or float64 (n_samples, n_features) array and y, checked by
        scikit-learn (which also records ``n_features_in_`` when ``reset``)."""
        return validate_data(self, X, y, dtype=FLOAT_DTYPES, **kwargs)

    def _forward(self, X: npt.ArrayLike) -> Array:
        """The network's output for validated X: (n_samples, n_outputs)."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES)
        return self.model_.forward(X)


class NumpyNNClassifier(ClassifierMixin, _NumpyNNEstimator):
    """A fully connected network with a softmax output, trained on the cross-entropy.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers, e.g. ``(100,)`` or ``(128, 64)``.
    activation : str or list of str
        One of ``"relu"``, ``"leaky_relu"``, ``"tanh"``, ``"sigmoid"``, ``"identity"``,
        ``"step"`` for every hidden layer, or a list with one name per hidden layer.
    optimizer : str
        ``"adam"``, ``"sgd"`` (with ``momentum``), ``"rmsprop"`` or ``"adagrad"``.
    learning_rate : float
        The optimiser's step size.
    momentum : float
        Momentum of ``"sgd"`` (unused by the other optimisers).
    alpha : float
        L2 penalty, as in ``MLPClassifier``: ``(alpha / 2) ||W||^2 / batch_size`` is added to
        each mini-batch's mean loss (biases are not penalised).
    batch_size : int or str
        Samples per mini-batch; ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int
        Maximum number of epochs.
    shuffle : bool
        Shuffle the samples every epoch.
    dropout : float
        Probability of dropping each hidden unit during training (0 is no dropout).
    class_weight : dict, str or None
        Weights of the classes, multiplying each sample's weight: ``{label: weight}``, or
        ``"balanced"`` (n_samples / (n_classes * count of the class); ``fit`` only, not
        ``partial_fit``), as in scikit-learn.
    early_stopping : bool
        Stop when the validation loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs and restore the best epoch's weights. Without it training
        stops when the training loss has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    validation_fraction : float or None
        Fraction of the training data held out (stratified) to compute
        ``validation_loss_curve_``; None means 0.1 with ``early_stopping`` and none otherwise.
    n_iter_no_change, tol : int, float
        The patience and the improvement threshold of the stopping rule.
    callbacks : list of Callback
        numpynn ``Callback`` objects called during training.
    random_state : int, numpy.random.RandomState or None
        Seeds the initial weights, the shuffling, dropout and the validation split.
    verbose : bool
        Print each epoch's losses.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        The class labels.
    n_features_in_ : int
        The number of input features seen by ``fit``.
    model_ : Sequential
        The fitted ``numpynn.Sequential``.
    loss_curve_ : list of float
        The training loss of each epoch.
    validation_loss_curve_ : list of float or None
        The validation loss of each epoch (None without a validation split).
    n_iter_ : int
        The number of epochs run.
    """

    _output_activation = "softmax"

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        *,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        momentum: float = 0.9,
        alpha: float = 1e-4,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        shuffle: bool = True,
        dropout: float = 0.0,
        class_weight: dict[Any, float] | str | None = None,
        early_stopping: bool = False,
        validation_fraction: float | None = None,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        callbacks: Sequence[Callback] | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            hidden_layer_sizes,
            activation,
            optimizer=optimizer,
            learning_rate=learning_rate,
            momentum=momentum,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            shuffle=shuffle,
            dropout=dropout,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            callbacks=callbacks,
            random_state=random_state,
            verbose=verbose,
        )
        self.class_weight = class_weight

    def fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None = None,
    ) -> NumpyNNClassifier:
        """Train a new network on X (n_samples, n_features) and labels y (n_samples,).

        Parameters
        ----------
        X : array_like
            (n_samples, n_features) inputs.
        y : array_like
            (n_samples,) class labels, at least 2 classes.
        sample_weight : array_like, optional
            (n_samples,) non-negative weights of the samples' losses.

        Returns
        -------
        NumpyNNClassifier
            self, fitted.

        Raises
        ------
        TypeError, ValueError
            For a hyper-parameter of the wrong type or out of range, or X, y or
            sample_weight that scikit-learn's checks refuse. ValueError for a single class.
        """
        X, y = self._validate(X, y)
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"NumpyNNClassifier needs samples of at least 2 classes, got one class: "
                f"{self.classes_[0]!r}"
            )
        weights = self._weights(sample_weight, X, y, partial=False)
        self._fit(X, labels, weights, labels)
        return self

    def partial_fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        classes: npt.ArrayLike | None = None,
        sample_weight: npt.ArrayLike | None = None,
    ) -> NumpyNNClassifier:
        """One epoch on (X, y), continuing training; the first call must list ``classes``.

        Parameters
        ----------
        X : array_like
            (n_samples, n_features) inputs.
        y : array_like
            (n_samples,) class labels, each among ``classes``.
        classes : array_like, optional
            Every class label (at least 2); required on the first call, and if given later
            the same as then.
        sample_weight : array_like, optional
            (n_samples,) non-negative weights of the samples' losses.

        Returns
        -------
        NumpyNNClassifier
            self, trained one more epoch.

        Raises
        ------
        TypeError, ValueError
            For a hyper-parameter of the wrong type or out of range, or X, y or
            sample_weight that scikit-learn's checks refuse. ValueError for missing or changed
            classes, a label not in them, or ``class_weight="balanced"``.
        """
        first_call = not hasattr(self, "model_")
        X, y = self._validate(X, y, reset=first_call)
        check_classification_targets(y)
        if first_call:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self.classes_ = np.unique(np.asarray(classes))
            if len(self.classes_) < 2:
                raise ValueError(f"classes must hold at least 2 classes, got {self.classes_!r}")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={classes!r} differs from the first call's classes {self.classes_!r}"
            )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y holds labels {unknown.tolist()} not in classes {self.classes_.tolist()}"
            )
        labels = np.searchsorted(self.classes_, y)
        weights = self._weights(sample_weight, X, y, partial=True)
        self._partial_fit(X, labels, weights)
        return self

    def predict(self, X: npt.ArrayLike) -> Array:
        """The most probable class label of each row of X: (n_samples,).

        Parameters
        ----------
        X : array_like
            (n_samples, n_features) inputs.

        Returns
        -------
        ndarray
            (n_samples,) labels from ``classes_``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            For X that scikit-learn's checks refuse (e.g. another number of features).
        """
        index = self._forward(X).argmax(axis=1)
        return self.classes_[index]

    def predict_proba(self, X: npt.ArrayLike) -> Array:
        """Class probabilities (n_samples, n_classes), columns in the order of ``classes_``.

        Parameters
        ----------
        X : array_like
            (n_samples, n_features) inputs.

        Returns
        -------
        ndarray
            (n_samples, n_classes), each row summing to 1.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            For X that scikit-learn's checks refuse (e.g. another number of features).
        """
        return self._forward(X)

    def predict_log_proba(self, X: npt.ArrayLike) -> Array:
        """log(predict_proba(X)): (n_samples, n_classes).

        Parameters
        ----------
        X : array_like
            (n_samples, n_features) inputs.

        Returns
        -------
        ndarray
            (n_samples, n_classes), finite (a probability of 0 gives log of the smallest
            positive float).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            For X that scikit-learn's checks refuse (e.g. another number of features).
        """
        proba = self.predict_proba(X)
        return np.log(np.maximum(proba, np.finfo(proba.dtype).tiny))

    def _n_outputs(self, T: Array) -> int:
        return len(self.classes_)

    def _weights(self, sample_weight: Any, X: Array, y: Array, partial: bool) -> Array | None:
        """sample_weight times the class_weight of each sample's class (None if neither)."""
        weights = _sample_weight(sample_weight, X)
        class_weight = getattr(self, "class_weight", None)
        if class_weight is None:
            return weights
        if partial and class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' needs the whole training set: compute the weights with "
                "sklearn.utils.class_weight.compute_class_weight and pass them as a dict"
            )
        per_class = compute_sample_weight(class_weight, y).astype(X.dtype)
        return per_class if weights is None else weights * per_class


class NumpyNNRegressor(RegressorMixin, _NumpyNNEstimator):
    """A fully connected network with a linear output, trained on the squared error.

    Same parameters as :class:`NumpyNNClassifier` (without ``class_weight``); y is
    (n_samples,) or (n_samples, n_outputs) and ``predict`` returns the same shape. The loss is
    numpynn's MeanSquaredError, (1/2) ||output - y||^2 averaged over the samples.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers, e.g. ``(100,)`` or ``(128, 64)``.
    activation : str or list of str
        One of ``"relu"``, ``"leaky_relu"``, ``"tanh"``, ``"sigmoid"``, ``"identity"``,
        ``"step"`` for every hidden layer, or a list with one name per hidden layer.
    optimizer : str
        ``"adam"``, ``"sgd"`` (with ``momentum``), ``"rmsprop"`` or ``"adagrad"``.
    learning_rate : float
        The optimiser's step size.
    momentum : float
        Momentum of ``"sgd"`` (unused by the other optimisers).
    alpha : float
        L2 penalty, as in ``MLPClassifier``: ``(alpha / 2) ||W||^2 / batch_size`` is added to
        each mini-batch's mean loss (biases are not penalised).
    batch_size : int or str
        Samples per mini-batch; ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int
        Maximum number of epochs.
    shuffle : bool
        Shuffle the samples every epoch.
    dropout : float
        Probability of dropping each hidden unit during training (0 is no dropout).
    early_stopping : bool
        Stop when the validation loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs and restore the best epoch's weights. Without it training
        stops when the training loss has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    validation_fraction : float or None
        Fraction of the training data held out to compute
        ``validation_loss_curve_``; None means 0.1 with ``early_stopping`` and none otherwise.
    n_iter_no_change, tol : int, float
        The patience and the improvement threshold of the stopping rule.
    callbacks : list of Callback
        numpynn ``Callback`` objects called during training.
    random_state : int, numpy.random.RandomState or None
        Seeds the initial weights, the shuffling, dropout and the validation split.
    verbose : bool
        Print each epoch's losses.

    Attributes
    ----------
    n_features_in_ : int
        The number of input features seen by ``fit``.
    model_ : Sequential
        The fitted ``numpynn.Sequential``.
    loss_curve_ : list of float
        The training loss of each epoch.
    validation_loss_curve_ : list of float or None
        The validation loss of each epoch (None without a validation split).
    n_iter_ : int
        The number of epochs run.
    """

    def fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None = None,
    ) -> NumpyNNRegressor:
        """Train a new network on X (n_samples, n_features) and targets y.

        Parameters
        ----------
        X : array_like
            (n_samples, n_features) inputs.
        y : array_like
            (n_samples,) or (n_samples, n_outputs) numeric targets.
        sample_weight : array_like, optional
            (n_samples,) non-negative weights of the samples' losses.

        Returns
        -------
        NumpyNNRegressor
            self, fitted.

        Raises
        ------
        TypeError, ValueError
            For a hyper-parameter of the wrong type or out of range, or X, y or
            sample_weight that scikit-learn's checks refuse.
        """
        X, y = self._validate(X, y, multi_output=True, y_numeric=True)
        T = self._targets(X, y, first_call=True)
        weights = _sample_weight(sample_weight, X)
        self._fit(X, T, weights, None)
        return self

    def partial_fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None = None,
    ) -> NumpyNNRegressor:
        """One epoch on (X, y), continuing training from the current weights.

        Parameters
        ----------
        X : array_like
            (n_samples, n_features) inputs.
        y : array_like
            (n_samples,) or (n_samples, n_outputs) numeric targets, as in the first call.
        sample_weight : array_like, optional
            (n_samples,) non-negative weights of the samples' losses.

        Returns
        -------
        NumpyNNRegressor
            self, trained one more epoch.

        Raises
        ------
        TypeError, ValueError
            For a hyper-parameter of the wrong type or out of range, or X, y or
            sample_weight that scikit-learn's checks refuse.
        """
        first_call = not hasattr(self, "model_")
        X, y = self._validate(X, y, multi_output=True, y_numeric=True, reset=first_call)
        T = self._targets(X, y, first_call=first_call)
        weights = _sample_weight(sample_weight, X)
        self._partial_fit(X, T, weights)
        return self

    def predict(self, X: npt.ArrayLike) -> Array:
        """Predicted targets: (n_samples,) if y was 1-D at fit, else (n_samples, n_outputs).

        Parameters
        ----------
        X : array_like
            (n_samples, n_features) inputs.

        Returns
        -------
        ndarray
            (n_samples,) or (n_samples, n_outputs).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            For X that scikit-learn's checks refuse (e.g. another number of features).
        """
        output = self._forward(X)
        return output[:, 0] if self._y_is_1d else output

    def _targets(self, X: Array, y: Array, first_call: bool) -> Array:
        """y as a (n_samples, n_outputs) array in X's floating type."""
        if first_call:
            self._y_is_1d = y.ndim == 1
        T = np.asarray(y, dtype=X.dtype).reshape(len(y), -1)
        if not first_call and T.shape[1] != self.model_.n_outputs:
            raise ValueError(
                f"y must have {self.model_.n_outputs} output(s) as in the first call, got shape "
                f"{np.shape(y)}"
            )
        return T

    def _n_outputs(self, T: Array) -> int:
        return int(T.shape[1])

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _sample_weight(sample_weight: npt.ArrayLike | None, X: Array) -> Array | None:
    """Validated sample weights (n_samples,) in X's dtype, or None."""
    if sample_weight is None:
        return None
    sample_weight = np.asarray(sample_weight)
    if sample_weight.ndim == 1 and not sample_weight.any():
        raise ValueError("sample_weight is zero for every sample: at least one must be positive")
    return check_sample_weight(sample_weight, X)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
