"""``numpynn lab``: run the learning path's experiments and write their figures."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import lab
from ..lab import EXPERIMENTS, figures
from ..lab.backprop import format_table
from ..lab.batchnorm import diverged_epoch
from ..lab.forward_pass import format_steps
from ..lab.hyperparameter_search import format_best
from .errors import CLIError


def add_parser(commands: Any) -> None:
    """Add the ``lab`` subcommand to the ``commands`` subparsers."""
    parser = commands.add_parser(
        "lab",
        help="run an experiment of the learning path and write its figures (docs/learn)",
        description="Run an experiment of the classic texts with its default settings, print "
        "its numbers and write its figures as PNG. NAME 'all' runs every one.",
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="an experiment (see --list) or all")
    parser.add_argument("--out", default=".", metavar="DIR", help="where to write (default: here)")
    parser.add_argument("--list", action="store_true", help="list the experiments")


def lab_command(args: argparse.Namespace) -> int:
    if args.list:
        for name, what in EXPERIMENTS.items():
            print(f"{name:<12} {what}")
        return 0
    if args.name is None:
        raise CLIError("give an experiment NAME, all, or --list")
    if args.name != "all" and args.name not in EXPERIMENTS:
        raise CLIError(f"no experiment {args.name!r}; choose one of {', '.join(EXPERIMENTS)}, all")
    if importlib.util.find_spec("matplotlib") is None:
        raise CLIError("numpynn lab draws with matplotlib: pip install 'numpynn[cli]'", 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(EXPERIMENTS) if args.name == "all" else [args.name]
    with one_blas_thread():
        for name in names:
            started = time.perf_counter()
            paths, text = RUN[name](out)
            print(f"== {name}: {EXPERIMENTS[name]}")
            print(text)
            for path in paths:
                print(f"wrote {path}")
            print(f"({time.perf_counter() - started:.1f} s)")
    return 0


def one_blas_thread() -> contextlib.AbstractContextManager[object]:
    """One BLAS thread (when threadpoolctl is installed): the experiments' matrices are small,
    and two threads sharing a busy core run them several times slower."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# Each runner: the experiment with its default settings, its figures written into the
# directory, and the numbers to print.


def run_perceptron(out: Path) -> tuple[list[Path], str]:
    learning = lab.learning_rule()
    figures.plot_perceptrons(lab.gate_lines(), learning, out / "perceptron.png")
    text = "\n".join(
        f"{gate.upper():<5} learning rule: "
        + (
            f"no mistakes after epoch {t['converged_epoch']}"
            if t["converged_epoch"]
            else f"still {t['mistakes'][-1]} mistakes after {len(t['mistakes']) - 1} epochs"
        )
        for gate, t in learning.items()
    )
    return [out / "perceptron.png"], text


def run_activations(out: Path) -> tuple[list[Path], str]:
    saturation = lab.sigmoid_saturation()
    figures.plot_activation_curves(lab.activation_curves(), saturation, out / "activations.png")
    text = (
        f"sigmoid: largest slope {saturation['max_slope']:g}; slope below "
        f"{saturation['threshold']:g} for |x| > {saturation['saturates_beyond']:.2f}; "
        f"{saturation['depth']} sigmoid layers scale a gradient by at most "
        f"{saturation['max_gradient_factor']:.2g}"
    )
    return [out / "activations.png"], text


def run_forward(out: Path) -> tuple[list[Path], str]:
    steps = lab.forward_steps()
    figures.plot_forward_pass(steps, out / "forward.png")
    return [out / "forward.png"], format_steps(steps)


def run_backprop(out: Path) -> tuple[list[Path], str]:
    rows = lab.gradient_errors()
    figures.plot_gradient_errors(rows, out / "backprop.png")
    return [out / "backprop.png"], format_table(rows)


def run_planar(out: Path) -> tuple[list[Path], str]:
    result = lab.hidden_sizes()
    figures.plot_hidden_sizes(result, out / "planar.png")
    text = "\n".join(
        f"{size:>3} hidden {'unit' if size == 1 else 'units'}: training accuracy "
        f"{m['accuracy']:.2%}"
        for size, m in result["models"].items()
    )
    return [out / "planar.png"], text


