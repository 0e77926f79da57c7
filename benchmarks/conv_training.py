"""Training samples/s of two MNIST convnets: numpynn float32, PyTorch CPU float32 and DLFS's
float64 layers written the book's way, in one run.

    PYTHONPATH=src nice -n 10 python -m benchmarks.conv_training --repeats 7 --steps 10 --threads 1
    PYTHONPATH=src nice -n 10 python -m benchmarks.conv_training --threads 2 --workers 2

The networks: the preset's, ``numpynn.convnet((1, 28, 28), [128, 10], dropout=0.25)`` at batch
128, and DLFS's SimpleConvNet (ch. 7: conv 30 filters 5x5, ReLU, max pool 2, dense 100, ReLU,
dense 10) at batch 100. A training step is forward, softmax cross-entropy, backward and an
Adam update (lr 0.001), on real MNIST images (the first ``steps`` batches of the training set,
in order). numpynn runs its own training step (``numpynn.training.forward``/``backward``,
the fused ``CrossEntropy(from_logits=True)`` and ``ReLUMaxPool2D``, ``Adam.step``; with
``--workers N``, the rows split over N threads as ``fit(workers=N)`` does, one BLAS thread
each); PyTorch gets the same weights, ``torch.optim.Adam`` and ``model.train()``; DLFS is
benchmarks/dlfs.py's im2col convolution and pooling with the book's Relu, Affine,
SoftmaxWithLoss and Adam (``common/layers.py``, ``common/optimizer.py``), float64 weights, for
SimpleConvNet only (the book's BatchNormalization normalises each pixel, not each channel, so
the preset has no book version).

Each repeat times ``steps`` steps of every library, in an order that rotates between repeats,
after a pause that lets the previous library's threads fall asleep; the median samples/s
(wall clock, and from the CPU time of all the process's threads) is reported. Before timing,
the three start from the same weights and take three steps on the same batches (dropout
off): their losses are printed and must agree at float32 precision.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import torch
from threadpoolctl import ThreadpoolController, threadpool_limits

import numpynn as nn
from numpynn import losses
from numpynn.layers import fuse_relu_pool
from numpynn.datasets import load_mnist
from numpynn.parallel import Replicas
from numpynn.training import _backward_order, backward, forward

from . import conv
from .measure import LoadWatch

Batches = list[tuple[np.ndarray, np.ndarray]]  # (images float32, labels int64)


def preset(dropout: float = 0.25, seed: int = 0) -> list[nn.Layer]:
    """The preset's network without its final Softmax (fused into the loss, as ``fit`` does)."""
    model = nn.convnet((1, 28, 28), [128, 10], dropout=dropout, seed=seed)
    return losses.fuse(model.layers, losses.CrossEntropy())[0]


def simple_convnet(dropout: float = 0.0, seed: int = 0) -> list[nn.Layer]:
    """DLFS's SimpleConvNet (``dropout`` unused: it has none); numpynn's initialisers."""
    return [
        nn.Conv2D(1, 30, 5, seed=seed),
        nn.ReLU(),
        nn.MaxPool2D(2),
        nn.Flatten(),
        nn.Dense(30 * 12 * 12, 100, init="he", seed=seed + 1),
        nn.ReLU(),
        nn.Dense(100, 10, seed=seed + 2),
    ]


def first_batches(X: np.ndarray, y: np.ndarray, size: int, count: int) -> Batches:
    """The first ``count`` batches of ``size`` rows of (X, y)."""
    return [(X[i * size : (i + 1) * size], y[i * size : (i + 1) * size]) for i in range(count)]


class Trainer(Protocol):
    def step(self, i: int) -> float:
        """One training step on batch ``i``; the loss before the update."""
        ...


class NumpynnTrainer:
    """numpynn's training step; with ``workers`` > 1, ``fit(workers=...)``'s: the rows split
    over that many threads (numpynn.parallel), one BLAS thread each."""

    def __init__(self, layers: list[nn.Layer], batches: Batches, workers: int = 1) -> None:
        layers = fuse_relu_pool(layers)  # as fit does: each ReLU + MaxPool2D as one layer
        self.layers, self.order = layers, _backward_order(layers)
        model = nn.Sequential(*layers)
        self.params, self.grads = model.parameters(), model.gradients()
        self.loss, self.optimizer = losses.CrossEntropy(from_logits=True), nn.Adam()
        self.batches = [(x, np.eye(10, dtype=np.float32)[y]) for x, y in batches]
        self.replicas = Replicas(layers, self.loss, workers) if workers > 1 else None
        self.rng = np.random.default_rng(0)
        # Found once: threadpool_limits() looks the libraries up anew each time (0.3 ms a
        # step), the controller's limit() only sets the count (0.01 ms).
        self.blas = ThreadpoolController()

    def step(self, i: int) -> float:
        x, T = self.batches[i]
        if self.replicas is not None:
            with self.blas.limit(limits=1, user_api="blas"):
                loss = self.replicas.step(x, T, None, self.rng)[1]
        else:
            loss = self.loss.forward(forward(self.layers, x, training=True), T)
            backward(self.order, self.loss.backward())
        self.optimizer.step(self.params, self.grads)
        return loss


