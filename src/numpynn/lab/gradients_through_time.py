"""Chapter 14, gradients through time (DLFS2 6.1): the gradient flowing back from a loss at
the last step of a sequence shrinks or grows geometrically with the distance, as the book's
bare products dh Wh^T show (figures 6-8 and 6-9); numpynn's RNN layer does the same, its LSTM
neither explodes nor, with its forget gates open, vanishes as fast; and clipping the
gradients' global norm keeps a training run with exploding gradients finite.

The layers do not expose dL/dh_t per step: the experiments read dL/dx_t, the gradient of each
step's input, which ``backward`` returns. It is dL/da_t Wx^T, with a_t the step's
pre-activation (for the RNN da_t = dh_t (1 - h_t^2)): the same geometric trend as dh_t, a
fixed matrix away."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import Array
from ..callbacks import Callback
from ..errors import DivergenceError
from ..layers import LSTM, RNN, Dense
from ..losses import MeanSquaredError
from ..model import Sequential
from ..optimizers import SGD, clip_by_global_norm
from ..plots import new_figure
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def book_gradient_norms(
    scales: Sequence[float] = (1.0, 0.5, 2.0), n: int = 2, hidden: int = 3, steps: int = 20
) -> dict[float, Array]:
    """DLFS2's rnn_gradient_graph.py: dh = ones (n, hidden) multiplied by Wh^T ``steps`` times,
    Wh the book's ``np.random.seed(3); np.random.randn(3, 3)`` times each scale (the book:
    1, figure 6-8, and 0.5, figure 6-9). {scale: (steps,) ||dh|| / n after each product}.

    Parameters
    ----------
    scales : sequence of float
        The factors Wh is multiplied by, one curve each.
    n : int
        The rows of dh (the book's batch, 2).
    hidden : int
        The size of dh's rows and of Wh (the book's matrix only for 3).
    steps : int
        The number of products.

    Returns
    -------
    dict
        ``{scale: array (steps,)}``: ||dh|| / n after each product, the first product first.
    """
    Wh = np.random.RandomState(3).randn(hidden, hidden)  # the book's legacy generator and seed
    norms = {}
    for scale in scales:
        dh, found = np.ones((n, hidden)), []
        for _ in range(steps):
            dh = dh @ (scale * Wh).T
            found.append(np.sqrt(np.sum(dh**2)) / n)
        norms[scale] = np.array(found)
    return norms


def input_gradient_norms(layer: RNN | LSTM, x: Array) -> Array:
    """||dL/dx_t|| / n for each step t of x (n, T, n_in), L the sum of the layer's last
    output h_T (so dL/dh_T = ones, the book's start): (T,), step 1 first. Runs the layer's
    own forward and backward; the layer must not return sequences."""
    h = layer.forward(x, training=True)
    dx = layer.backward(np.ones_like(h))
    return np.sqrt(np.sum(dx**2, axis=(0, 2))) / len(x)


def scaled_matrix(hidden: int, scale: float, seed: int) -> Array:
    """A recurrent matrix (hidden, hidden) of N(0, scale^2 / hidden) entries: its spectral
    radius is close to ``scale`` (the circular law)."""
    return np.random.default_rng(seed).normal(0.0, scale / np.sqrt(hidden), (hidden, hidden))


def recurrent_gradients(
    scales: Sequence[float] = (0.5, 1.0, 2.0),
    forget_biases: Sequence[float] = (0.0, 1.0, 2.0),
    steps: int = 50,
    n: int = 8,
    n_in: int = 16,
    hidden: int = 32,
    seed: int = 0,
) -> dict[str, Any]:
    """The gradient reaching each step's input (``input_gradient_norms``) of numpynn's RNN
    and LSTM (float64) over ``steps`` steps of N(0, 1) inputs (n, steps, n_in):

    - "rnn": {scale: (steps,)}, the RNN with Wh = ``scaled_matrix`` (hidden, scale);
    - "lstm": {scale: (steps,)}, the LSTM with that same matrix as each gate's block of Wh;
    - "forget": {bias: (steps,)}, the LSTM at its initial weights (PyTorch's) with ``bias``
      added to its forget gate's bias (Keras's ``unit_forget_bias`` adds 1).

    Every layer has the same Wx (seed ``seed``).

    Parameters
    ----------
    scales : sequence of float
        The recurrent matrices' scales (their spectral radii, about).
    forget_biases : sequence of float
        What is added to the LSTM's forget-gate bias, one curve each.
    steps : int
        The sequence length T.
    n : int
        The number of sequences.
    n_in : int
        The inputs' width.
    hidden : int
        The hidden size H.
    seed : int
        Seeds the inputs, Wx (``seed``) and the recurrent matrix (``seed + 1``).

    Returns
    -------
    dict
        ``"rnn"`` and ``"lstm"``: ``{scale: array (steps,)}``; ``"forget"``:
        ``{bias: array (steps,)}``; each array ||dL/dx_t|| / n, step 1 (the farthest from
        the loss) first; and ``"steps"``, ``"hidden"``.
    """
    x = np.random.default_rng(seed).normal(size=(n, steps, n_in))
    W = {scale: scaled_matrix(hidden, scale, seed + 1) for scale in scales}
    rnn, lstm, forget = {}, {}, {}
    for scale in scales:
        cell = RNN(n_in, hidden, dtype=np.float64, seed=seed)
        cell.Wh[...] = W[scale]
        rnn[scale] = input_gradient_norms(cell, x)
        gated = LSTM(n_in, hidden, dtype=np.float64, seed=seed)
        gated.Wh[...] = np.tile(W[scale], 4)  # the blocks of i, f, g, o
        lstm[scale] = input_gradient_norms(gated, x)
    for bias in forget_biases:
        gated = LSTM(n_in, hidden, dtype=np.float64, seed=seed)
        gated.b[hidden : 2 * hidden] += bias  # the forget gate's block (torch's order i, f, g, o)
        forget[bias] = input_gradient_norms(gated, x)
    return {"rnn": rnn, "lstm": lstm, "forget": forget, "steps": steps, "hidden": hidden}


def factor_per_step(norms: Array) -> float:
    """The factor by which the gradient's norm grows (> 1) or shrinks (< 1) per step back in
    time: the geometric mean of norms[k + 1] / norms[k], ``norms`` (K,) ordered by distance
    from the loss, nearest first (a layer's ``input_gradient_norms`` reversed)."""
    return float(np.exp((np.log(norms[-1]) - np.log(norms[0])) / (len(norms) - 1)))


class GradientNorms(Callback):
    """Records each step's loss and the global norm ||g|| of the model's gradients as
    backpropagation left them, and after clipping them to ``clipnorm`` (None: unclipped)."""

    def __init__(self, clipnorm: float | None) -> None:
        self.clipnorm = clipnorm
        self.losses: list[float] = []
        self.norms: list[float] = []
        self.clipped: list[float] = []

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        grads = self.model.gradients()
        self.losses.append(logs["loss"])
        self.norms.append(global_norm(grads))
        if self.clipnorm is not None:
            grads = clip_by_global_norm(grads, self.clipnorm, [np.empty_like(g) for g in grads])
        self.clipped.append(global_norm(grads))


def global_norm(grads: list[Array]) -> float:
    """||g||: the L2 norm of all the arrays together."""
    return float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))


