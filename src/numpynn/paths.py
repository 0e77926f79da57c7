"""A user's paths, read and written one way: every failure is one :class:`numpynn.PathError` whose
message names the path as given and the cause in words, never "[Errno N]" or the name of a
temporary file.

    cannot read model file runs/x/model.npz: it does not exist
    cannot write figure img: it is a directory, not a file
    cannot create run directory notes.txt/run: notes.txt is a file, not a directory
    cannot write model.npz: the disk is full (no space left on the device)

Writing a file (:func:`check_writable_file`, and ``numpynn.atomic.atomic_write``, which
every writer of numpynn goes through) needs its directory to exist, as ``open(path, "w")``
does: a directory that is not there is more often a typo than a wish. A directory named as an
output (a run directory, ``numpynn lab --out``, ``predict --show-input DIR``) is created with
its parents (:func:`make_dir`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from .errors import PathError

PathLike = str | os.PathLike[str]

READ, WRITE, CREATE = "read", "write", "create"  # what was being done: the message's verb

# The built-in class of each cause, which its PathError also is.
_CLASSES: dict[int, type[OSError]] = {
    errno.ENOENT: FileNotFoundError,
    errno.EISDIR: IsADirectoryError,
    errno.ENOTDIR: NotADirectoryError,
    errno.EACCES: PermissionError,
    errno.EPERM: PermissionError,
    errno.EEXIST: FileExistsError,
}
# PathError, also of each cause's built-in class: PathError and FileNotFoundError, and so on.
_ERRORS: dict[type[OSError], type[PathError]] = {
    base: type("PathError", (PathError, base), {"__module__": PathError.__module__})
    for base in dict.fromkeys(_CLASSES.values())
}


def path_error(action: str, path: PathLike, code: int, what: str = "") -> PathError:
    """The error for ``code`` (an ``errno`` value) met while ``action`` (READ, WRITE, CREATE)
    ``path``, the ``what`` ("model file", "run directory"...), the cause read from the disk."""
    given = os.fspath(path)
    cause = _cause(action, Path(path), code)
    message = f"cannot {action} {what + ' ' if what else ''}{given}: {cause}"
    kind = _ERRORS[_CLASSES[code]] if code in _CLASSES else PathError
    return kind(message, given, code)


@contextlib.contextmanager
def path_errors(action: str, path: PathLike, what: str = "") -> Iterator[None]:
    """Turn an operating-system error of the block into :func:`path_error`'s."""
    try:
        yield
    except PathError:
        raise
    except OSError as exc:
        if exc.errno is None:  # not the operating system's (e.g. a bad gzip stream)
            raise
        raise path_error(action, path, exc.errno, what) from None


def check_readable_file(path: PathLike, what: str = "") -> Path:
    """``path`` as a Path if it is a file this process may read; else the PathError."""
    return _check_readable(path, what, directory=False)


def check_readable_dir(path: PathLike, what: str = "") -> Path:
    """``path`` as a Path if it is a directory this process may list; else the PathError."""
    return _check_readable(path, what, directory=True)


def check_writable_file(path: PathLike, what: str = "") -> Path:
    """``path`` as a Path if a file may be written there: not a directory, in an existing
    directory (no file in the way) that this process may write in; else the PathError."""
    target = Path(path)
    if target.is_dir():
        raise path_error(WRITE, path, errno.EISDIR, what)
    with path_errors(WRITE, path, what):
        mode = os.stat(target.parent).st_mode
    if not stat.S_ISDIR(mode):
        raise path_error(WRITE, path, errno.ENOTDIR, what)
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise path_error(WRITE, path, errno.EACCES, what)
    return target


def check_output_dir(path: PathLike, what: str = "") -> Path:
    """``path`` as a Path if :func:`make_dir` can make it (or it is a directory already):
    no file in the way, permission to write in it or its nearest existing parent."""
    target = Path(path)
    action = WRITE + " in" if target.is_dir() else CREATE
    if os.path.lexists(target) and not target.is_dir():
        raise path_error(action, path, errno.EEXIST, what)
    if _file_in_the_way(target) is not None:
        raise path_error(action, path, errno.ENOTDIR, what)
    if not os.access(_nearest_existing(target), os.W_OK | os.X_OK):
        raise path_error(action, path, errno.EACCES, what)
    return target


def make_dir(path: PathLike, what: str = "") -> Path:
    """Create the directory ``path`` and its parents (nothing if it exists); the PathError
    if it cannot be, or cannot be written in."""
    target = check_output_dir(path, what)
    with path_errors(CREATE, path, what):
        target.mkdir(parents=True, exist_ok=True)
    return target


def _check_readable(path: PathLike, what: str, *, directory: bool) -> Path:
    target = Path(path)
    with path_errors(READ, path, what):
        mode = os.stat(target).st_mode
    if stat.S_ISDIR(mode) != directory:
        raise path_error(READ, path, errno.ENOTDIR if directory else errno.EISDIR, what)
    if not os.access(target, os.R_OK | (os.X_OK if directory else 0)):
        raise path_error(READ, path, errno.EACCES, what)
    return target


def _cause(action: str, path: Path, code: int) -> str:
    """The cause of ``code`` in words, naming the part of ``path`` that is in the way."""
    if code == errno.ENOSPC:
        return "the disk is full (no space left on the device)"
    if code == errno.EDQUOT:
        return "the disk quota is used up"
    if code == errno.EROFS:
        return "the file system is read-only"
    home = path.parent if action == WRITE else path  # the directory a file is written in
    if code in (errno.EACCES, errno.EPERM):
        if action == READ:
            return "no permission to read it"
        return f"no permission to write in {_nearest_existing(home)}"
    in_the_way = _file_in_the_way(path)
    if in_the_way is not None:
        return f"{in_the_way} is a file, not a directory"
    if code == errno.EISDIR:
        return "it is a directory, not a file"
    if code in (errno.ENOTDIR, errno.EEXIST):
        return "it is a file, not a directory"
    if code == errno.ENOENT:
        return f"the directory {home} does not exist" if action == WRITE else "it does not exist"
    return os.strerror(code).lower()


def _file_in_the_way(path: Path) -> Path | None:
    """The first parent of ``path`` that exists but is not a directory, if any."""
    for parent in reversed(path.parents):
        if os.path.lexists(parent) and not parent.is_dir():
            return parent
    return None


def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest parent that exists."""
    return next(p for p in (path, *path.parents) if os.path.lexists(p))
