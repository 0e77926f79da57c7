"""Chapter 4, backpropagation checked (DLFS 5.7.3, Ng's gradient checking): the analytic
gradients of every layer against central differences, as a table of relative errors; its
figure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..datasets.toy import flower
from ..gradcheck import gradient_check
from ..model import mlp
from ..plots import new_figure
from .activations import ACTIVATION_COLORS
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def gradient_errors(
    sizes: tuple[int, ...] = (2, 5, 4, 2),
    activations: tuple[str, ...] = ("sigmoid", "tanh", "relu"),
    n_samples: int = 8,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """For each hidden activation, a float64 ``mlp(sizes)`` with a softmax output and
    cross-entropy, checked on ``n_samples`` points of the flower data by
    :func:`numpynn.gradient_check`. One row per parameter (and the input X):
    {"activation", "parameter" ("W1", "b1", ..., "X"), "shape", "relative_error"}, with
    relative error ||analytic - numerical|| / (||analytic|| + ||numerical||).

    Parameters
    ----------
    sizes : tuple of int
        The network's layer sizes; the first must be 2 (the flower data's features), the
        last at least 2 (its classes).
    activations : tuple of str
        The hidden activations to check, one network each.
    n_samples : int
        The number of flower points the loss is computed on.
    seed : int
        Seeds the data and the initial weights.

    Returns
    -------
    list of dict
        One row per activation and parameter, in layer order, then ``"X"``:
        ``"activation"`` (str), ``"parameter"`` (str), ``"shape"`` (tuple of int: the
        parameter's, or X's (n_samples, 2)) and ``"relative_error"`` (float).

    Raises
    ------
    ValueError
        For an unknown activation name, fewer than 2 sizes or a last size below 2;
        :class:`~numpynn.errors.ShapeError` (a ValueError) for ``sizes[0]`` other than 2.
    """
    X, y = flower(n_samples=max(n_samples, 2), seed=seed)
    X, y = X[:n_samples], y[:n_samples]
    rows = []
    for activation in activations:
        model = mlp(sizes, activation, "softmax", dtype=np.float64, seed=seed)
        errors = gradient_check(model, X, y, "cross_entropy")
        for key, error in errors.items():
            if key == "X":
                name, shape = "X", X.shape
            else:
                _, index, param = key.split()
                layer = model.layers[int(index)]
                number = model.dense_layers.index(layer) + 1  # type: ignore[arg-type]
                name, shape = f"{param}{number}", getattr(layer, param).shape
            rows.append(
                {
                    "activation": activation,
                    "parameter": name,
                    "shape": shape,
                    "relative_error": error,
                }
            )
    return rows


# --- the figure ------------------------------------------------------------------------


def gradient_errors_figure(rows: list[dict[str, Any]]) -> Figure:
    """The relative error of each parameter's analytic gradient against the numerical one,
    one group of bars per parameter, one bar per activation (log scale; ``rows`` from
    :func:`gradient_errors`)."""
    fig = new_figure(figsize=(9, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    activations = list(dict.fromkeys(r["activation"] for r in rows))
    params = list(dict.fromkeys(r["parameter"] for r in rows))
    width = 0.8 / len(activations)
    for k, act in enumerate(activations):
        errors = {r["parameter"]: r["relative_error"] for r in rows if r["activation"] == act}
        x = np.arange(len(params)) + (k - (len(activations) - 1) / 2) * width
        ax.bar(x, [errors[p] for p in params], width, label=act, color=ACTIVATION_COLORS.get(act))
    ax.axhline(1e-7, color="darkred", linestyle="--", label="1e-7: backprop is right below")
    ax.set_yscale("log")
    lowest = max(min(r["relative_error"] for r in rows), 1e-16)  # an exact 0 has no log
    highest = max(r["relative_error"] for r in rows)
    ax.set_ylim(min(1e-13, lowest / 10), max(1e-5, highest * 10))  # a wrong gradient shows too
    ax.set_xticks(range(len(params)), params)
    ax.set_xlabel("gradient of (layer's weights W, biases b, or the input X)")
    ax.set_ylabel("relative error (analytic vs numerical)")
    first = [r for r in rows if r["activation"] == activations[0]]
    Ws = [r["shape"] for r in first if r["parameter"].startswith("W")]
    sizes = [W[0] for W in Ws] + [Ws[-1][1]]
    ax.set_title(
        f"Backpropagation against central differences: {'-'.join(map(str, sizes))} network, "
        "softmax and cross-entropy, float64",
        fontsize=10,
    )
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, ncol=2, loc="upper right")
    fig.tight_layout()
    return fig


# --- the chapter -----------------------------------------------------------------------


def run() -> list[dict[str, Any]]:
    """The chapter's numbers: :func:`gradient_errors` of the 2-5-4-2 network."""
    return gradient_errors()


def figures(rows: list[dict[str, Any]]) -> dict[str, Figure]:
    """The chapter's figure, by file name."""
    return {"backprop.png": gradient_errors_figure(rows)}


def summary(rows: list[dict[str, Any]]) -> str:
    """The rows as a text table: activation, parameter, shape, relative error."""
    lines = [f"{'activation':<11}{'parameter':<10}{'shape':<10}relative error"]
    for r in rows:
        shape = "x".join(map(str, r["shape"]))
        lines.append(
            f"{r['activation']:<11}{r['parameter']:<10}{shape:<10}{r['relative_error']:.2e}"
        )
    return "\n".join(lines)


CHAPTER = Chapter(
    name="backprop",
    title="backpropagation checked: numerical vs analytic gradients per layer",
    page="04-backpropagation.md",
    run=run,
    figures=figures,
    summary=summary,
)