def clipping_runs(
    clipnorm: float = 1.0,
    scale: float = 2.0,
    lr: float = 0.2,
    steps: int = 30,
    n: int = 512,
    hidden: int = 32,
    epochs: int = 10,
    batch_size: int = 32,
    seed: int = 0,
) -> dict[str, Any]:
    """Train an RNN (1 -> hidden, Wh = ``scaled_matrix`` (hidden, scale)) and a Dense
    head to tell, after ``steps`` N(0, 1) inputs, the sum of the first three (half the mean
    squared error), by SGD at rate ``lr``, without and with ``clipnorm``, from the same start.

    Parameters
    ----------
    clipnorm : float
        The clipped run's limit on the gradients' global norm.
    scale : float
        The recurrent matrix's scale (2: exploding gradients).
    lr : float
        SGD's learning rate.
    steps : int
        The sequence length T.
    n : int
        The number of training sequences, (n, steps, 1).
    hidden : int
        The RNN's hidden size.
    epochs : int
        Training epochs per run.
    batch_size : int
        The mini-batch size.
    seed : int
        Seeds the data, the weights and the shuffles.

    Returns
    -------
    dict
        ``"plain"`` and ``"clipped"``: one run each, a dict of ``"loss"`` (array (k,), each
        optimiser step's loss), ``"norm"`` (array (k,), ||g|| before clipping),
        ``"clipped_norm"`` (array (k,), after; the plain run's equals ``"norm"``) and
        ``"diverged"`` (int, the 1-based step at which the loss became infinite or NaN, or
        None), k the steps completed; and ``"clipnorm"``, ``"lr"``, ``"scale"``,
        ``"steps"``.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, steps, 1))
    y = X[:, :3, 0].sum(axis=1, keepdims=True)
    runs = {}
    for name, clip in (("plain", None), ("clipped", clipnorm)):
        cell = RNN(1, hidden, dtype=np.float64, seed=seed)
        cell.Wh[...] = scaled_matrix(hidden, scale, seed + 1)
        model = Sequential(cell, Dense(hidden, 1, dtype=np.float64, seed=seed))
        record = GradientNorms(clip)
        diverged = None
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                model.fit(
                    X,
                    y,
                    loss=MeanSquaredError(),
                    optimizer=SGD(lr=lr, clipnorm=clip),
                    epochs=epochs,
                    batch_size=batch_size,
                    seed=seed,
                    callbacks=[record],
                    divergence=None,  # the chapter shows the loss going to inf or NaN
                )
        except DivergenceError:
            diverged = len(record.losses) + 1
        runs[name] = {
            "loss": np.array(record.losses),
            "norm": np.array(record.norms),
            "clipped_norm": np.array(record.clipped),
            "diverged": diverged,
        }
    return {**runs, "clipnorm": clipnorm, "lr": lr, "scale": scale, "steps": steps}


# --- the figures -----------------------------------------------------------------------

SCALE_COLORS = {0.5: "tab:blue", 1.0: "tab:green", 2.0: "tab:red"}
BIAS_COLORS = {0.0: "tab:purple", 1.0: "tab:orange", 2.0: "tab:brown"}


def book_gradients_figure(norms: dict[float, Array]) -> Figure:
    """The book's ||dh|| by step back in time, one line per scale of Wh, log scale
    (``norms`` from :func:`book_gradient_norms`)."""
    fig = new_figure(figsize=(7, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    for scale, values in norms.items():
        steps = np.arange(1, len(values) + 1)
        label = f"Wh x {scale:g} (x {factor_per_step(values):.2f} per step)"
        ax.plot(steps, values, "o-", color=SCALE_COLORS.get(scale), markersize=3, label=label)
    ax.set_yscale("log")
    ax.set_xticks([1, 5, 10, 15, 20])
    ax.set_xlabel("time steps back (products dh Wh^T, 3 x 3 Wh)")
    ax.set_ylabel("||dh|| / N")
    ax.set_title("DLFS2 figures 6-8 and 6-9: dh times Wh^T, again and again")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return fig


def recurrent_gradients_figure(result: dict[str, Any]) -> Figure:
    """Left: ||dL/dx_t|| by step for the RNN (solid) and LSTM (dashed) with the same Wh at
    each scale; right: the LSTM at its initial weights with its forget bias raised (``result``
    from :func:`recurrent_gradients`)."""
    fig = new_figure(figsize=(13, 5))
    T = result["steps"]
    back = T - np.arange(1, T + 1)  # steps before the last one
    left = fig.add_subplot(1, 2, 1)
    for scale, norms in result["rnn"].items():
        color = SCALE_COLORS.get(scale)
        label = f"RNN, Wh x {scale:g} (x {factor_per_step(norms[::-1]):.2f} per step)"
        left.plot(back, norms, "-", color=color, linewidth=1.8, label=label)
        lstm = result["lstm"][scale]
        label = f"LSTM, same Wh x {scale:g} (x {factor_per_step(lstm[::-1]):.2f})"
        left.plot(back, lstm, "--", color=color, linewidth=1.8, label=label)
    left.set_title(f"RNN and LSTM ({result['hidden']} units), loss = sum of h_{T}")
    right = fig.add_subplot(1, 2, 2, sharey=left)
    for bias, norms in result["forget"].items():
        label = f"forget bias + {bias:g} (x {factor_per_step(norms[::-1]):.2f} per step)"
        right.plot(back, norms, "-", color=BIAS_COLORS.get(bias), linewidth=1.8, label=label)
    right.set_title("LSTM at its initial weights (PyTorch's), forget gate's bias raised")
    for ax in (left, right):
        ax.set_yscale("log")
        ax.set_xlabel("steps back from the last one")
        ax.set_ylabel("||dL/dx_t|| / N (gradient of step t's input)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def clipping_figure(result: dict[str, Any]) -> Figure:
    """The gradient's global norm and the loss at each training step, without and with
    clipping (``result`` from :func:`clipping_runs`)."""
    fig = new_figure(figsize=(13, 4.8))
    norms, losses = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    styles = {"plain": ("tab:red", "no clipping"), "clipped": ("tab:blue", "clipnorm")}
    clipnorm = result["clipnorm"]
    for name, (color, label) in styles.items():
        run = result[name]
        steps = np.arange(1, len(run["loss"]) + 1)
        suffix = f" {clipnorm:g}" if name == "clipped" else ""
        norms.plot(steps, run["norm"], color=color, linewidth=1, label=f"{label}{suffix}: ||g||")
        if name == "clipped":
            after = f"clipnorm {clipnorm:g}: ||g|| after clipping (the step taken)"
            norms.plot(steps, run["clipped_norm"], color="tab:cyan", linewidth=1.5, label=after)
        losses.plot(steps, run["loss"], color=color, linewidth=1, label=f"{label}{suffix}")
    norms.set_ylabel("global gradient norm ||g||")
    losses.set_ylabel("training loss (half the mean squared error)")
    norms.set_title(f"RNN with Wh x {result['scale']:g}, SGD lr {result['lr']:g}")
    losses.set_title(f"Telling the sum of the first 3 of {result['steps']} inputs")
    for ax in (norms, losses):
        ax.set_yscale("log")
        ax.set_xlabel("training step (mini-batch)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --- the chapter -----------------------------------------------------------------------


def run() -> dict[str, Any]:
    """The chapter's numbers: {"book": :func:`book_gradient_norms`, "layers":
    :func:`recurrent_gradients`, "clipping": :func:`clipping_runs`}."""
    return {
        "book": book_gradient_norms(),
        "layers": recurrent_gradients(),
        "clipping": clipping_runs(),
    }


def figures(numbers: dict[str, Any]) -> dict[str, Figure]:
    """The chapter's three figures, by file name."""
    return {
        "bptt-book.png": book_gradients_figure(numbers["book"]),
        "bptt-layers.png": recurrent_gradients_figure(numbers["layers"]),
        "bptt-clipping.png": clipping_figure(numbers["clipping"]),
    }


