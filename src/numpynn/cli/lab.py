"""``numpynn lab``: run the learning path's chapters (:data:`numpynn.lab.CHAPTERS`), print
their numbers and write their figures."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import time
from typing import Any

from ..lab import CHAPTERS
from ..paths import make_dir
from ..plots import save_figure
from .errors import CLIError, did_you_mean


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
    parser.add_argument(
        "--full",
        action="store_true",
        help="run at the book's full setting where a chapter's default is smaller "
        "(slower: minutes to an hour)",
    )


def lab_command(args: argparse.Namespace) -> int:
    if args.list:
        for chapter in CHAPTERS.values():
            marker = " (--full: the book's setting)" if chapter.full else ""
            print(f"{chapter.name:<12} {chapter.title}{marker}")
        return 0
    if args.name is None:
        raise CLIError("give an experiment NAME, all, or --list")
    if args.name != "all" and args.name not in CHAPTERS:
        raise CLIError(
            f"no experiment {args.name!r}; choose one of {', '.join(CHAPTERS)}, all"
            + did_you_mean(args.name, [*CHAPTERS, "all"])
        )
    if importlib.util.find_spec("matplotlib") is None:
        raise CLIError("numpynn lab draws with matplotlib: pip install 'numpynn[cli]'", 1)
    out = make_dir(args.out, "--out directory")
    chapters = list(CHAPTERS.values()) if args.name == "all" else [CHAPTERS[args.name]]
    with one_blas_thread():
        for chapter in chapters:
            started = time.perf_counter()
            numbers = chapter.full() if args.full and chapter.full else chapter.run()
            figures = chapter.figures(numbers).items()
            written = [save_figure(figure, out / name) for name, figure in figures]
            print(f"== {chapter.name}: {chapter.title}")
            print(chapter.summary(numbers))
            for path in written:
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
