"""The IDX reader/writer: round trips, and every kind of bad file is a FileFormatError."""

from __future__ import annotations

import gzip
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from numpynn.datasets import read_idx, write_idx
from numpynn.errors import FileFormatError

IDX_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    """An IDX file built by hand from the format's description (independent of write_idx)."""
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@settings(max_examples=60, deadline=None)
@given(
    array=hnp.arrays(
        dtype=st.sampled_from(IDX_DTYPES),
        shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5),
    ),
    compressed=st.booleans(),
)
def test_write_then_read_gives_the_same_array(array: np.ndarray, compressed: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("a.idx.gz" if compressed else "a.idx")
        write_idx(path, array)
        back = read_idx(path)
    assert back.dtype == array.dtype
    assert back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_reads_a_hand_built_big_endian_file() -> None:
    array = np.arange(6, dtype=np.int32).reshape(2, 3) - 3
    back = read_idx(idx_bytes(array, 0x0C))
    assert back.dtype == np.int32
    np.testing.assert_array_equal(back, array)


def test_write_is_big_endian_per_the_format(tmp_path: Path) -> None:
    write_idx(tmp_path / "a.idx", np.array([1, 256], dtype=np.int16))
    assert (tmp_path / "a.idx").read_bytes() == bytes(
        [0, 0, 0x0B, 1, 0, 0, 0, 2, 0x00, 0x01, 0x01, 0x00]
    )


def test_gzip_is_detected_from_the_content_not_the_name(tmp_path: Path) -> None:
    array = np.arange(10, dtype=np.uint8)
    (tmp_path / "labels").write_bytes(gzip.compress(idx_bytes(array, 0x08)))
    np.testing.assert_array_equal(read_idx(tmp_path / "labels"), array)


@pytest.fixture
def valid() -> bytes:
    return idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4), 0x08)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[:-1], "truncated IDX data"),
        (lambda b: b + b"\x00", "over-long IDX data"),
        (lambda b: b[:10], "truncated IDX header"),
        (lambda b: b[:3], "need a header"),
        (lambda b: b"", "need a header"),
        (lambda b: b"\x01" + b[1:], "magic number must start with 0x00 0x00"),
        (lambda b: b"PK\x03\x04" + b[4:], "magic number"),
        (lambda b: b[:2] + b"\x07" + b[3:], "unknown IDX type code 0x07"),
        (lambda b: b[:3] + b"\x00" + b[4:], "0 dimensions"),
        (lambda b: b[:4] + b"\xff\xff\xff\xff" * 3 + b[16:], "more than the limit"),
    ],
    ids=[
        "truncated-data",
        "over-long",
        "truncated-header",
        "short",
        "empty",
        "bad-magic",
        "zip-file",
        "bad-type",
        "zero-dims",
        "huge-dims",
    ],
)
def test_bad_file_is_a_file_format_error_naming_the_file(
    tmp_path: Path, valid: bytes, mutate, message: str
) -> None:
    for data in (mutate(valid), gzip.compress(mutate(valid))):
        path = tmp_path / "bad-idx3-ubyte"
        path.write_bytes(data)
        with pytest.raises(FileFormatError, match=message) as info:
            read_idx(path)
        assert str(path) in str(info.value)


def test_huge_dimensions_in_a_gzip_are_refused_without_reading(tmp_path: Path) -> None:
    # A 4-GiB claim below the limit but with no data behind it: a truncation error, and the
    # reader only allocates what is really there (this would need GBs otherwise).
    header = bytes([0, 0, 0x08, 2]) + np.array([65535, 65535], ">u4").tobytes()
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(header + b"\x00" * 100))
    with pytest.raises(FileFormatError, match=r"truncated IDX data.*found 100"):
        read_idx(path)


def test_a_zero_dimension_beside_huge_ones_is_refused() -> None:
    # Found by tests/fuzz/fuzz_idx.py: 0 bytes of data, but a shape NumPy cannot make.
    header = bytes([0, 0, 0x0B, 5]) + np.array([9, 2130706435, 0, 2, 3], ">u4").tobytes()
    with pytest.raises(FileFormatError, match="more than the limit"):
        read_idx(header)


def test_corrupt_gzip_is_a_file_format_error(tmp_path: Path, valid: bytes) -> None:
    data = bytearray(gzip.compress(valid))
    data[-6] ^= 0xFF  # the CRC
    path = tmp_path / "x.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="corrupt or truncated gzip"):
        read_idx(path)
    path.write_bytes(gzip.compress(valid)[:-10])
    with pytest.raises(FileFormatError, match="gzip"):
        read_idx(path)


def test_bytes_source_is_named_in_errors() -> None:
    with pytest.raises(FileFormatError, match=r"^mirror/file\.gz:"):
        read_idx(b"\x00\x00", name="mirror/file.gz")


def test_write_refuses_types_idx_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="IDX dtype"):
        write_idx(tmp_path / "a.idx", np.array([1, 2], dtype=np.int64))
    with pytest.raises(TypeError, match="IDX dtype"):
        write_idx(tmp_path / "a.idx", np.array([True]))
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "a.idx", np.uint8(3))
    assert not list(tmp_path.iterdir())


def test_read_refuses_a_non_path() -> None:
    with pytest.raises(TypeError, match="path or bytes"):
        read_idx(12)  # type: ignore[arg-type]


def _read_or_format_error(data: bytes) -> None:
    try:
        out = read_idx(data)
    except FileFormatError:
        return
    assert isinstance(out, np.ndarray)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_fuzz_random_bytes_are_an_array_or_a_file_format_error(data: bytes) -> None:
    _read_or_format_error(data)
    _read_or_format_error(b"\x00\x00" + data)  # past the first magic check more often
    _read_or_format_error(gzip.compress(data))


VALID = idx_bytes(np.arange(24, dtype=np.int16).reshape(2, 3, 4), 0x0B)


@settings(max_examples=300, deadline=None)
@given(st.data(), st.booleans())
def test_fuzz_mutated_valid_files_are_an_array_or_a_file_format_error(
    data: st.DataObject, compressed: bool
) -> None:
    blob = bytearray(gzip.compress(VALID, mtime=0) if compressed else VALID)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert", "set"]))
        pos = data.draw(st.integers(0, max(len(blob) - 1, 0)))
        if kind == "flip" and blob:
            blob[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "set" and blob:
            blob[pos] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del blob[pos:]
        else:
            blob[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
    _read_or_format_error(bytes(blob))


def test_the_standalone_idx_fuzzer_runs_clean(tmp_path: Path) -> None:
    script = Path(__file__).parent / "fuzz" / "fuzz_idx.py"
    result = subprocess.run(
        [sys.executable, str(script), "--seconds", "2", "--seed", "7"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "FileFormatError" in result.stdout and "read" in result.stdout
