"""Optimiser steps and gradient clipping equal to PyTorch's, in float64, to 1e-12.

Each numpynn optimiser takes a few steps on random parameters (a matrix, a 4-D kernel and
two vectors) with random gradients of varying size, and so does its torch.optim twin from the
same start with the same gradients (set as ``.grad``; ``clip_grad_norm_`` before each step
when clipping). numpynn decays only the parameters with ndim >= 2, which in torch is two
parameter groups: weight_decay on the matrices, 0 on the vectors (``decay_all``: one group).

The hyper-parameters map one to one; numpynn's conventions are torch's: AdaGrad and RMSProp
put eps outside the square root, p <- p - lr g / (sqrt(h) + eps), as torch's Adagrad (with
lr_decay=0, initial_accumulator_value=0) and RMSprop (alpha = rho, momentum=0,
centered=False) do, so everything is compared; only torch's defaults differ (eps 1e-10 for
Adagrad, alpha 0.99 and lr 0.01 for RMSprop), so every value is passed explicitly. SGD's
velocity is v = -lr * torch's momentum buffer (dampening=0), the same steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numpynn as nn
from numpynn.optimizers import clip_by_global_norm

torch = pytest.importorskip("torch")

SHAPES = [(4, 3), (4,), (2, 3, 2, 2), (3,)]
# The global norm of each step's gradients: with clipnorm 4, every other step is clipped.
NORMS = [0.5, 8.0, 2.0, 30.0, 3.5, 12.0]
CLIPNORM = 4.0
TOL = 1e-12

# name: (numpynn optimiser, torch optimiser class, torch's arguments), weight_decay aside
CASES: dict[str, tuple[Callable[..., nn.Optimizer], Any, dict[str, Any]]] = {
    "sgd": (lambda **kw: nn.SGD(lr=0.1, **kw), "SGD", {"lr": 0.1}),
    "momentum": (
        lambda **kw: nn.SGD(lr=0.1, momentum=0.9, **kw),
        "SGD",
        {"lr": 0.1, "momentum": 0.9},
    ),
    "nesterov": (
        lambda **kw: nn.SGD(lr=0.1, momentum=0.8, nesterov=True, **kw),
        "SGD",
        {"lr": 0.1, "momentum": 0.8, "nesterov": True},
    ),
    "adagrad": (
        lambda **kw: nn.AdaGrad(lr=0.1, eps=1e-8, **kw),
        "Adagrad",
        {"lr": 0.1, "eps": 1e-8, "lr_decay": 0.0, "initial_accumulator_value": 0.0},
    ),
    "rmsprop": (
        lambda **kw: nn.RMSProp(lr=0.01, rho=0.9, eps=1e-8, **kw),
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "eps": 1e-8, "momentum": 0.0, "centered": False},
    ),
    "adam": (
        lambda **kw: nn.Adam(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-8, **kw),
        "Adam",
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-8},
    ),
    "adamw": (
        lambda **kw: nn.AdamW(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-8, **kw),
        "AdamW",
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-8},
    ),
}


def random_problem(seed: int) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """Parameters of SHAPES, and a list of gradients for each step, of global norm NORMS."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(shape) for shape in SHAPES]
    grads = []
    for norm in NORMS:
        step = [rng.standard_normal(shape) for shape in SHAPES]
        total = np.sqrt(sum(np.sum(g * g) for g in step))
        grads.append([g * (norm / total) for g in step])
    return params, grads


def torch_steps(
    params: list[np.ndarray],
    grads: list[list[np.ndarray]],
    name: str,
    kwargs: dict[str, Any],
    weight_decay: float,
    clipnorm: float | None,
    decay_all: bool = False,
) -> list[np.ndarray]:
    """The parameters after torch's steps: clip_grad_norm_ (if clipnorm), then the step."""
    tensors = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    decayed = [t for t in tensors if decay_all or t.ndim >= 2]
    kept = [t for t in tensors if not (decay_all or t.ndim >= 2)]
    groups = [{"params": decayed, "weight_decay": weight_decay}]
    if kept:
        groups.append({"params": kept, "weight_decay": 0.0})
    optimizer = getattr(torch.optim, name)(groups, **kwargs)
    for step_grads in grads:
        for t, g in zip(tensors, step_grads, strict=True):
            t.grad = torch.tensor(g, dtype=torch.float64)
        if clipnorm is not None:
            torch.nn.utils.clip_grad_norm_(tensors, clipnorm)
        optimizer.step()
    return [t.detach().numpy() for t in tensors]


