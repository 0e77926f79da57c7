"""``numpynn serve MODEL``: the drawing page and the prediction API of a classifier, or the
writing page and the generation API of a language model (numpynn.serve)."""

from __future__ import annotations

import argparse
import os
import socket
from typing import Any

from .errors import CLIError

TEXT_QUEUE = 64  # a language model's generations waiting, by default


def add_parser(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="a page to draw a digit (or to write with a language model), and its API",
        description="Serve MODEL: open http://HOST:PORT to draw a digit, or POST images or "
        "pixels to /api/predict (the API is described at /docs). Requests arriving within "
        "the batching window share one forward pass. A language model (numpynn train "
        "--dataset shakespeare or names) gets a page to write with and POST /api/generate "
        "instead. Needs: pip install 'numpynn[serve]'.",
    )
    add = serve.add_argument
    add(
        "model",
        metavar="MODEL",
        help="a classifier of image inputs or a language model (model.npz or a run directory)",
    )
    add("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    add("--port", type=number(int, 0), default=8000, help="0: any free port (default 8000)")
    add(
        "--batch-window-ms",
        type=number(float, 0),
        default=2.0,
        metavar="MS",
        help="how long a request may wait for others to share its forward pass (default 2)",
    )
    add(
        "--max-batch",
        type=number(int, 1),
        default=64,
        metavar="N",
        help="inputs per forward pass; 1: no batching (default 64)",
    )
    add(
        "--max-queue",
        type=number(int, 1),
        default=None,
        metavar="N",
        help="inputs waiting before the server answers 503 (default 1024); a language model: "
        f"generations waiting for their turn (default {TEXT_QUEUE})",
    )
    add(
        "--generations",
        type=number(int, 1),
        default=None,
        metavar="N",
        help="a language model: texts written at once, each on its own copy of the model in a "
        "thread (default: the number of cores, at most 4)",
    )


def number(kind: type, low: float) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value >= low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def serve_command(args: argparse.Namespace) -> int:
    try:
        import uvicorn
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        from ..serve import create_app, create_text_app, display_name, load_served
    except ModuleNotFoundError as exc:
        raise CLIError(
            f"numpynn serve needs the serve extra ({exc.name} is not installed): "
            "pip install 'numpynn[serve]'",
            1,
        ) from None
    from ..trained import LANGUAGE_MODEL, load_language_model, load_trained

    trained = load_trained(args.model)
    if trained.metadata.get("task") == LANGUAGE_MODEL:
        writer = load_language_model(trained.path)
        name = display_name(writer.path)
        generations = args.generations or min(os.cpu_count() or 1, 4)
        queue = args.max_queue or TEXT_QUEUE
        app = create_text_app(writer, name, generations, queue)
    else:
        served = load_served(args.model)
        name = served.name
        window = args.batch_window_ms / 1000
        app = create_app(served, window, args.max_batch, args.max_queue or 1024)
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        raise CLIError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"serving {name} at http://{shown}:{port} (API: /docs; Ctrl-C stops)", flush=True)
    # One BLAS thread: a forward pass of a few dozen rows is too small to split, and a second
    # thread waiting for a busy core (the event loop's, or another process's) slows it down.
    # A language model's generations each take a core instead (--generations).
    threadpool_limits(1, user_api="blas")
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); port 0 takes a free one. Its protocol is set
    to TCP explicitly: asyncio turns Nagle's algorithm off only on such sockets, and with it
    on, each keep-alive response waits 40 ms for the client's delayed ACK."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock
