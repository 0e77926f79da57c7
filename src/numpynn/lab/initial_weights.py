"""Chapter 7, initial weights (DLFS 6.2): histograms of the activations of a 5-layer network
for weights of standard deviation 1 and 0.01, Xavier's and He's (DLFS figures 6-10 to 6-14);
one figure per activation, and the chapter's summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._typing import Array
from ..initializers import he, xavier
from ..layers import activation_layer
from ..plots import new_figure
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INITS = ("std 1", "std 0.01", "xavier", "he")
ACTIVATIONS = ("sigmoid", "tanh", "relu")  # the chapter's three figures


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
    weight scale; return {init: [a1, ..., a_n_layers]}, each (n_samples, width).

    Parameters
    ----------
    activation : str
        The activation after every layer (``"sigmoid"``, ``"tanh"``, ``"relu"``, ...).
    inits : tuple of str
        The initial weights: ``"std S"`` (N(0, 1) times the number S), ``"xavier"`` or
        ``"he"``.
    n_layers : int
        The number of layers.
    width : int
        Every layer's width (and the inputs').
    n_samples : int
        The number of input rows.
    seed : int
        Seeds the inputs and the weights (the same inputs for every init).

    Returns
    -------
    dict
        ``{init: [a1, ..., a_n_layers]}``, each a layer's activations (n_samples, width).

    Raises
    ------
    ValueError
        For an unknown activation or init name.
    """
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


# --- the figure ------------------------------------------------------------------------


def activation_histograms_figure(histograms: dict[str, list[Array]], activation: str) -> Figure:
    """A grid of histograms: one row per initial weight scale, one column per layer
    (``histograms`` from :func:`activation_histograms`). ReLU's activations are shown on a
    logarithmic axis, without the zeros (about half of them), as their scale changes by
    orders of magnitude from layer to layer."""
    inits = list(histograms)
    n_layers = len(histograms[inits[0]])
    fig = new_figure(figsize=(2.6 * n_layers + 0.6, 2.0 * len(inits) + 0.8))
    relu = activation == "relu"
    value_range = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}.get(activation, (0.0, 1.0))
    for r, init in enumerate(inits):
        for c, a in enumerate(histograms[init]):
            ax = fig.add_subplot(len(inits), n_layers, r * n_layers + c + 1)
            values = a.ravel()
            if relu:
                values = values[values > 0]
                ax.hist(values, bins=np.geomspace(1e-8, 1e6, 57).tolist(), color=_init_color(r))
                ax.set_xscale("log")
                ax.set_xticks([1e-8, 1e-4, 1, 1e4])
            else:
                ax.hist(values, bins=30, range=value_range, color=_init_color(r))
            ax.tick_params(labelsize=7)
            ax.set_title(f"layer {c + 1}: std {a.std():.2g}", fontsize=9)
            if c == 0:
                ax.set_ylabel(f"{init}\ncount", fontsize=9)
            if r == len(inits) - 1:
                ax.set_xlabel("activation (> 0, log)" if relu else "activation", fontsize=9)
    note = " (the zeros, about half, left out)" if relu else ""
    fig.suptitle(
        f"{activation} activations of a 5-layer, 100-unit network by initial weights{note}"
    )
    fig.tight_layout()
    return fig


def _init_color(row: int) -> str:
    return ("tab:red", "tab:gray", "tab:blue", "tab:green", "tab:purple")[row % 5]


# --- the chapter -----------------------------------------------------------------------


def run() -> dict[str, dict[str, list[Array]]]:
    """The chapter's numbers: {activation: :func:`activation_histograms`} for the sigmoid,
    tanh and ReLU."""
    return {activation: activation_histograms(activation) for activation in ACTIVATIONS}


def figures(histograms: dict[str, dict[str, list[Array]]]) -> dict[str, Figure]:
    """The chapter's figures, one per activation, by file name."""
    return {
        f"init-{activation}.png": activation_histograms_figure(h, activation)
        for activation, h in histograms.items()
    }


def summary(histograms: dict[str, dict[str, list[Array]]]) -> str:
    """One line per activation and initial weights: the std of each layer's activations."""
    return "\n".join(
        f"{activation:<8}{init:<9} std of each layer's activations: "
        + " ".join(f"{a.std():.2g}" for a in layers)
        for activation, h in histograms.items()
        for init, layers in h.items()
    )


CHAPTER = Chapter(
    name="init",
    title="initial weights: activation histograms of a 5-layer net (std 1, 0.01, Xavier, He)",
    page="07-initial-weights.md",
    run=run,
    figures=figures,
    summary=summary,
)
