"""Where a numpynn training step spends its time, phase by phase (gather, each layer's forward
and backward, loss, update, accuracy count), for a ReLU MLP on MNIST.

    python -m benchmarks.breakdown [--sizes 784,100,10] [--batch 128] [--epochs 2]

It replays ``numpynn.training.train``'s loop with a clock between the phases (the clock costs
about 0.1 us a call), so the phases add up to nearly the whole of ``fit``.
"""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

import numpy as np

import numpynn
from numpynn import losses
from numpynn.scratch import scratch
from numpynn.training import _backward_order

from .data import load_mnist


def breakdown(sizes: list[int], batch: int, epochs: int) -> dict[str, float]:
    """Microseconds per step spent in each phase."""
    X, y, _, _ = load_mnist()
    model = numpynn.mlp(sizes, seed=0)
    layers, loss = losses.fuse(model.layers, losses.CrossEntropy())
    T = loss.prepare_targets(y, 10, X.dtype)
    optimizer = numpynn.SGD(0.1)
    params, grads = model.parameters(), model.gradients()
    order = _backward_order(layers)
    work = SimpleNamespace()
    spent: dict[str, float] = {}
    clock = time.perf_counter

    def lap(name: str, since: float) -> float:
        now = clock()
        spent[name] = spent.get(name, 0.0) + now - since
        return now

    rng = np.random.default_rng(0)
    steps = 0
    for _ in range(epochs):
        permutation = rng.permutation(len(X))
        for start in range(0, len(X) - batch + 1, batch):
            t = clock()
            rows = permutation[start : start + batch]
            x = np.take(X, rows, axis=0, out=scratch(work, "x", (batch, 784), X.dtype), mode="clip")
            target = np.take(
                T, rows, axis=0, out=scratch(work, "t", (batch, 10), T.dtype), mode="clip"
            )
            t = lap("gather the batch", t)
            h = x
            for i, layer in enumerate(layers):
                h = layer.forward(h, True)
                t = lap(f"forward {i} {type(layer).__name__}", t)
            loss.forward(h, target)
            t = lap("loss (fused softmax + cross-entropy)", t)
            g = loss.backward()
            t = lap("loss gradient", t)
            for layer in order[:-1]:
                g = layer.backward(g)
                t = lap(f"backward {layers.index(layer)} {type(layer).__name__}", t)
            order[-1].backward_params(g)
            t = lap(f"backward {layers.index(order[-1])} {type(order[-1]).__name__} (no dx)", t)
            optimizer.step(params, grads)
            t = lap("SGD update", t)
            loss.count_correct(h, target)
            lap("accuracy count", t)
            steps += 1
    return {name: seconds / steps * 1e6 for name, seconds in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="784,100,10", help="layer sizes (default 784,100,10)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    phases = breakdown([int(n) for n in args.sizes.split(",")], args.batch, args.epochs)
    total = sum(phases.values())
    print(f"| phase (batch {args.batch}) | us per step | share |")
    print("| --- | --- | --- |")
    for name, micros in phases.items():
        print(f"| {name} | {micros:.1f} | {micros / total:.0%} |")
    print(f"| total | {total:.1f} | {args.batch / total * 1e6:,.0f} samples/s |")


if __name__ == "__main__":
    main()
