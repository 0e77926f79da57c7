"""The > 99.4% MNIST run of issue 10: the issue's convnet trained by ``fit``, checkpointed.

    OPENBLAS_NUM_THREADS=1 nice -n 10 python -u benchmarks/train_cnn.py RUN_DIR [--epochs 15]
        [--seed 0] [--shift 2] [--dropout 0.5]

Adam 1e-3 along a cosine to 1e-5 over the epochs, batch 128, random shifts of up to 2 px,
the 50000/10000 train/validation split, the test set evaluated once at the end. Started again
with the same arguments, it resumes from RUN_DIR's checkpoint (bit-identical). Writes
RUN_DIR/result.json: the history, the test accuracy and the machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import numpynn as nn
from numpynn._typing import Array
from numpynn.datasets import load_mnist, random_shift, split_validation


def network(seed: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2D(1, 32, kernel_size=3, padding=1, seed=seed), nn.BatchNorm(32), nn.ReLU(),
        nn.MaxPool2D(2),
        nn.Conv2D(32, 64, kernel_size=3, padding=1, seed=seed + 1), nn.BatchNorm(64), nn.ReLU(),
        nn.MaxPool2D(2),
        nn.Flatten(), nn.Dense(64 * 7 * 7, 128, init="he", seed=seed + 2), nn.ReLU(),
        nn.Dropout(dropout), nn.Dense(128, 10, seed=seed + 3), nn.Softmax(),
    )  # fmt: skip


def shifts(max_shift: int) -> Callable[[Array, np.random.Generator], Array]:
    """fit's augment: each image of the batch moved by up to ``max_shift`` pixels."""
    return lambda x, rng: random_shift(x, max_shift, rng)


def machine() -> dict[str, object]:
    from threadpoolctl import threadpool_info  # type: ignore[import-untyped]

    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines()
                  if line.startswith("Model name")), platform.processor())  # fmt: skip
    blas = [
        {k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return {"cpu": model, "blas": blas, "python": platform.python_version()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shift", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.5)
    args = parser.parse_args()
    (X, y), (X_test, y_test) = load_mnist(shape="images")
    (X, y), (X_val, y_val) = split_validation(X, y, 10_000, seed=None)  # the classic 50k/10k
    model = network(args.seed, args.dropout)
    started = time.perf_counter()
    history = model.fit(
        X, y, optimizer=nn.Adam(lr=1e-3), epochs=args.epochs, batch_size=128,
        validation_data=(X_val, y_val), seed=args.seed, augment=shifts(args.shift), threads=1,
        resume=True,
        callbacks=[
            nn.LearningRateScheduler(nn.schedules.CosineDecay(args.epochs, min_lr=1e-5)),
            nn.PrintProgress(),
            nn.ModelCheckpoint(args.run_dir, monitor="val_accuracy"),
        ],
    )  # fmt: skip
    seconds = time.perf_counter() - started
    test = model.evaluate(X_test, y_test)
    print(f"test accuracy {test['accuracy']:.2%} (loss {test['loss']:.4f}); {seconds:.0f} s")
    result = {
        "history": history, "test": test, "seconds_this_process": seconds, "machine": machine(),
        "args": {**vars(args), "run_dir": str(args.run_dir)},
    }  # fmt: skip
    (args.run_dir / "result.json").write_text(json.dumps(result, indent=1))
    metadata = {"image_shape": [28, 28], "dataset": "mnist", "test_accuracy": test["accuracy"]}
    nn.save(model, args.run_dir / "model.npz", metadata=metadata)


if __name__ == "__main__":
    main()
