"""Exact resume: training interrupted after epoch k, checkpointed and resumed gives the very
same parameters and history (bit for bit) as training straight through with the same seed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import numpynn as nn
from numpynn.io import load_checkpoint, save_checkpoint

rng_data = np.random.default_rng(0)
X = rng_data.standard_normal((120, 6)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)
X_VAL, Y_VAL = X[:30] + 0.1, Y[:30]


def new_model() -> nn.Sequential:
    return nn.mlp([6, 16, 12, 3], activation="relu", dropout=0.3, seed=1)


def fit(
    model: nn.Sequential, optimizer: nn.Optimizer, rng: np.random.Generator, epochs: int
) -> dict[str, list[float]]:
    return model.fit(
        X,
        Y,
        optimizer=optimizer,
        epochs=epochs,
        batch_size=16,
        validation_data=(X_VAL, Y_VAL),
        seed=rng,
    )


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda: nn.Adam(lr=0.01),
        lambda: nn.SGD(lr=0.05, momentum=0.9),
        lambda: nn.RMSProp(lr=0.01),
        lambda: nn.AdaGrad(lr=0.05),
    ],
    ids=["adam", "sgd-momentum", "rmsprop", "adagrad"],
)
def test_resumed_training_is_bit_identical(
    tmp_path: Path, make_optimizer: Callable[[], nn.Optimizer]
) -> None:
    straight = new_model()
    history_straight = fit(straight, make_optimizer(), np.random.default_rng(7), epochs=4)

    first = new_model()
    optimizer, rng = make_optimizer(), np.random.default_rng(7)
    history = fit(first, optimizer, rng, epochs=2)
    save_checkpoint(tmp_path / "ckpt.npz", first, optimizer, rng, 2, history)
    del first, optimizer, rng  # the rest comes from the file only

    ckpt = load_checkpoint(tmp_path / "ckpt.npz")
    more = fit(ckpt.model, ckpt.optimizer, ckpt.rng, epochs=2)
    resumed_history = {k: ckpt.history[k] + more[k] for k in more}

    assert resumed_history == history_straight
    for p, q in zip(straight.parameters(), ckpt.model.parameters(), strict=True):
        assert np.array_equal(p, q)
    assert ckpt.epoch == 2


def test_resume_without_the_rng_differs(tmp_path: Path) -> None:
    """The generator state matters: the check above would catch a checkpoint that lost it."""
    straight = new_model()
    fit(straight, nn.Adam(lr=0.01), np.random.default_rng(7), epochs=4)
    first, optimizer, rng = new_model(), nn.Adam(lr=0.01), np.random.default_rng(7)
    history = fit(first, optimizer, rng, epochs=2)
    save_checkpoint(tmp_path / "ckpt.npz", first, optimizer, rng, 2, history)
    ckpt = load_checkpoint(tmp_path / "ckpt.npz")
    fit(ckpt.model, ckpt.optimizer, np.random.default_rng(7), epochs=2)
    assert not np.array_equal(straight.parameters()[0], ckpt.model.parameters()[0])


def test_resume_without_the_optimizer_state_differs(tmp_path: Path) -> None:
    straight = new_model()
    fit(straight, nn.Adam(lr=0.01), np.random.default_rng(7), epochs=4)
    first, optimizer, rng = new_model(), nn.Adam(lr=0.01), np.random.default_rng(7)
    history = fit(first, optimizer, rng, epochs=2)
    save_checkpoint(tmp_path / "ckpt.npz", first, optimizer, rng, 2, history)
    ckpt = load_checkpoint(tmp_path / "ckpt.npz")
    fit(ckpt.model, nn.Adam(lr=0.01), ckpt.rng, epochs=2)
    assert not np.array_equal(straight.parameters()[0], ckpt.model.parameters()[0])
