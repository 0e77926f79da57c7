"""Model files: numpynn.save / load / load_metadata round trips and every bad input the loader
is documented to reject (docs/model-files.md, "Bad model files"), one test each."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import numpynn as nn
from numpynn.errors import FileFormatError


def every_layer_model(dtype: Any) -> nn.Sequential:
    """One layer of every type, trained briefly so no parameter is at its initial value."""
    model = nn.Sequential(
        nn.Dense(3, 6, dtype=dtype, seed=1),
        nn.LeakyReLU(0.2),
        nn.Dropout(0.3),
        nn.Dense(6, 5, init="he", dtype=dtype, seed=2),
        nn.Tanh(),
        nn.Dense(5, 5, init="nielsen", dtype=dtype, seed=3),
        nn.Sigmoid(),
        nn.Dense(5, 4, init="normal", dtype=dtype, seed=4),
        nn.ReLU(),
        nn.Identity(),
        nn.Step(),
        nn.Dense(4, 3, dtype=dtype, seed=5),
        nn.Softmax(),
    )
    X = np.random.default_rng(0).standard_normal((40, 3))
    model.fit(X, np.arange(40) % 3, epochs=2, seed=0)
    return model


def saved(tmp_path: Path, model: nn.Sequential | None = None, **kwargs: Any) -> Path:
    path = tmp_path / "model.npz"
    nn.save(model or nn.mlp([4, 8, 3], seed=0), path, **kwargs)
    return path


def parts(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The description and arrays of a valid file, read with plain NumPy."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    description = json.loads(arrays.pop("__description__").tobytes())
    return description, arrays


def rewrite(path: Path, description: Any, arrays: dict[str, np.ndarray], **kwargs: Any) -> Path:
    """Write a (tampered) file the way numpynn would, bypassing save's checks."""
    text = description if isinstance(description, str) else json.dumps(description)
    payload = {"__description__": np.frombuffer(text.encode(), dtype=np.uint8), **arrays}
    np.savez(path, **payload, **kwargs)
    return path


def assert_same_model(a: nn.Sequential, b: nn.Sequential) -> None:
    assert [repr(layer) for layer in a.layers] == [repr(layer) for layer in b.layers]
    assert repr(a.loss) == repr(b.loss)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert p.dtype == q.dtype
        assert np.array_equal(p, q)


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_is_bit_for_bit_for_every_layer_type(tmp_path: Path, dtype: Any) -> None:
    model = every_layer_model(dtype)
    loaded = nn.load(saved(tmp_path, model))
    assert_same_model(model, loaded)
    X = np.random.default_rng(1).standard_normal((10, 3))
    assert np.array_equal(model.predict_proba(X), loaded.predict_proba(X))
    assert np.array_equal(model.predict(X), loaded.predict(X))


def test_layer_settings_survive(tmp_path: Path) -> None:
    loaded = nn.load(saved(tmp_path, every_layer_model(np.float32)))
    assert loaded.layers[1].alpha == 0.2
    assert loaded.layers[2].rate == 0.3
    assert [layer.init for layer in loaded.dense_layers] == [
        "xavier",
        "he",
        "nielsen",
        "normal",
        "xavier",
    ]


def test_loss_is_kept_so_predict_keeps_its_meaning(tmp_path: Path) -> None:
    # A model without an output activation, trained with a cross-entropy on logits: predict
    # returns class labels only because the loss says the outputs are class scores.
    model = nn.Sequential(nn.Dense(2, 3, seed=0))
    model.fit([[0, 1], [1, 0], [1, 1]], [0, 1, 2], loss=nn.CrossEntropy(from_logits=True))
    loaded = nn.load(saved(tmp_path, model))
    assert isinstance(loaded.loss, nn.CrossEntropy) and loaded.loss.from_logits
    assert loaded.predict([[0.0, 1.0]]).shape == (1,)


def test_untrained_model_has_no_loss(tmp_path: Path) -> None:
    assert nn.load(saved(tmp_path)).loss is None


def test_loaded_model_trains_further(tmp_path: Path) -> None:
    loaded = nn.load(saved(tmp_path))
    before = loaded.parameters()[0].copy()
    loaded.fit(np.eye(4), [0, 1, 2, 0], epochs=1)
    assert not np.array_equal(before, loaded.parameters()[0])


def test_a_file_of_no_layers_is_refused(tmp_path: Path) -> None:
    empty = nn.mlp([2, 3], seed=0)
    empty.layers = []  # a Sequential of no layers is refused when built (issue 26)
    with pytest.raises(ValueError, match="load would refuse it: the file holds no layers"):
        nn.save(empty, tmp_path / "empty.npz")  # save checks what load would refuse


