"""A character vocabulary: characters <-> integer ids, for character-level language models."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .._typing import Array

_SHOWN = 10  # unknown characters named in an error, at most


class CharVocabulary:
    """The characters of a text, each with an id: ``chars[i]`` has id ``i``.

    Built from a text by :meth:`from_text` (its sorted distinct characters, as nanoGPT's
    char-level Shakespeare; special tokens such as makemore's "." first). ``to_json()`` gives
    the plain list of characters, ``from_json`` rebuilds the same vocabulary from it.

    Parameters
    ----------
    chars : sequence of str
        The characters in id order: distinct, each a single character, at least one.

    Raises
    ------
    ValueError
        For an empty sequence, an item that is not a single character, or a repeated one.
    """

    def __init__(self, chars: Sequence[str]) -> None:
        chars = tuple(chars)
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"chars must be single characters, got {bad[0]!r}")
        if not chars:
            raise ValueError("chars must not be empty")
        if len(set(chars)) != len(chars):
            repeated = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"chars must be distinct, got {repeated!r} more than once")
        self.chars: tuple[str, ...] = chars
        codes = np.array([ord(c) for c in chars], dtype=np.uint32)
        self._codes = codes  # code point of each id
        self._order = np.argsort(codes, kind="stable")  # ids by code point
        self._sorted_codes = codes[self._order]

    @classmethod
    def from_text(cls, text: str, *, specials: Iterable[str] = ()) -> CharVocabulary:
        """The ``specials`` (ids 0, 1, ... in the order given), then the distinct characters of
        ``text`` in sorted order. A special that occurs in ``text`` is a ValueError."""
        specials = tuple(specials)
        clash = sorted(set(specials) & set(text))
        if clash:
            raise ValueError(f"specials must not occur in the text, got {clash!r}")
        return cls(specials + tuple(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharVocabulary) and self.chars == other.chars

    def __hash__(self) -> int:
        return hash(self.chars)

    def __repr__(self) -> str:
        return f"CharVocabulary({''.join(self.chars)!r})"

    def encode(self, text: str) -> Array:
        """The ids of ``text``'s characters: (len(text),) int64. ValueError naming the
        characters that are not in the vocabulary.

        Parameters
        ----------
        text : str
            Characters of the vocabulary.

        Returns
        -------
        ndarray
            (len(text),) int64 ids.

        Raises
        ------
        TypeError
            For a text that is not a str.
        ValueError
            For characters outside the vocabulary, naming them.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
        where = np.searchsorted(self._sorted_codes, codes)
        where = np.minimum(where, len(self._sorted_codes) - 1)
        unknown = self._sorted_codes[where] != codes
        if unknown.any():
            missing = sorted({chr(c) for c in np.unique(codes[unknown])})
            shown = ", ".join(repr(c) for c in missing[:_SHOWN])
            more = f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else ""
            raise ValueError(
                f"text has {len(missing)} character(s) outside the vocabulary of "
                f"{len(self)}: {shown}{more}"
            )
        return self._order[where].astype(np.int64)

    def decode(self, ids: npt.ArrayLike) -> str:
        """The text of ``ids`` (a sequence or 1-D array of integer ids in [0, len(self))).

        Parameters
        ----------
        ids : array_like of int
            (n,) ids in [0, len(self)).

        Returns
        -------
        str
            n characters.

        Raises
        ------
        ValueError
            For ids that are not a 1-D sequence of integers, or out of range.
        """
        ids = np.asarray(ids)
        if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
            raise ValueError(
                f"ids must be a 1-D sequence of integers, got {ids.dtype} of shape {ids.shape}"
            )
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(
                f"ids must lie in [0, {len(self) - 1}], got [{ids.min()}, {ids.max()}]"
            )
        return self._codes[ids.astype(np.intp)].astype("<u4").tobytes().decode("utf-32-le")

    def to_json(self) -> list[str]:
        """The characters in id order, a plain JSON list (for a model file's metadata)."""
        return list(self.chars)

    @classmethod
    def from_json(cls, value: Any) -> CharVocabulary:
        """The vocabulary ``to_json`` gave ``value``; ValueError if it is not a list of
        distinct single characters."""
        if not isinstance(value, list):
            raise ValueError(f"a vocabulary must be a list of characters, got {value!r:.80}")
        return cls(value)
