"""Chapter 9, overfitting (DLFS 6.4): the training and test accuracy, epoch by epoch, of a
deep network trained on 300 MNIST images, plain, with dropout and with weight decay (DLFS
figures 6-20, 6-21 and 6-23)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._typing import Array
from ..datasets import load_mnist
from ..model import mlp
from ..optimizers import SGD
from .batchnorm import EpochAccuracy

SETTINGS = ("plain", "dropout", "weight decay")


def overfitting_curves(
    dropout: float = 0.2,
    weight_decay: float = 0.1,
    epochs: int = 300,
    n_train: int = 300,
    n_test: int = 1000,
    hidden: tuple[int, ...] = (100, 100, 100, 100, 100, 100),
    batch_size: int = 100,
    lr: float = 0.01,
    seed: int = 0,
) -> dict[str, Any]:
    """Train the ReLU network 784 -> hidden -> 10 (He initial weights, softmax) three times
    from the same weights, by SGD (``lr``) on mini-batches of ``batch_size`` from the first
    ``n_train`` MNIST training images, for ``epochs`` epochs: "plain"; "dropout", a Dropout
    of rate ``dropout`` after every hidden ReLU; "weight decay", L2 regularisation
    ``SGD(weight_decay=weight_decay)`` (the gradient of weight_decay / 2 * ||W||^2 added to
    every W).

    Returns {"train": {setting: (epochs + 1,) accuracy on the n_train training images, as
    ``predict`` sees them (dropout off), before training and after each epoch}, "test": the
    same on the first ``n_test`` test images (``fit``'s ``validation_data``), "epochs":
    (epochs + 1,) 0 to epochs, "settings": {setting: {"dropout", "weight_decay"}}, "sizes",
    "n_train", "n_test", "batch_size", "lr"}."""
    (X, y), (X_test, y_test) = load_mnist()
    X, y = X[:n_train], y[:n_train]
    X_test, y_test = X_test[:n_test], y_test[:n_test]
    sizes = [784, *hidden, 10]
    settings = {
        "plain": {"dropout": 0.0, "weight_decay": 0.0},
        "dropout": {"dropout": dropout, "weight_decay": 0.0},
        "weight decay": {"dropout": 0.0, "weight_decay": weight_decay},
    }
    train, test = {}, {}
    for name, s in settings.items():
        model = mlp(sizes, "relu", "softmax", dropout=s["dropout"], seed=seed)
        record = EpochAccuracy(model, X, y)  # the training images, dropout off
        before = model.evaluate(X_test, y_test)["accuracy"]
        history = model.fit(
            X,
            y,
            optimizer=SGD(lr=lr, weight_decay=s["weight_decay"]),
            epochs=epochs,
            batch_size=batch_size,
            validation_data=(X_test, y_test),
            seed=seed,
            callbacks=[record],
        )
        train[name] = np.array(record.accuracy)
        test[name] = np.array([before, *history["val_accuracy"]])
    return {
        "train": train,
        "test": test,
        "epochs": np.arange(epochs + 1),
        "settings": settings,
        "sizes": sizes,
        "n_train": n_train,
        "n_test": n_test,
        "batch_size": batch_size,
        "lr": lr,
    }


def train_test_gap(result: dict[str, Any], setting: str, last: int | None = 50) -> float:
    """The training accuracy minus the test accuracy of ``setting``, averaged over the
    ``last`` epochs (one epoch's value moves by a point or two from epoch to epoch), or with
    ``last=None`` over every epoch of the run (epoch 0, before training, left out)."""
    gap: Array = result["train"][setting] - result["test"][setting]
    return float(gap[1:].mean() if last is None else gap[-last:].mean())
