"""The documented exceptions of numpynn.

Every error raised for bad input is a ``ValueError`` or ``TypeError`` (or one of the
subclasses below), with a message naming the argument, the expected and the actual value.
"""

from __future__ import annotations


class ShapeError(ValueError):
    """An array has the wrong shape, e.g. features that do not match a layer's inputs."""


class DivergenceError(ArithmeticError):
    """Training produced a NaN or infinite loss; the message names the epoch and batch."""


class ConvergenceWarning(UserWarning):
    """An iterative method stopped before it converged (e.g. a perceptron on XOR)."""


class FileFormatError(ValueError):
    """A data or model file is truncated, corrupt, tampered with or of an unknown format or
    version; the message names the file and what is wrong."""


class NoDigitError(ValueError):
    """An image holds no digit to read: it is blank, or holds only noise or specks. The
    message starts with "no digit found: " and says which."""


class DatasetNotFoundError(FileNotFoundError):
    """No source of a dataset could be found; the message says how to get the data."""
