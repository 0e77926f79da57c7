"""Chapter 2, activation functions (DLFS 3.2, Nielsen chapter 1): each function h and its
derivative h' on one figure, and the saturation of the sigmoid; its figure and its summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import Array
from ..layers import activation_layer
from ..plots import new_figure
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

NAMES = ("step", "sigmoid", "tanh", "relu", "leaky_relu")


def activation_curves(
    x: Array | None = None, names: tuple[str, ...] = NAMES
) -> dict[str, dict[str, Array]]:
    """h(x) and h'(x) for each named activation on ``x`` (default 1201 points in [-6, 6]).

    The derivative is the layer's own ``backward`` applied to ones: exactly what
    backpropagation multiplies by.

    Parameters
    ----------
    x : array_like, optional
        The inputs, converted to float64 (default ``np.linspace(-6, 6, 1201)``).
    names : tuple of str
        Activation names (``"step"``, ``"sigmoid"``, ``"tanh"``, ``"relu"``,
        ``"leaky_relu"``, ...).

    Returns
    -------
    dict
        ``{name: {"x": x, "h": h(x), "dh": h'(x)}}``; ``"h"`` and ``"dh"`` are flat arrays
        of ``x.size`` values.

    Raises
    ------
    ValueError
        For an unknown activation name.
    """
    x = np.linspace(-6, 6, 1201) if x is None else np.asarray(x, dtype=np.float64)
    curves = {}
    for name in names:
        layer = activation_layer(name)
        h = layer.forward(x.reshape(-1, 1)).ravel().copy()
        dh = layer.backward(np.ones((x.size, 1))).ravel().copy()
        curves[name] = {"x": x, "h": h, "dh": dh}
    return curves


def sigmoid_saturation(threshold: float = 0.01, depth: int = 5) -> dict[str, Any]:
    """How the sigmoid saturates: its largest slope (1/4 at x = 0), the ``|x|`` beyond which its
    slope is below ``threshold``, and the largest factor by which ``depth`` sigmoid layers can
    scale a gradient on its way down (0.25 ** depth, before the weights).

    Parameters
    ----------
    threshold : float
        The slope below which the sigmoid counts as saturated, in (about 2e-9, 0.25]; the
        slope is searched on x in [0, 20].
    depth : int
        The number of sigmoid layers a gradient goes through.

    Returns
    -------
    dict
        ``"max_slope"`` (float, 0.25), ``"threshold"``, ``"saturates_beyond"`` (float, the
        first x >= 0 whose slope is below ``threshold``), ``"depth"`` and
        ``"max_gradient_factor"`` (float, ``max_slope ** depth``).

    Raises
    ------
    ValueError
        For a ``threshold`` the slope never falls below on [0, 20] (about 2e-9 or less).
    """
    curve = activation_curves(np.linspace(0, 20, 20001), ("sigmoid",))["sigmoid"]
    flat = curve["x"][curve["dh"] < threshold]
    if not len(flat):
        smallest = float(curve["dh"].min())
        raise ValueError(
            f"threshold must be above the sigmoid's slope at x = 20 ({smallest:.3g}), "
            f"got {threshold!r}"
        )
    return {
        "max_slope": float(curve["dh"].max()),
        "threshold": threshold,
        "saturates_beyond": float(flat[0]),
        "depth": depth,
        "max_gradient_factor": float(curve["dh"].max() ** depth),
    }


# --- the figure ------------------------------------------------------------------------

# One colour per activation, here and in chapter 4's figure (matplotlib's tab10).
ACTIVATION_COLORS = {
    "step": "tab:gray",
    "sigmoid": "tab:blue",
    "tanh": "tab:orange",
    "relu": "tab:green",
    "leaky_relu": "tab:red",
}


def activation_curves_figure(
    curves: dict[str, dict[str, Array]], saturation: dict[str, Any]
) -> Figure:
    """The functions h(x), their derivatives h'(x), and the sigmoid with the inputs where it
    saturates shaded (``curves`` from :func:`activation_curves`, ``saturation`` from
    :func:`sigmoid_saturation`)."""
    fig = new_figure(figsize=(14, 4.3))
    for k, (key, title, ylabel) in enumerate(
        (("h", "Activation functions h(x)", "h(x)"), ("dh", "Derivatives h'(x)", "h'(x)"))
    ):
        ax = fig.add_subplot(1, 3, k + 1)
        for name, c in curves.items():
            style = ":" if name == "leaky_relu" else "-"  # drawn over ReLU: keep ReLU visible
            color = ACTIVATION_COLORS.get(name)
            ax.plot(c["x"], c[key], style, label=name, color=color, linewidth=2)
        ax.set_ylim(*((-0.2, 1.2) if key == "dh" else (-1.2, 2.2)))
        _axes(ax, title, "input x", ylabel)
        ax.legend(fontsize=8, loc="upper left")
    ax = fig.add_subplot(1, 3, 3)
    x = np.linspace(-8, 8, 1601)
    sig = activation_curves(x, ("sigmoid",))["sigmoid"]
    edge = saturation["saturates_beyond"]
    ax.axvspan(-8, -edge, color="0.85")
    ax.axvspan(edge, 8, color="0.85", label=f"h'(x) < {saturation['threshold']:g}: saturated")
    ax.plot(x, sig["h"], color="tab:blue", linewidth=1.8, label="sigmoid h(x)")
    ax.plot(x, sig["dh"], "--", color="tab:blue", linewidth=1.8, label="h'(x) = h(x)(1 - h(x))")
    ax.annotate(
        f"max slope {saturation['max_slope']:g}",
        xy=(0, saturation["max_slope"]),
        xytext=(1.2, 0.4),
        arrowprops={"arrowstyle": "->"},
        fontsize=8,
    )
    _axes(ax, f"Sigmoid saturates for |x| > {edge:.1f}", "input x", "h(x), h'(x)")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def _axes(ax: Axes, title: str, xlabel: str, ylabel: str) -> None:
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.axvline(0, color="grey", linewidth=0.5)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)


# --- the chapter -----------------------------------------------------------------------


def run() -> dict[str, Any]:
    """The chapter's numbers: {"curves": :func:`activation_curves`, "saturation":
    :func:`sigmoid_saturation`}."""
    return {"curves": activation_curves(), "saturation": sigmoid_saturation()}


def figures(numbers: dict[str, Any]) -> dict[str, Figure]:
    """The chapter's figure, by file name."""
    figure = activation_curves_figure(numbers["curves"], numbers["saturation"])
    return {"activations.png": figure}


def summary(numbers: dict[str, Any]) -> str:
    """The sigmoid's largest slope, where it saturates, and what that does to a gradient."""
    saturation = numbers["saturation"]
    return (
        f"sigmoid: largest slope {saturation['max_slope']:g}; slope below "
        f"{saturation['threshold']:g} for |x| > {saturation['saturates_beyond']:.2f}; "
        f"{saturation['depth']} sigmoid layers scale a gradient by at most "
        f"{saturation['max_gradient_factor']:.2g}"
    )


CHAPTER = Chapter(
    name="activations",
    title="activation functions and their derivatives; the saturation of the sigmoid",
    page="02-activation-functions.md",
    run=run,
    figures=figures,
    summary=summary,
)
