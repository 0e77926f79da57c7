"""The web app of a language model: the writing page, and the generation API.

POST /api/generate  JSON {"prompt": ..., "length": ..., ...} -> the continuation, as JSON or
                    streamed as plain text ("stream": true)
POST /api/words     a model of words (names): JSON {"count": ..., "prefix": ...} -> new words
GET  /api/model     the model: layers, parameters, vocabulary, dataset, block, limits
GET  /api/health    liveness, generations running and waiting, counters
GET  /docs          the OpenAPI page (Swagger UI; the schema at /openapi.json)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from fastapi_offline import FastAPIOffline

from ..layers import PositionalEmbedding
from ..trained import TrainedLanguageModel, n_parameters
from ..validation import check_positive_int
from .app import add_page_and_errors, read_body
from .text_requests import (
    DEFAULT_LENGTH,
    DEFAULT_TEMPERATURE,
    MAX_COUNT,
    MAX_LENGTH,
    MAX_PROMPT,
    read_words_request,
    read_write_request,
)
from .writers import Writers

STATIC = Path(__file__).parent / "static"
STREAM_TYPE = "text/plain; charset=utf-8"


def create_text_app(
    writer: TrainedLanguageModel,
    name: str,
    generations: int = 2,
    max_queue: int = 64,
    max_length: int = MAX_LENGTH,
    max_body: int = 1 << 16,
) -> FastAPI:
    """The app serving the language model ``writer`` (called ``name`` on the page):
    ``generations`` requests written at once (each on its own copy of the model, in a worker
    thread), ``max_queue`` more waiting for their turn (then 503), at most ``max_length``
    characters per request and ``max_body`` bytes per request body.

    Parameters
    ----------
    writer : TrainedLanguageModel
        The language model (:func:`numpynn.trained.load_language_model`).
    name : str
        Its name on the page and in the API.
    generations : int
        Requests written at once, each on its own copy of the model (>= 1).
    max_queue : int
        Requests that may wait for their turn (>= 0); beyond it: 503.
    max_length : int
        The most characters one request may ask for.
    max_body : int
        The largest request body in bytes.

    Returns
    -------
    fastapi.FastAPI
        The app: the writing page, the generation API and its /docs.

    Raises
    ------
    ValueError
        For generations, max_length or max_body < 1, or a negative max_queue.
    """
    check_positive_int("max_length", max_length)
    check_positive_int("max_body", max_body)
    writers = Writers(writer, generations, max_queue)
    app = FastAPIOffline(
        title="numpynn serve",
        summary=f"Write with the language model {name}.",
        version="1",
    )
    app.state.writers = writers

    add_page_and_errors(app, "write.html")

    @app.get("/api/health", summary="Liveness, generations running and waiting, counters")
    async def health() -> dict[str, Any]:
        stats = writers.stats
        return {
            "status": "ok",
            "model": name,
            "generating": writers.busy,
            "waiting": writers.waiting,
            "requests": stats.requests,
            "characters": stats.characters,
            "rejected": stats.rejected,
        }

    @app.get("/api/model", summary="The model: layers, parameters, vocabulary, block, limits")
    async def model_info() -> dict[str, Any]:
        return {
            **describe_language_model(writer, name),
            "limits": {
                "max_length": max_length,
                "max_prompt": MAX_PROMPT,
                "max_count": MAX_COUNT,
                "generations": writers.size,
                "max_queue": writers.max_queue,
            },
            "defaults": {"length": DEFAULT_LENGTH, "temperature": DEFAULT_TEMPERATURE},
        }

    @app.post(
        "/api/generate",
        summary="Continue a prompt",
        description=GENERATE_DESCRIPTION,
        responses={
            200: {
                "description": "the continuation: JSON, or plain text chunks if streamed",
                "content": {STREAM_TYPE: {"schema": {"type": "string"}}},
            },
            **ERRORS,
        },
        openapi_extra={"requestBody": GENERATE_BODY},
    )
    async def generate(request: Request) -> Any:
        asked = read_write_request(await read_body(request, max_body), writer, max_length)
        sampling = asked.sampling
        if asked.stream:
            writers.check_room()  # a 503 now, or never: the response starts with a 200
            headers = {
                "X-Seed": str(sampling.seed),
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",  # no buffering to guess the type
            }
            return StreamingResponse(writers.write(asked), media_type=STREAM_TYPE, headers=headers)
        text = "".join([chunk async for chunk in writers.write(asked)])
        return {
            "prompt": asked.prompt,
            "text": text,
            "length": len(text),
            "temperature": sampling.temperature,
            "top_k": sampling.top_k,
            "seed": sampling.seed,
            "model": name,
        }

    @app.post(
        "/api/words",
        summary="New words (names) from a model of words",
        description=WORDS_DESCRIPTION,
        responses=ERRORS,
        openapi_extra={"requestBody": WORDS_BODY},
    )
    async def words(request: Request) -> dict[str, Any]:
        asked = read_words_request(await read_body(request, max_body), writer)
        drawn = await writers.words(asked)
        sampling = asked.sampling
        return {
            "words": drawn,
            "prefix": asked.prefix,
            "temperature": sampling.temperature,
            "top_k": sampling.top_k,
            "seed": sampling.seed,
            "model": name,
        }

    return app


def describe_language_model(writer: TrainedLanguageModel, name: str) -> dict[str, Any]:
    """What the page and GET /api/model say of a language model."""
    model = writer.model
    positions = [layer for layer in model.layers if isinstance(layer, PositionalEmbedding)]
    return {
        "name": name,
        "task": "language-model",
        "dataset": writer.dataset,
        "architecture": " -> ".join(type(layer).__name__ for layer in model.layers),
        "layers": [{"type": type(layer).__name__, **layer.config()} for layer in model.layers],
        "n_parameters": n_parameters(model),
        "vocabulary": "".join(writer.vocabulary.chars),
        "vocabulary_size": len(writer.vocabulary),
        "block": positions[0].max_len if positions else None,  # None: all (recurrent)
        "boundary": writer.boundary,  # a model of words: the character that ends one
    }


GENERATE_DESCRIPTION = f"""\
Continue `prompt` (required: at least one character, all in the model's vocabulary, at most
{MAX_PROMPT:,}) by `length` characters (default {DEFAULT_LENGTH}, at most the server's limit,
{MAX_LENGTH:,} unless set otherwise), drawn at `temperature` (a finite number > 0, default
{DEFAULT_TEMPERATURE:g}) from the `top_k` most probable characters (default: all) with `seed`
(an integer >= 0; the same seed gives the same text; default: a random one, given back in the
answer). The answer is JSON, the continuation under `text`. With `"stream": true` the answer
is the continuation itself as plain text (UTF-8), sent in chunks as it is written, the seed in
the `X-Seed` header. Unknown fields, wrong types and values out of range get a 400 naming
them."""

WORDS_DESCRIPTION = f"""\
A model of words (trained on names: a boundary character ends each word) draws `count` new
words (default 20, at most {MAX_COUNT}) starting with `prefix` (default none), at
`temperature`, `top_k` and `seed` as for /api/generate. A model of running text answers 400."""

_SAMPLING = {
    "temperature": {"type": "number", "exclusiveMinimum": 0, "default": DEFAULT_TEMPERATURE},
    "top_k": {"type": ["integer", "null"], "minimum": 1, "default": None},
    "seed": {"type": ["integer", "null"], "minimum": 0, "default": None},
}
GENERATE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["prompt"],
                "additionalProperties": False,
                "properties": {
                    "prompt": {"type": "string", "minLength": 1, "maxLength": MAX_PROMPT},
                    "length": {"type": "integer", "minimum": 1, "default": DEFAULT_LENGTH},
                    **_SAMPLING,
                    "stream": {"type": "boolean", "default": False},
                },
            },
            "example": {"prompt": "ROMEO:", "length": 200, "temperature": 0.8, "seed": 1},
        }
    },
}
WORDS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "count": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
                    "prefix": {"type": "string", "default": ""},
                    **_SAMPLING,
                },
            },
            "example": {"count": 20, "prefix": "", "temperature": 0.8},
        }
    },
}
_ERROR = {"application/json": {"schema": {"type": "object", "properties": {"error": {}}}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "bad input, the reason under error", "content": _ERROR},
    413: {"description": "a body over the limit", "content": _ERROR},
    503: {"description": "too many generations waiting: retry after Retry-After seconds"},
}
