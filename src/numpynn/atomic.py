"""Atomic file writes: a crash or a kill mid-write leaves the previous file intact."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` for binary writing; on success flush, fsync and
    ``os.replace`` it over ``path``. On any error the temporary file is removed and ``path`` is
    left as it was.

    >>> with atomic_write("model.npz") as f:  # doctest: +SKIP
    ...     f.write(data)
    """
    path = Path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except (FileNotFoundError, NotADirectoryError):  # name the directory, not the temporary file
        raise FileNotFoundError(
            f"cannot write {path}: the directory {path.parent} does not exist"
        ) from None
    except PermissionError:
        raise PermissionError(
            f"cannot write {path}: no permission to create files in {path.parent}"
        ) from None
    try:
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_directory(path.parent)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, as :func:`atomic_write` does."""
    with atomic_write(path) as f:
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
