"""Chapter 11, what the network learned: the first layer's weights of a trained MLP as 28x28
images, its most confident mistakes on the test images, and its confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._typing import Array
from ..datasets import load_mnist
from ..metrics import confusion_matrix
from ..model import Sequential, mlp
from ..optimizers import Adam


def first_layer_images(model: Sequential, shape: tuple[int, int] = (28, 28)) -> Array:
    """The first Dense layer's weights W: (784, n_hidden) as n_hidden images (n_hidden, 28, 28):
    image j holds the weight of each pixel in hidden unit j's weighted sum."""
    W = model.dense_layers[0].W
    return W.T.reshape(W.shape[1], *shape)


def confident_mistakes(model: Sequential, X: Array, y: Array, k: int = 18) -> dict[str, Array]:
    """The ``k`` misclassified rows of X: (n_samples, 784) that the model got wrong with the
    highest probability, most confident first: {"index": (k,) rows of X, "true", "predicted"
    (k,) labels, "probability": (k,) the probability of the predicted class}."""
    proba = model.predict_proba(X)
    predicted = proba.argmax(axis=1)
    wrong = np.nonzero(predicted != y)[0]
    confidence = proba[wrong, predicted[wrong]]
    index = wrong[np.argsort(-confidence, kind="stable")[:k]]
    return {
        "index": index,
        "true": np.asarray(y)[index],
        "predicted": predicted[index],
        "probability": proba[index, predicted[index]],
    }


def what_it_learned(
    n_hidden: int = 36,
    n_train: int = 10_000,
    epochs: int = 10,
    batch_size: int = 100,
    lr: float = 0.001,
    weight_decay: float = 1e-3,
    n_mistakes: int = 18,
    seed: int = 0,
) -> dict[str, Any]:
    """Train the MLP 784 -> n_hidden (ReLU) -> 10 (softmax) with ``Adam(lr, weight_decay)``
    for ``epochs`` epochs on the first ``n_train`` MNIST training images, then look inside it
    and at the 10,000 test images.

    Returns {"weights": (n_hidden, 28, 28) the first layer's weights as images,
    "mistakes": :func:`confident_mistakes` with "images": (n_mistakes, 28, 28),
    "confusion": (10, 10) the test confusion matrix (rows true digit, columns predicted),
    "test_accuracy", "n_test", "model", "sizes", "n_train", "epochs"}."""
    (X, y), (X_test, y_test) = load_mnist()
    X, y = X[:n_train], y[:n_train]
    model = mlp([784, n_hidden, 10], "relu", "softmax", seed=seed)
    model.fit(
        X,
        y,
        optimizer=Adam(lr=lr, weight_decay=weight_decay),
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
    )
    mistakes = confident_mistakes(model, X_test, y_test, n_mistakes)
    mistakes["images"] = X_test[mistakes["index"]].reshape(-1, 28, 28)
    C = confusion_matrix(y_test, model.predict(X_test), n_classes=10)
    return {
        "weights": first_layer_images(model),
        "mistakes": mistakes,
        "confusion": C,
        "test_accuracy": float(np.trace(C) / C.sum()),
        "n_test": len(X_test),
        "model": model,
        "sizes": [784, n_hidden, 10],
        "n_train": n_train,
        "epochs": epochs,
    }
