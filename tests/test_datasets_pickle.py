"""The restricted unpickler: the real mnist.pkl.gz loads; a tampered pickle is refused
before anything in it runs."""

from __future__ import annotations

import builtins
import gzip
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from numpynn.datasets import mnist as mnist_module
from numpynn.datasets.pickled import load_mnist_pickle, load_pickle
from numpynn.errors import FileFormatError

MNIST_PICKLE = mnist_module._mnist_pickle_path()


def write_pickle(path: Path, obj: object) -> Path:
    # Protocol 4: arrays as _reconstruct + raw bytes, like mnist.pkl.gz (Python 3's protocol 2
    # would wrap bytes in _codecs.encode, protocol 5 uses numpy's _frombuffer: both refused).
    path.write_bytes(gzip.compress(pickle.dumps(obj, protocol=4)))
    return path


def fake_mnist(n: tuple[int, int, int] = (5, 3, 4)) -> tuple:
    rng = np.random.default_rng(0)
    return tuple(
        (rng.random((k, 784), dtype=np.float32), rng.integers(0, 10, k, dtype=np.int64)) for k in n
    )


class RunsShell:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class RunsEval:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (builtins.eval, (f"open({str(self.marker)!r}, 'w').close()",))


class RunsExec:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (builtins.exec, (f"open({str(self.marker)!r}, 'w').close()",))


@pytest.mark.parametrize(
    ("evil", "name"),
    [(RunsShell, "system"), (RunsEval, "builtins.eval"), (RunsExec, "builtins.exec")],
)
def test_tampered_pickle_is_refused_and_does_not_run(tmp_path: Path, evil, name: str) -> None:
    marker = tmp_path / "pwned"
    # The payload hides inside an otherwise valid MNIST structure.
    (train, val, test) = fake_mnist()
    path = write_pickle(tmp_path / "mnist.pkl.gz", (train, val, (test[0], evil(marker))))
    with pytest.raises(FileFormatError, match=f"refusing global .*{name}") as info:
        load_mnist_pickle(path)
    assert str(path) in str(info.value)
    assert not marker.exists()
    # Plain pickle really would have run it: the test's payload is live.
    pickle.loads(gzip.decompress(path.read_bytes()))
    assert marker.exists()


def test_other_numpy_globals_are_refused(tmp_path: Path) -> None:
    path = write_pickle(tmp_path / "m.pkl.gz", np.ma.masked_array([1.0, 2.0], mask=[0, 1]))
    with pytest.raises(FileFormatError, match=r"refusing global numpy\.ma"):
        load_pickle(path)


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    path = write_pickle(tmp_path / "o.pkl.gz", np.array([1, "a"], dtype=object))
    with pytest.raises(FileFormatError, match="dtype must be numeric"):
        load_pickle(path)


def test_numpy_arrays_of_numbers_round_trip(tmp_path: Path) -> None:
    data = fake_mnist()
    back = load_pickle(write_pickle(tmp_path / "m.pkl.gz", data))
    for (X, y), (X2, y2) in zip(data, back, strict=True):
        np.testing.assert_array_equal(X, X2)
        np.testing.assert_array_equal(y, y2)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"train": 1}, "tuple of 3"),
        (fake_mnist()[:2], "tuple of 3"),
        ((fake_mnist()[0], fake_mnist()[1], (np.zeros((4, 784), np.float32),)), "pair"),
        (((np.zeros((4, 783), np.float32), np.zeros(4, np.int64)),) * 3, r"\(n, 784\)"),
        (((np.zeros((4, 784), np.float32), np.zeros(3, np.int64)),) * 3, r"shape \(4,\)"),
        (((np.zeros((4, 784), np.float32), np.full(4, 10)),) * 3, "labels must be in 0..9"),
        (((np.full((4, 784), 2.0, np.float32), np.zeros(4, np.int64)),) * 3, r"\[0, 1\]"),
    ],
    ids=["dict", "two-parts", "not-a-pair", "width", "label-count", "label-range", "pixels"],
)
def test_wrong_structure_is_a_file_format_error(tmp_path: Path, obj, message: str) -> None:
    with pytest.raises(FileFormatError, match=message):
        load_mnist_pickle(write_pickle(tmp_path / "m.pkl.gz", obj))


def test_corrupt_and_truncated_pickles_are_file_format_errors(tmp_path: Path) -> None:
    raw = pickle.dumps(fake_mnist(), protocol=4)
    path = tmp_path / "m.pkl.gz"
    for bad in (gzip.compress(raw[: len(raw) // 2]), gzip.compress(raw)[:-20], b"\x80\x02junk"):
        path.write_bytes(bad)
        with pytest.raises(FileFormatError, match=re.escape(str(path))):
            load_mnist_pickle(path)


def test_the_real_mnist_pickle_loads_with_the_classic_split() -> None:
    assert MNIST_PICKLE is not None
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = load_mnist_pickle(MNIST_PICKLE)
    assert X_train.shape == (50000, 784) and X_val.shape == (10000, 784)
    assert X_test.shape == (10000, 784)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert X_train.min() >= 0.0 and X_train.max() < 1.0
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert y_val[:5].tolist() == [3, 8, 6, 9, 6]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]


@pytest.mark.parametrize("claim", [1 << 20, 1 << 40])
def test_a_huge_claimed_length_is_a_file_format_error(tmp_path: Path, claim: int) -> None:
    # BINBYTES8 announcing more bytes than follow: truncated (or, for an impossible claim,
    # the allocation fails), either way a FileFormatError naming the file.
    data = b"\x80\x04\x8e" + claim.to_bytes(8, "little") + b"0123456789"
    path = tmp_path / "claim.pkl.gz"
    path.write_bytes(gzip.compress(data))
    with pytest.raises(FileFormatError, match=re.escape(str(path))):
        load_pickle(path)