def test_metadata_round_trips(tmp_path: Path) -> None:
    metadata = {"classes": ("cat", "dog"), "epochs": 3, "lr": 0.5, "notes": None, "ok": True}
    description = nn.load_metadata(saved(tmp_path, metadata=metadata))
    assert description["metadata"] == {**metadata, "classes": ["cat", "dog"]}
    assert description["format"] == "numpynn-model"
    assert description["format_version"] == 2
    assert description["numpynn_version"] == nn.__version__
    assert description["model"]["dtype"] == "float32"


def test_file_is_a_plain_npz_with_a_json_description(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    assert sorted(arrays) == ["layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b"]
    assert description["model"]["layers"][0]["params"]["W"] == {"shape": [4, 8], "dtype": "float32"}


def test_save_replaces_an_existing_file(tmp_path: Path) -> None:
    path = saved(tmp_path)
    nn.save(nn.mlp([2, 3], seed=0), path)
    assert nn.load(path).n_inputs == 2


# --- what save refuses ---------------------------------------------------------------------


def test_save_rejects_metadata_that_is_not_json(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"metadata\['when'\] holds a set"):
        nn.save(nn.mlp([2, 2]), tmp_path / "m.npz", metadata={"when": {1, 2}})
    with pytest.raises(TypeError, match="JSON keys must be strings"):
        nn.save(nn.mlp([2, 2]), tmp_path / "m.npz", metadata={1: "a"})
    with pytest.raises(TypeError, match="metadata must be a dict"):
        nn.save(nn.mlp([2, 2]), tmp_path / "m.npz", metadata=["a"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="nan"):
        nn.save(nn.mlp([2, 2]), tmp_path / "m.npz", metadata={"x": float("nan")})
    assert not list(tmp_path.iterdir())


def test_save_rejects_what_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="must be a numpynn Sequential"):
        nn.save([nn.Dense(2, 2)], tmp_path / "m.npz")  # type: ignore[arg-type]


def test_save_rejects_a_layer_whose_type_name_a_later_class_took(tmp_path: Path) -> None:
    class Custom(nn.ReLU):
        pass

    first = Custom()

    class Custom(nn.ReLU):  # type: ignore[no-redef]  # the same name, defined again
        pass

    with pytest.raises(TypeError, match=r"layer 0 is a .*Custom, but the layer type Custom"):
        nn.save(nn.Sequential(first), tmp_path / "m.npz")
    nn.save(nn.Sequential(Custom()), tmp_path / "m.npz")  # the class the name now means


def test_save_rejects_a_layer_class_with_a_private_name(tmp_path: Path) -> None:
    class _Private(nn.ReLU):
        pass

    with pytest.raises(TypeError, match="layer 0 is a _Private, a class whose name starts"):
        nn.save(nn.Sequential(_Private()), tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


def test_save_rejects_nan_parameters(tmp_path: Path) -> None:
    model = nn.mlp([2, 2])
    model.layers[0].W[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"layer 0 \(Dense\) W contains NaN"):
        nn.save(model, tmp_path / "m.npz")


def test_failed_save_leaves_the_previous_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = saved(tmp_path)
    before = path.read_bytes()

    def half_then_crash(file: Any, *args: Any, **kwargs: Any) -> None:
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", half_then_crash)
    with pytest.raises(OSError, match="disk full"):
        nn.save(nn.mlp([2, 5]), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left
    monkeypatch.undo()
    assert nn.load(path).n_inputs == 4


# --- bad files: one test per row of the table in docs/model-files.md ------------------------


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "absent.npz")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    path.write_bytes(b"")
    with pytest.raises(FileFormatError, match=r"m\.npz: not a numpynn file"):
        nn.load(path)


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    path.write_text("hello")
    with pytest.raises(FileFormatError, match=r"not a numpynn file.*starts with b'hell'"):
        nn.load(path)


def test_plain_npy_file(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    with open(path, "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(FileFormatError, match="not a numpynn file"):
        nn.load(path)


def test_truncated_file(tmp_path: Path) -> None:
    path = saved(tmp_path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(FileFormatError, match=r"m\w*\.npz: not a readable \.npz"):
        nn.load(path)


def test_flipped_bit_in_the_parameters(tmp_path: Path) -> None:
    path = saved(tmp_path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("layers.0.W.npy")
    data[info.header_offset + 30 + len(info.filename) + 200] ^= 0x10  # inside W's data
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"array 'layers.0.W' is damaged.*CRC"):
        nn.load(path)


def test_npz_without_description(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    np.savez(path, W=np.zeros((2, 2)))
    with pytest.raises(FileFormatError, match="no '__description__' array"):
        nn.load(path)


def test_description_that_is_not_json(tmp_path: Path) -> None:
    _, arrays = parts(saved(tmp_path))
    path = rewrite(tmp_path / "bad.npz", "{'format': 1}", arrays)
    with pytest.raises(FileFormatError, match="description is not valid UTF-8 JSON"):
        nn.load(path)


def test_description_with_nan_literal(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    text = json.dumps(description).replace('"metadata": {}', '"metadata": {"x": NaN}')
    with pytest.raises(FileFormatError, match="NaN is not allowed"):
        nn.load(rewrite(tmp_path / "bad.npz", text, arrays))


def test_description_nested_too_deeply(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    text = json.dumps(description).replace('"metadata": {}', '"metadata": ' + "[" * 100_000)
    with pytest.raises(FileFormatError, match="not valid UTF-8 JSON"):
        nn.load(rewrite(tmp_path / "bad.npz", text, arrays))


def test_description_that_is_not_an_object(tmp_path: Path) -> None:
    _, arrays = parts(saved(tmp_path))
    with pytest.raises(FileFormatError, match="must be a JSON object, got list"):
        nn.load(rewrite(tmp_path / "bad.npz", "[1, 2]", arrays))


def test_description_array_of_the_wrong_dtype(tmp_path: Path) -> None:
    _, arrays = parts(saved(tmp_path))
    path = tmp_path / "bad.npz"
    np.savez(path, __description__=np.zeros(3), **arrays)
    with pytest.raises(
        FileFormatError, match="'__description__' has dtype float64, expected uint8"
    ):
        nn.load(path)


def test_wrong_format_name(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    description["format"] = "keras"
    with pytest.raises(FileFormatError, match="format must be 'numpynn-model', got 'keras'"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_checkpoint_given_to_load(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.npz"
    nn.io.save_checkpoint(path, nn.mlp([2, 2]), nn.SGD(), np.random.default_rng(0), 0, {})
    with pytest.raises(FileFormatError, match="it is a numpynn checkpoint"):
        nn.load(path)


def test_future_format_version(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    description["format_version"] = 3
    description["numpynn_version"] = "9.0"
    description["model"] = {"something": "new"}
    with pytest.raises(
        FileFormatError, match=r"format version 3 \(written by numpynn '9.0'\).*upgrade"
    ):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


@pytest.mark.parametrize("version", [0, -1])
def test_format_version_below_1(tmp_path: Path, version: int) -> None:
    description, arrays = parts(saved(tmp_path))
    description["format_version"] = version
    with pytest.raises(FileFormatError, match=rf"format_version must be >= 1, got {version}"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_unknown_top_level_field(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    description["code"] = "import os"
    with pytest.raises(FileFormatError, match=r"unknown field.*'code'"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_missing_field(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    del description["model"]["loss"]
    with pytest.raises(FileFormatError, match="model lacks 'loss'"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_unknown_layer_type(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    description["model"]["layers"][1]["type"] = "Lambda"
    with pytest.raises(FileFormatError, match=r"layers\[1\].type: unknown layer type 'Lambda'"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_unknown_config_key(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path, nn.Sequential(nn.LeakyReLU())))
    description["model"]["layers"][0]["config"]["beta"] = 2
    with pytest.raises(FileFormatError, match=r"layers\[0\].config .* not valid for LeakyReLU"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_accepted_but_unrecorded_config_key(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    description["model"]["layers"][0]["config"]["seed"] = 3  # Dense takes it, but never saves it
    with pytest.raises(FileFormatError, match=r"layers\[0\].config must be Dense's settings"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_bad_config_value(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path, nn.Sequential(nn.Dropout(0.5))))
    description["model"]["layers"][0]["config"]["rate"] = 1.5
    with pytest.raises(FileFormatError, match="not valid for Dropout: Dropout rate must be in"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_boolean_where_a_number_belongs(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path, nn.Sequential(nn.Dropout(0.0))))
    description["model"]["layers"][0]["config"]["rate"] = False
    with pytest.raises(FileFormatError, match=r"Dropout rate must be in \[0, 1\), got False"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_described_shape_disagrees_with_config(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    description["model"]["layers"][0]["config"]["n_out"] = 9
    with pytest.raises(
        FileFormatError, match=r"Dense\(n_in=4, n_out=9.*\), so W must be float32 \(4, 9\)"
    ):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_bias_that_would_broadcast_over_the_outputs(tmp_path: Path) -> None:
    """A bias of shape (1,) would add one number to all 8 outputs of Dense(4, 8) silently."""
    description, arrays = parts(saved(tmp_path))
    description["model"]["layers"][0]["params"]["b"]["shape"] = [1]
    arrays["layers.0.b"] = np.zeros(1, np.float32)
    with pytest.raises(
        FileFormatError, match=r"Dense\(n_in=4, n_out=8.*\), so b must be float32 \(8,\), .* \(1,\)"
    ):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_layers_that_do_not_chain(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    layer = description["model"]["layers"][2]
    layer["config"]["n_in"] = 7
    layer["params"]["W"]["shape"] = [7, 3]
    arrays["layers.2.W"] = np.zeros((7, 3), np.float32)
    with pytest.raises(
        FileFormatError, match=r"do not chain: layer 2: Dense\(n_in=7.*\) takes 7 inputs but gets"
    ):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_array_shape_differs_from_description(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    arrays["layers.0.b"] = np.zeros(9, np.float32)
    with pytest.raises(
        FileFormatError, match=r"'layers.0.b' has shape \(9,\), the description says \(8,\)"
    ):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_array_dtype_differs_from_description(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    arrays["layers.0.W"] = arrays["layers.0.W"].astype(np.float64)
    with pytest.raises(FileFormatError, match=r"'layers.0.W' has dtype float64, expected float32"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_unsupported_parameter_dtype(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    description["model"]["layers"][0]["params"]["b"]["dtype"] = "int64"
    with pytest.raises(FileFormatError, match=r"params.b.dtype must be one of .* got 'int64'"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_model_dtype_disagrees_with_parameters(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    description["model"]["dtype"] = "float64"
    message = r"model.dtype is 'float64' but the first layer with parameters has float32"
    with pytest.raises(FileFormatError, match=message):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_missing_array(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    del arrays["layers.2.b"]
    with pytest.raises(FileFormatError, match=r"'layers.2.b' described but missing"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_extra_array(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    arrays["payload"] = np.zeros(3)
    with pytest.raises(FileFormatError, match="'payload' in the file but not in the description"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_parameter(tmp_path: Path, value: float) -> None:
    description, arrays = parts(saved(tmp_path))
    arrays["layers.2.W"][1, 1] = value
    with pytest.raises(FileFormatError, match=r"'layers.2.W' contains 1 NaN or infinite"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_unknown_loss(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    description["model"]["loss"] = {"type": "Hinge", "config": {}}
    with pytest.raises(FileFormatError, match=r"model.loss.type: unknown loss 'Hinge'"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def test_compressed_arrays(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    text = json.dumps(description).encode()
    path = tmp_path / "bad.npz"
    np.savez_compressed(path, __description__=np.frombuffer(text, np.uint8), **arrays)
    with pytest.raises(FileFormatError, match="compressed or encrypted"):
        nn.load(path)


def test_fortran_order_array(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    arrays["layers.0.W"] = np.asfortranarray(arrays["layers.0.W"])
    with pytest.raises(FileFormatError, match="Fortran order"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


class _Exploit:
    """Unpickling this would create a marker file: proof that a load path unpickled."""

    marker = ""

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (Path(self.marker),))


def test_pickled_object_array_is_never_unpickled(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    _Exploit.marker = str(tmp_path / "pwned")
    evil = np.empty((4, 8), dtype=object)
    evil[...] = _Exploit()
    arrays["layers.0.W"] = evil
    path = rewrite(tmp_path / "bad.npz", description, arrays, allow_pickle=True)
    with pytest.raises(FileFormatError, match=r"'layers.0.W' has dtype object, expected float32"):
        nn.load(path)
    with pytest.raises(FileFormatError):
        nn.load_metadata(path)
    assert not (tmp_path / "pwned").exists()


def test_load_metadata_validates_the_whole_file(tmp_path: Path) -> None:
    description, arrays = parts(saved(tmp_path))
    arrays["layers.0.W"][0, 0] = np.nan
    with pytest.raises(FileFormatError, match="NaN"):
        nn.load_metadata(rewrite(tmp_path / "bad.npz", description, arrays))


def test_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "some name.npz"
    path.write_bytes(b"garbage")
    with pytest.raises(FileFormatError) as info:
        nn.load(path)
    assert str(path) in str(info.value)


def test_member_that_is_not_an_array(tmp_path: Path) -> None:
    path = saved(tmp_path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("run_me.py", "print('hi')")
    with pytest.raises(FileFormatError, match=r"unexpected member 'run_me.py'"):
        nn.load(path)


def test_member_listed_twice(tmp_path: Path) -> None:
    path = saved(tmp_path)
    with zipfile.ZipFile(path) as zf:
        data = zf.read("layers.0.b.npy")
    with zipfile.ZipFile(path, "a") as zf, pytest.warns(UserWarning, match="Duplicate"):
        zf.writestr("layers.0.b.npy", data)
    with pytest.raises(FileFormatError, match="lists the same member twice"):
        nn.load(path)


def test_a_huge_size_in_a_config_is_refused_before_anything_is_allocated(tmp_path: Path) -> None:
    # n_out = 10**9 would draw 4e9 weights (16 GB) before the shapes were compared
    description, arrays = parts(saved(tmp_path))
    description["model"]["layers"][0]["config"]["n_out"] = 10**9
    with pytest.raises(FileFormatError, match=r"\{'n_out': 1000000000\}, far larger than"):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))
