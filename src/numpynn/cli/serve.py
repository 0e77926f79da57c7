"""``numpynn serve MODEL``: the drawing page and the prediction API (numpynn.serve)."""

from __future__ import annotations

import argparse
import socket
from typing import Any

from .errors import CLIError


def add_parser(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="a page to draw a digit and watch the model read it, and a prediction API",
        description="Serve MODEL: open http://HOST:PORT to draw a digit, or POST images or "
        "pixels to /api/predict (the API is described at /docs). Requests arriving within "
        "the batching window share one forward pass. Needs: pip install 'numpynn[serve]'.",
    )
    add = serve.add_argument
    add("model", metavar="MODEL", help="a classifier model file of image inputs (model.npz)")
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
        default=1024,
        metavar="N",
        help="inputs waiting before the server answers 503 (default 1024)",
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

        from ..serve import create_app, load_served
    except ModuleNotFoundError as exc:
        raise CLIError(
            f"numpynn serve needs the serve extra ({exc.name} is not installed): "
            "pip install 'numpynn[serve]'",
            1,
        ) from None
    served = load_served(args.model)
    app = create_app(served, args.batch_window_ms / 1000, args.max_batch, args.max_queue)
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        raise CLIError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"serving {served.name} at http://{shown}:{port} (API: /docs; Ctrl-C stops)", flush=True)
    # One BLAS thread: a forward pass of a few dozen rows is too small to split, and a second
    # thread waiting for a busy core (the event loop's, or another process's) slows it down.
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
