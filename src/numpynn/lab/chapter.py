"""A chapter of the learning path as one record: its name, its page, and the three functions
of its module (the experiment, its figures, its summary)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Numbers = TypeVar("Numbers")  # what a chapter's experiment returns: arrays, dicts, lists


@dataclass(frozen=True)
class Chapter(Generic[Numbers]):
    """One chapter of docs/learn, as ``numpynn lab NAME`` runs it.

    ``run()`` runs the experiment with the chapter's settings and returns its numbers;
    ``full()``, where a chapter's default is smaller than its book's, runs it at the book's
    full setting (``numpynn lab NAME --full``; None: the default is the full setting);
    ``figures(numbers)`` draws them, {file name: ``Figure``}, which
    :func:`numpynn.plots.save_figure` writes; ``summary(numbers)`` is the text printed. All
    three live in the chapter's own module of :mod:`numpynn.lab`.

    Parameters
    ----------
    name : str
        The command line's NAME.
    title : str
        One line: what the chapter shows.
    page : str
        Its page's file name in docs/learn.
    run : callable
        ``run() -> numbers``: the experiment with the chapter's settings.
    figures : callable
        ``figures(numbers) -> {file name: Figure}``.
    summary : callable
        ``summary(numbers) -> str``: the text printed.
    full : callable, optional
        ``full() -> numbers``: the experiment at the book's full setting (None: ``run`` is
        the full setting).
    """

    name: str  # the command line's NAME
    title: str  # one line: what the chapter shows
    page: str  # its page in docs/learn
    run: Callable[[], Numbers]
    figures: Callable[[Numbers], dict[str, Figure]]
    summary: Callable[[Numbers], str]
    full: Callable[[], Numbers] | None = None
