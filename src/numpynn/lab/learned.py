"""Chapter 11, what the network learned: the first layer's weights of a trained MLP as 28x28
images, its most confident mistakes on the test images, and its confusion matrix; their
figures and the chapter's summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import Array
from ..datasets import load_mnist
from ..metrics import confusion_matrix
from ..model import Sequential, mlp
from ..optimizers import Adam
from ..plots import (
    confusion_figure,
    first_layer_images,
    misclassified_figure,
    weights_figure,
)
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def confident_mistakes(model: Sequential, X: Array, y: Array, k: int = 18) -> dict[str, Array]:
    """The ``k`` misclassified rows of X: (n_samples, 784) that the model got wrong with the
    highest probability, most confident first.

    Parameters
    ----------
    model : Sequential
        A trained classifier with a softmax output.
    X : array
        Inputs as the model takes them, e.g. (n_samples, 784).
    y : array
        The true labels, int class ids (n_samples,).
    k : int
        The most mistakes returned.

    Returns
    -------
    dict
        ``"index"``: int array (m,), rows of X; ``"true"`` and ``"predicted"``: labels
        (m,); ``"probability"``: (m,) the probability of the predicted class; m = k, or
        fewer if the model makes fewer mistakes.
    """
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

    Parameters
    ----------
    n_hidden : int
        The hidden layer's width.
    n_train : int
        The number of MNIST training images used (the first ones).
    epochs : int
        Training epochs.
    batch_size : int
        The mini-batch size.
    lr : float
        Adam's learning rate.
    weight_decay : float
        Adam's weight decay.
    n_mistakes : int
        The number of confident mistakes kept.
    seed : int
        Seeds the weights and the shuffles.

    Returns
    -------
    dict
        ``"weights"``: (n_hidden, 28, 28), the first layer's weights as images;
        ``"mistakes"``: :func:`numpynn.lab.confident_mistakes` on the test images, with
        ``"images"``: (n_mistakes, 28, 28); ``"confusion"``: (10, 10), the test confusion
        matrix (rows the true digit, columns the predicted); ``"test_accuracy"`` (float),
        ``"n_test"``, ``"model"`` (the trained Sequential), ``"sizes"``, ``"n_train"``,
        ``"epochs"``.
    """
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


# --- the figures -----------------------------------------------------------------------


def first_layer_weights_figure(result: dict[str, Any]) -> Figure:
    """The first layer's weights as one 28x28 image per hidden unit, red positive, blue
    negative, each on its own symmetric scale (``result`` from :func:`what_it_learned`)."""
    sizes = "-".join(map(str, result["sizes"]))
    return weights_figure(result["weights"], title=f"First-layer weights of the {sizes} network")


def confident_mistakes_figure(result: dict[str, Any]) -> Figure:
    """The test images the network got wrong with the highest probability, most confident
    first (:func:`numpynn.plots.misclassified_figure`; ``result`` from
    :func:`what_it_learned`)."""
    m = result["mistakes"]
    fig = misclassified_figure(
        m["images"],
        m["true"],
        m["predicted"],
        [str(d) for d in range(10)],
        probabilities=m["probability"],
    )
    C = result["confusion"]
    wrong = int(C.sum() - np.trace(C))
    fig.suptitle(
        f"The {len(m['true'])} most confident of the {wrong} mistakes on {C.sum():,} test images:"
        " predicted digit (its probability) above the true one",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def learned_confusion_figure(result: dict[str, Any]) -> Figure:
    """The confusion matrix on the test images (:func:`numpynn.plots.confusion_figure`;
    ``result`` from :func:`what_it_learned`)."""
    sizes = "-".join(map(str, result["sizes"]))
    title = f"{sizes} network on the MNIST test images"
    fig = confusion_figure(result["confusion"], [str(d) for d in range(10)], title=title)
    return fig


# --- the chapter -----------------------------------------------------------------------


def run() -> dict[str, Any]:
    """The chapter's numbers: :func:`what_it_learned` for a 784-36-10 network."""
    return what_it_learned()


def figures(result: dict[str, Any]) -> dict[str, Figure]:
    """The chapter's three figures, by file name."""
    return {
        "learned-weights.png": first_layer_weights_figure(result),
        "learned-mistakes.png": confident_mistakes_figure(result),
        "learned-confusion.png": learned_confusion_figure(result),
    }


def summary(result: dict[str, Any]) -> str:
    """The test accuracy, the most confident mistakes, and the most frequent confusion."""
    m = result["mistakes"]
    lines = [
        f"test accuracy {result['test_accuracy']:.2%} on {result['n_test']:,} images; "
        f"first-layer weights {result['weights'].shape}",
        "most confident mistakes (test index: true -> predicted, probability):",
        *(
            f"  {i}: {t} -> {p} ({q:.3f})"
            for i, t, p, q in zip(
                m["index"], m["true"], m["predicted"], m["probability"], strict=True
            )
        ),
    ]
    C = result["confusion"]
    off = C - np.diag(np.diag(C))
    i, j = np.unravel_index(off.argmax(), C.shape)
    lines.append(f"most frequent confusion: {i} read as {j}, {off[i, j]} times")
    return "\n".join(lines)


CHAPTER = Chapter(
    name="learned",
    title="what the network learned: first-layer weights, confident mistakes, confusion",
    page="11-what-the-network-learned.md",
    run=run,
    figures=figures,
    summary=summary,
)
