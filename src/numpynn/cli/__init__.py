"""The ``numpynn`` command: train, evaluate, predict, gates, plot, export, lab, serve.

``main(argv)`` returns the exit code: 0 success, 1 a failed run (e.g. diverged training),
2 bad usage or input (one line on stderr, never a traceback), 130 interrupted by Ctrl-C.
Set NUMPYNN_DEBUG=1 to see the traceback of an error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, NoReturn

from .._version import __version__
from ..errors import DatasetNotFoundError, DivergenceError, FileFormatError
from . import evaluate, export, gates, generate, lab, plot, predict, serve, train_command
from .errors import CLIError, did_you_mean

EXAMPLES = """examples:
  numpynn train                         the default MNIST classifier (784-512-10, 8 epochs)
  numpynn train --preset nielsen        Nielsen's [784, 30, 10] sigmoid network
  numpynn train --preset cnn            a convnet with BatchNorm and shifted images
  numpynn train --dataset digits --epochs 20 --out runs/digits
  numpynn train --resume runs/digits    continue an interrupted run
  numpynn evaluate runs/digits          the run's model.npz
  numpynn plot curves runs/digits runs/mnist   overlay the learning curves of two runs
  numpynn predict runs/mnist/model.npz my_digit.png
  numpynn generate runs/shakespeare --prompt "ROMEO:" --temperature 0.8   a language model writes
  numpynn generate runs/names --count 20   new names, those of the training set marked
  numpynn serve runs/mnist/model.npz    draw digits at http://127.0.0.1:8000
"""


# The commands, in the order of --help: each module has add_parser(commands), which adds its
# parser, and <command>_command(args), which runs it and returns the exit code.
COMMANDS: dict[str, ModuleType] = {
    "train": train_command,
    "evaluate": evaluate,
    "predict": predict,
    "generate": generate,
    "gates": gates,
    "plot": plot,
    "export": export,
    "lab": lab,
    "serve": serve,
}

BROKEN_PIPE = 141  # 128 + SIGPIPE: what the shell reports for a Unix tool whose reader stopped


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line: 'numpynn train: error: ...'. Long
    options are not abbreviated: --epoch is refused (did you mean --epochs?), not taken for it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{"allow_abbrev": False, **kwargs})  # sub-commands are Parsers too

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
    for module in COMMANDS.values():
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default sys.argv[1:]); return the exit code."""
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
    command: Callable[[argparse.Namespace], int] = getattr(
        COMMANDS[args.command], f"{args.command}_command"
    )
    try:
        status = command(args)
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