def run_optimizers(out: Path) -> tuple[list[Path], str]:
    paths = lab.optimizer_paths()
    figures.plot_optimizer_paths(paths, out / "optimizers-paths.png")
    mnist = lab.mnist_losses()
    figures.plot_mnist_losses(mnist, out / "optimizers-mnist.png")
    lines = []
    for name, p in paths.items():
        reached = lab.steps_to_reach(p, 0.5)
        within = "not within 0.5" if reached is None else f"within 0.5 from step {reached}"
        lines.append(
            f"{name:<9} distance to (0, 0) after {len(p) - 1} steps {np.linalg.norm(p[-1]):.3f}; "
            f"{within}; MNIST: last 50 mini-batches' loss "
            f"{mnist['losses'][name][-50:].mean():.3f}, test accuracy "
            f"{mnist['test_accuracy'][name]:.2%}"
        )
    return [out / "optimizers-paths.png", out / "optimizers-mnist.png"], "\n".join(lines)


def run_init(out: Path) -> tuple[list[Path], str]:
    written, lines = [], []
    for activation in ("sigmoid", "tanh", "relu"):
        histograms = lab.activation_histograms(activation)
        path = out / f"init-{activation}.png"
        figures.plot_activation_histograms(histograms, activation, path)
        written.append(path)
        for init, layers in histograms.items():
            lines.append(
                f"{activation:<8}{init:<9} std of each layer's activations: "
                + " ".join(f"{a.std():.2g}" for a in layers)
            )
    return written, "\n".join(lines)


def run_batchnorm(out: Path) -> tuple[list[Path], str]:
    result = lab.batchnorm_accuracy()
    figures.plot_batchnorm_accuracy(result, out / "batchnorm.png")
    lines = []
    for i, scale in enumerate(result["scales"]):
        columns = []
        for name, label in (("batchnorm", "with BatchNorm"), ("plain", "without")):
            curve = result["accuracy"][name][i]
            diverged = diverged_epoch(curve)
            if diverged is None:
                columns.append(f"{label} {curve[5]:6.1%} {curve[-1]:6.1%}")
            else:
                columns.append(f"{label} loss NaN in epoch {diverged}")
        lines.append(f"weights std {scale:<8.2g} " + "; ".join(columns))
    epochs = result["epochs"][[5, -1]]
    head = f"training accuracy after epochs {epochs[0]} and {epochs[1]}:"
    return [out / "batchnorm.png"], "\n".join([head, *lines])


def run_overfitting(out: Path) -> tuple[list[Path], str]:
    result = lab.overfitting_curves()
    figures.plot_overfitting(result, out / "overfitting.png")
    lines = [f"accuracy after {result['epochs'][-1]} epochs, and the gap over the last 50:"]
    for name in result["train"]:
        train, test = result["train"][name], result["test"][name]
        lines.append(
            f"{name:<13} train {train[-1]:6.1%}  test {test[-1]:6.1%}  "
            f"gap {lab.train_test_gap(result, name):.3f}; mean gap over all epochs "
            f"{lab.train_test_gap(result, name, last=None):.3f}"
        )
    return [out / "overfitting.png"], "\n".join(lines)


def run_search(out: Path) -> tuple[list[Path], str]:
    result = lab.random_search()
    figures.plot_random_search(result, out / "search.png")
    return [out / "search.png"], format_best(result)


def run_learned(out: Path) -> tuple[list[Path], str]:
    result = lab.what_it_learned()
    paths = [
        out / "learned-weights.png",
        out / "learned-mistakes.png",
        out / "learned-confusion.png",
    ]
    figures.plot_first_layer_weights(result, paths[0])
    figures.plot_confident_mistakes(result, paths[1])
    figures.plot_learned_confusion(result, paths[2])
    m = result["mistakes"]
    lines = [
        f"test accuracy {result['test_accuracy']:.2%} on {result['n_test']:,} images; "
        f"first-layer weights {result['weights'].shape}",
        "most confident mistakes (test index: true -> predicted, probability):",
        *(
            f"  {i}: {t} -> {p} ({q:.3f})"
            for i, t, p, q in zip(
                m["index"], m["true"], m["predicted"], m["probability"], strict=True
            )
        ),
    ]
    C = result["confusion"]
    off = C - np.diag(np.diag(C))
    i, j = np.unravel_index(off.argmax(), C.shape)
    lines.append(f"most frequent confusion: {i} read as {j}, {off[i, j]} times")
    return paths, "\n".join(lines)


RUN: dict[str, Callable[[Path], tuple[list[Path], str]]] = {
    "perceptron": run_perceptron,
    "activations": run_activations,
    "forward": run_forward,
    "backprop": run_backprop,
    "planar": run_planar,
    "optimizers": run_optimizers,
    "init": run_init,
    "batchnorm": run_batchnorm,
    "overfitting": run_overfitting,
    "search": run_search,
    "learned": run_learned,
}
