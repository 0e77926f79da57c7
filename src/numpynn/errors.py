"""The documented exceptions of numpynn.

Every error raised for bad input is a ``ValueError`` or ``TypeError`` (or one of the
subclasses below), with a message naming the argument, the expected and the actual value.
"""

from __future__ import annotations

from typing import Any

from .epochs import at_batch


class ShapeError(ValueError):
    """An array has the wrong shape, e.g. features that do not match a layer's inputs."""


class DivergenceError(ArithmeticError):
    """Training produced a NaN or infinite loss; the message names the epoch and batch (from
    1) and the learning rate. ``epoch`` and ``batch`` are their indices (from 0, as
    :mod:`numpynn.epochs` counts). The parameters are those after the last good batch;
    ``run`` is the :class:`~numpynn.TrainingRun`.

    Parameters
    ----------
    message : str
        What diverged, where, and at which learning rate.
    run : TrainingRun, optional
        The run that diverged.
    epoch, batch : int
        The indices (from 0) of the batch whose loss was not finite.
    """

    def __init__(self, message: str, run: Any = None, epoch: int = 0, batch: int = 0) -> None:
        super().__init__(message)
        self.run, self.epoch, self.batch = run, epoch, batch


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped ``fit`` at the end of a batch, so the parameters are never left
    half-updated (a second Ctrl-C stops at once, with a plain KeyboardInterrupt). ``run`` is
    the :class:`~numpynn.TrainingRun`, ``epoch`` and ``batch`` the indices (from 0) of the
    last batch done, which the message names from 1; the epochs before ``epoch`` are complete
    (and checkpointed by a ModelCheckpoint).

    Parameters
    ----------
    run : TrainingRun
        The interrupted run.
    epoch, batch : int
        The indices (from 0) of the last batch done.
    """

    def __init__(self, run: Any, epoch: int, batch: int) -> None:
        super().__init__(f"training interrupted at {at_batch(epoch, batch)}")
        self.run, self.epoch, self.batch = run, epoch, batch


class ConvergenceWarning(UserWarning):
    """An iterative method stopped before it converged (e.g. a perceptron on XOR)."""


class FileFormatError(ValueError):
    """A data or model file is truncated, corrupt, tampered with or of an unknown format or
    version; the message names the file and what is wrong."""


class NoDigitError(ValueError):
    """An image holds no digit (or, for a Fashion-MNIST model, no item) to read: it is blank,
    or holds only noise or specks. The message starts with "no digit found: " (or "no item
    found: ") and says which. ``cleaned`` is what cleaning made of the picture before it
    found nothing: (height, width) float32 in [0, 1], ink light on black with the lighting
    flattened, at the working resolution (``numpynn predict --show-input`` saves it).

    Parameters
    ----------
    message : str
        Starts with "no digit found: " or "no item found: ".
    cleaned : ndarray, optional
        The cleaned picture, (height, width) float32 in [0, 1].
    """

    def __init__(self, message: str, cleaned: Any = None) -> None:
        super().__init__(message)
        self.cleaned = cleaned


class PathError(OSError):
    """A path given by the user cannot be read or written. The message names the path as
    given and the cause in words (a directory where a file belongs, a file where a directory
    belongs, something missing, no permission, a full disk), never "[Errno N]" or the name of
    a temporary file. ``path`` is the path as given and ``errno`` the operating system's code.
    Each is also the built-in class of its cause (``FileNotFoundError``,
    ``IsADirectoryError``, ``NotADirectoryError``, ``PermissionError``, ``FileExistsError``;
    a plain ``OSError`` for a full disk), so ``except FileNotFoundError`` still catches it:
    :func:`numpynn.paths.path_error` makes them.

    Parameters
    ----------
    message : str
        The path as given and the cause in words.
    path : str
        The path as given.
    errno : int, optional
        The operating system's error code.
    """

    def __init__(self, message: str, path: str = "", errno: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.errno = errno


class DatasetNotFoundError(FileNotFoundError):
    """No source of a dataset could be found; the message says how to get the data."""
