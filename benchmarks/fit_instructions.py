"""``fit`` (784-100-10, SGD) on the first 6,000 MNIST rows, for counting instructions with
callgrind: a count does not depend on the load of a shared machine, so two versions of numpynn
can be compared exactly (see RESULTS.md, "Issue 9"). The count of ``--epochs 2`` minus that
of ``--epochs 1`` is one epoch of the training loop, without imports and set-up.

    python -m benchmarks.fit_instructions --save /tmp/mnist6k.npz   # once: the data
    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src valgrind --tool=callgrind \
        --callgrind-out-file=/dev/null "$(python -c 'import sys; print(sys.executable)')" \
        -m benchmarks.fit_instructions /tmp/mnist6k.npz --batch 32 --epochs 1
"""

from __future__ import annotations

import argparse

import numpy as np

import numpynn as nn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="the .npz of X and y (written by --save)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--save", action="store_true", help="write the data file and stop")
    args = parser.parse_args()
    if args.save:
        (X, y), _ = nn.datasets.load_mnist()
        np.savez(args.data, X=X[:6000], y=y[:6000])
        return
    data = np.load(args.data)
    model = nn.mlp([784, 100, 10], activation="sigmoid", seed=0)
    X, y = data["X"], data["y"]
    model.fit(X, y, optimizer=nn.SGD(lr=0.1), epochs=args.epochs, batch_size=args.batch, seed=0)


if __name__ == "__main__":
    main()
