"""Forward + backward time of numpynn's convnet layers against PyTorch CPU, in one run.

    python -m benchmarks.conv [--batch 128] [--repeats 15] [--threads 2]

The layers of the issue's MNIST network (conv 1->32 3x3 pad 1, BatchNorm, ReLU, max pool 2,
conv 32->64 3x3 pad 1, BatchNorm, ReLU, max pool 2, then flatten, dense 3136->128, ReLU,
dense 128->10), each timed alone on its own input shape (and the ReLU + max pool pair, which
numpynn trains as one ``ReLUMaxPool2D``, as ``fit`` does), then the whole network's forward,
softmax cross-entropy and backward (no optimiser step). Both libraries get the same weights
and inputs (float32) and the outputs are compared. The first layer computes no input gradient
(numpynn's ``backward_params``, PyTorch's input without ``requires_grad``), as in training.
Runs alternate between the two libraries and the median of each is reported, with the
background load (CPU used by other processes, in cores) during the whole run. Prints a
Markdown report.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

import numpynn as nn
from numpynn import losses
from numpynn.layers import fuse_relu_pool

from . import dlfs
from .measure import LoadWatch, _cpu_model


def torch_layer(layer: nn.Layer) -> torch.nn.Module:
    """The PyTorch module computing what ``layer`` computes, with its weights."""
    if isinstance(layer, nn.Conv2D):
        module: Any = torch.nn.Conv2d(
            layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding
        )
        module.weight.data = torch.from_numpy(layer.W.copy())
        module.bias.data = torch.from_numpy(layer.b.copy())
    elif isinstance(layer, nn.Dense):
        module = torch.nn.Linear(layer.n_in, layer.n_out)
        module.weight.data = torch.from_numpy(layer.W.T.copy())
        module.bias.data = torch.from_numpy(layer.b.copy())
    elif isinstance(layer, nn.BatchNorm):  # PyTorch's momentum is the weight of the batch
        module = torch.nn.BatchNorm2d(layer.num_features, layer.eps, 1 - layer.momentum)
    elif isinstance(layer, nn.MaxPool2D):
        module = torch.nn.MaxPool2d(layer.size, layer.stride)
    elif isinstance(layer, nn.ReLU):
        module = torch.nn.ReLU()
    elif isinstance(layer, nn.Flatten):
        module = torch.nn.Flatten()
    else:
        raise TypeError(f"no PyTorch counterpart for {layer!r}")
    return module.train()


def network(seed: int = 0) -> list[nn.Layer]:
    """The issue's network, without its final Softmax (fused into the loss) and Dropout."""
    return [
        nn.Conv2D(1, 32, 3, padding=1, seed=seed),
        nn.BatchNorm(32),
        nn.ReLU(),
        nn.MaxPool2D(2),
        nn.Conv2D(32, 64, 3, padding=1, seed=seed + 1),
        nn.BatchNorm(64),
        nn.ReLU(),
        nn.MaxPool2D(2),
        nn.Flatten(),
        nn.Dense(64 * 7 * 7, 128, init="he", seed=seed + 2),
        nn.ReLU(),
        nn.Dense(128, 10, seed=seed + 3),
    ]


def numpynn_step(
    layers: list[nn.Layer], x: np.ndarray, T: np.ndarray | None, dout: Any, input_grad: bool
) -> None:
    """Forward in training mode and backward, from ``dout`` or from the loss on targets T."""
    out = x
    for layer in layers:
        out = layer.forward(out, training=True)
    if T is not None:
        loss = losses.CrossEntropy(from_logits=True)
        loss.forward(out, T)
        dout = loss.backward()
    for layer in reversed(layers[0 if input_grad else 1 :]):
        dout = layer.backward(dout)
    if not input_grad:
        layers[0].backward_params(dout)


def torch_step(module: torch.nn.Module, x: torch.Tensor, y: Any, dout: Any) -> None:
    module.zero_grad(set_to_none=True)
    out = module(x)
    if y is not None:
        torch.nn.functional.cross_entropy(out, y).backward()
    else:
        out.backward(dout)


