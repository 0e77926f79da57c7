"""The web app: the drawing page, and the prediction API over the dynamic batcher.

POST /api/predict   a PNG/JPEG image, or JSON {"pixels": [...]} or a list of such
GET  /api/model     the model: name, layers, input shape, classes, test accuracy
GET  /api/health    liveness, queue length and batching counters
GET  /docs          the OpenAPI page, Swagger UI (the schema at /openapi.json; also /redoc)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .._typing import Array
from ..trained import n_parameters
from ..validation import check_positive_int
from .batching import Batcher, QueueFullError
from .inputs import BadInputError, image_to_input, pixels_to_inputs
from .served import ServedModel

STATIC = Path(__file__).parent / "static"
PREDICT_PATH = "/api/predict"
IMAGE_TYPES = ("image/png", "image/jpeg")
RETRY_AFTER_SECONDS = 1


class FastJSONResponse(JSONResponse):
    """JSON by orjson: NumPy arrays and scalars written directly, float32 as float32 (the
    shortest digits that read back to the same float32), ten times faster than json."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


class Prediction(BaseModel):
    """The answer for one input."""

    class_index: int = Field(alias="class")  # the most probable class
    label: str  # its name ("7", or "Ankle boot")
    probability: float
    probabilities: list[float]  # one per class, in class order
    model: str
    input: list[list[float]] | None = None  # images: the (28, 28) array the model received


class Predictions(BaseModel):
    predictions: list[Prediction]
    model: str


class Error(BaseModel):
    error: str


async def bad_input(request: Request, exc: Exception) -> JSONResponse:
    """A BadInputError: its status (400, 413, 415...) and reason."""
    assert isinstance(exc, BadInputError)
    return JSONResponse({"error": str(exc)}, exc.status)


