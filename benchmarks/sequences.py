"""Forward + backward of numpynn's LSTM, GRU and RNN against torch.nn's, in one run.

    python -m benchmarks.sequences [--batch 32] [--steps 64] [--n-in 128] [--hidden 256]
                                   [--repeats 9] [--threads 2]

Each layer reads x: (batch, steps, n_in) float32 with ``return_sequences=True``, and
backpropagates a fixed dL/d(output) (batch, steps, hidden) to every parameter and to x (as
``torch.nn.LSTM(batch_first=True)`` with ``x.requires_grad``). Both libraries hold the same
weights (numpynn's are copied into torch's) and the outputs and dx are compared. Runs
alternate between the libraries; the median of ``--repeats`` is reported in samples
(sequences) per second and as the ratio numpynn / PyTorch (above 1: numpynn is faster), with
the load other processes put on the machine during the run (each timed call follows a
short pause, so that neither library's spinning worker threads slow the other's). Peak
memory: how far the resident memory (RSS) grows over the first two forward + backward steps
(lazy initialisation included), each library in a fresh process, and NumPy's own peak
allocation (tracemalloc). Prints a Markdown report.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .measure import (
    LoadWatch,
    in_fresh_process,
    machine_lines,
    rss_growth,
    traced_peak,
)

LAYERS = ("LSTM", "GRU", "RNN")


def make_pair(name: str, shape: tuple[int, int, int, int]) -> tuple[Any, Any, np.ndarray, Any]:
    """numpynn's layer, torch's with the same weights, x and dL/d(output)."""
    import torch

    import numpynn as nn

    batch, steps, n_in, hidden = shape
    layer = getattr(nn, name)(n_in, hidden, return_sequences=True, seed=0)
    module = getattr(torch.nn, name)(n_in, hidden, batch_first=True)
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(layer.Wx.T.copy()))
        module.weight_hh_l0.copy_(torch.from_numpy(layer.Wh.T.copy()))
        first, second = (layer.bx, layer.bh) if name == "GRU" else (layer.b, 0 * layer.b)
        module.bias_ih_l0.copy_(torch.from_numpy(first))
        module.bias_hh_l0.copy_(torch.from_numpy(second))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, steps, n_in)).astype(np.float32)
    dout = rng.standard_normal((batch, steps, hidden)).astype(np.float32)
    return layer, module, x, dout


def numpynn_step(layer: Any, x: np.ndarray, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = layer.forward(x, training=True)
    return out, layer.backward(dout)


def torch_step(module: Any, x: np.ndarray, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import torch

    x_t = torch.from_numpy(x).requires_grad_()
    module.zero_grad(set_to_none=False)
    out, _ = module(x_t)
    out.backward(torch.from_numpy(dout))
    return out.detach().numpy(), x_t.grad.numpy()  # type: ignore[union-attr]


def seconds(step: Callable[[], Any], pause: float = 0.2) -> float:
    """The time of one call of ``step``, after a pause that lets the other library's spinning
    worker threads (OpenBLAS's, PyTorch's OpenMP) go to sleep."""
    time.sleep(pause)
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def compare(name: str, shape: tuple[int, int, int, int], repeats: int) -> dict[str, Any]:
    layer, module, x, dout = make_pair(name, shape)
    ours = numpynn_step(layer, x, dout)
    theirs = torch_step(module, x, dout)
    gap = max(float(np.abs(a - b).max()) for a, b in zip(ours, theirs, strict=True))
    times: dict[str, list[float]] = {"numpynn": [], "torch": []}
    with LoadWatch() as watch:
        for _ in range(repeats):
            times["numpynn"].append(seconds(lambda: numpynn_step(layer, x, dout)))
            times["torch"].append(seconds(lambda: torch_step(module, x, dout)))
    medians = {lib: statistics.median(t) for lib, t in times.items()}
    return {"medians": medians, "gap": gap, "background": watch.background}


def _peak_memory(library: str, name: str, shape: tuple[int, int, int, int]) -> int:
    """In a fresh process: the peak RSS growth over two steps (bytes), lazy initialisation
    included."""
    layer, module, x, dout = make_pair(name, shape)
    if library == "numpynn":
        return rss_growth(lambda: numpynn_step(layer, x, dout))
    return rss_growth(lambda: torch_step(module, x, dout))


def peak_memory(library: str, name: str, shape: tuple[int, int, int, int]) -> int:
    return in_fresh_process(_peak_memory, library, name, shape)


def numpy_peak(name: str, shape: tuple[int, int, int, int]) -> int:
    """NumPy's peak allocation (tracemalloc) over two numpynn steps: the arrays the layer
    keeps for backward and reuses (made by the first) and what each step allocates."""
    layer, _, x, dout = make_pair(name, shape)
    return traced_peak(lambda: numpynn_step(layer, x, dout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--n-in", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    shape = (args.batch, args.steps, args.n_in, args.hidden)
    print("# Recurrent layers against PyTorch CPU\n")
    print(
        f"Forward + backward (to every parameter and to x), batch {args.batch}, "
        f"{args.steps} steps, {args.n_in} -> {args.hidden}, float32, return_sequences; "
        f"median of {args.repeats} alternating runs, {args.threads} thread(s) each.\n"
    )
    print("\n".join(machine_lines(pool_threads=True)))
    print()
    print(
        "| layer | numpynn ms | PyTorch ms | numpynn samples/s | PyTorch samples/s | "
        "numpynn / PyTorch | background cores | max gap (out, dx) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for name in LAYERS:
            row = compare(name, shape, args.repeats)
            ours, theirs = row["medians"]["numpynn"], row["medians"]["torch"]
            print(
                f"| {name} | {ours * 1e3:.1f} | {theirs * 1e3:.1f} | {args.batch / ours:.0f} | "
                f"{args.batch / theirs:.0f} | {theirs / ours:.2f}x | {row['background']:.2f} | "
                f"{row['gap']:.1e} |"
            )
    print()
    print(
        "| layer | numpynn peak RSS growth MB | PyTorch peak RSS growth MB | "
        "NumPy peak allocation MB |"
    )
    print("|---|---:|---:|---:|")
    for name in LAYERS:
        rss = {lib: peak_memory(lib, name, shape) / 2**20 for lib in ("numpynn", "torch")}
        print(
            f"| {name} | {rss['numpynn']:.1f} | {rss['torch']:.1f} | "
            f"{numpy_peak(name, shape) / 2**20:.1f} |"
        )


if __name__ == "__main__":
    main()
