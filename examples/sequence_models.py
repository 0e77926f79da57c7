"""Sequence models on a task small enough to train in seconds: repeat the token seen
``DELAY`` steps ago. Inputs are token ids (n, T); targets the ids to predict at each step
(n, T), -1 where there is nothing to predict yet (CrossEntropy's ignore_index).

Two models read the same tokens:

- an LSTM language-model shape: Embedding -> LSTM(return_sequences=True) -> Dense -> Softmax;
- a small causal transformer: Embedding -> PositionalEmbedding -> TransformerBlock ->
  LayerNorm -> Dense -> Softmax (each step sees only itself and the steps before it).

    python examples/sequence_models.py
"""

from __future__ import annotations

import numpy as np

import numpynn as nn

VOCAB, T, DELAY = 8, 12, 2


def copy_task(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """X: (n, T) random ids; Y: (n, T) with Y[:, t] = X[:, t - DELAY], -1 for t < DELAY."""
    X = np.random.default_rng(seed).integers(0, VOCAB, (n, T))
    Y = np.full_like(X, -1)
    Y[:, DELAY:] = X[:, :-DELAY]
    return X, Y


def main() -> None:
    X, Y = copy_task(2000, seed=0)
    X_test, Y_test = copy_task(500, seed=1)
    dim = 32
    lstm = nn.Sequential(
        nn.Embedding(VOCAB, dim, seed=0),
        nn.LSTM(dim, 64, return_sequences=True, seed=1),
        nn.Dense(64, VOCAB, seed=2),
        nn.Softmax(),
    )
    transformer = nn.Sequential(
        nn.Embedding(VOCAB, dim, seed=0),
        nn.PositionalEmbedding(T, dim, seed=1),
        nn.TransformerBlock(dim, n_heads=4, causal=True, seed=2),
        nn.LayerNorm(dim),
        nn.Dense(dim, VOCAB, seed=3),
        nn.Softmax(),
    )
    for name, model in (("LSTM", lstm), ("transformer", transformer)):
        print(f"{name}: {model}")
        print(f"  tokens {X.shape} -> outputs {model.forward(X[:2]).shape[1:]} per sample")
        model.fit(X, Y, epochs=15, batch_size=32, optimizer=nn.AdamW(3e-3, clipnorm=1.0), seed=0)
        result = model.evaluate(X_test, Y_test)
        print(
            f"  test loss {result['loss']:.4f}, accuracy {result['accuracy']:.1%} (scored tokens)"
        )


if __name__ == "__main__":
    main()
