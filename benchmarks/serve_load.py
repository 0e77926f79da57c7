"""Load test of `numpynn serve` on loopback: requests/s and latency percentiles for 1, 8, 32
and 128 concurrent clients, with dynamic batching and with one forward pass per request.

    numpynn train --out runs/default                       # the default MLP (784-512-10)
    python benchmarks/serve_load.py runs/default/model.npz [--seconds 5] [--output FILE.md]

The server is the real command in a subprocess (`numpynn serve MODEL --port 0`, then again
with `--max-batch 1`); the clients are this process: N asyncio connections on HTTP/1.1
keep-alive, each sending its next request as soon as the last one is answered (a closed
loop), for --seconds per setting or --max-requests, whichever comes first. Each request is
one test-set digit as JSON pixels (or a PNG with --body png). Latency is measured from the
request's first byte written to its response's last byte read. The load generator shares the
machine's cores with the server, so these figures are a floor; to keep its share small it
writes pre-built request bytes on raw asyncio streams, on uvloop when installed (as uvicorn
does), and it reports its own CPU time per request beside the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import io
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
CLIENTS = (1, 8, 32, 128)
MODES = {  # the server's options
    "batching": [],  # the defaults: a 2 ms window, 64 rows
    "batching, no window": ["--batch-window-ms", "0"],  # what gathers during a forward pass
    "one request per forward pass": ["--max-batch", "1"],
}


def run(coroutine: Any) -> Any:
    """asyncio.run on uvloop if it is installed (a cheaper event loop, as for the server)."""
    try:
        import uvloop
    except ModuleNotFoundError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def start_server(model: str, options: list[str]) -> tuple[subprocess.Popen[str], str, int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "numpynn", "serve", model, "--port", "0", *options],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # "serving NAME at http://127.0.0.1:PORT (...)"
    if " at http://" not in line:
        process.kill()
        raise SystemExit(f"numpynn serve did not start: {line!r}")
    host, port = line.split(" at http://")[1].split()[0].rsplit(":", 1)
    return process, host, int(port)


def request_bytes(host: str, port: int, body: bytes, kind: str) -> bytes:
    head = (
        f"POST /api/predict HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {kind}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(
        int(v) for k, _, v in (h.partition(":") for h in lines[1:]) if k.lower() == "content-length"
    )
    return status, await reader.readexactly(length)


async def load(
    host: str, port: int, bodies: list[bytes], clients: int, seconds: float, max_requests: int
) -> tuple[list[float], dict[int, int], float]:
    """(latencies in seconds, {status: count}, wall seconds) of ``clients`` closed loops."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop = time.perf_counter() + seconds

    async def client(k: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        n = k
        while time.perf_counter() < stop and len(latencies) < max_requests:
            sent = time.perf_counter()
            writer.write(bodies[n % len(bodies)])
            status, _ = await read_response(reader)
            latencies.append(time.perf_counter() - sent)
            statuses[status] = statuses.get(status, 0) + 1
            n += clients
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    return latencies, statuses, time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux), NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def get_json(host: str, port: int, path: str) -> dict:
    import urllib.request

    with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=10) as response:
        return json.loads(response.read())


