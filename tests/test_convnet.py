"""Convolutional networks as first-class models: images in fit/predict/evaluate, shape errors
at construction, chunked inference, model files with buffers, exact resume with BatchNorm and
augmentation, best weights that include BatchNorm's running statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numpynn as nn
from numpynn import training
from numpynn.errors import FileFormatError

rng_data = np.random.default_rng(0)
X = rng_data.random((96, 1, 8, 8)).astype(np.float32)
Y = (X[:, 0, :4].mean(axis=(1, 2)) > X[:, 0, 4:].mean(axis=(1, 2))).astype(np.int64)
Y += X[:, 0, :, :4].mean(axis=(1, 2)) > 0.5
X_VAL, Y_VAL = X[:24], Y[:24]


def convnet(seed: int = 0, dtype: type = np.float32) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2D(1, 4, 3, padding=1, seed=seed, dtype=dtype),
        nn.BatchNorm(4, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2D(2),
        nn.Flatten(),
        nn.Dense(4 * 4 * 4, 12, init="he", seed=seed + 1, dtype=dtype),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Dense(12, 3, seed=seed + 2, dtype=dtype),
        nn.Softmax(),
    )


def shift(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return nn.datasets.random_shift(x, 1, rng)


# --- images through fit, predict, evaluate -------------------------------------------------


def test_a_convnet_learns_from_images_and_reports_its_accuracy():
    model = convnet()
    history = model.fit(X, Y, epochs=8, batch_size=16, validation_data=(X_VAL, Y_VAL), seed=0)
    assert history["loss"][-1] < history["loss"][0]
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert model.predict(X).shape == (96,)
    assert model.predict_proba(X).shape == (96, 3)
    assert model.forward(X).shape == (96, 3)
    assert model.evaluate(X, Y)["accuracy"] == np.mean(model.predict(X) == Y)


def test_inference_in_chunks_gives_each_sample_the_output_of_one_pass(monkeypatch):
    model = convnet()
    model.fit(X, Y, epochs=1, batch_size=16, seed=0)
    whole = training.forward(model.layers, X, training=False)
    monkeypatch.setattr(training, "CHUNK", 7)  # 96 = 13 chunks of 7 and one of 5
    chunked = model.forward(X)
    for start in range(0, 96, 7):  # each chunk is one pass of its own
        one_pass = training.forward(model.layers, X[start : start + 7], training=False)
        assert np.array_equal(chunked[start : start + 7], one_pass)
    # BLAS may round a product of 7 rows and of 96 rows differently, in the last bit
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-7)
    assert np.array_equal(model.predict(X), chunked.argmax(axis=1))


def test_validation_in_chunks_reports_what_evaluate_reports(monkeypatch):
    monkeypatch.setattr(training, "CHUNK", 5)
    model = convnet()
    history = model.fit(X, Y, epochs=1, batch_size=16, validation_data=(X_VAL, Y_VAL), seed=0)
    monkeypatch.setattr(training, "CHUNK", 1000)
    result = model.evaluate(X_VAL, Y_VAL)
    assert history["val_loss"] == [result["loss"]]
    assert history["val_accuracy"] == [result["accuracy"]]


def test_gradient_check_on_images():
    # Smooth activations and average pooling: no kink for a numerical step to cross.
    model = nn.Sequential(
        nn.Conv2D(1, 3, 3, padding=1, seed=0, dtype=np.float64),
        nn.BatchNorm(3, dtype=np.float64),
        nn.Tanh(),
        nn.AvgPool2D(2),
        nn.Flatten(),
        nn.Dense(3 * 4 * 4, 3, seed=1, dtype=np.float64),
        nn.Softmax(),
    )
    errors = nn.gradient_check(model, X[:6], Y[:6], "cross_entropy")
    assert set(errors) == {"layer 0 W", "layer 0 b", "layer 1 gamma", "layer 1 beta"} | {
        "layer 5 W",
        "layer 5 b",
        "X",
    }
    assert max(errors.values()) < 1e-6, errors


# --- shape errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            lambda: [nn.Conv2D(1, 8, 3), nn.ReLU(), nn.Dense(8, 2)],
            r"layer 2: Dense\(n_in=8, n_out=2.*\) takes rows of shape \(n_samples, 8\) but gets "
            r"images of shape \(n_samples, 8, height, width\): add a Flatten\(\)",
        ),
        (
            lambda: [nn.Conv2D(1, 8, 3), nn.Conv2D(4, 8, 3)],
            r"layer 1: Conv2D\(in_channels=4.*\) takes images of shape \(n_samples, 4, "
            r"height, width\) but gets images of shape \(n_samples, 8, height, width\)",
        ),
        (
            lambda: [nn.Conv2D(1, 8, 3), nn.BatchNorm(16)],
            r"layer 1: BatchNorm\(num_features=16.*\) takes images of shape \(n_samples, 16, "
            r"height, width\) but gets images of shape \(n_samples, 8, height, width\)",
        ),
        (
            lambda: [nn.Dense(4, 8), nn.MaxPool2D(2)],
            r"layer 1: MaxPool2D\(.*\) takes images .* gets rows of shape \(n_samples, 8\)",
        ),
    ],
)
def test_layers_that_do_not_chain_are_named_with_both_shapes(layers, message):
    with pytest.raises(nn.ShapeError, match=message):
        nn.Sequential(*layers())


def test_a_global_pool_gives_rows_to_a_dense_layer():
    model = nn.Sequential(nn.Conv2D(1, 6, 3), nn.GlobalAvgPool2D(), nn.Dense(6, 2), nn.Softmax())
    assert model.predict(X).shape == (96,)


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (X.reshape(96, -1), nn.ShapeError, r"X must be 4-D images of shape \(n_samples, "
         r"channels, height, width\), got 2-D shape \(96, 64\); reshape flat rows"),
        (np.zeros((2, 3, 8, 8)), nn.ShapeError, r"X must have 1 channels \(axis 1\) to match "
         r"the model's input, got shape \(2, 3, 8, 8\); the model takes \(n_samples, 1, height, "
         r"width\)"),
        (np.full((2, 1, 8, 8), np.nan), ValueError, r"X contains 128 NaN"),
        (np.zeros((0, 1, 8, 8)), ValueError, r"X is empty"),
        (np.zeros((2, 1, 8, 8), dtype=object), TypeError, r"X must hold numbers"),
    ],
)  # fmt: skip
def test_bad_images_get_a_clear_error(bad, error, message):
    with pytest.raises(error, match=message):
        convnet().predict(bad)


def test_validation_images_are_checked_by_name():
    with pytest.raises(nn.ShapeError, match=r"validation_data\[0\] must be 4-D images"):
        convnet().fit(X, Y, epochs=1, validation_data=(X_VAL.reshape(24, -1), Y_VAL))


def test_images_are_made_contiguous_in_the_model_dtype():
    model = convnet()
    strided = np.asfortranarray(X.astype(np.float64))
    assert np.array_equal(model.predict(strided), model.predict(X))


def test_augment_must_be_a_function():
    with pytest.raises(TypeError, match=r"augment must be a function of \(x_batch, rng\)"):
        convnet().fit(X, Y, epochs=1, augment=2)


# --- augmentation and exact resume -----------------------------------------------------


def test_augmentation_is_seeded_and_changes_training():
    runs = [convnet().fit(X, Y, epochs=2, seed=0, augment=a) for a in (shift, shift, None)]
    assert runs[0] == runs[1]
    assert runs[0]["loss"] != runs[2]["loss"]


class Crash(nn.Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        if self.run.epoch == self.epoch and batch == 2:
            raise RuntimeError("crash")


def fit(run_dir: Path, *extra: nn.Callback, resume: bool = False):
    model = convnet()
    history = model.fit(
        X, Y, epochs=6, batch_size=16, validation_data=(X_VAL, Y_VAL), seed=0, augment=shift,
        resume=resume, optimizer=nn.Adam(lr=3e-3),
        callbacks=[
            nn.LearningRateScheduler(nn.schedules.CosineDecay(6)),
            nn.EarlyStopping(patience=6),
            nn.ModelCheckpoint(run_dir),
            *extra,
        ],
    )  # fmt: skip
    return model, history


def test_resume_of_a_convnet_with_batchnorm_and_augmentation_is_bit_identical(tmp_path):
    model, history = fit(tmp_path / "straight")
    with pytest.raises(RuntimeError, match="crash"):
        fit(tmp_path / "run", Crash(3))
    resumed, resumed_history = fit(tmp_path / "run", resume=True)
    assert resumed_history == history
    for a, b in zip(resumed.state_arrays(), model.state_arrays(), strict=True):
        assert np.array_equal(a, b)
    assert len(model.buffers()) == 2


def test_early_stopping_restores_batchnorm_statistics_with_the_weights():
    model = convnet()
    stop = nn.EarlyStopping(monitor="val_accuracy", patience=1)
    model.fit(X, Y, epochs=6, validation_data=(X_VAL, Y_VAL), seed=0, callbacks=[stop])
    best = stop.best_weights
    assert len(best) == len(model.state_arrays()) == len(model.parameters()) + 2
    for a, b in zip(model.state_arrays(), best, strict=True):
        assert np.array_equal(a, b)


# --- model files -----------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(
    channels=st.integers(1, 3),
    filters=st.integers(1, 4),
    kernel=st.integers(1, 3),
    stride=st.integers(1, 2),
    padding=st.integers(0, 1),
    pool=st.sampled_from([nn.MaxPool2D, nn.AvgPool2D]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_a_saved_convnet_loads_exactly(
    tmp_path_factory, channels, filters, kernel, stride, padding, pool, dtype, seed
):
    rng = np.random.default_rng(seed)
    bn = nn.BatchNorm(filters, momentum=0.8, eps=1e-4, dtype=dtype)
    bn.running_mean[...] = rng.standard_normal(filters)
    bn.running_var[...] = rng.random(filters)
    model = nn.Sequential(
        nn.Conv2D(channels, filters, kernel, stride, padding, dtype=dtype, seed=seed),
        bn,
        nn.ReLU(),
        pool(2, 1),
        nn.Conv2D(filters, 2, 1, dtype=dtype, seed=seed + 1),
        nn.GlobalAvgPool2D(),
        nn.Softmax(),
    )
    path = tmp_path_factory.mktemp("convnet") / "model.npz"
    nn.save(model, path)
    loaded = nn.load(path)
    assert repr(loaded) == repr(model)
    for a, b in zip(loaded.state_arrays(), model.state_arrays(), strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    images = rng.random((3, channels, 7, 7))
    assert np.array_equal(loaded.forward(images), model.forward(images))


def test_model_file_lists_the_buffers(tmp_path):
    nn.save(convnet(), tmp_path / "m.npz")
    layers = nn.load_metadata(tmp_path / "m.npz")["model"]["layers"]
    assert layers[1]["buffers"] == {
        "running_mean": {"shape": [4], "dtype": "float32"},
        "running_var": {"shape": [4], "dtype": "float32"},
    }
    assert layers[0]["buffers"] == {}


def test_save_refuses_what_load_would_refuse(tmp_path):
    model = convnet()
    model.layers[1].running_var[0] = -1.0
    with pytest.raises(ValueError, match=r"load would refuse it: .*running_var must be >= 0"):
        nn.save(model, tmp_path / "m.npz")
    model.layers[1].running_var = np.ones(5, np.float32)
    with pytest.raises(ValueError, match=r"running_var must be float32 \(4,\), but the file"):
        nn.save(model, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_a_version_1_model_file_cannot_hold_batchnorm(tmp_path):
    from numpynn.io import archive as _archive

    nn.save(convnet(), tmp_path / "m.npz")
    with _archive.Archive(tmp_path / "m.npz") as archive:
        description = archive.description()
        names = [n for n in archive.members if n != _archive.DESCRIPTION]
        arrays = {n: np.load(archive.zip.open(archive.members[n])) for n in names}
    description["format_version"] = 1
    for layer in description["model"]["layers"]:
        del layer["buffers"]
        if layer["type"] == "BatchNorm":
            del arrays["layers.1.running_mean"], arrays["layers.1.running_var"]
    _archive.write(tmp_path / "v1.npz", description, arrays)
    with pytest.raises(FileFormatError, match=r"BatchNorm, whose buffers a version-1 file"):
        nn.load(tmp_path / "v1.npz")


def test_a_version_1_model_file_of_an_mlp_still_loads(tmp_path):
    from numpynn.io import archive as _archive

    model = nn.mlp([4, 5, 3], seed=0)
    nn.save(model, tmp_path / "m.npz")
    with _archive.Archive(tmp_path / "m.npz") as archive:
        description = archive.description()
        names = [n for n in archive.members if n != _archive.DESCRIPTION]
        arrays = {n: np.load(archive.zip.open(archive.members[n])) for n in names}
    description["format_version"] = 1  # as numpynn 0.1 wrote it: no "buffers"
    for layer in description["model"]["layers"]:
        del layer["buffers"]
    _archive.write(tmp_path / "v1.npz", description, arrays)
    loaded = nn.load(tmp_path / "v1.npz")
    for a, b in zip(loaded.parameters(), model.parameters(), strict=True):
        assert np.array_equal(a, b)


def test_convnet_builds_the_network_of_preset_cnn():
    model = nn.convnet((1, 28, 28), [128, 10], dropout=0.5, seed=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        *["Conv2D", "BatchNorm", "ReLU", "MaxPool2D"] * 2,
        *["Flatten", "Dense", "ReLU", "Dropout", "Dense", "Softmax"],
    ]
    assert model.layers[9].W.shape == (64 * 7 * 7, 128)
    assert model.predict_proba(np.zeros((2, 1, 28, 28), np.float32)).shape == (2, 10)


@pytest.mark.parametrize("shape", [(28, 28), (1, 0, 28), (1, 28, 28.0)])
def test_convnet_names_a_bad_input_shape(shape):
    with pytest.raises(ValueError, match=r"input_shape must be \(channels, height, width\)"):
        nn.convnet(shape, [10])