async def queue_full(request: Request, exc: Exception) -> JSONResponse:
    """A QueueFullError: 503, with Retry-After."""
    message = f"the server is busy ({exc}); retry after {RETRY_AFTER_SECONDS} s"
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse({"error": message}, 503, headers=headers)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own (404, 405...), as JSON."""
    assert isinstance(exc, HTTPException)
    message = f"{str(exc.detail).lower()}: {request.method} {request.url.path}"
    return JSONResponse({"error": message}, exc.status_code, headers=exc.headers)


def add_page_and_errors(app: FastAPI, page_file: str) -> None:
    """What both apps share: ``page_file`` of static/ at /, the static files, and errors as
    JSON ``{"error": reason}`` (:func:`bad_input`, :func:`queue_full`, :func:`http_error`)."""
    app.add_exception_handler(BadInputError, bad_input)
    app.add_exception_handler(QueueFullError, queue_full)
    app.add_exception_handler(HTTPException, http_error)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / page_file)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def create_app(
    served: ServedModel,
    window: float = 0.002,
    max_batch: int = 64,
    max_queue: int = 1024,
    max_body: int = 1 << 20,
    max_items: int = 256,
) -> FastAPI:
    """The app serving ``served``: batching ``window`` (seconds), ``max_batch`` rows per
    forward pass, ``max_queue`` waiting inputs, ``max_body`` bytes per request body and
    ``max_items`` inputs per JSON list.

    Parameters
    ----------
    served : ServedModel
        The classifier of pictures (:func:`numpynn.serve.load_served`).
    window : float
        How long (seconds, >= 0) a batch waits for more inputs before its forward pass.
    max_batch : int
        The most rows per forward pass (>= 1).
    max_queue : int
        The most inputs waiting (>= 1); beyond it requests get 503.
    max_body : int
        The largest request body in bytes (beyond it: 413).
    max_items : int
        The most inputs in one JSON list.

    Returns
    -------
    fastapi.FastAPI
        The app: the drawing page, the prediction API and its /docs.

    Raises
    ------
    ValueError
        For a negative window, or max_batch, max_queue, max_body or max_items < 1.
    """
    check_positive_int("max_body", max_body)
    check_positive_int("max_items", max_items)
    batcher = Batcher(served.probabilities, window, max_batch, max_queue)
    # Images are preprocessed in threads, at most one per core: more threads only fight
    # over the GIL (32 at once cost 35 ms of CPU an image instead of 19).
    image_threads = anyio.CapacityLimiter(os.cpu_count() or 1)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPIOffline(  # FastAPI whose /docs page needs no CDN (Swagger UI in the package)
        title="numpynn serve",
        summary=f"Draw a digit, or call the prediction API of {served.name}.",
        version="1",
        lifespan=lifespan,
    )
    app.state.batcher = batcher
    app.state.served = served
    n_inputs = served.image_shape[0] * served.image_shape[1]

    add_page_and_errors(app, "index.html")

    @app.get("/api/health", summary="Liveness, queue length and batching counters")
    async def health() -> dict[str, Any]:
        stats = batcher.stats
        return {
            "status": "ok",
            "model": served.name,
            "queued": batcher.queued,
            "requests": stats.requests,
            "forward_passes": stats.forward_passes,
            "largest_batch": stats.largest_batch,
            "rejected": stats.rejected,
        }

    @app.get("/api/model", summary="The served model: layers, input shape, classes, accuracy")
    async def model_info() -> dict[str, Any]:
        return {
            "name": served.name,
            "dataset": served.dataset,
            "classes": served.labels,
            "input_shape": list(served.image_shape),
            "input_mode": served.input_mode,
            "architecture": served.architecture(),
            "layers": served.layers(),
            "n_parameters": n_parameters(served.model),
            "test_accuracy": served.test_accuracy,
            "batching": {
                "window_ms": batcher.window * 1000,
                "max_batch": batcher.max_batch,
                "max_queue": batcher.max_queue,
            },
        }

    @app.post(
        PREDICT_PATH,
        summary="Classify an image or pixel rows",
        description=PREDICT_DESCRIPTION,
        response_class=JSONResponse,
        responses={
            200: {"model": Prediction | Predictions, "description": "the class and probabilities"},
            400: {"model": Error, "description": "undecodable image, empty body, bad JSON"},
            413: {"model": Error, "description": "body, image or list too large"},
            415: {"model": Error, "description": "not PNG, JPEG or JSON"},
            422: {"model": Error, "description": "wrong pixel count or values; no digit found"},
            503: {"model": Error, "description": "queue full: retry after Retry-After seconds"},
        },
        openapi_extra={"requestBody": PREDICT_BODY},
    )
    async def predict(request: Request) -> JSONResponse:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in (*IMAGE_TYPES, "application/json"):
            accepted = ", ".join((*IMAGE_TYPES, "application/json"))
            raise BadInputError(f"content type {kind or '(none)'!r} is not one of {accepted}", 415)
        body = await read_body(request, max_body)
        if kind in IMAGE_TYPES:
            image = await anyio.to_thread.run_sync(
                image_to_input, body, served.trained.prepare, limiter=image_threads
            )
            p = (await batcher.predict(image.reshape(1, -1)))[0]
            return FastJSONResponse({**answer(p), "input": image})  # exactly what it got
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:  # also NaN, bad UTF-8, nesting too deep
            raise BadInputError(f"the body is not valid JSON ({exc})", 400) from None
        X, many = pixels_to_inputs(data, n_inputs, max_items)
        P = await batcher.predict(X)
        if many:
            return FastJSONResponse({"predictions": [answer(p) for p in P], "model": served.name})
        return FastJSONResponse(answer(P[0]))

    app.add_middleware(
        PredictShortcut,
        endpoint=predict,
        handlers={BadInputError: bad_input, QueueFullError: queue_full},
    )

    def answer(p: Array) -> dict[str, Any]:
        k = int(p.argmax())
        return {
            "class": k,
            "label": served.labels[k],
            "probability": p[k],
            "probabilities": p,
            "model": served.name,
        }

    return app


class PredictShortcut:
    """POST /api/predict straight to its endpoint, past FastAPI's routing, dependency solving
    and exception middleware (a third of the server's CPU time per request); everything else
    goes on to the app. The endpoint and its error handlers are the route's own, and the
    route stays for the OpenAPI schema, and answers when this does not match (under a
    root_path). Added with app.add_middleware: it sits inside FastAPI's
    ServerErrorMiddleware, so an unexpected exception is a 500 as on any route."""

    def __init__(
        self,
        app: ASGIApp,
        endpoint: Callable[[Request], Awaitable[Response]],
        handlers: dict[type[Exception], Callable[[Request, Any], Awaitable[Response]]],
    ) -> None:
        self.app = app
        self.endpoint = endpoint
        self.handlers = handlers
        self.errors = tuple(handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != PREDICT_PATH
            or scope["method"] != "POST"
            or scope.get("root_path")  # the router strips it from the path: let it route
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.endpoint(request)
        except self.errors as exc:
            handler = next(h for kind, h in self.handlers.items() if isinstance(exc, kind))
            response = await handler(request, exc)
        await response(scope, receive, send)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body; BadInputError (413) as soon as it is longer than ``limit`` bytes."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise BadInputError(f"the body is {length} bytes; the limit is {limit}", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadInputError(f"the body is over the limit of {limit} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


PREDICT_DESCRIPTION = """\
Send one image (PNG or JPEG, any size: it is made greyscale, cropped to the digit, scaled
and centred like MNIST) or model inputs as JSON: `{"pixels": [784 numbers in 0..1]}` (row by
row, light ink on black), or a list of such objects. The answer gives the class, its label,
its probability and all the class probabilities; for an image also `input`, the 28 x 28 array
the model received. A list gets `{"predictions": [...]}` in the same order. Requests that
arrive within the batching window share one forward pass."""

_PIXELS = {
    "type": "object",
    "required": ["pixels"],
    "properties": {
        "pixels": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}}
    },
}
PREDICT_BODY = {
    "required": True,
    "content": {
        "image/png": {"schema": {"type": "string", "format": "binary"}},
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "application/json": {"schema": {"oneOf": [_PIXELS, {"type": "array", "items": _PIXELS}]}},
    },
}