class TorchTrainer:
    def __init__(self, layers: list[nn.Layer], batches: Batches) -> None:
        modules = [
            torch.nn.Dropout(layer.rate)
            if isinstance(layer, nn.Dropout)
            else conv.torch_layer(layer)
            for layer in layers
        ]
        self.module = torch.nn.Sequential(*modules).train()
        self.optimizer = torch.optim.Adam(self.module.parameters(), lr=0.001)
        self.batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]

    def step(self, i: int) -> float:
        x, y = self.batches[i]
        self.optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(self.module(x), y)
        loss.backward()
        self.optimizer.step()
        return float(loss.item())


# DLFS's remaining layers and Adam, as the book writes them (common/layers.py, optimizer.py).


class Relu:
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout[self.mask] = 0
        return dout


class Affine:
    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W, self.b = W.astype(np.float64), b.astype(np.float64)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T).reshape(self.x_shape)


class SoftmaxWithLoss:
    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        x = x - np.max(x, axis=-1, keepdims=True)
        self.y, self.t = np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True), t
        return float(-np.sum(np.log(self.y[np.arange(len(t)), t] + 1e-7)) / len(t))

    def backward(self) -> np.ndarray:
        dx = self.y.copy()
        dx[np.arange(len(self.t)), self.t] -= 1
        return dx / len(self.t)


class BookAdam:
    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999) -> None:
        self.lr, self.beta1, self.beta2, self.iter = lr, beta1, beta2, 0
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        if not self.m:
            for key, val in params.items():
                self.m[key], self.v[key] = np.zeros_like(val), np.zeros_like(val)
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params:
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


BOOK_LAYERS = (nn.Conv2D, nn.MaxPool2D, nn.Dense, nn.ReLU, nn.Flatten)  # SimpleConvNet's


def book_layer(layer: nn.Layer) -> Any:
    """The book's layer for ``layer`` (one of BOOK_LAYERS) with its weights in float64; None
    for Flatten (Affine flattens its input)."""
    if isinstance(layer, nn.Conv2D | nn.MaxPool2D):
        return conv.book_layer(layer)
    if isinstance(layer, nn.Dense):
        return Affine(layer.W, layer.b)
    if isinstance(layer, nn.ReLU):
        return Relu()
    if isinstance(layer, nn.Flatten):
        return None
    raise ValueError(f"no book version of {layer!r}")


class BookTrainer:
    """The book's training step: ``network.gradient(x, t)`` (forward, SoftmaxWithLoss,
    backward), then ``optimizer.update(network.params, grads)``."""

    def __init__(self, layers: list[nn.Layer], batches: Batches) -> None:
        self.layers = [book for book in map(book_layer, layers) if book is not None]
        self.last_layer, self.optimizer = SoftmaxWithLoss(), BookAdam()
        self.trainable = [layer for layer in self.layers if hasattr(layer, "W")]
        self.params = self.named("")  # the layers' own arrays: updated in place
        self.batches = batches  # the book's MNIST is float32; its weights are float64

    def step(self, i: int) -> float:
        x, t = self.batches[i]
        out: np.ndarray = x
        for layer in self.layers:
            out = layer.forward(out)
        loss = self.last_layer.forward(out, t)
        dout = self.last_layer.backward()
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        self.optimizer.update(self.params, self.named("d"))
        return loss

    def named(self, prefix: str) -> dict[str, np.ndarray]:
        """The book's ``params`` (prefix "") or ``grads`` ("d"): {"W1": ..., "b1": ...}."""
        return {
            f"{name}{i}": getattr(layer, prefix + name)
            for i, layer in enumerate(self.trainable, 1)
            for name in ("W", "b")
        }


NETWORKS: dict[str, tuple[Callable[..., list[nn.Layer]], int]] = {
    "preset: convnet((1, 28, 28), [128, 10], dropout=0.25)": (preset, 128),
    "DLFS SimpleConvNet": (simple_convnet, 100),
}


def trainers(layers: list[nn.Layer], batches: Batches, workers: int = 1) -> dict[str, Trainer]:
    """The three libraries' trainers from the same weights (DLFS's only where the book has
    every layer). numpynn's is built last: it trains ``layers`` themselves, which the others
    copied."""
    found: dict[str, Trainer] = {"pytorch": TorchTrainer(layers, batches)}
    if all(isinstance(layer, BOOK_LAYERS) for layer in layers):
        found["dlfs"] = BookTrainer(layers, batches)
    return {"numpynn": NumpynnTrainer(layers, batches, workers), **found}


