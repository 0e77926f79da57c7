"""The text datasets (tiny Shakespeare, makemore's names) and the character vocabulary, read
from ../shared/data (the same bytes as the canonical copies) through ``data_dir``."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import subprocess
from pathlib import Path

import numpy as np
import pytest

from numpynn import datasets
from numpynn.datasets import CharVocabulary, download, load_names, load_shakespeare
from numpynn.datasets import text as text_module
from numpynn.errors import DatasetNotFoundError, FileFormatError


def shared_data() -> Path:
    """../shared/data beside the checkout (as CI has it), or beside the local repository this
    checkout was cloned from (a fresh clone elsewhere, e.g. in a temporary directory)."""
    root = Path(__file__).resolve().parents[1]
    candidates = [root.parent / "shared" / "data"]
    origin = subprocess.run(
        ["git", "-C", str(root), "config", "--get", "remote.origin.url"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if origin and Path(origin).is_dir():
        candidates.append(Path(origin).resolve().parent / "shared" / "data")
    found = [c for c in candidates if (c / "tinyshakespeare.txt").is_file()]
    assert found, f"the text data is read from ../shared/data; looked in {candidates}"
    return found[0]


SHARED_DATA = shared_data()


@pytest.fixture(autouse=True)
def no_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No source but the ones a test names: no env vars, no network, the cache in tmp_path."""
    monkeypatch.delenv("NUMPYNN_DATA_DIR", raising=False)
    monkeypatch.setenv("NUMPYNN_CACHE_DIR", str(tmp_path / "cache"))

    def offline(file_name: str, mirrors: object, sha256: str, **kwargs: object) -> bytes:
        raise download.DownloadError(f"{file_name}: no mirror reachable: offline (test)")

    monkeypatch.setattr(download, "fetch", offline)
    return tmp_path / "cache"


def test_shakespeare_is_nanogpts_split() -> None:
    data = load_shakespeare(SHARED_DATA)
    assert (len(data.train), len(data.valid)) == (1_003_854, 111_540)
    assert data.train.dtype == np.int64 == data.valid.dtype
    assert len(data.vocabulary) == 65 and data.vocabulary.chars[:2] == ("\n", " ")
    text = (SHARED_DATA / "tinyshakespeare.txt").read_text()
    assert data.vocabulary.chars == tuple(sorted(set(text)))
    assert data.vocabulary.decode(data.train) + data.vocabulary.decode(data.valid) == text
    assert data.vocabulary.decode(data.train[:14]) == "First Citizen:"


def test_names_is_the_makemore_notebooks_split() -> None:
    data = load_names(SHARED_DATA)
    words = (SHARED_DATA / "names.txt").read_text().splitlines()
    assert len(words) == 32_033  # 32,032 newlines: the last name has none
    assert (len(data.train), len(data.valid), len(data.test)) == (25_626, 3_203, 3_204)
    assert sorted(data.train + data.valid + data.test) == sorted(words)
    # The notebooks' examples, one per character and one for the end: Xtr, Xdev, Xte have
    # 182,625 / 22,655 / 22,866 rows after random.seed(42); random.shuffle(words).
    assert [sum(len(w) + 1 for w in part) for part in (data.train, data.valid, data.test)] == [
        182_625,
        22_655,
        22_866,
    ]
    assert len(data.vocabulary) == 27
    assert data.vocabulary.chars == (".", *"abcdefghijklmnopqrstuvwxyz")
    assert data.vocabulary.encode(".emma.").tolist() == [0, 5, 13, 13, 1, 0]


def test_the_names_split_leaves_the_global_random_generator_alone() -> None:
    import random

    random.seed(7)
    expected = random.random()
    random.seed(7)
    load_names(SHARED_DATA)
    assert random.random() == expected


def test_vocabulary_round_trip_and_json() -> None:
    vocabulary = CharVocabulary.from_text("hello, world\n")
    assert vocabulary.chars == tuple(sorted(set("hello, world\n")))
    ids = vocabulary.encode("world, hello")
    assert ids.dtype == np.int64 and ids.shape == (12,)
    assert vocabulary.decode(ids) == "world, hello" == vocabulary.decode(ids.tolist())
    assert vocabulary.encode("").shape == (0,) and vocabulary.decode([]) == ""
    saved = json.dumps(vocabulary.to_json())
    assert json.loads(saved) == list(vocabulary.chars)
    assert CharVocabulary.from_json(json.loads(saved)) == vocabulary
    unicode = CharVocabulary(["é", "a", "→"])  # ids in the order given, any code points
    assert unicode.encode("a→é").tolist() == [1, 2, 0] and unicode.decode([2, 1]) == "→a"


