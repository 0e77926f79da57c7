"""Numerical gradient checking: compare backpropagation with central differences."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from ._typing import Array
from .layers import Dropout
from .layers.base import get_array, get_grad, walk
from .losses import Loss
from .losses import get as get_loss
from .model import Sequential
from .validation import check_same_length


def numerical_gradient(f: Callable[[], float], x: Array, eps: float | None = None) -> Array:
    """df/dx by the five-point central difference, one entry at a time:

        df/dx ~ (-f(x + 2h) + 8 f(x + h) - 8 f(x - h) + f(x - 2h)) / (12 h)

    This is Richardson's extrapolation of two central differences (steps h and 2h): its
    truncation error is ``h^4 |f^(5)| / 30``, against ``h^2 |f^(3)| / 6`` for the plain central
    difference, so a network's curvature no longer forces a step small enough for rounding to
    show. Rounding adds about ``1.5 u |f| / h`` (u: the machine epsilon of ``x``'s dtype); the sum
    is smallest near h = u^(1/5): 7e-4 in float64, 0.04 in float32, the default ``eps``.
    Each entry's step is ``eps * max(1, |x_i|)``: relative for large entries.

    ``f`` takes no argument and reads ``x``, which is perturbed in place and restored.

    Parameters
    ----------
    f : callable
        ``f()`` -> float, a function of the current contents of ``x``.
    x : ndarray
        The array to differentiate by, any shape; changed during the call, then restored.
    eps : float, optional
        The relative step; default u^(1/5) for x's dtype.

    Returns
    -------
    ndarray
        df/dx, x's shape, float64.
    """
    if eps is None:
        eps = float(np.finfo(x.dtype).eps) ** (1 / 5)
    grad = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        original = x[i]
        h = eps * max(1.0, abs(float(original)))
        f_at = {}
        for k in (2, 1, -1, -2):
            x[i] = original + k * h
            f_at[k] = f()
        x[i] = original
        grad[i] = (-f_at[2] + 8 * f_at[1] - 8 * f_at[-1] + f_at[-2]) / (12 * h)
    return grad


def noise_floor(f: float, dtype: npt.DTypeLike, eps: float | None = None) -> float:
    """The floor of :func:`relative_error` for gradients of a function of value ``f``
    computed by :func:`~numpynn.numerical_gradient` in ``dtype``: ``h max(1, |f|)``. A
    numerical entry is uncertain by about ``1.5 u |f| / h``, so a gradient that small is all
    noise; against this floor the noise's share is at most 1.5 u / h^2 = 1.5 u^(3/5), 6e-10 in
    float64, and a gradient below it (e.g. exactly zero) is compared in absolute terms.

    Parameters
    ----------
    f : float
        The function's value.
    dtype : numpy dtype
        The floating type the differences are computed in.
    eps : float, optional
        The relative step given to :func:`~numpynn.numerical_gradient`; default u^(1/5).

    Returns
    -------
    float
        The floor, for :func:`relative_error`'s ``floor``.
    """
    if eps is None:
        eps = float(np.finfo(dtype).eps) ** (1 / 5)
    return eps * max(1.0, abs(f))


def relative_error(a: Array, b: Array, floor: float = 1e-6) -> float:
    """``||a - b|| / max(||a|| + ||b||, floor)``. The floor keeps the ratio meaningful for
    gradients that are almost zero, where rounding in the central differences dominates.

    Parameters
    ----------
    a, b : ndarray
        Two gradients of the same shape.
    floor : float
        The smallest denominator (> 0; see :func:`noise_floor`).

    Returns
    -------
    float
        The relative error, 0 for equal arrays.
    """
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), floor))


def gradient_check(
    model: Sequential,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    loss: Loss | str,
    eps: float | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Relative error between backprop and numerical gradients for each parameter and for X.

    Runs in training mode with every layer, unfused, so each layer's own ``backward`` is
    checked (Dropout draws the same mask for every evaluation). Use a float64 model: the
    errors are then below about 1e-8 (``eps``: see ``numerical_gradient``).
    Returns ``{"layer 0 W": err, ..., "X": err}`` (no "X" for a model of token ids). On a
    sequence model, y holds class ids (n_samples, T) and ``ignore_index`` tokens do not count.

    Parameters
    ----------
    model : Sequential
        The model to check; its parameters are perturbed and restored, its gradients
        overwritten.
    X : array_like
        A few inputs of the model's shape, e.g. (n_samples, n_features).
    y : array_like
        Their targets, as ``fit`` takes them.
    loss : Loss or str
        The loss to differentiate.
    eps : float, optional
        The relative step of :func:`~numpynn.numerical_gradient`.
    seed : int
        Seeds Dropout's masks, the same for every evaluation.

    Returns
    -------
    dict of str to float
        The relative error of each parameter (``"layer i name"``) and of ``"X"``.

    Raises
    ------
    TypeError, ValueError
        For an unknown loss, or inputs and targets that the model or the loss cannot take
        (as ``fit`` checks them).
    """
    loss = get_loss(loss)
    inputs = model._check_X(X).copy()  # rows, images or sequences, as the model takes them
    ids = bool(model.layers) and model.layers[0].takes_ids  # token ids: no input gradient
    if not ids and (not np.issubdtype(inputs.dtype, np.floating) or model.dtype is None):
        inputs = inputs.astype(np.float64)
    check_same_length(inputs, y)
    T = model._prepare_targets(loss, y, model.n_outputs or inputs.shape[1], inputs.dtype)

    def loss_value() -> float:
        for layer in walk(model.layers):
            if isinstance(layer, Dropout):
                layer.rng = np.random.default_rng(seed)
        out = inputs
        for layer in model.layers:
            out = layer.forward(out, training=True)
        return loss.forward(out, T)

    f = loss_value()
    grad = loss.backward()
    for layer in reversed(model.layers):
        grad = layer.backward(grad)
    floor = noise_floor(f, (model.dtype or np.float64) if ids else inputs.dtype, eps)
    errors = {}
    for i, layer in enumerate(model.layers):
        for name in layer.params:
            analytic = get_grad(layer, name).copy()
            numeric = numerical_gradient(loss_value, get_array(layer, name), eps)
            errors[f"layer {i} {name}"] = relative_error(analytic, numeric, floor)
    if not ids:
        errors["X"] = relative_error(grad, numerical_gradient(loss_value, inputs, eps), floor)
    return errors
