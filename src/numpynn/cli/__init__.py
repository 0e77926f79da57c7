"""The ``numpynn`` command: train, evaluate, predict, gates, plot, export, lab, serve.

``main(argv)`` returns the exit code: 0 success, 1 a failed run (e.g. diverged training),
2 bad usage or input (one line on stderr, never a traceback), 130 interrupted by Ctrl-C.
Set NUMPYNN_DEBUG=1 to see the traceback of an error.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .._version import __version__
from ..errors import DatasetNotFoundError, DivergenceError, FileFormatError
from .config import CHOICES, PRESETS, parse_setting
from .errors import CLIError
from .lab import add_parser as add_lab_parser
from .lab import lab_command
from .serve import add_parser as add_serve_parser
from .serve import serve_command

EXAMPLES = """examples:
  numpynn train                         the default MNIST classifier (784-512-10, 8 epochs)
  numpynn train --preset nielsen        Nielsen's [784, 30, 10] sigmoid network
  numpynn train --preset cnn            a convnet with BatchNorm and shifted images
  numpynn train --dataset digits --epochs 20 --out runs/digits
  numpynn train --resume runs/digits    continue an interrupted run
  numpynn evaluate runs/digits          the run's model.npz
  numpynn plot curves runs/digits runs/mnist   overlay the learning curves of two runs
  numpynn predict runs/mnist/model.npz my_digit.png
  numpynn serve runs/mnist/model.npz    draw digits at http://127.0.0.1:8000
"""


BROKEN_PIPE = 141  # 128 + SIGPIPE: what the shell reports for a Unix tool whose reader stopped


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line: 'numpynn train: error: ...'."""

    def error(self, message: str) -> NoReturn:
        choice = re.match(r"argument .*: invalid choice: '(.*)' \(choose from (.*)\)$", message)
        if choice:
            message += did_you_mean(choice[1], re.findall(r"'([^']*)'", choice[2]))
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def unrecognized(self, extras: list[str]) -> NoReturn:
        """Refuse arguments this (sub)command does not take, suggesting a close option."""
        options = [s for action in self._actions for s in action.option_strings]
        hints = [
            did_you_mean(word.split("=")[0], options) for word in extras if word.startswith("--")
        ]
        self.error(f"unrecognized arguments: {' '.join(extras)}{''.join(hints)}")


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    """'; did you mean --optimizer?' for a close candidate, else ''."""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.7)
    return f"; did you mean {close[0]}?" if close else ""


