"""Chapter 10, hyper-parameter search (DLFS 6.5): random search over the learning rate and the
weight decay, drawn log-uniformly, each trial scored by its validation accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._typing import Array
from ..datasets import load_mnist, split_validation
from ..model import mlp
from ..optimizers import SGD


def log_uniform(rng: np.random.Generator, low_high: tuple[float, float], n: int) -> Array:
    """n numbers 10 ** u, u uniform in [log10 low, log10 high): as many per decade."""
    low, high = np.log10(low_high[0]), np.log10(low_high[1])
    return 10 ** rng.uniform(low, high, size=n)


def random_search(
    trials: int = 50,
    lr_range: tuple[float, float] = (1e-6, 1e-2),
    weight_decay_range: tuple[float, float] = (1e-8, 1e-4),
    n_samples: int = 500,
    n_validation: int = 100,
    epochs: int = 50,
    hidden: tuple[int, ...] = (100, 100, 100, 100, 100, 100),
    batch_size: int = 100,
    seed: int = 0,
) -> dict[str, Any]:
    """Draw ``trials`` pairs (lr, weight_decay), each log-uniform in its range
    (lr = 10 ** uniform(log10 low, log10 high)), and train the ReLU network
    784 -> hidden -> 10 with ``SGD(lr, weight_decay=weight_decay)`` for ``epochs`` epochs on
    the first ``n_samples`` MNIST training images less ``n_validation`` held out at random
    for validation. Every trial starts from the same weights and sees the same mini-batches:
    the two hyper-parameters are the only difference.

    Returns {"lr": (trials,), "weight_decay": (trials,), "val_accuracy": (trials,) the
    validation accuracy after the last epoch, "curves": (trials, epochs) after each epoch,
    "ranking": (trials,) the trials' indices from the best down (ties in the order drawn),
    "lr_range", "weight_decay_range", "sizes", "n_train", "n_validation", "epochs",
    "batch_size"}."""
    (X, y), _ = load_mnist()
    (X, y), (X_val, y_val) = split_validation(X[:n_samples], y[:n_samples], n_validation, seed=seed)
    rng = np.random.default_rng(seed)
    lr = log_uniform(rng, lr_range, trials)
    weight_decay = log_uniform(rng, weight_decay_range, trials)
    sizes = [784, *hidden, 10]
    curves = np.zeros((trials, epochs))
    for k in range(trials):
        model = mlp(sizes, "relu", "softmax", seed=seed)
        history = model.fit(
            X,
            y,
            optimizer=SGD(lr=lr[k], weight_decay=weight_decay[k]),
            epochs=epochs,
            batch_size=batch_size,
            validation_data=(X_val, y_val),
            seed=seed,
        )
        curves[k] = history["val_accuracy"]
    val_accuracy = curves[:, -1]
    return {
        "lr": lr,
        "weight_decay": weight_decay,
        "val_accuracy": val_accuracy,
        "curves": curves,
        "ranking": np.argsort(-val_accuracy, kind="stable"),
        "lr_range": lr_range,
        "weight_decay_range": weight_decay_range,
        "sizes": sizes,
        "n_train": len(X),
        "n_validation": n_validation,
        "epochs": epochs,
        "batch_size": batch_size,
    }


def format_best(result: dict[str, Any], k: int = 10) -> str:
    """The ``k`` best trials as a text table: rank, validation accuracy, lr, weight decay."""
    lines = [f"{'rank':<6}{'val acc':<9}{'lr':<11}weight decay"]
    for rank, i in enumerate(result["ranking"][:k], 1):
        lines.append(
            f"{rank:<6}{result['val_accuracy'][i]:<9.0%}{result['lr'][i]:<11.2e}"
            f"{result['weight_decay'][i]:.2e}"
        )
    return "\n".join(lines)
