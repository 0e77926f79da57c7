"""FlattenConsecutive (makemore part 5): (N, T, C) -> (N, T / n, C n), squeezed to (N, C n)
when T == n; PyTorch's view in float64, central differences, clear errors, shapes, config,
model files and ONNX's refusal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numpynn as nn
from numpynn.gradcheck import noise_floor, numerical_gradient, relative_error


@settings(max_examples=20, deadline=None)
@given(
    N=st.integers(1, 3),
    groups=st.integers(1, 4),
    n=st.integers(1, 3),
    C=st.integers(1, 4),
    seed=st.integers(0, 99),
)
def test_equals_makemores_view_and_squeeze_in_torch(N, groups, n, C, seed):
    """Karpathy's: x.view(B, T // n, C * n), then squeeze(1) when that axis is 1; the gradient
    is PyTorch's through the view."""
    import torch

    T = groups * n
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, C))
    tx = torch.tensor(x, requires_grad=True)
    ty = tx.view(N, T // n, C * n)
    if ty.shape[1] == 1:
        ty = ty.squeeze(1)
    dout = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.from_numpy(dout))
    layer = nn.FlattenConsecutive(n)
    y = layer.forward(x, training=True)
    np.testing.assert_array_equal(y, ty.detach().numpy())
    np.testing.assert_array_equal(layer.backward(dout), tx.grad.numpy())


def test_joins_consecutive_steps_side_by_side():
    x = np.arange(2 * 4 * 3).reshape(2, 4, 3)  # sample, step, feature
    y = nn.FlattenConsecutive(2).forward(x)
    assert y.shape == (2, 2, 6)
    np.testing.assert_array_equal(y[1, 1], np.concatenate([x[1, 2], x[1, 3]]))


@pytest.mark.parametrize("T", [2, 8])
def test_gradients_match_central_differences_through_a_dense_layer(T):
    rng = np.random.default_rng(T)
    x = rng.standard_normal((3, T, 2))
    flat, dense = nn.FlattenConsecutive(2), nn.Dense(4, 3, dtype=np.float64, seed=0)
    R = rng.standard_normal((3, T // 2, 3) if T > 2 else (3, 3))

    def loss():
        return float(np.sum(dense.forward(flat.forward(x)) * R))

    floor = noise_floor(loss(), x.dtype)
    dx = flat.backward(dense.backward(R)).copy()
    assert relative_error(dx, numerical_gradient(loss, x), floor) < 1e-7
    assert relative_error(dense.dW.copy(), numerical_gradient(loss, dense.W), floor) < 1e-7


def test_steps_that_are_not_a_multiple_of_n_are_a_value_error_naming_both():
    with pytest.raises(ValueError, match=r"FlattenConsecutive\(n=2\).*multiple of 2, got 3"):
        nn.FlattenConsecutive(2).forward(np.zeros((4, 3, 5)))
    with pytest.raises(ValueError, match=r"multiple of 3, got 8"):
        nn.FlattenConsecutive(3).output_shape((8, 5))


def test_input_that_is_not_a_sequence_is_a_shape_error():
    with pytest.raises(nn.ShapeError, match=r"\(n_samples, steps, features\), got \(4, 6\)"):
        nn.FlattenConsecutive(2).forward(np.zeros((4, 6)))
    with pytest.raises(nn.ShapeError, match="takes sequences"):
        nn.FlattenConsecutive(2).output_shape((3, 6, 6))


@pytest.mark.parametrize("n", [0, -1, 2.0, True])
def test_bad_n_is_refused(n):
    with pytest.raises(
        ValueError, match=f"FlattenConsecutive n must be a positive integer, got {n!r}"
    ):
        nn.FlattenConsecutive(n)


def test_shapes_in_and_out():
    flat = nn.FlattenConsecutive(2)
    assert flat.output_shape((8, 24)) == (4, 48)
    assert flat.output_shape((2, 24)) == (48,)  # squeezed, as the forward pass
    assert flat.output_shape((None, 24)) is None  # squeezed or not depends on T
    assert flat.output_shape(None) is None
    assert flat.output_shape((24,)) is None  # after a Dense whose input's steps were open
    assert repr(nn.FlattenConsecutive(**flat.config())) == "FlattenConsecutive(n=2)"


def wavenet(seed: int = 0) -> nn.Sequential:
    """makemore part 5's hierarchy at a small size: 8 characters, three levels of pairs."""
    rngs = np.random.default_rng(seed).integers(2**31, size=5)
    layers: list[nn.Layer] = [nn.Embedding(27, 4, seed=rngs[0])]
    width = 4
    for level in range(3):
        layers += [
            nn.FlattenConsecutive(2),
            nn.Dense(2 * width, 6, seed=rngs[1 + level]),
            nn.BatchNorm(6),
            nn.Tanh(),
        ]
        width = 6
    return nn.Sequential(*layers, nn.Dense(6, 27, seed=rngs[4]), nn.Softmax())


def test_a_wavenet_model_trains_saves_and_loads_with_identical_outputs(tmp_path: Path):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 27, (256, 8))
    y = X[:, -1]  # the last character: learnable through every level
    model = wavenet()
    history = model.fit(X, y, epochs=20, optimizer=nn.Adam(0.01), batch_size=32, seed=0)
    assert history["loss"][-1] < 0.6 * history["loss"][0]  # it learns through the levels
    nn.save(model, tmp_path / "wavenet.npz")
    loaded = nn.load(tmp_path / "wavenet.npz")
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert model.output_shape == (27,)


def test_onnx_refuses_it_by_name():
    pytest.importorskip("onnx")
    with pytest.raises(TypeError, match=r"FlattenConsecutive\(n=2\).*no ONNX equivalent"):
        nn.to_onnx(wavenet())
