"""The text datasets: tiny Shakespeare (nanoGPT's char-level benchmark) and makemore's names.

Each is one text file, found as MNIST's data is (see :mod:`numpynn.datasets.mnist`), and its
SHA-256 is checked whatever the source:

1. an explicit directory, ``data_dir=`` or ``NUMPYNN_DATA_DIR``, holding the file
   (``tinyshakespeare.txt``, ``names.txt``);
2. the cache ``<cache_dir>/<file>`` (``cache_dir=``, ``NUMPYNN_CACHE_DIR`` or
   ``~/.cache/numpynn``); a cached copy with the wrong hash is logged, ignored and rewritten;
3. with ``download=True``, the canonical URL.

One INFO line on ``logging.getLogger("numpynn.datasets")`` says where the file came from.
The first load from a source other than the cache writes the cache (atomically).
"""

from __future__ import annotations

import logging
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._typing import Array
from ..atomic import atomic_write
from ..errors import DatasetNotFoundError, FileFormatError
from ..paths import READ, check_readable_dir, path_errors
from . import download as _download
from .vocabulary import CharVocabulary

log = logging.getLogger("numpynn.datasets")


@dataclass(frozen=True)
class TextFile:
    """One published text file: its name here, size, SHA-256 and canonical URL."""

    title: str
    file_name: str
    size: int  # bytes
    sha256: str
    url: str


SHAKESPEARE = TextFile(
    "tiny Shakespeare",
    "tinyshakespeare.txt",
    1_115_394,
    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
)
NAMES = TextFile(
    "names",
    "names.txt",
    228_145,
    "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
    "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt",
)
NAMES_SEED = 42  # the makemore notebooks' random.seed(42)
START = "."  # makemore's start/end token, id 0 of the names' vocabulary


@dataclass(frozen=True)
class TextData:
    """A character stream split in two: ``train`` (n_train,) and ``valid`` (n_valid,) int64
    ids of ``vocabulary``.

    Parameters
    ----------
    train : ndarray
        (n_train,) int64 ids, the training text.
    valid : ndarray
        (n_valid,) int64 ids, the validation text.
    vocabulary : CharVocabulary
        The characters the ids stand for.
    """

    train: Array
    valid: Array
    vocabulary: CharVocabulary


@dataclass(frozen=True)
class WordsData:
    """Words (one per sample) split three ways, and the vocabulary of their characters (id 0 is
    the start/end token "." of makemore).

    Parameters
    ----------
    train, valid, test : tuple of str
        The words of each split.
    vocabulary : CharVocabulary
        The start/end token and the words' characters.
    """

    train: tuple[str, ...]
    valid: tuple[str, ...]
    test: tuple[str, ...]
    vocabulary: CharVocabulary


