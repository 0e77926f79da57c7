"""The perceptron: output 1 when w . x + b > 0, else 0 (the threshold theta is -b)."""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt

from ._typing import Array
from .errors import ConvergenceWarning, ShapeError
from .validation import (
    check_finite,
    check_positive,
    check_positive_int,
    check_same_length,
    check_X,
)


class Perceptron:
    """A single threshold unit with weights ``w`` (n_inputs,) and bias ``b``.

    Give the weights (``Perceptron(weights=[0.5, 0.5], bias=-0.7)`` is AND) or the number of
    inputs to start from zeros and learn them with :meth:`fit`.

    Parameters
    ----------
    weights : array_like, optional
        w, (n_inputs,) finite numbers; None starts from zeros (then give ``n_inputs``).
    bias : float
        b, finite.
    n_inputs : int, optional
        The number of inputs (>= 1); needed without ``weights``, else it must match them.

    Raises
    ------
    TypeError, ValueError
        For neither weights nor n_inputs, weights that are not a non-empty 1-D list of
        finite numbers (:class:`numpynn.ShapeError` for the shape), an n_inputs that does
        not match them, or a bias that is not a finite number.
    """

    def __init__(
        self,
        weights: npt.ArrayLike | None = None,
        bias: float = 0.0,
        *,
        n_inputs: int | None = None,
    ) -> None:
        if weights is None:
            if n_inputs is None:
                raise ValueError("Perceptron needs weights=[...] or n_inputs=N")
            n = check_positive_int("n_inputs", n_inputs)
            self.w = np.zeros(n)
        else:
            self.w = np.asarray(weights, dtype=np.float64)
            if self.w.ndim != 1 or self.w.size == 0:
                raise ShapeError(f"weights must be a non-empty 1-D list, got shape {self.w.shape}")
            if n_inputs is not None and n_inputs != self.w.size:
                raise ShapeError(f"n_inputs={n_inputs} but {self.w.size} weights were given")
            if not np.isfinite(self.w).all():
                raise ValueError("weights contain NaN or infinite values")
        self.b = check_finite("bias", bias)
        self.converged_: bool | None = None
        self.n_epochs_ = 0

    def predict(self, X: npt.ArrayLike) -> Array:
        """X: (n_samples, n_inputs) -> (n_samples,) of 0 and 1.

        Parameters
        ----------
        X : array_like
            (n_samples, n_inputs) finite numbers.

        Returns
        -------
        ndarray
            (n_samples,) int64, 1 where w . x + b > 0.

        Raises
        ------
        TypeError, ValueError
            For X that is not numbers of shape (n_samples, n_inputs), or not finite.
        """
        X = check_X(X, n_features=self.w.size, dtype=np.float64)
        return (X @ self.w + self.b > 0).astype(np.int64)

    def fit(
        self, X: npt.ArrayLike, y: npt.ArrayLike, epochs: int = 100, lr: float = 1.0
    ) -> Perceptron:
        """Perceptron learning rule, one sample at a time: w += lr * (y - y_hat) * x,
        b += lr * (y - y_hat). Stops after an epoch without mistakes (``converged_ = True``);
        otherwise warns with :class:`ConvergenceWarning` (as it must for XOR).

        Parameters
        ----------
        X : array_like
            (n_samples, n_inputs) finite numbers.
        y : array_like
            (n_samples,) targets, 0 or 1.
        epochs : int
            The most passes over the samples (>= 1).
        lr : float
            The learning rate (> 0).

        Returns
        -------
        Perceptron
            self, with the learned w and b, ``converged_`` and ``n_epochs_``.

        Raises
        ------
        TypeError, ValueError
            For X of the wrong shape or not finite, y of another length or not 0/1, or an
            epochs or lr out of range.
        """
        X = check_X(X, n_features=self.w.size, dtype=np.float64)
        check_same_length(X, y)
        y = np.asarray(y)
        if not np.isin(y, (0, 1)).all():
            raise ValueError(f"y must hold only 0 and 1, got values {np.unique(y)[:10]}")
        epochs = check_positive_int("epochs", epochs)
        lr = check_positive("lr", lr)
        self.converged_ = False
        for epoch in range(1, epochs + 1):
            mistakes = 0
            for x_i, y_i in zip(X, y, strict=True):
                error = y_i - int(x_i @ self.w + self.b > 0)
                if error:
                    self.w += lr * error * x_i
                    self.b += lr * error
                    mistakes += 1
            self.n_epochs_ = epoch
            if mistakes == 0:
                self.converged_ = True
                return self
        warnings.warn(
            f"the perceptron did not converge in {epochs} epochs: the data may not be linearly "
            "separable (no single perceptron computes XOR)",
            ConvergenceWarning,
            stacklevel=2,
        )
        return self

    def __repr__(self) -> str:
        return f"Perceptron(weights={self.w.tolist()}, bias={self.b})"
