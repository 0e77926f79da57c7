"""Atomic writes: all or nothing, with the permissions a plain open() would give."""

import os
import stat
from pathlib import Path

import pytest

from numpynn.atomic import atomic_write


def test_writes_the_whole_file(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "f.bin") as f:
        f.write(b"abc")
    assert (tmp_path / "f.bin").read_bytes() == b"abc"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_an_error_mid_write_keeps_the_previous_file(tmp_path: Path) -> None:
    (tmp_path / "f.bin").write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(tmp_path / "f.bin") as f:
        f.write(b"half")
        raise RuntimeError("crash")
    assert (tmp_path / "f.bin").read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_file_mode_follows_the_umask_like_open(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "atomic.bin") as f:
            f.write(b"x")
        (tmp_path / "plain.bin").write_bytes(b"x")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "atomic.bin").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain.bin").stat().st_mode) == 0o640
