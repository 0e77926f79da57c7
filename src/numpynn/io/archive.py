"""The container of model files and checkpoints: one ``.npz`` file (a zip of ``.npy`` arrays)
holding the numeric arrays and a ``__description__`` array of UTF-8 JSON bytes.

Reading never unpickles: each member's ``.npy`` header is parsed and checked against the
shape and dtype the caller expects *before* any data is read, members must be stored
uncompressed (as ``np.savez`` writes them), so nothing read can be larger than the file, and
the zip CRC of every member is checked. Every problem raises :class:`InvalidFileError`, which the
public loaders turn into a :class:`~numpynn.errors.FileFormatError` naming the file.
"""

from __future__ import annotations

import json
import lzma
import math
import os
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from .._typing import Array
from ..atomic import atomic_write
from ..paths import READ, check_readable_file, path_errors

DESCRIPTION = "__description__"
MAX_DESCRIPTION_BYTES = 16 * 2**20  # far above any real description; bounds what is read
FLOAT_DTYPES = ("float16", "float32", "float64")

# What a damaged zip or .npy header can raise from zipfile, zlib and numpy.lib.format.
_DAMAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    NotImplementedError,
    RuntimeError,
    SyntaxError,
    struct.error,
    tokenize.TokenError,  # numpy's .npy header parser on a damaged header
    zlib.error,
    lzma.LZMAError,
)


class InvalidFileError(Exception):
    """What is wrong with a file (without its name, which the public loader adds)."""