def check(
    build: Callable[..., list[nn.Layer]], batches: Batches, workers: int = 1, steps: int = 3
) -> dict[str, list[float]]:
    """The losses of the first ``steps`` steps of each library from the same weights, dropout
    off; AssertionError if the first step's differ beyond float32 precision."""
    found = {
        lib: [t.step(i) for i in range(steps)]
        for lib, t in trainers(build(dropout=0.0), batches, workers).items()
    }
    first = [run[0] for run in found.values()]
    assert max(first) - min(first) <= 1e-5 * max(first), f"first-step losses differ: {found}"
    return found


def run(trainer: Trainer, steps: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds of ``steps`` training steps."""
    return conv.timed(lambda: [trainer.step(i) for i in range(steps)])


PAUSE = 0.5  # seconds before each timed run: see measure


def measure(
    trainers: dict[str, Trainer], steps: int, repeats: int
) -> dict[str, tuple[float, float]]:
    """Median seconds per ``steps`` steps, (wall, CPU), of each trainer; one warm-up round,
    then ``repeats`` rounds with the libraries' order rotated each time. Each run waits
    ``PAUSE`` seconds first: OpenBLAS's threads spin for about 0.1 s after a product before
    they sleep, and without the pause they took a core from the library timed next (PyTorch
    ran SimpleConvNet at 6,100-7,300 samples/s after numpynn and DLFS, 10,000-12,000 alone)."""
    libs = list(trainers)
    runs: dict[str, list[tuple[float, float]]] = {lib: [] for lib in libs}
    for r in range(repeats + 1):
        for lib in libs[r % len(libs) :] + libs[: r % len(libs)]:
            time.sleep(PAUSE)
            seconds = run(trainers[lib], steps)
            if r > 0:
                runs[lib].append(seconds)
    return {
        lib: (statistics.median(w for w, _ in times), statistics.median(c for _, c in times))
        for lib, times in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="training steps per timed run")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2, help="BLAS and PyTorch threads")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="numpynn's workers (fit(workers=)), 1 BLAS thread each",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    (X, y), _ = load_mnist(shape="images")
    rows = []
    with threadpool_limits(args.threads), LoadWatch() as watch:
        for name, (build, batch) in NETWORKS.items():
            batches = first_batches(X, y, batch, max(args.steps, 3))
            first_losses = check(build, batches, args.workers)
            times = measure(trainers(build(), batches, args.workers), args.steps, args.repeats)
            rows.append((name, batch, first_losses, times))
    print(report(rows, args, watch.background))


LIBS = {"numpynn": "numpynn", "pytorch": "PyTorch", "dlfs": "DLFS float64"}


def row(
    name: str, batch: int, steps: int, first_losses: dict[str, list[float]], times: dict[str, Any]
) -> tuple[str, str]:
    """A network's row of samples/s and ratios, and its row of first losses."""
    rate = {
        lib: {clock: batch * steps / times[lib][i] for i, clock in enumerate(("wall", "cpu"))}
        for lib in times
    }
    cells = [f"{rate[lib]['wall']:.0f}" if lib in rate else "" for lib in LIBS]
    cells += [
        f"{rate['numpynn'][clock] / rate[lib][clock]:.2f}x" if lib in rate else ""
        for clock in ("wall", "cpu")
        for lib in ("pytorch", "dlfs")
    ]
    found = [", ".join(f"{v:.5f}" for v in first_losses.get(lib, [])) for lib in LIBS]
    return f"| {name} | {batch} | {' | '.join(cells)} |", f"| {name} | {' | '.join(found)} |"


def report(
    rows: list[tuple[str, int, Any, Any]], args: argparse.Namespace, background: float
) -> str:
    lines = [
        "## Training samples/s (forward, backward, Adam)",
        "",
        f"Median of {args.repeats} runs of {args.steps} training steps each, float32 (DLFS: "
        f"float64 weights); {conv.machine(args.threads, background)}"
        + (
            f"; numpynn with {args.workers} workers (fit(workers={args.workers})), one BLAS "
            "thread each"
            if args.workers > 1
            else ""
        )
        + ". numpynn/X = numpynn's "
        "samples/s / X's (above 1: numpynn is faster); CPU: from the CPU time of all the "
        "process's threads instead of wall time.",
        "",
        "| network | batch | numpynn samples/s | PyTorch samples/s | DLFS float64 samples/s "
        "| numpynn/PyTorch | numpynn/DLFS | CPU numpynn/PyTorch | CPU numpynn/DLFS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    checks = [
        "",
        "Losses of the first 3 steps from the same weights on the same batches, dropout "
        "off (checked: the first step's agree to 1e-5 relative):",
        "",
        "| network | " + " | ".join(LIBS.values()) + " |",
        "|---|---|---|---|",
    ]
    for name, batch, first_losses, times in rows:
        speed, losses_row = row(name, batch, args.steps, first_losses, times)
        lines.append(speed)
        checks.append(losses_row)
    return "\n".join(lines + checks)


if __name__ == "__main__":
    main()
