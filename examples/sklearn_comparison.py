"""NumpyNNClassifier beside scikit-learn's MLPClassifier: same network, same data, same epochs.

Both train one hidden layer of 100 ReLU units with Adam (learning rate 1e-3, batch 200, L2
alpha 1e-4) for exactly ``--epochs`` epochs (no early stop) on 8x8 digits and on an MNIST
subset; the table gives the test accuracy and the fit time (median of ``--repeats`` runs).

    python examples/sklearn_comparison.py [--epochs 20] [--mnist-train 10000] [--repeats 3]
                                          [--blas-threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import numpynn as nn
from numpynn.sklearn import NumpyNNClassifier


def networks(epochs: int) -> dict[str, Callable[[], Any]]:
    """The contenders, built fresh for every fit: identical hyper-parameters."""
    common: dict[str, Any] = {
        "hidden_layer_sizes": (100,),
        "activation": "relu",
        "alpha": 1e-4,
        "batch_size": 200,
        "max_iter": epochs,
        "n_iter_no_change": epochs + 1,  # never stop early: every run does `epochs` epochs
        "random_state": 0,
    }
    return {
        "MLPClassifier": lambda: MLPClassifier(solver="adam", learning_rate_init=1e-3, **common),
        "NumpyNNClassifier": lambda: NumpyNNClassifier(learning_rate=1e-3, **common),
    }


def compare(name: str, data: tuple, epochs: int, repeats: int) -> None:
    (X_train, y_train), (X_test, y_test) = data
    n_train, n_features = X_train.shape
    print(f"\n{name}: {n_train} train / {len(X_test)} test samples, {n_features} features")
    print(f"{'estimator':<19} {'X dtype':<8} {'epochs':>6} {'test acc':>9} {'fit time (s)':>13}")
    for dtype in (np.float32, np.float64):
        Xtr, Xte = X_train.astype(dtype), X_test.astype(dtype)
        times: dict[str, list[float]] = {label: [] for label in networks(epochs)}
        fitted: dict[str, Any] = {}
        for _ in range(repeats):  # interleaved, so a change in machine load hits both alike
            for label, make in networks(epochs).items():
                clf = make()
                started = time.perf_counter()
                fitted[label] = clf.fit(Xtr, y_train)
                times[label].append(time.perf_counter() - started)
        for label, clf in fitted.items():
            accuracy, seconds = clf.score(Xte, y_test), statistics.median(times[label])
            dtype_name = np.dtype(dtype).name
            print(f"{label:<19} {dtype_name:<8} {clf.n_iter_:>6} {accuracy:>9.4f} {seconds:>13.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--mnist-train", type=int, default=10_000, help="MNIST training subset")
    parser.add_argument("--repeats", type=int, default=3, help="fits per cell (median time)")
    parser.add_argument("--blas-threads", type=int, help="limit BLAS threads (threadpoolctl)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed number of epochs, on purpose
    if args.blas_threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads)
    print(f"BLAS threads: {args.blas_threads or 'library default'}")

    compare("digits (8x8)", nn.datasets.load_digits(), args.epochs, args.repeats)
    (X_train, y_train), (X_test, y_test) = nn.datasets.load_mnist()
    n = args.mnist_train
    compare("MNIST", ((X_train[:n], y_train[:n]), (X_test, y_test)), args.epochs, args.repeats)


if __name__ == "__main__":
    main()
