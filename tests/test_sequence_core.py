"""The library's core on sequences: Dense on the last axis, CrossEntropy over tokens with
ignore_index (against PyTorch), token ids into a model, and fit/evaluate counting tokens."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import numpynn as nn


class TableLookup(nn.Layer):
    """A minimal embedding for these tests: ids (n, T) -> W[ids] (n, T, dim)."""

    params = ("W",)
    takes_ids = True

    def __init__(self, n_tokens: int, dim: int, seed: int = 0) -> None:
        self.W = np.random.default_rng(seed).normal(size=(n_tokens, dim))
        self.dW = np.zeros_like(self.W)

    @property
    def input_shape(self) -> tuple[None]:
        return (None,)

    def output_shape(self, input_shape: Any) -> Any:
        return (None if input_shape is None else input_shape[0], self.W.shape[1])

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.x = x
        return self.W[x]

    def backward(self, dout: np.ndarray) -> None:
        self.dW[...] = 0
        np.add.at(self.dW, self.x, dout)

    def config(self) -> dict[str, Any]:
        return {"n_tokens": self.W.shape[0], "dim": self.W.shape[1]}


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3), T=st.integers(1, 4), n_in=st.integers(1, 4), n_out=st.integers(1, 4))
def test_dense_on_a_sequence_is_dense_on_each_step(n, T, n_in, n_out) -> None:
    rng = np.random.default_rng(n * 100 + T)
    dense = nn.Dense(n_in, n_out, dtype=np.float64, seed=0)
    x, dout = rng.normal(size=(n, T, n_in)), rng.normal(size=(n, T, n_out))
    y = dense.forward(x, training=True)
    dx = dense.backward(dout)
    np.testing.assert_allclose(y, x @ dense.W + dense.b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, dout @ dense.W.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dense.dW, np.einsum("nti,nto->io", x, dout), atol=1e-12)
    np.testing.assert_allclose(dense.db, dout.sum(axis=(0, 1)), atol=1e-12)
    assert dense.output_shape((T, n_in)) == (T, n_out)


def test_dense_refuses_images_without_flatten() -> None:
    with pytest.raises(nn.ShapeError, match=r"add a Flatten\(\)"):
        nn.Dense(18, 10).forward(np.zeros((4, 2, 3, 3), np.float32))


@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("ignore_index", [-1, 0])
def test_token_cross_entropy_equals_pytorch_with_ignore_index(from_logits, ignore_index) -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(size=(3, 5, 4))
    t = rng.integers(0, 4, (3, 5))
    t[0, :2] = t[2, 4] = ignore_index
    loss = nn.CrossEntropy(from_logits=from_logits, ignore_index=ignore_index)
    output = z if from_logits else nn.softmax(z)
    value = loss.forward(output, t)
    grad = loss.backward()
    zt = torch.tensor(z, requires_grad=True)
    if from_logits:
        ref = torch.nn.functional.cross_entropy(
            zt.reshape(-1, 4), torch.tensor(t).reshape(-1), ignore_index=ignore_index
        )
        ref.backward()
        np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-10, atol=1e-12)
    else:
        at = torch.tensor(output, requires_grad=True)
        ref = torch.nn.functional.nll_loss(
            torch.log(at).reshape(-1, 4), torch.tensor(t).reshape(-1), ignore_index=ignore_index
        )
        ref.backward()
        np.testing.assert_allclose(grad, at.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert value == pytest.approx(float(ref.detach()), rel=1e-12)
    assert loss.n_counted(t) == int((t != ignore_index).sum())


def test_token_targets_are_checked() -> None:
    loss = nn.CrossEntropy()
    with pytest.raises(ValueError, match=r"must lie in \[0, 3\].*ignore_index=-1.*\[-2, 2\]"):
        loss.prepare_token_targets(np.array([[0, -2, 2]]), 4)
    with pytest.raises(TypeError, match="integer class ids"):
        loss.prepare_token_targets(np.array([[0.5, 1.0]]), 4)
    assert nn.CrossEntropy().config() == {"from_logits": False}  # files of before still load
    assert nn.CrossEntropy(ignore_index=0).config() == {"from_logits": False, "ignore_index": 0}


def test_a_model_of_token_ids_fits_counts_tokens_and_saves(tmp_path) -> None:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 5, (64, 7))
    Y = (X + 1) % 5  # the next id, mod 5
    Y[:, 0] = -1  # not scored
    model = nn.Sequential(TableLookup(5, 8), nn.Dense(8, 5, dtype=np.float64, seed=0), nn.Softmax())
    assert (model.input_shape, model.output_shape, model.n_outputs) == ((None,), (None, 5), 5)
    history = model.fit(X, Y, epochs=30, batch_size=16, seed=0, optimizer=nn.Adam(0.05))
    assert history["loss"][-1] < 0.01 and history["accuracy"][-1] == 1.0
    result = model.evaluate(X, Y)
    assert result["accuracy"] == 1.0
    np.testing.assert_array_equal(model.predict(X)[:, 1:], Y[:, 1:])
    nn.save(model, tmp_path / "m.npz")
    np.testing.assert_array_equal(
        nn.load(tmp_path / "m.npz").predict_proba(X), model.predict_proba(X)
    )


def test_the_loss_of_a_token_model_is_the_mean_over_scored_tokens() -> None:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 4, (6, 3))
    Y = rng.integers(0, 4, (6, 3))
    Y[0] = -1  # a whole sample unscored
    model = nn.Sequential(TableLookup(4, 4), nn.Softmax())
    probabilities = model.forward(X)
    scored = Y != -1
    expected = -np.mean(np.log(probabilities[scored, Y[scored]]))
    assert model.evaluate(X, Y)["loss"] == pytest.approx(expected, rel=1e-12)
    history = model.fit(
        X, Y, epochs=1, batch_size=2, shuffle=False, optimizer=nn.SGD(1e-300)
    )  # W unchanged
    assert history["loss"][0] == pytest.approx(expected, rel=1e-12)  # weighted by tokens


def test_token_ids_must_be_integers_of_shape_n_by_t() -> None:
    model = nn.Sequential(TableLookup(4, 4), nn.Softmax())
    with pytest.raises(TypeError, match="X must hold integer token ids, got dtype float64"):
        model.forward(np.zeros((2, 3)))
    with pytest.raises(nn.ShapeError, match=r"X must be token ids of shape \(n_samples, T\)"):
        model.forward(np.zeros(3, int))


def test_a_sequence_input_of_rows_is_a_clear_error() -> None:
    from numpynn.validation import check_X

    with pytest.raises(nn.ShapeError, match=r"3-D sequences .* one row per step"):
        check_X(np.zeros((2, 3)), ndim=3)
    with pytest.raises(nn.ShapeError, match=r"must have 5 features \(last axis\)"):
        check_X(np.zeros((2, 3, 4)), ndim=3, n_features=5)


def test_a_token_model_refuses_workers() -> None:
    model = nn.Sequential(TableLookup(4, 4), nn.Softmax())
    X = np.zeros((4, 3), int)
    with pytest.raises(ValueError, match="a sequence model's loss is a mean over its scored"):
        model.fit(X, X, workers=2)


def test_gradient_check_on_a_token_model_skips_ignored_tokens() -> None:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 5, (4, 3))
    Y = rng.integers(0, 5, (4, 3))
    Y[0, 0] = Y[2, 1] = -1
    model = nn.Sequential(
        TableLookup(5, 6), nn.Tanh(), nn.Dense(6, 5, dtype=np.float64, seed=0), nn.Softmax()
    )
    errors = nn.gradient_check(model, X, Y, nn.CrossEntropy())
    assert set(errors) == {"layer 0 W", "layer 2 W", "layer 2 b"}  # ids have no gradient
    assert max(errors.values()) < 1e-6