def timed(step: Callable[[], Any]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    return time.perf_counter() - wall, time.process_time() - cpu


def book_layer(layer: nn.Layer) -> Any:
    """DLFS's way of computing ``layer`` (float64), for convolutions and max pools; or None."""
    if isinstance(layer, nn.Conv2D):
        return dlfs.Convolution(layer.W, layer.b, layer.stride, layer.padding)
    if isinstance(layer, nn.MaxPool2D):
        return dlfs.Pooling(layer.size, layer.stride)
    return None


def book_step(book: Any, x: np.ndarray, dout: np.ndarray | None) -> None:
    book.forward(x)
    book.backward(dout)


def compare(
    name: str,
    layers: list[nn.Layer],
    x: np.ndarray,
    y: np.ndarray | None,
    repeats: int,
    input_grad: bool = True,
) -> dict[str, Any]:
    """Median seconds of numpynn, PyTorch (and for one conv or pool layer, DLFS's float64
    im2col) on one case, and the largest gap between numpynn's and PyTorch's outputs."""
    module = torch.nn.Sequential(*[torch_layer(layer) for layer in layers])
    book = book_layer(layers[0]) if len(layers) == 1 else None
    layers = fuse_relu_pool(layers)  # as fit trains them
    tx = torch.from_numpy(x).requires_grad_(input_grad)
    out = x
    for layer in layers:
        out = layer.forward(out, training=True)
    with torch.no_grad():
        gap = float(np.max(np.abs(out - module(tx).numpy())))
    T = None if y is None else np.eye(10, dtype=np.float32)[y]
    ty = None if y is None else torch.from_numpy(y)
    dout = None if y is not None else np.random.default_rng(1).standard_normal(out.shape)
    dout = None if dout is None else dout.astype(np.float32)
    tdout = None if dout is None else torch.from_numpy(dout)
    x64, dout64 = x.astype(np.float64), None if dout is None else dout.astype(np.float64)
    runs: dict[str, list[tuple[float, float]]] = {"numpynn": [], "pytorch": []}
    if book is not None:
        runs["dlfs"] = []
    for i in range(repeats + 2):  # two warm-up runs each
        times = {
            "numpynn": timed(lambda: numpynn_step(layers, x, T, dout, input_grad)),
            "pytorch": timed(lambda: torch_step(module, tx, ty, tdout)),
        }
        if book is not None:
            times["dlfs"] = timed(lambda: book_step(book, x64, dout64))
        if i >= 2:
            for lib, t in times.items():
                runs[lib].append(t)
    medians = {
        f"{lib} {clock}": statistics.median(run[i] for run in runs[lib])
        for lib in runs
        for i, clock in enumerate(("wall", "cpu"))
    }
    return {"name": name, **medians, "gap": gap}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2, help="BLAS and PyTorch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    n = args.batch
    net = network()
    images = rng.random((n, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, n)
    maps = {  # post-ReLU-like feature maps
        shape: np.maximum(rng.standard_normal((n, *shape), dtype=np.float32), 0)
        for shape in [(32, 28, 28), (32, 14, 14), (64, 14, 14)]
    }
    cases = [
        ("conv 1->32 3x3 pad 1 (first layer: no dx)", [net[0]], images, False),
        ("batch norm 32 on (32, 28, 28)", [net[1]], maps[32, 28, 28], True),
        ("relu on (32, 28, 28)", [net[2]], maps[32, 28, 28], True),
        ("max pool 2 on (32, 28, 28)", [net[3]], maps[32, 28, 28], True),
        (
            "relu + max pool 2 on (32, 28, 28): one layer in training",
            net[2:4],
            maps[32, 28, 28],
            True,
        ),
        ("conv 32->64 3x3 pad 1", [net[4]], maps[32, 14, 14], True),
        ("batch norm 64 on (64, 14, 14)", [net[5]], maps[64, 14, 14], True),
        ("max pool 2 on (64, 14, 14)", [net[7]], maps[64, 14, 14], True),
    ]
    results = []
    with threadpool_limits(args.threads), LoadWatch() as watch:
        for name, layers, x, input_grad in cases:
            results.append(compare(name, layers, x, None, args.repeats, input_grad))
        whole = "whole network, softmax cross-entropy (no optimiser step)"
        results.append(compare(whole, net, images, labels, args.repeats, input_grad=False))
    print(report(results, args, watch.background))


def machine(threads: int, background: float) -> str:
    """The CPU, the BLAS kernel NumPy runs on, the versions, threads and background load."""
    blas = [
        f"{i['internal_api']} {i['version']} ({i.get('architecture')})"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    return (
        f"{_cpu_model()}, {os.cpu_count()} cores; {threads} thread(s) each (BLAS and PyTorch); "
        f"NumPy {np.__version__} with {', '.join(blas)}; PyTorch {torch.__version__}; "
        f"background load {background:.2f} cores during the run"
    )


def report(results: list[dict[str, Any]], args: argparse.Namespace, background: float) -> str:
    lines = [
        f"Batch {args.batch}, float32, median of {args.repeats} runs; "
        f"{machine(args.threads, background)}. 'vs X' "
        "= X's time / numpynn's (above 1: numpynn is faster); CPU time is that of all the "
        "process's threads, less sensitive to other processes than wall time. DLFS: the "
        "book's im2col layers in float64 (benchmarks/dlfs.py), which always compute dx.",
        "",
        "| forward + backward | numpynn ms | PyTorch ms | vs PyTorch | CPU ms numpynn | CPU ms "
        "PyTorch | CPU vs PyTorch | DLFS float64 ms | vs DLFS | max output gap |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        book = (
            f"{r['dlfs wall'] * 1e3:.1f} | {r['dlfs wall'] / r['numpynn wall']:.1f}x"
            if "dlfs wall" in r
            else "| "
        )
        lines.append(
            f"| {r['name']} | {r['numpynn wall'] * 1e3:.1f} | {r['pytorch wall'] * 1e3:.1f} | "
            f"{r['pytorch wall'] / r['numpynn wall']:.2f}x | {r['numpynn cpu'] * 1e3:.1f} | "
            f"{r['pytorch cpu'] * 1e3:.1f} | {r['pytorch cpu'] / r['numpynn cpu']:.2f}x | "
            f"{book} | {r['gap']:.1e} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