def numpynn_steps(
    params: list[np.ndarray], grads: list[list[np.ndarray]], optimizer: nn.Optimizer
) -> list[np.ndarray]:
    params = [p.copy() for p in params]
    for step_grads in grads:
        optimizer.step(params, [g.copy() for g in step_grads])
    return params


def assert_same(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    for k, (a, b) in enumerate(zip(got, want, strict=True)):
        np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL, err_msg=f"parameter {k}")


@pytest.mark.parametrize("clipnorm", [None, CLIPNORM], ids=["no-clip", "clip"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.05], ids=["no-decay", "decay"])
@pytest.mark.parametrize("name", list(CASES))
def test_steps_equal_torch(name: str, weight_decay: float, clipnorm: float | None) -> None:
    make, torch_name, kwargs = CASES[name]
    params, grads = random_problem(seed=len(name))
    got = numpynn_steps(params, grads, make(weight_decay=weight_decay, clipnorm=clipnorm))
    want = torch_steps(params, grads, torch_name, kwargs, weight_decay, clipnorm)
    assert_same(got, want)
    assert not np.allclose(got[0], params[0])  # the steps moved the parameters


@pytest.mark.parametrize("clipnorm", [None, CLIPNORM], ids=["no-clip", "clip"])
def test_adamw_decay_all_equals_torch_with_one_group(clipnorm: float | None) -> None:
    make, torch_name, kwargs = CASES["adamw"]
    params, grads = random_problem(seed=11)
    got = numpynn_steps(params, grads, make(weight_decay=0.1, clipnorm=clipnorm, decay_all=True))
    want = torch_steps(params, grads, torch_name, kwargs, 0.1, clipnorm, decay_all=True)
    assert_same(got, want)


def test_adamw_default_grouping_is_not_torchs_single_group() -> None:
    """The vectors' decay matters: the default (two groups) is not torch's one group."""
    make, torch_name, kwargs = CASES["adamw"]
    params, grads = random_problem(seed=11)
    got = numpynn_steps(params, grads, make(weight_decay=0.1))
    one_group = torch_steps(params, grads, torch_name, kwargs, 0.1, None, decay_all=True)
    np.testing.assert_allclose(got[0], one_group[0], rtol=TOL, atol=TOL)  # a matrix: decayed
    assert not np.allclose(got[1], one_group[1], rtol=1e-6, atol=0)  # a vector: not decayed


def test_adamw_defaults_are_torchs() -> None:
    ours = nn.AdamW()
    theirs = torch.optim.AdamW([torch.zeros(1)]).defaults
    assert (ours.lr, (ours.beta1, ours.beta2), ours.eps, ours.weight_decay) == (
        theirs["lr"],
        theirs["betas"],
        theirs["eps"],
        theirs["weight_decay"],
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_arrays=st.integers(1, 4),
    clipnorm=st.floats(1e-3, 1e3),
    scale=st.floats(1e-4, 1e4),
)
def test_clipping_equals_clip_grad_norm(
    seed: int, n_arrays: int, clipnorm: float, scale: float
) -> None:
    rng = np.random.default_rng(seed)
    shapes = [tuple(rng.integers(1, 5, size=rng.integers(1, 4))) for _ in range(n_arrays)]
    grads = [scale * rng.standard_normal(shape) for shape in shapes]
    kept = [g.copy() for g in grads]
    got = clip_by_global_norm(grads, clipnorm, [np.empty_like(g) for g in grads])
    tensors = [torch.zeros(shape, dtype=torch.float64, requires_grad=True) for shape in shapes]
    for t, g in zip(tensors, grads, strict=True):
        t.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_norm_(tensors, clipnorm)
    for a, t in zip(got, tensors, strict=True):
        b = t.grad.numpy()
        np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL * np.abs(b).max())
    for g, k in zip(grads, kept, strict=True):
        assert np.array_equal(g, k)  # the gradients' own arrays are left alone
