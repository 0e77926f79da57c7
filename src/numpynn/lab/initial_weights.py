"""Chapter 7, initial weights (DLFS 6.2): histograms of the activations of a 5-layer network
for weights of standard deviation 1 and 0.01, Xavier's and He's (DLFS figures 6-10 to 6-14)."""

from __future__ import annotations

import numpy as np

from .._typing import Array
from ..initializers import he, xavier
from ..layers import activation_layer

INITS = ("std 1", "std 0.01", "xavier", "he")


def weights(init: str, n_in: int, n_out: int, rng: np.random.Generator) -> Array:
    """A (n_in, n_out) weight matrix: "std 1" and "std 0.01" are N(0, 1) scaled by that;
    "xavier" is N(0, 2 / (n_in + n_out)), "he" N(0, 2 / n_in) (:mod:`numpynn.initializers`)."""
    if init == "xavier":
        return xavier(n_in, n_out, rng)
    if init == "he":
        return he(n_in, n_out, rng)
    if init.startswith("std "):
        return rng.standard_normal((n_in, n_out)) * float(init[4:])
    raise ValueError(f"init must be one of {INITS} or 'std S', got {init!r}")


def activation_histograms(
    activation: str = "sigmoid",
    inits: tuple[str, ...] = INITS,
    n_layers: int = 5,
    width: int = 100,
    n_samples: int = 1000,
    seed: int = 0,
) -> dict[str, list[Array]]:
    """Push ``n_samples`` standard-normal inputs (n_samples, width) through ``n_layers``
    layers z = a @ W (no bias, as in the book) followed by ``activation``, once per initial
    weight scale; return {init: [a1, ..., a_n_layers]}, each (n_samples, width)."""
    results = {}
    for init in inits:
        rng = np.random.default_rng(seed)
        a = rng.standard_normal((n_samples, width))
        layers = []
        for _ in range(n_layers):
            a = activation_layer(activation).forward(a @ weights(init, width, width, rng))
            layers.append(a)
        results[init] = layers
    return results
