"""MNIST read row by row: each image is a sequence of 28 rows of 28 pixels, read by
``LSTM(28, 128)`` whose last state a Dense layer classifies. A standard, quick check of a
recurrent layer on sequence classification.

    python -m benchmarks.mnist_rows [--epochs 6] [--seed 0] [--threads 2]

Prints the test accuracy, the time per epoch and the peak memory (the process's maximum
resident set), with the CPU and the BLAS.
"""

from __future__ import annotations

import argparse
import resource
import time

from .measure import _cpu_model, blas_info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import numpynn as nn
    from numpynn.datasets import load_mnist, split_validation

    (X, y), (X_test, y_test) = load_mnist()
    X, X_test = X.reshape(-1, 28, 28), X_test.reshape(-1, 28, 28)  # (n, steps, features)
    (X, y), (X_val, y_val) = split_validation(X, y, 5000, seed=args.seed)
    model = nn.Sequential(
        nn.LSTM(28, 128, seed=args.seed), nn.Dense(128, 10, seed=args.seed), nn.Softmax()
    )
    schedule = nn.schedules.CosineDecay(args.epochs, min_lr=1e-4)
    started = time.perf_counter()
    history = model.fit(
        X,
        y,
        optimizer=nn.Adam(2e-3, clipnorm=1.0),
        epochs=args.epochs,
        batch_size=128,
        validation_data=(X_val, y_val),
        seed=args.seed,
        threads=args.threads,
        callbacks=[nn.LearningRateScheduler(schedule), nn.PrintProgress(1)],
    )
    seconds = time.perf_counter() - started
    test = model.evaluate(X_test, y_test)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nCommand: python -m benchmarks.mnist_rows --epochs {args.epochs} --seed {args.seed}")
    blas = ", ".join(
        f"{pool['internal_api']} {pool['version']} ({pool['architecture']})"
        for pool in blas_info()
        if pool["user_api"] == "blas"
    )
    print(f"Machine: {_cpu_model()}; BLAS: {blas}; threads {args.threads}")
    print(f"model: {model}")
    print(
        f"test accuracy {test['accuracy']:.2%} (loss {test['loss']:.4f}); best val accuracy "
        f"{max(history['val_accuracy']):.2%}; {seconds:.0f} s for {args.epochs} epochs "
        f"({seconds / args.epochs:.0f} s each); peak memory {peak_mib:.0f} MiB"
    )


if __name__ == "__main__":
    main()