def test_unknown_characters_are_named() -> None:
    vocabulary = CharVocabulary.from_text("abc")
    with pytest.raises(ValueError, match=r"2 character\(s\) outside the vocabulary of 3: 'X', 'z'"):
        vocabulary.encode("abzXz")
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 2\], got \[0, 3\]"):
        vocabulary.decode([0, 3])
    with pytest.raises(ValueError, match="specials must not occur in the text"):
        CharVocabulary.from_text("a.b", specials=".")


def test_bad_vocabularies_are_refused() -> None:
    with pytest.raises(ValueError, match="chars must be distinct"):
        CharVocabulary(["a", "b", "a"])
    with pytest.raises(ValueError, match="chars must be single characters, got 'ab'"):
        CharVocabulary.from_json(["ab"])
    with pytest.raises(ValueError, match="a vocabulary must be a list"):
        CharVocabulary.from_json("abc")


def test_a_changed_copy_is_refused_naming_the_file_and_both_hashes(tmp_path: Path) -> None:
    changed = bytearray((SHARED_DATA / "names.txt").read_bytes())
    changed[0] ^= 1
    (tmp_path / "names.txt").write_bytes(changed)
    with pytest.raises(FileFormatError) as exc:
        load_names(tmp_path)
    message = str(exc.value)
    assert str(tmp_path / "names.txt") in message
    assert text_module.NAMES.sha256 in message and hashlib.sha256(changed).hexdigest() in message


def test_a_data_dir_without_the_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"has no tinyshakespeare\.txt"):
        load_shakespeare(tmp_path)


def test_nothing_found_names_the_places_tried(
    tmp_path: Path, no_sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMPYNN_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(DatasetNotFoundError) as exc:
        load_names()
    message = str(exc.value)
    assert f"NUMPYNN_DATA_DIR={tmp_path / 'empty'}" in message
    assert f"cache {no_sources / 'names.txt'}" in message
    assert "download (names.txt: no mirror reachable: offline (test))" in message
    assert text_module.NAMES.url in message


def test_the_cache_is_written_then_reused(
    no_sources: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="numpynn.datasets"):
        first = load_names(SHARED_DATA)
    assert f"names: loaded {SHARED_DATA / 'names.txt'} (data_dir)" in caplog.messages
    assert (no_sources / "names.txt").read_bytes() == (SHARED_DATA / "names.txt").read_bytes()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="numpynn.datasets"):
        again = load_names()  # no data_dir: the cache
    assert caplog.messages == [f"names: loaded from cache {no_sources / 'names.txt'}"]
    assert again == first


def test_a_changed_cache_is_ignored_and_rewritten(
    no_sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_sources.mkdir()
    (no_sources / "names.txt").write_text("emma\n")
    original = (SHARED_DATA / "names.txt").read_bytes()
    fetched: list[tuple[str, tuple[str, ...], str]] = []

    def fetch(file_name: str, mirrors: tuple[str, ...], sha256: str, **kwargs: object) -> bytes:
        fetched.append((file_name, mirrors, sha256))
        return original

    monkeypatch.setattr(download, "fetch", fetch)
    assert len(load_names().train) == 25_626
    assert fetched == [
        (
            "names.txt",
            ("https://raw.githubusercontent.com/karpathy/makemore/master/",),
            text_module.NAMES.sha256,
        )
    ]
    assert (no_sources / "names.txt").read_bytes() == original


def test_download_false_does_not_download(no_sources: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"no download \(download=False\)"):
        load_shakespeare(download=False)


def test_registry_entries_of_the_text_sets() -> None:
    shakespeare, names = datasets.get("shakespeare"), datasets.get("names")
    for entry in (shakespeare, names):
        assert entry.is_text and entry.reads_data_dir and entry.classes == ()
        assert entry.image_shape is None and entry.picture is None and not entry.has_images
        with pytest.raises(ValueError, match=f"the {entry.name} dataset is text, not X/y"):
            entry.load(None)
        with pytest.raises(ValueError, match="is text: it has no features"):
            entry.n_features  # noqa: B018
        assert entry.load_text is not None
    assert shakespeare.load_text is not None and names.load_text is not None
    assert len(shakespeare.load_text(str(SHARED_DATA)).valid) == 111_540
    assert len(names.load_text(str(SHARED_DATA)).vocabulary) == 27
    assert not any(datasets.get(n).is_text for n in ("mnist", "fashion-mnist", "digits"))
    with pytest.raises(ValueError, match="is text: it has no classes, image_shape or features"):
        dataclasses.replace(names, classes=("a",))


def test_a_classifiers_config_refuses_text() -> None:
    # numpynn train --dataset shakespeare trains a language model (test_cli_train_text.py)
    from numpynn.cli import config

    with pytest.raises(ValueError, match="the shakespeare dataset has no class labels"):
        config.resolve("default", {"dataset": "shakespeare"})
