"""Optimisers: update parameters in place from their gradients.

``step(params, grads)`` takes matching lists of arrays. State (velocities, moments, the step
count) is kept per parameter, in ``state``, so training can be checkpointed and resumed.
Updates run in place, through one scratch array per parameter (``tmp``), so a step allocates
nothing. ``weight_decay`` adds L2 regularisation: the gradient of (weight_decay / 2) * ||W||^2, i.e.
weight_decay * W, is added to each weight matrix (not to biases). Nielsen's lambda for a
training set of n samples is ``weight_decay = lambda / n``. :class:`AdamW` decays the weights
themselves instead (decoupled weight decay).

"Weight matrix" is decided from the array alone, as ``step`` sees nothing else: a parameter
with ``p.ndim >= 2`` (Dense and convolution weights, embeddings) is decayed, one with
``p.ndim < 2`` (biases, normalisation's gamma and beta) is not: nanoGPT's grouping.

``clipnorm`` (every optimiser) clips the gradients by their global norm first, as
``torch.nn.utils.clip_grad_norm_``: with ||g|| the L2 norm of all the gradients together,
each is scaled by clipnorm / (||g|| + 1e-6) when that is below 1. The clipped gradients are
written to scratch arrays: the gradients' own arrays (``model.gradients()``) keep the values
backpropagation left there.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._typing import Array
from .misuse import instead_of
from .scratch import scratch, scratch_like
from .validation import check_fraction, check_non_negative, check_positive


class Optimizer:
    """Base class: validates the hyper-parameters and keeps per-parameter state.

    A subclass names its per-parameter state arrays in ``slots`` and defines ``update``.

    Parameters
    ----------
    lr : float
        The learning rate (> 0).
    weight_decay : float
        L2 regularisation (>= 0): ``weight_decay * W`` is added to each weight matrix's
        gradient (not to biases).
    clipnorm : float, optional
        Clip the gradients' global norm to this value before the update.

    Raises
    ------
    ValueError
        For a hyper-parameter that is not a number in its range (whatever its type),
        naming it.
    """

    slots: tuple[str, ...] = ()  # names of the per-parameter state arrays
    decoupled_weight_decay = False  # True: ``update`` decays the weights, step adds no L2 term

    def __init__(
        self, lr: float = 0.01, weight_decay: float = 0.0, clipnorm: float | None = None
    ) -> None:
        check_positive("lr", lr)
        check_non_negative("weight_decay", weight_decay)
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.clipnorm = _check_clipnorm(clipnorm)
        self.t = 0  # number of steps taken
        self.state: dict[str, list[Array]] = {}

    def step(self, params: list[Array], grads: list[Array]) -> None:
        """One update of every parameter from its gradient (both lists in the same order).

        Parameters
        ----------
        params : list of ndarray
            The parameters, updated in place.
        grads : list of ndarray
            Their gradients, each of its parameter's shape (not modified).
        """
        if not self.state and self.slots:
            self.state = {slot: [np.zeros_like(p) for p in params] for slot in self.slots}
        self.t += 1
        if self.clipnorm is not None:
            grads = clip_by_global_norm(grads, self.clipnorm, scratch_like(self, "clipped", grads))
        l2 = 0.0 if self.decoupled_weight_decay else self.weight_decay
        tmps = scratch_like(self, "tmp", params)
        for i, (p, g, tmp) in enumerate(zip(params, grads, tmps, strict=True)):
            if l2 and p.ndim > 1:  # g + weight_decay * p, into a scratch array
                decayed = scratch(self, f"decayed{i}", p.shape, p.dtype)
                g = np.add(g, np.multiply(l2, p, out=decayed), out=decayed)
            self.update(i, p, g, tmp)

    def update(self, i: int, p: Array, g: Array, tmp: Array) -> None:
        """Update parameter number ``i``, ``p``, in place from its gradient ``g``; ``tmp`` is a
        scratch array of p's shape."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The constructor arguments (hyper-parameters); ``clipnorm`` only when set, so the
        settings of an optimiser without clipping, and the checkpoints that hold them, are
        those of the versions before clipnorm (a checkpoint's config must match exactly)."""
        clip = {} if self.clipnorm is None else {"clipnorm": self.clipnorm}
        return {"lr": self.lr, "weight_decay": self.weight_decay, **clip}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Gradient descent: p <- p - lr * g.

    With ``momentum`` mu: v <- mu * v - lr * g; p <- p + v.
    With ``nesterov=True`` as well: p <- p + mu * v - lr * g (looks one step ahead).

    Parameters
    ----------
    lr : float
        The learning rate (> 0).
    momentum : float
        mu, in [0, 1); 0 is plain gradient descent.
    nesterov : bool
        Nesterov's momentum.
    weight_decay : float
        L2 regularisation (>= 0): ``weight_decay * W`` is added to each weight matrix's
        gradient (not to biases).
    clipnorm : float, optional
        Clip the gradients' global norm to this value before the update.

    Raises
    ------
    ValueError
        For a hyper-parameter that is not a number in its range (whatever its type),
        naming it.
    """

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        clipnorm: float | None = None,
    ) -> None:
        super().__init__(lr, weight_decay, clipnorm)
        check_fraction("momentum", momentum)
        if nesterov and momentum == 0.0:
            raise ValueError("nesterov=True needs a momentum > 0, got momentum=0.0")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.slots = ("velocity",) if momentum else ()

    def update(self, i: int, p: Array, g: Array, tmp: Array) -> None:
        step = np.multiply(self.lr, g, out=tmp)  # lr * g
        if not self.momentum:
            p -= step
            return
        v = self.state["velocity"][i]
        v *= self.momentum
        v -= step
        if self.nesterov:
            p -= step
            p += np.multiply(self.momentum, v, out=tmp)  # p <- p + mu * v - lr * g
        else:
            p += v

    def config(self) -> dict[str, Any]:
        return {**super().config(), "momentum": self.momentum, "nesterov": self.nesterov}


class AdaGrad(Optimizer):
    """h <- h + g^2; p <- p - lr * g / (sqrt(h) + eps): each weight gets its own decaying rate.

    Parameters
    ----------
    lr : float
        The learning rate (> 0).
    eps : float
        Keeps the division finite (> 0).
    weight_decay : float
        L2 regularisation (>= 0): ``weight_decay * W`` is added to each weight matrix's
        gradient (not to biases).
    clipnorm : float, optional
        Clip the gradients' global norm to this value before the update.

    Raises
    ------
    ValueError
        For a hyper-parameter that is not a number in its range (whatever its type),
        naming it.
    """

    slots = ("h",)

    def __init__(
        self,
        lr: float = 0.01,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        clipnorm: float | None = None,
    ) -> None:
        super().__init__(lr, weight_decay, clipnorm)
        check_positive("eps", eps)
        self.eps = float(eps)

    def update(self, i: int, p: Array, g: Array, tmp: Array) -> None:
        h = self.state["h"][i]
        h += np.multiply(g, g, out=tmp)
        _scaled_step(p, g, h, self.lr, self.eps, tmp)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "eps": self.eps}


class RMSProp(Optimizer):
    """h <- rho * h + (1 - rho) * g^2; p <- p - lr * g / (sqrt(h) + eps).

    Parameters
    ----------
    lr : float
        The learning rate (> 0).
    rho : float
        The decay rate of the squared gradients' average, in [0, 1).
    eps : float
        Keeps the division finite (> 0).
    weight_decay : float
        L2 regularisation (>= 0): ``weight_decay * W`` is added to each weight matrix's
        gradient (not to biases).
    clipnorm : float, optional
        Clip the gradients' global norm to this value before the update.

    Raises
    ------
    ValueError
        For a hyper-parameter that is not a number in its range (whatever its type),
        naming it.
    """

    slots = ("h",)

    def __init__(
        self,
        lr: float = 0.001,
        rho: float = 0.9,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        clipnorm: float | None = None,
    ) -> None:
        super().__init__(lr, weight_decay, clipnorm)
        check_fraction("rho", rho)
        check_positive("eps", eps)
        self.rho = float(rho)
        self.eps = float(eps)

    def update(self, i: int, p: Array, g: Array, tmp: Array) -> None:
        h = self.state["h"][i]
        h *= self.rho
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.rho
        h += tmp  # h <- rho h + (1 - rho) g^2
        _scaled_step(p, g, h, self.lr, self.eps, tmp)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "rho": self.rho, "eps": self.eps}


class Adam(Optimizer):
    """m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2;
    p <- p - lr * m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t).

    Parameters
    ----------
    lr : float
        The learning rate (> 0).
    beta1, beta2 : float
        b1 and b2, the decay rates of the moment estimates, in [0, 1).
    eps : float
        Keeps the division finite.
    weight_decay : float
        L2 regularisation (>= 0): ``weight_decay * W`` is added to each weight matrix's
        gradient (not to biases).
    clipnorm : float, optional
        Clip the gradients' global norm to this value before the update.

    Raises
    ------
    ValueError
        For a hyper-parameter that is not a number in its range (whatever its type),
        naming it.
    """

    slots = ("m", "v")

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        clipnorm: float | None = None,
    ) -> None:
        super().__init__(lr, weight_decay, clipnorm)
        check_fraction("beta1", beta1)
        check_fraction("beta2", beta2)
        check_positive("eps", eps)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def update(self, i: int, p: Array, g: Array, tmp: Array) -> None:
        m, v = self.state["m"][i], self.state["v"][i]
        m *= self.beta1
        m += np.multiply(1 - self.beta1, g, out=tmp)  # m <- b1 m + (1 - b1) g
        v *= self.beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.beta2
        v += tmp  # v <- b2 v + (1 - b2) g^2
        # m_hat / (sqrt(v_hat) + eps) = c * m / (sqrt(v) + eps * sqrt(1 - b2^t)),
        # c = sqrt(1 - b2^t) / (1 - b1^t): the same update without the m_hat, v_hat arrays
        root_c2 = (1 - self.beta2**self.t) ** 0.5
        _scaled_step(p, m, v, self.lr * root_c2 / (1 - self.beta1**self.t), self.eps * root_c2, tmp)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter), as ``torch.optim.AdamW``:
    p <- p * (1 - lr * weight_decay), then the Adam step from the gradient alone (no L2 term
    in it, so the decay is not rescaled by Adam's 1 / sqrt(v_hat)).

    By default only parameters with ``p.ndim >= 2`` are decayed (weight matrices, convolution
    kernels, embeddings), not biases or normalisation's gamma and beta (``ndim < 2``):
    nanoGPT's two parameter groups. ``decay_all=True`` decays every parameter.

    Parameters
    ----------
    lr : float
        The learning rate (> 0).
    beta1, beta2 : float
        The decay rates of the moment estimates, in [0, 1).
    eps : float
        Keeps the division finite (> 0).
    weight_decay : float
        The decoupled decay rate (>= 0), 0.01 by default.
    clipnorm : float, optional
        Clip the gradients' global norm to this value before the update.
    decay_all : bool
        Decay biases and normalisation parameters too.

    Raises
    ------
    ValueError
        For a hyper-parameter that is not a number in its range (whatever its type),
        naming it.
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        clipnorm: float | None = None,
        decay_all: bool = False,
    ) -> None:
        super().__init__(lr, beta1, beta2, eps, weight_decay, clipnorm)
        self.decay_all = bool(decay_all)

    def update(self, i: int, p: Array, g: Array, tmp: Array) -> None:
        if self.weight_decay and (self.decay_all or p.ndim >= 2):
            p *= 1 - self.lr * self.weight_decay  # torch's param.mul_(1 - lr * weight_decay)
        super().update(i, p, g, tmp)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "decay_all": self.decay_all}


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": AdamW,
}


def get(optimizer: Optimizer | str) -> Optimizer:
    """An optimiser from itself or its name ("sgd", "adagrad", "rmsprop", "adam", "adamw").

    Parameters
    ----------
    optimizer : Optimizer or str
        An optimiser (returned as it is) or a name.

    Returns
    -------
    Optimizer
        ``optimizer`` itself, or a new optimiser of that name with its default settings.

    Raises
    ------
    TypeError
        For a class or a function given instead of an Optimizer object (``Adam`` for
        ``Adam()``, say).
    ValueError
        For an unknown name or any other value.
    """
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer in OPTIMIZERS:
        return OPTIMIZERS[optimizer]()
    why = instead_of(optimizer, Optimizer, "an optimizer")
    error = TypeError if why else ValueError
    given = why or repr(optimizer)
    raise error(f"optimizer must be an Optimizer or one of {sorted(OPTIMIZERS)}, got {given}")


def _scaled_step(p: Array, g: Array, h: Array, lr: float, eps: float, tmp: Array) -> None:
    """p <- p - lr * g / (sqrt(h) + eps), in place through ``tmp``."""
    np.sqrt(h, out=tmp)
    tmp += eps
    np.divide(g, tmp, out=tmp)
    tmp *= lr
    p -= tmp


def clip_by_global_norm(grads: list[Array], clipnorm: float, out: list[Array]) -> list[Array]:
    """``grads`` scaled so that their global L2 norm ||g|| (over all of them together) is at
    most ``clipnorm``, as ``torch.nn.utils.clip_grad_norm_``: each times
    clipnorm / (||g|| + 1e-6) when that is below 1, written to ``out`` (arrays of their shapes)
    and returned; otherwise ``grads`` themselves. A non-finite norm is not an error (as in
    torch): an infinite one zeroes the gradients, a NaN makes them NaN.

    Parameters
    ----------
    grads : list of ndarray
        The gradients, any shapes.
    clipnorm : float
        The largest global norm (> 0; not checked here).
    out : list of ndarray
        One array per gradient, of its shape, for the scaled gradients.

    Returns
    -------
    list of ndarray
        ``out`` holding the scaled gradients, or ``grads`` when the norm is within clipnorm.
    """
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    coef = clipnorm / (total + 1e-6)
    if coef >= 1.0:
        return grads
    return [np.multiply(g, coef, out=o) for g, o in zip(grads, out, strict=True)]


def _check_clipnorm(clipnorm: object) -> float | None:
    """None, or a finite number > 0; ValueError naming clipnorm otherwise."""
    if clipnorm is None:
        return None
    try:
        return check_positive("clipnorm", clipnorm)
    except ValueError:
        raise ValueError(
            f"clipnorm must be None (no clipping) or a finite number > 0, got {clipnorm!r}"
        ) from None