def write(
    path: str | os.PathLike[str], description: Mapping[str, Any], arrays: dict[str, Array]
) -> None:
    """Write ``arrays`` and ``description`` (JSON data) atomically as one ``.npz`` at ``path``."""
    text = json.dumps(description, allow_nan=False, separators=(",", ":"))
    payload: dict[str, Any] = {DESCRIPTION: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    payload.update({name: np.ascontiguousarray(a) for name, a in arrays.items()})
    with atomic_write(path) as f:
        np.savez(f, allow_pickle=False, **payload)


class Archive:
    """An open ``.npz`` file being validated: ``description()`` then ``arrays(expected)``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        check_readable_file(path)  # a PathError: missing, a directory, no permission...
        with path_errors(READ, path), open(path, "rb") as f:
            magic = f.read(4)
        if magic not in (b"PK\x03\x04", b"PK\x05\x06"):
            raise InvalidFileError(
                f"not a numpynn file: expected an .npz (zip) archive, but it starts with {magic!r}"
            )
        try:
            self.zip = zipfile.ZipFile(path)
            infos = self.zip.infolist()
        except _DAMAGE as exc:
            raise InvalidFileError(
                f"not a readable .npz (zip) archive ({_describe(exc)})"
            ) from None
        try:
            self.members = _members(infos)
        except InvalidFileError:
            self.zip.close()
            raise

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def description(self) -> dict[str, Any]:
        """The parsed JSON description (a dict); InvalidFileError if missing or not JSON."""
        if DESCRIPTION not in self.members:
            raise InvalidFileError(f"no {DESCRIPTION!r} array: this is not a numpynn model file")
        return _parse_description(self._read(DESCRIPTION, np.dtype(np.uint8), None).tobytes())

    def arrays(self, expected: dict[str, tuple[tuple[int, ...], str]]) -> dict[str, Array]:
        """Read exactly the arrays named in ``expected`` (name -> (shape, dtype name)), each
        checked for shape, dtype and finite values; InvalidFileError on any difference."""
        _check_names(expected, set(self.members) - {DESCRIPTION})
        arrays = {}
        for name, (shape, dtype) in expected.items():
            arrays[name] = _check_finite(name, self._read(name, np.dtype(dtype), shape))
        return arrays

    def _read(self, name: str, dtype: np.dtype[Any], shape: tuple[int, ...] | None) -> Array:
        """One member's array, after checking its header against ``dtype`` and ``shape``
        (``shape=None``: any 1-D array up to MAX_DESCRIPTION_BYTES)."""
        info = self.members[name]
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise InvalidFileError(
                f"array {name!r} is compressed or encrypted; numpynn stores arrays plainly"
            )
        try:
            with self.zip.open(info) as fp:
                header_shape, dtype_found = _read_header(fp, name)
                if dtype_found != dtype:
                    raise InvalidFileError(
                        f"array {name!r} has dtype {_dtype_name(dtype_found)}, expected {dtype}"
                    )
                if shape is None:
                    if len(header_shape) != 1 or header_shape[0] > MAX_DESCRIPTION_BYTES:
                        raise InvalidFileError(
                            f"array {name!r} has shape {header_shape}, expected a 1-D array of at "
                            f"most {MAX_DESCRIPTION_BYTES} bytes"
                        )
                    shape = header_shape
                elif header_shape != shape:
                    raise InvalidFileError(
                        f"array {name!r} has shape {header_shape}, the description says {shape}"
                    )
                nbytes = math.prod(shape) * dtype.itemsize
                data = fp.read(nbytes + 1)  # reading to the end makes zipfile check the CRC
        except InvalidFileError:
            raise
        except _DAMAGE as exc:
            raise InvalidFileError(f"array {name!r} is damaged ({_describe(exc)})") from None
        if len(data) != nbytes:
            raise InvalidFileError(
                f"array {name!r} holds {len(data)} bytes of data, its header says {nbytes}"
            )
        return np.frombuffer(bytearray(data), dtype=dtype).reshape(shape)


class Unwritten:
    """A file about to be written, read as :class:`Archive` reads one: the description
    through JSON, exactly the expected arrays, each of the expected shape and dtype and finite.
    The savers validate with it, by their loader's own checks, before writing anything."""

    def __init__(self, description: Mapping[str, Any], arrays: dict[str, Array]) -> None:
        self.text = json.dumps(description, separators=(",", ":"))  # NaN as the loader sees it
        self.arrays_to_write = arrays

    def description(self) -> dict[str, Any]:
        return _parse_description(self.text.encode("utf-8"))

    def arrays(self, expected: dict[str, tuple[tuple[int, ...], str]]) -> dict[str, Array]:
        _check_names(expected, set(self.arrays_to_write))
        for name, (shape, dtype) in expected.items():
            array = self.arrays_to_write[name]
            if array.dtype != np.dtype(dtype):
                raise InvalidFileError(
                    f"array {name!r} has dtype {_dtype_name(array.dtype)}, expected {dtype}"
                )
            if array.shape != shape:
                raise InvalidFileError(
                    f"array {name!r} has shape {array.shape}, the description says {shape}"
                )
            _check_finite(name, array)
        return {name: self.arrays_to_write[name] for name in expected}


def _parse_description(raw: bytes) -> dict[str, Any]:
    """The description's JSON object: no NaN or infinity, nothing but an object at the top."""
    try:
        description = json.loads(
            raw.decode("utf-8"), parse_constant=_reject, parse_float=_finite_float
        )
    except (ValueError, RecursionError) as exc:
        raise InvalidFileError(
            f"the description is not valid UTF-8 JSON ({_describe(exc)})"
        ) from None
    if not isinstance(description, dict):
        raise InvalidFileError(
            f"the description must be a JSON object, got {type(description).__name__}"
        )
    return description


def _check_names(expected: Mapping[str, Any], present: set[str]) -> None:
    missing = sorted(set(expected) - present)
    extra = sorted(present - set(expected))
    if missing:
        raise InvalidFileError(f"array(s) {_some(missing)} described but missing from the file")
    if extra:
        raise InvalidFileError(f"array(s) {_some(extra)} in the file but not in the description")


def _check_finite(name: str, array: Array) -> Array:
    finite = np.isfinite(array)
    if not finite.all():
        bad = int(array.size - finite.sum())
        raise InvalidFileError(f"array {name!r} contains {bad} NaN or infinite value(s)")
    return array


def _members(infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by array name (file name without ".npy")."""
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise InvalidFileError("the archive lists the same member twice")
    for name in names:
        if not name.endswith(".npy"):
            raise InvalidFileError(f"unexpected member {name!r}: every member is an .npy")
    return {info.filename[: -len(".npy")]: info for info in infos}


def _read_header(fp: IO[bytes], name: str) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """Shape and dtype from an .npy header (never the data); Fortran order is refused."""
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise InvalidFileError(f"array {name!r} has unsupported .npy format version {version}")
    if fortran_order:
        raise InvalidFileError(f"array {name!r} is stored in Fortran order; numpynn writes C order")
    return tuple(shape), dtype


def _dtype_name(dtype: np.dtype[Any]) -> str:
    return str(dtype) if dtype.isnative else dtype.str


def _reject(constant: str) -> None:
    raise ValueError(f"{constant} is not allowed in the description")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _some(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")
