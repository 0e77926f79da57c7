"""``numpynn plot``: the activation functions, the learning curves of runs, a convnet's
filters, an MLP's first-layer weights (matplotlib, imported when drawing)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..layers import Conv2D
from ..trained import load_trained
from . import report
from .errors import CLIError
from .runs import run_history


def add_parser(commands: Any) -> None:
    plot = commands.add_parser(
        "plot",
        help="draw figures: activation functions, learning curves of runs, a model's first "
        "layer (convnet filters, MLP weights)",
        description="plot activations: the activation functions and their derivatives. plot "
        "curves RUN_DIR: redraw a run's learning curves (into RUN_DIR/curves.png); with several "
        "run directories, overlay their curves for comparison (into curves.png). plot filters "
        "MODEL: the first convolution's filters of a convnet model file (into filters.png "
        "beside it). plot weights MODEL: an MLP's first Dense layer, one picture per hidden "
        "unit in the input's shape (into weights.png beside it).",
    )
    plot.add_argument(
        "what", choices=["activations", "curves", "filters", "weights"], help="what to draw"
    )
    plot.add_argument(
        "runs",
        metavar="RUN_DIR",
        nargs="*",
        help="run directories (curves), a model or its run directory (filters, weights)",
    )
    plot.add_argument(
        "--out", help="figure file, its suffix the format: .png, .jpg, .svg, .pdf... (see above)"
    )


def plot_command(args: argparse.Namespace) -> int:
    from .. import plots

    if args.what == "activations":
        if args.runs:
            raise CLIError("plot activations takes no RUN_DIR (plot curves RUN_DIR draws a run)")
        path = plots.plot_activations(args.out or "activations.png")
    elif args.what in ("filters", "weights"):
        if len(args.runs) != 1:
            raise CLIError(
                f"plot {args.what} takes one model file: numpynn plot {args.what} RUN_DIR/model.npz"
            )
        trained = load_trained(args.runs[0])
        convs = [layer for layer in trained.model.layers if isinstance(layer, Conv2D)]
        given = Path(args.runs[0])
        where = given if given.is_dir() else given.parent
        out = args.out or where / f"{args.what}.png"
        if args.what == "filters" and convs:
            path = plots.plot_filters(convs[0].W, out, title=f"{where.name}, first Conv2D")
        elif args.what == "filters":
            raise CLIError(
                f"{args.runs[0]} has no Conv2D layer: plot filters draws a convnet's; for an "
                f"MLP's first layer: numpynn plot weights {args.runs[0]}"
            )
        elif convs:
            raise CLIError(
                f"{args.runs[0]} is a convnet: its first layer is drawn by numpynn plot filters "
                f"{args.runs[0]}"
            )
        else:
            path = plots.plot_weights(
                plots.first_layer_images(trained.model, trained.pictures()),
                out,
                title=f"{where.name} ({trained.dataset or 'model'}), first Dense layer",
            )
    elif not args.runs:
        raise CLIError("plot curves needs at least one RUN_DIR: numpynn plot curves runs/mnist")
    elif len(args.runs) == 1:
        run_dir = Path(args.runs[0])
        history, metrics = run_history(run_dir)
        path = plots.plot_history(
            history,
            args.out or run_dir / "curves.png",
            title=f"{metrics['config']['dataset']}, run {run_dir.name}",
            loss_name=metrics["config"]["loss"],
            best_epoch=report.final_epoch(metrics) if "test" in metrics else None,
            test_accuracy=metrics["test"]["accuracy"] if "test" in metrics else None,
        )
    else:
        runs = {}
        run_dirs = list(dict.fromkeys(Path(name) for name in args.runs))  # each run once
        names = [p.name for p in run_dirs]
        for run_dir in run_dirs:  # by its directory's name, by its path where two share a name
            history, metrics = run_history(run_dir)
            label = run_dir.name if names.count(run_dir.name) == 1 else str(run_dir)
            runs[f"{label} ({metrics['config']['dataset']})"] = history
        count = f"{len(runs)} run" + ("" if len(runs) == 1 else "s")
        path = plots.plot_histories(
            runs, args.out or "curves.png", title=f"Learning curves of {count}"
        )
    print(f"wrote {path}")
    return 0