def summary(numbers: dict[str, Any]) -> str:
    """The gradient's change per step for each case, and the clipping runs' ends."""
    lines = []
    for scale, norms in numbers["book"].items():
        lines.append(
            f"book, Wh x {scale:g}: ||dh|| {norms[0]:.4g} after 1 product, {norms[-1]:.4g} "
            f"after {len(norms)} (x {factor_per_step(norms):.3f} per step)"
        )
    layers = numbers["layers"]
    cases = [
        *((f"RNN, Wh x {s:g}", v) for s, v in layers["rnn"].items()),
        *((f"LSTM, Wh x {s:g}", v) for s, v in layers["lstm"].items()),
        *((f"LSTM, forget bias + {b:g}", v) for b, v in layers["forget"].items()),
    ]
    for name, norms in cases:
        lines.append(
            f"{name}: ||dL/dx|| {norms[-1]:.3g} at the last step, {norms[0]:.3g} "
            f"{len(norms) - 1} steps before (x {factor_per_step(norms[::-1]):.3f} per step)"
        )
    clip = numbers["clipping"]
    for name in ("plain", "clipped"):
        r = clip[name]
        end = f"diverged at step {r['diverged']}" if r["diverged"] else "finished"
        lines.append(
            f"training, {name}: largest ||g|| {r['norm'].max():.3g}, step taken <= "
            f"{r['clipped_norm'].max():.3g}; loss of the last 16 steps "
            f"{r['loss'][-16:].mean():.4g} ({end})"
        )
    return "\n".join(lines)


CHAPTER = Chapter(
    name="bptt",
    title="gradients through time: vanishing and exploding in an RNN, the LSTM, clipping",
    page="14-gradients-through-time.md",
    run=run,
    figures=figures,
    summary=summary,
)
