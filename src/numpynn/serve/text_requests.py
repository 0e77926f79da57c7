"""The bodies of a language model's API, read and checked: ``POST /api/generate`` and
``POST /api/words``. Every problem is a BadInputError (400) naming the field, what it must be
and what it got; a request that passes runs without a surprise.

    {"prompt": "ROMEO:", "length": 200, "temperature": 0.8, "top_k": null, "seed": 1,
     "stream": false}
"""

from __future__ import annotations

import dataclasses
import math
import secrets
from typing import Any

import orjson

from ..trained import TrainedLanguageModel
from .inputs import BadInputError

DEFAULT_LENGTH = 200  # characters written when the request does not say
MAX_LENGTH = 2000  # at most this many per request (create_text_app's max_length)
MAX_PROMPT = 10_000  # characters of a prompt
DEFAULT_TEMPERATURE = 1.0
DEFAULT_COUNT = 20  # words drawn by POST /api/words
MAX_COUNT = 100
MAX_WORD = 30  # characters of a word after its prefix
SEEDS = 2**63  # a seed is an integer in [0, SEEDS)
RANDOM_SEEDS = 2**31  # a seed drawn for a request without one (small enough to retype)


@dataclasses.dataclass(frozen=True)
class Sampling:
    """How characters are drawn: ``numpynn.generation.stream``'s arguments."""

    temperature: float
    top_k: int | None
    seed: int  # the request's, else one drawn for it (the answer gives it back)


@dataclasses.dataclass(frozen=True)
class WriteRequest:
    prompt: str
    length: int
    sampling: Sampling
    stream: bool  # answer with the text as it is written (text/plain chunks)


@dataclasses.dataclass(frozen=True)
class WordsRequest:
    count: int
    prefix: str
    sampling: Sampling


def read_write_request(
    body: bytes, writer: TrainedLanguageModel, max_length: int = MAX_LENGTH
) -> WriteRequest:
    """The generate request in ``body`` (JSON bytes); BadInputError (400) naming the problem."""
    fields = _object(body, ("prompt", "length", "temperature", "top_k", "seed", "stream"))
    if "prompt" not in fields:
        raise BadInputError('the body has no "prompt": give the text to continue', 400)
    prompt = fields["prompt"]
    if not isinstance(prompt, str):
        raise BadInputError(f"prompt must be a string, got {_kind(prompt)}", 400)
    if len(prompt) > MAX_PROMPT:
        raise BadInputError(f"prompt has {len(prompt)} characters; the limit is {MAX_PROMPT}", 400)
    _encodable(writer, prompt, "prompt")
    stream = fields.get("stream", False)
    if not isinstance(stream, bool):
        raise BadInputError(f"stream must be true or false, got {_kind(stream)}", 400)
    return WriteRequest(
        prompt=prompt,
        length=_integer(fields, "length", DEFAULT_LENGTH, 1, max_length),
        sampling=_sampling(fields, len(writer.vocabulary)),
        stream=stream,
    )


def read_words_request(body: bytes, writer: TrainedLanguageModel) -> WordsRequest:
    """The words request in ``body`` (JSON bytes); BadInputError (400) naming the problem,
    also for a model of running text (it has no words to draw)."""
    if writer.boundary is None:
        raise BadInputError(
            "this model writes running text, not words: POST /api/generate continues a prompt",
            400,
        )
    fields = _object(body, ("count", "prefix", "temperature", "top_k", "seed"))
    prefix = fields.get("prefix", "")
    if not isinstance(prefix, str):
        raise BadInputError(f"prefix must be a string, got {_kind(prefix)}", 400)
    if len(prefix) > MAX_WORD:
        raise BadInputError(f"prefix has {len(prefix)} characters; the limit is {MAX_WORD}", 400)
    if writer.boundary in prefix:
        raise BadInputError(
            f"prefix must not hold the boundary {writer.boundary!r}, which ends a word", 400
        )
    if prefix:
        _encodable(writer, prefix, "prefix")
    return WordsRequest(
        count=_integer(fields, "count", DEFAULT_COUNT, 1, MAX_COUNT),
        prefix=prefix,
        sampling=_sampling(fields, len(writer.vocabulary)),
    )


def _object(body: bytes, known: tuple[str, ...]) -> dict[str, Any]:
    """The JSON object in ``body``, its keys among ``known``."""
    if not body:
        raise BadInputError("the body is empty: send a JSON object", 400)
    try:
        fields = orjson.loads(body)
    except orjson.JSONDecodeError as exc:  # also NaN, bad UTF-8, nesting too deep
        raise BadInputError(f"the body is not valid JSON ({exc})", 400) from None
    if not isinstance(fields, dict):
        raise BadInputError(f"the body must be a JSON object, got {_kind(fields)}", 400)
    unknown = [key for key in fields if key not in known]
    if unknown:
        names = ", ".join(repr(key)[:40] for key in unknown[:5])
        raise BadInputError(f"unknown field(s) {names}: the fields are {', '.join(known)}", 400)
    return fields


def _sampling(fields: dict[str, Any], vocab: int) -> Sampling:
    temperature = fields.get("temperature", DEFAULT_TEMPERATURE)
    if not _is_number(temperature):
        raise BadInputError(f"temperature must be a number, got {_kind(temperature)}", 400)
    if not (math.isfinite(temperature) and temperature > 0):
        raise BadInputError(f"temperature must be a finite number > 0, got {temperature}", 400)
    top_k = fields.get("top_k")
    if top_k is not None:
        top_k = _integer(fields, "top_k", None, 1, vocab, "the vocabulary size")
    seed = fields.get("seed")
    if seed is None:
        seed = secrets.randbelow(RANDOM_SEEDS)
    else:
        seed = _integer(fields, "seed", None, 0, SEEDS - 1)
    return Sampling(float(temperature), top_k, seed)


def _integer(
    fields: dict[str, Any], name: str, default: int | None, low: int, high: int, what: str = ""
) -> int:
    """fields[name] (``default`` if absent), an integer in [low, high]."""
    value = fields.get(name, default)
    if not (isinstance(value, int) and not isinstance(value, bool)):
        raise BadInputError(f"{name} must be an integer, got {_kind(value)}", 400)
    if not low <= value <= high:
        why = f" ({what})" if what else ""
        raise BadInputError(f"{name} must be in {low}..{high}{why}, got {value}", 400)
    return value


def _encodable(writer: TrainedLanguageModel, text: str, name: str) -> None:
    """BadInputError naming the characters of ``text`` outside the model's vocabulary, or
    saying it is empty."""
    try:
        writer.encode(text)
    except ValueError as exc:
        raise BadInputError(str(exc).replace("the prompt", f"the {name}", 1), 400) from None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: object) -> str:
    """How a JSON value is described in an error: 'a string ("abc")', 'null', 'true'."""
    if value is None or isinstance(value, bool):
        return orjson.dumps(value).decode()
    names = {str: "a string", int: "an integer", float: "a number", list: "a list"}
    names[dict] = "an object"
    shown = orjson.dumps(value).decode()
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"{names.get(type(value), type(value).__name__)} ({shown})"