def option(setting: str) -> Callable[[str], Any]:
    """The argparse type of a TrainConfig setting: its value from text, checked."""

    def parse(text: str) -> Any:
        try:
            return parse_setting(setting, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = setting
    return parse


def threads(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return parse_setting("blas_threads", text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or auto, got {text!r}"
        ) from None


def build_parser() -> Parser:
    parser = Parser(
        prog="numpynn",
        description="Neural networks from scratch on NumPy: train and use digit classifiers.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"numpynn {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True

    train = commands.add_parser(
        "train",
        help="train a classifier and write a run directory",
        description="Train a fully connected network, or a convnet (--preset cnn). Without "
        "options: the default MNIST classifier (defaults in brackets; digits and planar have "
        "their own). Options override the preset, which overrides the dataset's defaults. "
        "Each epoch is checkpointed; Ctrl-C stops after the current batch.",
    )
    add = train.add_argument
    add("--dataset", choices=CHOICES["dataset"], help="the data (default mnist)")
    add("--data-dir", metavar="DIR", help="directory with the dataset's IDX or .npz files")
    add("--preset", choices=sorted(PRESETS), help="a tested configuration (default: default)")
    add("--hidden", type=option("hidden"), nargs="+", metavar="N", help="hidden layer widths (512)")
    add("--activation", choices=CHOICES["activation"], help="hidden activation (relu)")
    add("--loss", choices=CHOICES["loss"], help="loss function (cross_entropy)")
    add("--optimizer", choices=CHOICES["optimizer"], help="optimiser (adam)")
    add("--lr", type=option("lr"), help="learning rate (0.002)")
    add(
        "--lr-decay",
        type=option("lr_decay"),
        metavar="F",
        help="multiply the rate by F each epoch (0.7)",
    )
    add(
        "--schedule",
        choices=CHOICES["schedule"],
        help="learning rate: exponential (--lr-decay) or cosine (to lr/100) (exponential)",
    )
    add("--epochs", type=option("epochs"), metavar="N", help="number of epochs (8)")
    add("--batch-size", type=option("batch_size"), metavar="N", help="mini-batch size (128)")
    add("--l2", type=option("l2"), metavar="LAMBDA", help="L2 weight decay (0)")
    add(
        "--dropout",
        type=option("dropout"),
        metavar="RATE",
        help="dropout after hidden layers (0.2)",
    )
    add(
        "--seed",
        type=option("seed"),
        metavar="N",
        help="seed of weights, split, shuffling, dropout (0)",
    )
    add(
        "--validation",
        type=option("validation"),
        metavar="N",
        help="training samples held out (5000)",
    )
    add(
        "--shift",
        type=option("shift"),
        metavar="N",
        help="move each training image by up to N pixels, new shifts every epoch (0)",
    )
    add(
        "--patience",
        type=option("patience"),
        metavar="N",
        help="stop when val_loss has not improved for N epochs; keep its best weights (off)",
    )
    add("--out", metavar="RUN_DIR", help="run directory (default runs/<date>-<time>-<dataset>)")
    add("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its last epoch")
    add(
        "--threads",
        type=threads,
        default="auto",
        metavar="N",
        help="threads, or auto (default): the cores measured idle now, and says why; an MLP's "
        "go to the BLAS, a convnet's to workers that each train on a share of every batch",
    )
    add("--no-plots", action="store_true", help="do not draw the PNG plots")
    add("--quiet", action="store_true", help="print only the final result")

    evaluate = commands.add_parser(
        "evaluate",
        help="accuracy, per-class precision/recall and confusion matrix of a model",
        description="Evaluate a model file on the test set of its dataset.",
    )
    evaluate.add_argument("model", metavar="MODEL", help="a model file (model.npz, best.npz)")
    evaluate.add_argument(
        "--dataset", choices=CHOICES["dataset"], help="default: the model's dataset"
    )
    evaluate.add_argument("--data-dir", metavar="DIR", help="directory with the dataset files")

    predict = commands.add_parser(
        "predict",
        help="classify digit images (PNG/JPEG of any size, photos of paper or drawings)",
        description="Classify images of digits. Each is cleaned as a photo of paper needs "
        "(lighting flattened, noise and specks removed, dark or light ink), then cropped, "
        "scaled into 20x20 and centred by its centre of mass in 28x28, as MNIST's digits were. "
        "A blank image is an error (no digit found); a top probability below 0.5 gets a "
        "warning.",
    )
    predict.add_argument("model", metavar="MODEL", help="a model file trained on images")
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="PNG or JPEG files")
    predict.add_argument(
        "--show-input",
        metavar="PATH",
        help="save the image the model saw, enlarged: as PATH if it ends in .png (one IMAGE), "
        "else as NAME-input.png in the directory PATH",
    )

    commands.add_parser(
        "gates",
        help="truth tables of the perceptron logic gates",
        description="Print AND, OR, NAND (one perceptron each) and XOR (two layers).",
    )

    plot = commands.add_parser(
        "plot",
        help="draw figures: activation functions, learning curves of runs, convnet filters",
        description="plot activations: the activation functions and their derivatives. plot "
        "curves RUN_DIR: redraw a run's learning curves (into RUN_DIR/curves.png); with several "
        "run directories, overlay their curves for comparison (into curves.png). plot filters "
        "MODEL: the first convolution's filters of a convnet model file (into filters.png "
        "beside it).",
    )
    plot.add_argument("what", choices=["activations", "curves", "filters"], help="what to draw")
    plot.add_argument(
        "runs", metavar="RUN_DIR", nargs="*", help="run directories (curves), a model (filters)"
    )
    plot.add_argument("--out", help="PNG file (default: see above)")

    export = commands.add_parser(
        "export",
        help="convert a model file to ONNX",
        description="Write MODEL.npz as an ONNX model (needs: pip install 'numpynn[onnx]').",
    )
    export.add_argument("model", metavar="MODEL.npz")
    export.add_argument("output", metavar="MODEL.onnx")

    add_lab_parser(commands)
    add_serve_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default sys.argv[1:]); return the exit code."""
    from . import commands

    started = time.perf_counter()  # the wall time numpynn train prints counts from here
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:
            subcommands = next(
                a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
            )
            subcommands.choices[args.command].unrecognized(extras)
    except SystemExit as exc:  # --help, --version or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else 2
    args.started = started
    run: dict[str, Callable[[Any], int]] = {
        "train": commands.train_command,
        "evaluate": commands.evaluate_command,
        "predict": commands.predict_command,
        "gates": commands.gates_command,
        "plot": commands.plot_command,
        "export": commands.export_command,
        "lab": lab_command,
        "serve": serve_command,
    }
    try:
        status = run[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:  # the reader stopped (numpynn gates | head -1): quietly, as Unix tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return BROKEN_PIPE
    except Exception as exc:
        if os.environ.get("NUMPYNN_DEBUG"):
            raise
        code = error_code(exc)
        if code is None:
            raise
        kind = "" if code == 130 else "error: "
        print(f"numpynn {args.command}: {kind}{one_line(exc)}", file=sys.stderr, flush=True)
        return code
    except KeyboardInterrupt:
        print(f"numpynn {args.command}: interrupted", file=sys.stderr, flush=True)
        return 130


def error_code(exc: Exception) -> int | None:
    """The exit code of an expected error (None: a bug, let it raise)."""
    if isinstance(exc, CLIError):
        return exc.code
    if isinstance(exc, DivergenceError):
        return 1
    if isinstance(exc, FileFormatError | DatasetNotFoundError | ValueError | TypeError | OSError):
        return 2
    return None


def one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())