def digits(n: int, body: str) -> tuple[list[bytes], str]:
    """``n`` test-set digits as request bodies, and their content type."""
    import numpynn as nn

    _, (X_test, _) = nn.datasets.load_mnist()
    if body == "json":
        return [json.dumps({"pixels": x.tolist()}).encode() for x in X_test[:n]], "application/json"
    from PIL import Image

    out = []
    for x in X_test[:n]:
        image = Image.fromarray(np.uint8(255 - 255 * x.reshape(28, 28))).resize((280, 280))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out, "image/png"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model file, e.g. runs/default/model.npz")
    parser.add_argument("--clients", default=",".join(map(str, CLIENTS)), help="e.g. 1,8,32,128")
    parser.add_argument("--seconds", type=float, default=5.0, help="per setting (default 5)")
    parser.add_argument("--max-requests", type=int, default=50_000, help="per setting")
    parser.add_argument("--body", choices=["json", "png"], default="json")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds per server (default 1)")
    parser.add_argument("--output", help="write the Markdown report here (default: print it)")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]

    bodies, kind = digits(256, args.body)
    rows = []
    load_before = os.getloadavg()
    for mode, options in MODES.items():
        process, host, port = start_server(args.model, options)
        try:
            requests = [request_bytes(host, port, b, kind) for b in bodies]
            run(load(host, port, requests, 8, args.warmup, 2000))  # warm up
            for n in clients:
                before = get_json(host, port, "/api/health")
                cpu_before, client_before = cpu_seconds(process.pid), time.process_time()
                latencies, statuses, wall = run(
                    load(host, port, requests, n, args.seconds, args.max_requests)
                )
                cpu = cpu_seconds(process.pid) - cpu_before
                client_cpu = time.process_time() - client_before
                after = get_json(host, port, "/api/health")
                passes = after["forward_passes"] - before["forward_passes"]
                ms = np.percentile(np.array(latencies) * 1000, [50, 99])
                row = {
                    "mode": mode,
                    "clients": n,
                    "requests": len(latencies),
                    "per_second": len(latencies) / wall,
                    "p50_ms": ms[0],
                    "p99_ms": ms[1],
                    "server_cpu_ms": 1000 * cpu / max(len(latencies), 1),
                    "client_cpu_ms": 1000 * client_cpu / max(len(latencies), 1),
                    "mean_batch": (after["requests"] - before["requests"]) / max(passes, 1),
                    "errors_5xx": sum(c for s, c in statuses.items() if s >= 500),
                    "other_non_200": sum(c for s, c in statuses.items() if s != 200 and s < 500),
                }
                rows.append(row)
                print(
                    f"{mode:<30} {n:>4} clients  {row['per_second']:8.0f} req/s  "
                    f"p50 {ms[0]:6.1f} ms  p99 {ms[1]:6.1f} ms  batch {row['mean_batch']:5.1f}  "
                    f"CPU ms/request server {row['server_cpu_ms']:.3f} "
                    f"client {row['client_cpu_ms']:.3f}  "
                    f"5xx {row['errors_5xx']}",
                    flush=True,
                )
            alive = process.poll() is None
        finally:
            process.terminate()
            process.wait(10)
        if not alive:
            raise SystemExit(f"the server ({mode}) died during the run")

    report = render(rows, args, load_before)
    if args.output:
        Path(args.output).write_text(report)
        print(f"wrote {args.output}")
    else:
        print(report)


def render(rows: list[dict], args: argparse.Namespace, load_before: tuple[float, ...]) -> str:
    import numpy

    import numpynn

    lines = [
        "| mode | clients | requests | requests/s | p50 ms | p99 ms | mean batch "
        "| server CPU ms/request | client CPU ms/request | 5xx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['mode']} | {r['clients']} | {r['requests']} | {r['per_second']:,.0f} | "
            f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['mean_batch']:.1f} | "
            f"{r['server_cpu_ms']:.3f} | {r['client_cpu_ms']:.3f} | {r['errors_5xx']} |"
        )
    by = {(r["mode"], r["clients"]): r["per_second"] for r in rows}
    speedups = [
        f"{n} clients: {by[('batching', n)] / by[('one request per forward pass', n)]:.2f}x"
        for n in sorted({r["clients"] for r in rows})
    ]
    return "\n".join(
        [
            f"Measured {datetime.date.today()} on {cpu_name()} ({os.cpu_count()} cores), "
            f"Python {platform.python_version()}, NumPy {numpy.__version__}, "
            f"numpynn {numpynn.__version__}; load average before the run "
            f"{load_before[0]:.2f}. Model {args.model}, body {args.body}, "
            f"{args.seconds:g} s per setting.",
            "",
            *lines,
            "",
            "Batching over one forward pass per request: " + ", ".join(speedups) + ".",
            "",
        ]
    )


if __name__ == "__main__":
    main()
