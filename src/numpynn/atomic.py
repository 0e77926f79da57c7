"""Atomic file writes: a crash or a kill mid-write leaves the previous file intact."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import PathError
from .paths import WRITE, check_writable_file, path_error, path_errors


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], what: str = "") -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` for binary writing; on success flush, fsync and
    ``os.replace`` it over ``path``. On any error the temporary file is removed and ``path`` is
    left as it was. ``path``'s directory must exist. Every failure of the operating system (a
    directory at ``path``, a missing directory, no permission, a full disk) is a
    :class:`~numpynn.errors.PathError` naming ``path`` (and ``what`` it is, e.g. "figure"),
    never the temporary file (:mod:`numpynn.paths`).

    >>> with atomic_write("model.npz") as f:  # doctest: +SKIP
    ...     f.write(data)
    """
    path = check_writable_file(path, what)
    with path_errors(WRITE, path, what):
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError) and exc.errno is not None and not isinstance(exc, PathError):
            raise path_error(WRITE, path, exc.errno, what) from None
        raise
    _fsync_directory(path.parent)


def atomic_write_text(path: str | os.PathLike[str], text: str, what: str = "") -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, as :func:`atomic_write` does."""
    with atomic_write(path, what) as f:
        f.write(text.encode())


def _umask() -> int:
    """The process's umask (reading it means setting it, so set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (where the platform allows opening a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