def load_shakespeare(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> TextData:
    """Tiny Shakespeare (1,115,394 characters) as nanoGPT splits it: the ids of the first 90%
    (1,003,854) for training, of the last 10% (111,540) for validation; the vocabulary is the
    65 sorted distinct characters ("\\n" is id 0). Sources: the module docstring.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        A directory holding ``tinyshakespeare.txt``; else ``NUMPYNN_DATA_DIR``, then the
        cache, then the canonical URL (the module docstring).
    cache_dir : str or os.PathLike, optional
        Where the cache is kept; else ``NUMPYNN_CACHE_DIR`` or ``~/.cache/numpynn``.
    download : bool
        Try the canonical URL when no other source has the file.

    Returns
    -------
    TextData
        ``train`` (1003854,) and ``valid`` (111540,) int64 ids, and the vocabulary.

    Raises
    ------
    DatasetNotFoundError
        When no source has the file (or ``data_dir`` lacks it); the message names the
        places tried.
    FileFormatError
        For a copy in a data directory whose SHA-256 differs.
    numpynn.PathError
        For a data_dir that cannot be read.
    """
    text = read_text(SHAKESPEARE, data_dir, cache_dir=cache_dir, download=download)
    vocabulary = CharVocabulary.from_text(text)
    n_train = int(len(text) * 0.9)
    return TextData(
        vocabulary.encode(text[:n_train]), vocabulary.encode(text[n_train:]), vocabulary
    )


def load_names(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> WordsData:
    """makemore's 32,033 names, split 80/10/10 (25,626 / 3,203 / 3,204) as the makemore
    notebooks do: ``random.seed(42); random.shuffle(words)`` (here ``random.Random(42)``, the
    same draws without touching the global generator), then the first 80%, the next 10%, the
    rest. The vocabulary is "." (start/end, id 0) and the 26 letters.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        A directory holding ``names.txt``; else ``NUMPYNN_DATA_DIR``, then the cache, then the
        canonical URL (the module docstring).
    cache_dir : str or os.PathLike, optional
        Where the cache is kept; else ``NUMPYNN_CACHE_DIR`` or ``~/.cache/numpynn``.
    download : bool
        Try the canonical URL when no other source has the file.

    Returns
    -------
    WordsData
        The three tuples of names and the 27-character vocabulary.

    Raises
    ------
    DatasetNotFoundError
        When no source has the file (or ``data_dir`` lacks it); the message names the
        places tried.
    FileFormatError
        For a copy in a data directory whose SHA-256 differs.
    numpynn.PathError
        For a data_dir that cannot be read.
    """
    words = read_text(NAMES, data_dir, cache_dir=cache_dir, download=download).splitlines()
    vocabulary = CharVocabulary.from_text("".join(words), specials=START)
    random.Random(NAMES_SEED).shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    return WordsData(tuple(words[:n1]), tuple(words[n1:n2]), tuple(words[n2:]), vocabulary)


def padded_words(
    words: tuple[str, ...], vocabulary: CharVocabulary, block: int
) -> tuple[Array, Array]:
    """The rows a language model of names (``numpynn train --preset names``) trains on: row i
    reads START + word and predicts word + START (makemore's targets), padded with START in X
    and -1 (not scored) in T.

    Parameters
    ----------
    words : tuple of str
        The names, one per row.
    vocabulary : CharVocabulary
        Their characters, START (".") first (id 0).
    block : int
        The row length; longer than the longest word.

    Returns
    -------
    X, T : ndarray
        Each (len(words), block) int64: the input ids and the target ids (-1 where not scored).

    Raises
    ------
    ValueError
        When a word and its end do not fit in ``block``.
    """
    longest = max(len(w) for w in words)
    if longest + 1 > block:
        raise ValueError(f"block ({block}) must be longer than the longest word ({longest})")
    X = np.zeros((len(words), block), np.int64)  # START is id 0
    T = np.full((len(words), block), -1, np.int64)
    for i, word in enumerate(words):
        ids = vocabulary.encode(word + START)
        X[i, 1 : len(ids)] = ids[:-1]
        T[i, : len(ids)] = ids
    return X, T


def read_text(
    source: TextFile,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> str:
    """The verified text of ``source`` from the first source that has it (module docstring).
    DatasetNotFoundError naming the places tried when none has it; FileFormatError naming the
    file, the expected and the actual SHA-256 for a copy in a data directory that differs."""
    tried: list[str] = []
    data = None
    if data_dir is not None:
        data = _from_directory(source, check_readable_dir(data_dir, "data directory"), "data_dir")
        if data is None:
            raise DatasetNotFoundError(
                f"{source.title}: data_dir={str(data_dir)!r} has no {source.file_name}"
            )
    elif os.environ.get("NUMPYNN_DATA_DIR"):
        env_dir = Path(os.environ["NUMPYNN_DATA_DIR"])
        data = _from_directory(source, env_dir, "NUMPYNN_DATA_DIR")
        if data is None:
            log.info("%s: no %s in NUMPYNN_DATA_DIR=%s", source.title, source.file_name, env_dir)
            tried.append(f"NUMPYNN_DATA_DIR={env_dir}")
    cache = _download.cache_dir(cache_dir) / source.file_name
    if data is None:
        cached = _from_cache(source, cache)
        if cached is not None:
            return cached.decode("utf-8")
        tried.append(f"cache {cache}")
    if data is None and download:
        data = _from_url(source, tried)
    elif data is None:
        tried.append("no download (download=False)")
    if data is None:
        raise DatasetNotFoundError(_not_found_message(source, tried))
    _write_cache(cache, data)
    return data.decode("utf-8")


def _from_directory(source: TextFile, directory: Path, given_as: str) -> bytes | None:
    path = directory / source.file_name
    if not path.is_file():
        return None
    with path_errors(READ, path, "data file"):
        raw = path.read_bytes()
    data = _download.verify_sha256(raw, source.sha256, str(path))
    log.info("%s: loaded %s (%s)", source.title, path, given_as)
    return data


def _from_cache(source: TextFile, path: Path) -> bytes | None:
    if not path.is_file():
        return None
    try:
        data = _download.verify_sha256(path.read_bytes(), source.sha256, str(path))
    except (OSError, FileFormatError) as exc:
        log.warning("%s: ignoring unusable cache (%s); it will be rewritten", source.title, exc)
        return None
    log.info("%s: loaded from cache %s", source.title, path)
    return data


def _from_url(source: TextFile, tried: list[str]) -> bytes | None:
    base, _, remote_name = source.url.rpartition("/")
    try:
        data = _download.fetch(remote_name, (base + "/",), source.sha256)
    except _download.DownloadError as exc:
        tried.append(f"download ({exc})")
        return None
    log.info("%s: downloaded %s", source.title, source.url)
    return data


def _write_cache(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as f:
            f.write(data)
    except OSError as exc:  # a read-only home must not stop training
        log.warning("could not write the cache %s: %s", path, exc)


def _not_found_message(source: TextFile, tried: list[str]) -> str:
    return (
        f"{source.title} not found (tried: {'; '.join(tried)}). To get it, do one of:\n"
        f"  - put {source.file_name} ({source.size:,} bytes, SHA-256 {source.sha256}) in a "
        "directory and pass it as data_dir= (numpynn --data-dir DIR) or set "
        "NUMPYNN_DATA_DIR=DIR\n"
        f"  - connect to the internet and load with download=True (the default): {source.url}"
    )
