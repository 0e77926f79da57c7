"""The contenders, each able to build a model from given starting weights, train it, and
score it: numpynn, PyTorch (CPU), scikit-learn's MLPClassifier and a per-sample loop.

Every contender trains the same network from the same starting weights (scikit-learn draws
its own: it has no way to be given them) with the same optimiser and hyper-parameters.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

import numpynn


@dataclass(frozen=True)
class Workload:
    """One training set-up. ``cost`` is "ce" (softmax + cross-entropy) or "mse" (sigmoid
    output + quadratic cost, Nielsen's network.py)."""

    name: str
    sizes: tuple[int, ...]
    batch: int
    epochs: int
    optimizer: str = "sgd"
    lr: float = 0.1
    activation: str = "relu"
    cost: str = "ce"

    def initial_weights(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(W (n_in, n_out), b (n_out,)) per layer, float32, from numpynn's default init."""
        output = "softmax" if self.cost == "ce" else "sigmoid"
        model = numpynn.mlp(list(self.sizes), self.activation, output, seed=0)
        return [(layer.W.copy(), layer.b.copy()) for layer in model.dense_layers]


class Numpynn:
    name = "numpynn"

    def build(self, work: Workload, init: list[tuple[np.ndarray, np.ndarray]]) -> Any:
        output = "softmax" if work.cost == "ce" else "sigmoid"
        model = numpynn.mlp(list(work.sizes), work.activation, output)
        for layer, (W, b) in zip(model.dense_layers, init, strict=True):
            layer.W[...], layer.b[...] = W, b
        return model

    def fit(self, model: Any, work: Workload, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        optimizer = numpynn.SGD(work.lr) if work.optimizer == "sgd" else numpynn.Adam(work.lr)
        targets = y if work.cost == "ce" else _one_hot(y)
        loss = "cross_entropy" if work.cost == "ce" else "mse"
        model.fit(
            X,
            targets,
            loss=loss,
            optimizer=optimizer,
            epochs=work.epochs,
            batch_size=work.batch,
            seed=seed,
        )

    def predict(self, model: Any, X: np.ndarray) -> np.ndarray:
        return (
            model.predict(X)
            if model.loss is None or model.loss.classifies
            else model.forward(X).argmax(axis=1)
        )

    def prepare(self, X: np.ndarray) -> np.ndarray:
        return X


class Torch:
    name = "PyTorch"

    def __init__(self, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        self.torch = torch

    def build(self, work: Workload, init: list[tuple[np.ndarray, np.ndarray]]) -> Any:
        nn = self.torch.nn
        layers: list[Any] = []
        for i, (W, b) in enumerate(init):
            linear = nn.Linear(*W.shape)
            with self.torch.no_grad():
                linear.weight.copy_(self.torch.from_numpy(W.T.copy()))
                linear.bias.copy_(self.torch.from_numpy(b))
            layers.append(linear)
            if i < len(init) - 1:
                layers.append(nn.ReLU() if work.activation == "relu" else nn.Sigmoid())
        return nn.Sequential(*layers)

    def fit(self, model: Any, work: Workload, X: Any, y: Any, seed: int) -> None:
        torch = self.torch
        if work.optimizer == "sgd":
            optimizer = torch.optim.SGD(model.parameters(), lr=work.lr)
        else:
            optimizer = torch.optim.Adam(model.parameters(), lr=work.lr)
        loss_fn = torch.nn.CrossEntropyLoss()
        generator = torch.Generator().manual_seed(seed)
        n = len(X)
        for _ in range(work.epochs):
            order = torch.randperm(n, generator=generator)
            total = 0.0
            for start in range(0, n, work.batch):
                rows = order[start : start + work.batch]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(X[rows]), y[rows])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(rows)  # the epoch's loss, as numpynn's history has

    def predict(self, model: Any, X: Any) -> np.ndarray:
        with self.torch.inference_mode():
            return model(X).argmax(dim=1).numpy()

    def prepare(self, X: np.ndarray) -> Any:
        return self.torch.from_numpy(X)


class Sklearn:
    def __init__(self, solver: str) -> None:
        self.solver = solver
        self.name = f"scikit-learn {solver}"

    def build(self, work: Workload, init: list[tuple[np.ndarray, np.ndarray]]) -> Any:
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(
            hidden_layer_sizes=work.sizes[1:-1],
            activation=work.activation,
            solver=self.solver,
            alpha=0.0,
            batch_size=work.batch,
            learning_rate_init=work.lr,
            momentum=0.0,
            nesterovs_momentum=False,
            max_iter=work.epochs,
            shuffle=True,
            tol=0.0,
            n_iter_no_change=work.epochs + 1,
            early_stopping=False,
            random_state=0,
        )

    def fit(self, model: Any, work: Workload, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        from sklearn.exceptions import ConvergenceWarning

        model.set_params(random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter = epochs, on purpose
            model.fit(X, y)

    def predict(self, model: Any, X: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict(X))

    def prepare(self, X: np.ndarray) -> np.ndarray:
        return X


class PerSample:
    """Nielsen's network.py: column vectors, backprop one sample at a time, float64,
    weights updated once per mini-batch by the summed gradients (a faithful transcription of
    network.py, whose data is a list of column vectors)."""

    name = "per-sample loop"

    def build(self, work: Workload, init: list[tuple[np.ndarray, np.ndarray]]) -> Any:
        weights = [W.T.astype(np.float64) for W, _ in init]  # (n_out, n_in), as Nielsen has
        biases = [b.astype(np.float64).reshape(-1, 1) for _, b in init]
        return weights, biases

    def fit(self, model: Any, work: Workload, X: Any, y: np.ndarray, seed: int) -> None:
        weights, biases = model
        targets = [t.reshape(-1, 1) for t in _one_hot(y).astype(np.float64)]
        data = list(zip(X, targets, strict=True))
        rng = np.random.default_rng(seed)
        for _ in range(work.epochs):
            rng.shuffle(data)
            for start in range(0, len(data), work.batch):
                mini_batch = data[start : start + work.batch]
                nabla_w = [np.zeros(w.shape) for w in weights]
                nabla_b = [np.zeros(b.shape) for b in biases]
                for x, t in mini_batch:
                    delta_w, delta_b = _backprop(weights, biases, x, t)
                    nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_w, strict=True)]
                    nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_b, strict=True)]
                step = work.lr / len(mini_batch)
                weights[:] = [w - step * nw for w, nw in zip(weights, nabla_w, strict=True)]
                biases[:] = [b - step * nb for b, nb in zip(biases, nabla_b, strict=True)]

    def predict(self, model: Any, X: Any) -> np.ndarray:
        weights, biases = model
        a = np.hstack(X)  # the column vectors side by side: (n_in, n_samples)
        for w, b in zip(weights, biases, strict=True):
            a = _sigmoid(w @ a + b)
        return np.asarray(a.argmax(axis=0))

    def prepare(self, X: np.ndarray) -> Any:
        """Nielsen's data layout: a list of (n_in, 1) column vectors (views of X's rows)."""
        return [x.reshape(-1, 1) for x in X]


def _backprop(
    weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Gradients of the quadratic cost for one sample x: (n_in, 1), y: (n_out, 1)."""
    activation, activations, zs = x, [x], []
    for w, b in zip(weights, biases, strict=True):
        z = w @ activation + b
        zs.append(z)
        activation = _sigmoid(z)
        activations.append(activation)
    delta = (activations[-1] - y) * _sigmoid_prime(zs[-1])
    nabla_w, nabla_b = [delta @ activations[-2].T], [delta]
    for layer in range(2, len(weights) + 1):
        delta = (weights[-layer + 1].T @ delta) * _sigmoid_prime(zs[-layer])
        nabla_w.insert(0, delta @ activations[-layer - 1].T)
        nabla_b.insert(0, delta)
    return nabla_w, nabla_b


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _sigmoid_prime(z: np.ndarray) -> np.ndarray:
    return _sigmoid(z) * (1 - _sigmoid(z))


def _one_hot(y: np.ndarray) -> np.ndarray:
    return np.eye(10, dtype=np.float32)[y]
