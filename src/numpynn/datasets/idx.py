"""The IDX file format of MNIST and Fashion-MNIST: read and write, raw or gzip.

An IDX file is a 4-byte magic number ``0x00 0x00 <type code> <ndim>``, then ``ndim``
big-endian uint32 dimensions, then the array's values in C order, big-endian. Every read
checks the magic number, the type code, the dimensions and that the data has exactly the
announced length; anything else is a :class:`~numpynn.errors.FileFormatError`.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .._typing import Array
from ..atomic import atomic_write
from ..errors import FileFormatError
from ..paths import READ, check_readable_file, path_errors

# Type code -> big-endian dtype of the values, as in LeCun's description of the format.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TYPE_CODES = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}

# No real IDX file comes near this; a tampered header asking for more is refused before any
# data is read (and data is read in chunks, so memory only grows with bytes actually present).
MAX_DATA_BYTES = 1 << 32
_CHUNK = 1 << 24
_GZIP_MAGIC = b"\x1f\x8b"

PathOrBytes = str | os.PathLike[str] | bytes


def read_idx(source: PathOrBytes, *, name: str | None = None) -> Array:
    """Read an IDX array from a file path or from the file's bytes, gzip-compressed or raw
    (detected from the content, not the file name).

    Returns the array in native byte order with the file's shape, e.g. (60000, 28, 28) uint8
    for MNIST training images. ``name`` names the source in error messages (default: the path,
    or ``"<bytes>"``). Raises FileFormatError on a bad magic number, type code or dimensions,
    or on data that is shorter or longer than the header announces.

    Parameters
    ----------
    source : str, os.PathLike or bytes
        The file's path, or its content.
    name : str, optional
        The source's name in error messages.

    Returns
    -------
    ndarray
        The array, native byte order, with the header's shape and type.

    Raises
    ------
    TypeError
        For a source that is neither a path nor bytes.
    numpynn.FileFormatError
        For a file that is not valid IDX data (a ValueError).
    numpynn.PathError
        For a path that cannot be read (an OSError).
    """
    if isinstance(source, bytes | bytearray):
        label = name or "<bytes>"
        return _read_stream(io.BytesIO(source), label, len(source))
    if not isinstance(source, str | os.PathLike):
        raise TypeError(f"source must be a path or bytes, got {type(source).__name__}")
    path = check_readable_file(source, "IDX file")
    label = name or str(path)
    with path_errors(READ, path, "IDX file"), open(path, "rb") as f:
        return _read_stream(f, label, path.stat().st_size)


def _read_stream(f: io.BufferedIOBase, name: str, size: int) -> Array:
    if f.read(2) == _GZIP_MAGIC:
        f.seek(0)
        try:
            with gzip.GzipFile(fileobj=f, mode="rb") as g:
                return _parse(g, name, size=None)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
            raise FileFormatError(f"{name}: corrupt or truncated gzip data ({exc})") from None
    f.seek(0)
    return _parse(f, name, size=size)


def _parse(f: io.BufferedIOBase, name: str, size: int | None) -> Array:
    """Parse an uncompressed IDX stream; ``size`` is its total length when known."""
    magic = f.read(4)
    if len(magic) < 4:
        raise FileFormatError(f"{name}: not an IDX file: only {len(magic)} bytes, need a header")
    zero0, zero1, code, ndim = magic
    if zero0 != 0 or zero1 != 0:
        raise FileFormatError(
            f"{name}: not an IDX file: magic number must start with 0x00 0x00, got {magic.hex()}"
        )
    if code not in IDX_DTYPES:
        codes = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise FileFormatError(
            f"{name}: unknown IDX type code 0x{code:02X}, expected one of {codes}"
        )
    if ndim == 0:
        raise FileFormatError(f"{name}: IDX header announces 0 dimensions, need at least 1")
    raw_dims = f.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise FileFormatError(
            f"{name}: truncated IDX header: {ndim} dimensions need {4 * ndim} bytes, "
            f"got {len(raw_dims)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw_dims, dtype=">u4"))
    dtype = IDX_DTYPES[code]
    n_bytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    # The limit also applies with a 0 among the dimensions: NumPy cannot shape an empty array
    # whose other dimensions multiply past its index range.
    extent = int(np.prod([max(d, 1) for d in shape], dtype=object)) * dtype.itemsize
    if extent > MAX_DATA_BYTES:
        raise FileFormatError(
            f"{name}: IDX dimensions {shape} of {dtype.itemsize}-byte values announce {extent} "
            f"bytes of data, more than the limit of {MAX_DATA_BYTES}; the header is corrupt"
        )
    if size is not None and size != 4 + 4 * ndim + n_bytes:
        actual = size - 4 - 4 * ndim
        raise FileFormatError(_length_message(name, shape, n_bytes, actual))
    data = _read_at_most(f, n_bytes + 1)
    if len(data) != n_bytes:
        raise FileFormatError(_length_message(name, shape, n_bytes, len(data), at_least=True))
    values = np.frombuffer(data, dtype=dtype).reshape(shape)
    return values.astype(dtype.newbyteorder("="), copy=dtype.itemsize > 1)


def _length_message(
    name: str, shape: tuple[int, ...], expected: int, actual: int, *, at_least: bool = False
) -> str:
    what = "truncated" if actual < expected else "over-long"
    more = "at least " if at_least and actual > expected else ""
    return (
        f"{name}: {what} IDX data: dimensions {shape} need {expected} bytes of data, "
        f"found {more}{actual}"
    )


def _read_at_most(f: io.BufferedIOBase, n: int) -> bytearray:
    """Up to ``n`` bytes, read in chunks so a lying header cannot force a huge allocation."""
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(min(_CHUNK, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return buf


def write_idx(path: str | os.PathLike[str], array: npt.ArrayLike) -> None:
    """Write ``array`` (at least 1-D; uint8, int8, int16, int32, float32 or float64) as an IDX
    file, gzip-compressed when ``path`` ends in ``.gz``. The write is atomic.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (replaced if it exists).
    array : array_like
        At least 1-D, at most 255-D, each dimension below 2**32.

    Raises
    ------
    TypeError
        For a dtype that IDX cannot hold.
    ValueError
        For a 0-D array, more than 255 dimensions, or a dimension of 2**32 or more.
    OSError
        When the file cannot be written.
    """
    array = np.asarray(array)
    code = _TYPE_CODES.get(array.dtype.newbyteorder("="))
    if code is None or array.dtype.kind not in "uif":
        names = ", ".join(str(d.newbyteorder("=")) for d in IDX_DTYPES.values())
        raise TypeError(f"array must have an IDX dtype ({names}), got {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array must have 1 to 255 dimensions for IDX, got shape {array.shape}")
    if max(array.shape) >= 1 << 32:
        raise ValueError(f"IDX dimensions must be below 2**32, got shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    path = Path(path)
    with atomic_write(path) as f:
        if path.suffix == ".gz":
            # mtime=0: the same array always gives the same bytes (and the same SHA-256).
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
                g.write(payload)
        else:
            f.write(payload)
