"""``numpynn lab``: run the learning path's experiments and write their figures."""

from __future__ import annotations

import argparse
import contextlib
import time
from typing import Any

from ..lab import EXPERIMENTS
from .errors import CLIError


def add_parser(commands: Any) -> None:
    """Add the ``lab`` subcommand to the ``commands`` subparsers."""
    lab = commands.add_parser(
        "lab",
        help="run an experiment of the learning path and write its figures (docs/learn)",
        description="Run an experiment of the classic texts with its default settings, print "
        "its numbers and write its figures as PNG. NAME 'all' runs every one.",
    )
    lab.add_argument("name", nargs="?", metavar="NAME", help="an experiment (see --list) or all")
    lab.add_argument("--out", default=".", metavar="DIR", help="where to write (default: here)")
    lab.add_argument("--list", action="store_true", help="list the experiments")


def lab_command(args: argparse.Namespace) -> int:
    if args.list:
        for name, what in EXPERIMENTS.items():
            print(f"{name:<12} {what}")
        return 0
    if args.name is None:
        raise CLIError("give an experiment NAME, all, or --list")
    if args.name != "all" and args.name not in EXPERIMENTS:
        raise CLIError(f"no experiment {args.name!r}; choose one of {', '.join(EXPERIMENTS)}, all")
    try:
        from ..lab import figures  # needs matplotlib
    except ModuleNotFoundError as exc:
        raise CLIError(
            f"numpynn lab needs matplotlib: pip install 'numpynn[cli]' ({exc})", 1
        ) from None
    names = list(EXPERIMENTS) if args.name == "all" else [args.name]
    with one_blas_thread():
        for name in names:
            started = time.perf_counter()
            paths, text = figures.draw(name, args.out)
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
