"""The command line's own error: a one-line message and the exit code; and the "did you
mean" of a misspelt name."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

# Other libraries' names for an option, written without dashes or underscores: numpynn's.
ALIASES = {"learningrate": "--lr", "learnrate": "--lr", "weightdecay": "--l2"}


class CLIError(Exception):
    """Stops a command: ``main`` prints ``numpynn <command>: error: <message>`` (without
    "error: " for an interrupt) and returns ``code``: 2 for bad usage or input, 1 for a failed
    run, 130 for an interrupt."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    """'; did you mean --optimizer?' for a close candidate (or, for an option, the one that
    ``ALIASES`` or its spelling with hyphens names), else ''."""
    alias = ALIASES.get(word.lstrip("-").replace("-", "").replace("_", "").lower())
    hyphens = word.replace("_", "-")
    for exact in (alias, hyphens):
        if exact is not None and exact != word and exact in candidates:
            return f"; did you mean {exact}?"
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.7)
    return f"; did you mean {close[0]}?" if close else ""
