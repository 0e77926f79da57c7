"""The command line's own error: a one-line message and the exit code."""

from __future__ import annotations


class CLIError(Exception):
    """Stops a command: ``main`` prints ``numpynn <command>: error: <message>`` (without
    "error: " for an interrupt) and returns ``code``: 2 for bad usage or input, 1 for a failed
    run, 130 for an interrupt."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code
