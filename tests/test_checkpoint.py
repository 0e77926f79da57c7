"""Checkpoints: numpynn.io.save_checkpoint / load_checkpoint keep the whole training state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import numpynn as nn
from numpynn.errors import FileFormatError
from numpynn.io import Checkpoint, load_checkpoint, save_checkpoint

X = np.random.default_rng(0).standard_normal((30, 4))
Y = np.arange(30) % 3

OPTIMIZERS = {
    "sgd": lambda: nn.SGD(lr=0.1),
    "momentum": lambda: nn.SGD(lr=0.1, momentum=0.9, weight_decay=1e-3),
    "nesterov": lambda: nn.SGD(lr=0.1, momentum=0.8, nesterov=True),
    "adagrad": lambda: nn.AdaGrad(lr=0.05, eps=1e-7),
    "rmsprop": lambda: nn.RMSProp(lr=0.01, rho=0.8),
    "adam": lambda: nn.Adam(lr=0.01, beta1=0.8, beta2=0.99),
}


def trained(optimizer: nn.Optimizer) -> tuple[nn.Sequential, np.random.Generator, dict[str, Any]]:
    model = nn.mlp([4, 6, 3], dropout=0.1, seed=0)
    rng = np.random.default_rng(7)
    history = model.fit(X, Y, optimizer=optimizer, epochs=2, batch_size=8, seed=rng)
    return model, rng, history


def checkpoint_file(tmp_path: Path, optimizer: nn.Optimizer | None = None) -> Path:
    optimizer = optimizer or nn.Adam()
    model, rng, history = trained(optimizer)
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model, optimizer, rng, 2, history, extra={"run": "a"})
    return path


def parts(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return json.loads(arrays.pop("__description__").tobytes()), arrays


def rewrite(path: Path, description: Any, arrays: dict[str, np.ndarray]) -> Path:
    text = json.dumps(description).encode()
    np.savez(path, __description__=np.frombuffer(text, dtype=np.uint8), **arrays)
    return path


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_state_round_trips_exactly(tmp_path: Path, name: str) -> None:
    optimizer = OPTIMIZERS[name]()
    model, rng, history = trained(optimizer)
    save_checkpoint(tmp_path / "c.npz", model, optimizer, rng, 2, history)
    ckpt = load_checkpoint(tmp_path / "c.npz")
    assert type(ckpt.optimizer) is type(optimizer)
    assert ckpt.optimizer.config() == optimizer.config()
    assert ckpt.optimizer.t == optimizer.t == 8  # 2 epochs of 4 batches
    assert list(ckpt.optimizer.state) == list(optimizer.state)
    for slot, arrays in optimizer.state.items():
        for a, b in zip(arrays, ckpt.optimizer.state[slot], strict=True):
            assert a.dtype == b.dtype and np.array_equal(a, b)
    for p, q in zip(model.parameters(), ckpt.model.parameters(), strict=True):
        assert np.array_equal(p, q)


def test_state_arrays_are_separate_from_the_parameters(tmp_path: Path) -> None:
    ckpt = load_checkpoint(checkpoint_file(tmp_path))
    ckpt.optimizer.state["m"][0][...] = 0
    assert np.any(ckpt.model.parameters()[0] != 0)


def test_unused_optimizer_round_trips(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "c.npz", nn.mlp([2, 2]), nn.Adam(), np.random.default_rng(), 0, {})
    ckpt = load_checkpoint(tmp_path / "c.npz")
    assert ckpt.optimizer.t == 0 and ckpt.optimizer.state == {}


def test_epoch_history_and_extra_round_trip(tmp_path: Path) -> None:
    ckpt = load_checkpoint(checkpoint_file(tmp_path))
    _, _, history = trained(nn.Adam())
    assert ckpt == Checkpoint(ckpt.model, ckpt.optimizer, ckpt.rng, 2, history, {"run": "a"})
    assert set(ckpt.history) == {"loss", "accuracy"}


@pytest.mark.parametrize("bit_generator", ["PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"])
def test_generator_continues_where_it_stopped(tmp_path: Path, bit_generator: str) -> None:
    rng = np.random.Generator(getattr(np.random, bit_generator)(11))
    rng.random(5)
    save_checkpoint(tmp_path / "c.npz", nn.mlp([2, 2]), nn.SGD(), rng, 0, {})
    restored = load_checkpoint(tmp_path / "c.npz").rng
    assert type(restored.bit_generator) is type(rng.bit_generator)
    assert np.array_equal(restored.random(100), rng.random(100))


# --- what save_checkpoint refuses ----------------------------------------------------------


def test_rejects_an_rng_that_is_not_a_generator(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator, got int"):
        save_checkpoint(tmp_path / "c.npz", nn.mlp([2, 2]), nn.SGD(), 7, 0, {})  # type: ignore[arg-type]


@pytest.mark.parametrize("epoch", [-1, 1.5, True])
def test_rejects_a_bad_epoch(tmp_path: Path, epoch: Any) -> None:
    with pytest.raises(ValueError, match=r"epoch must be an integer >= 0"):
        save_checkpoint(
            tmp_path / "c.npz", nn.mlp([2, 2]), nn.SGD(), np.random.default_rng(), epoch, {}
        )


def test_rejects_a_bad_history(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"history must be a dict"):
        save_checkpoint(
            tmp_path / "c.npz",
            nn.mlp([2, 2]),
            nn.SGD(),
            np.random.default_rng(),
            0,
            {"loss": ["x"]},
        )


def test_rejects_extra_that_is_not_json(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"extra holds a object"):
        save_checkpoint(
            tmp_path / "c.npz", nn.mlp([2, 2]), nn.SGD(), np.random.default_rng(), 0, {}, object()
        )


def test_rejects_an_optimizer_of_another_model(tmp_path: Path) -> None:
    optimizer = nn.Adam()
    trained(optimizer)
    with pytest.raises(ValueError, match=r"was the optimizer used with another model"):
        save_checkpoint(
            tmp_path / "c.npz", nn.mlp([4, 3]), optimizer, np.random.default_rng(), 0, {}
        )
    assert not (tmp_path / "c.npz").exists()


def test_rejects_optimizer_state_of_another_dtype(tmp_path: Path) -> None:
    """State in float64 for float32 parameters: a file load_checkpoint would refuse."""
    optimizer = nn.Adam()
    model, rng, history = trained(optimizer)
    optimizer.state["m"][2] = optimizer.state["m"][2].astype(np.float64)
    with pytest.raises(
        ValueError, match=r"optimizer state 'm'\[2\] is float64 \(6, 3\), its parameter is float32"
    ):
        save_checkpoint(tmp_path / "c.npz", model, optimizer, rng, 2, history)
    assert not (tmp_path / "c.npz").exists()


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_rejects_non_finite_optimizer_state(tmp_path: Path, value: float) -> None:
    optimizer = nn.Adam()
    model, rng, history = trained(optimizer)
    optimizer.state["v"][1][0] = value
    with pytest.raises(ValueError, match=r"optimizer state 'v'\[1\] contains NaN or infinite"):
        save_checkpoint(tmp_path / "c.npz", model, optimizer, rng, 2, history)
    assert not (tmp_path / "c.npz").exists()


def test_failed_save_leaves_the_previous_checkpoint_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = checkpoint_file(tmp_path)
    before = path.read_bytes()
    real_savez = np.savez

    def crash_midway(file: Any, *args: Any, **kwargs: Any) -> None:
        real_savez(file, *args, **kwargs)
        file.truncate(file.tell() // 2)
        raise KeyboardInterrupt  # e.g. Ctrl-C while writing

    monkeypatch.setattr(np, "savez", crash_midway)
    model, rng, history = trained(nn.SGD())
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model, nn.SGD(), rng, 5, history)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]
    assert load_checkpoint(path).epoch == 2


# --- bad checkpoint files ------------------------------------------------------------------


def test_model_file_given_to_load_checkpoint(tmp_path: Path) -> None:
    nn.save(nn.mlp([2, 2]), tmp_path / "m.npz")
    with pytest.raises(
        FileFormatError, match=r"it is a numpynn model file: load it with numpynn.load"
    ):
        load_checkpoint(tmp_path / "m.npz")


def test_truncated_checkpoint(tmp_path: Path) -> None:
    path = checkpoint_file(tmp_path)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(FileFormatError, match=r"ckpt\.npz: not a readable"):
        load_checkpoint(path)


def test_unknown_optimizer(tmp_path: Path) -> None:
    description, arrays = parts(checkpoint_file(tmp_path))
    description["optimizer"]["type"] = "LBFGS"
    with pytest.raises(FileFormatError, match=r"unknown optimizer 'LBFGS'"):
        load_checkpoint(rewrite(tmp_path / "bad.npz", description, arrays))


def test_bad_optimizer_setting(tmp_path: Path) -> None:
    description, arrays = parts(checkpoint_file(tmp_path))
    description["optimizer"]["config"]["lr"] = -1
    with pytest.raises(
        FileFormatError, match=r"not valid for Adam: lr must be a finite number > 0"
    ):
        load_checkpoint(rewrite(tmp_path / "bad.npz", description, arrays))


def test_wrong_state_slots(tmp_path: Path) -> None:
    description, arrays = parts(checkpoint_file(tmp_path))
    description["optimizer"]["state"] = ["velocity"]
    with pytest.raises(FileFormatError, match=r"optimizer.state must list \['m', 'v'\]"):
        load_checkpoint(rewrite(tmp_path / "bad.npz", description, arrays))


def test_state_array_of_the_wrong_shape(tmp_path: Path) -> None:
    description, arrays = parts(checkpoint_file(tmp_path))
    arrays["optimizer.v.1"] = np.zeros(5, np.float32)
    with pytest.raises(FileFormatError, match=r"'optimizer.v.1' has shape \(5,\)"):
        load_checkpoint(rewrite(tmp_path / "bad.npz", description, arrays))


def test_missing_state_array(tmp_path: Path) -> None:
    description, arrays = parts(checkpoint_file(tmp_path))
    del arrays["optimizer.m.3"]
    with pytest.raises(FileFormatError, match=r"'optimizer.m.3' described but missing"):
        load_checkpoint(rewrite(tmp_path / "bad.npz", description, arrays))


def test_negative_step_count(tmp_path: Path) -> None:
    description, arrays = parts(checkpoint_file(tmp_path))
    description["optimizer"]["t"] = -1  # Adam would divide by 1 - beta**0 = 0
    with pytest.raises(FileFormatError, match=r"optimizer.t must be >= 0, got -1"):
        load_checkpoint(rewrite(tmp_path / "bad.npz", description, arrays))


def test_unknown_bit_generator(tmp_path: Path) -> None:
    description, arrays = parts(checkpoint_file(tmp_path))
    description["rng"]["bit_generator"] = "RandomState"
    with pytest.raises(FileFormatError, match=r"rng.bit_generator must be one of"):
        load_checkpoint(rewrite(tmp_path / "bad.npz", description, arrays))


def test_invalid_generator_state(tmp_path: Path) -> None:
    description, arrays = parts(checkpoint_file(tmp_path))
    description["rng"]["state"] = {"state": "x", "inc": 1}
    with pytest.raises(FileFormatError, match=r"rng is not a valid PCG64 state"):
        load_checkpoint(rewrite(tmp_path / "bad.npz", description, arrays))


def test_generator_state_with_unknown_field(tmp_path: Path) -> None:
    description, arrays = parts(checkpoint_file(tmp_path))
    description["rng"]["seed_sequence"] = 5
    with pytest.raises(FileFormatError, match=r"does not round-trip"):
        load_checkpoint(rewrite(tmp_path / "bad.npz", description, arrays))


def test_negative_epoch(tmp_path: Path) -> None:
    description, arrays = parts(checkpoint_file(tmp_path))
    description["epoch"] = -1
    with pytest.raises(FileFormatError, match=r"epoch must be >= 0"):
        load_checkpoint(rewrite(tmp_path / "bad.npz", description, arrays))


def test_history_that_is_not_numbers(tmp_path: Path) -> None:
    description, arrays = parts(checkpoint_file(tmp_path))
    description["history"]["loss"] = ["1.0"]
    with pytest.raises(FileFormatError, match=r"history\['loss'\] must be a list of numbers"):
        load_checkpoint(rewrite(tmp_path / "bad.npz", description, arrays))


def test_a_version_1_checkpoint_of_numpynn_0_1_loads_without_callback_states(tmp_path):
    from numpynn.io import archive as _archive

    path = tmp_path / "ckpt.npz"
    model, optimizer = nn.mlp([3, 4, 2], seed=0), nn.Adam()
    model.fit(np.eye(3), [0, 1, 1], optimizer=optimizer, epochs=2, seed=0)
    save_checkpoint(path, model, optimizer, np.random.default_rng(1), 2, {"loss": [1.0, 0.5]})
    with _archive.Archive(path) as archive:
        description = archive.description()
        names = [n for n in archive.members if n != _archive.DESCRIPTION]
        arrays = {n: np.load(archive.zip.open(archive.members[n])) for n in names}
    del description["callbacks"]
    for layer in description["model"]["layers"]:
        del layer["buffers"]
    description["format_version"] = 1  # exactly what numpynn 0.1.0 wrote
    _archive.write(path, description, arrays)
    ckpt = load_checkpoint(path)
    assert ckpt.epoch == 2 and ckpt.callbacks == {}
    for p, q in zip(ckpt.model.parameters(), model.parameters(), strict=True):
        assert np.array_equal(p, q)


# --- the exact messages: each names the field, what it must be and what the file holds ------


def _set(*path: Any) -> Any:
    def tamper(description: dict[str, Any], value: Any) -> None:
        for key in path[:-1]:
            description = description[key]
        description[path[-1]] = value

    return tamper


BAD_FIELDS = {
    "optimizer not an object": (
        _set("optimizer"),
        [],
        "optimizer must be a JSON object, got list []",
    ),
    "unknown optimizer": (
        _set("optimizer", "type"),
        "Lion",
        "optimizer.type: unknown optimizer 'Lion' "
        "(known: ['AdaGrad', 'Adam', 'AdamW', 'RMSProp', 'SGD'])",
    ),
    "optimizer name of 78 letters, shown whole": (
        _set("optimizer", "type"),
        "L" * 78,
        f"optimizer.type: unknown optimizer '{'L' * 78}' (known: "
        "['AdaGrad', 'Adam', 'AdamW', 'RMSProp', 'SGD'])",
    ),
    "optimizer name of 79 letters, shortened": (
        _set("optimizer", "type"),
        "L" * 79,
        f"optimizer.type: unknown optimizer '{'L' * 76}... (known: "
        "['AdaGrad', 'Adam', 'AdamW', 'RMSProp', 'SGD'])",
    ),
    "optimizer config not an object": (
        _set("optimizer", "config"),
        [0.1],
        "optimizer.config must be a JSON dict, got list [0.1]",
    ),
    "optimizer setting out of range": (
        _set("optimizer", "config", "lr"),
        -1,
        "optimizer.config {'lr': -1, 'weight_decay': 0.0, 'beta1': 0.9, 'beta2': 0.999, "
        "'eps': 1e-08} is not valid for Adam: lr must be a finite number > 0, got -1",
    ),
    "step count not a number": (
        _set("optimizer", "t"),
        "x",
        "optimizer.t must be a JSON int, got str 'x'",
    ),
    "state slots not a list": (
        _set("optimizer", "state"),
        "m",
        "optimizer.state must be a JSON list, got str 'm'",
    ),
    "state slots of another optimizer": (
        _set("optimizer", "state"),
        ["velocity"],
        "optimizer.state must list ['m', 'v'] (or nothing) for Adam, got ['velocity']",
    ),
    "generator state not an object": (_set("rng"), 5, "rng must be a JSON object, got int 5"),
    "unknown bit generator": (
        _set("rng", "bit_generator"),
        "X",
        "rng.bit_generator must be one of ('PCG64', 'PCG64DXSM', 'MT19937', 'Philox', 'SFC64'), "
        "got 'X'",
    ),
    "epoch not a number": (
        _set("epoch"),
        "2",
        "the description.epoch must be a JSON int, got str '2'",
    ),
    "history not an object": (_set("history"), [], "history must be a JSON object, got list []"),
}


@pytest.mark.parametrize("case", BAD_FIELDS)
def test_a_bad_field_gets_a_message_naming_it_and_its_value(tmp_path: Path, case: str) -> None:
    tamper, value, message = BAD_FIELDS[case]
    description, arrays = parts(checkpoint_file(tmp_path))
    tamper(description, value)
    path = rewrite(tmp_path / "bad.npz", description, arrays)
    with pytest.raises(FileFormatError) as error:
        load_checkpoint(path)
    assert str(error.value) == f"cannot load {path}: {message}"


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"optimizer": object()},
            TypeError,
            r"^optimizer must be one of \['AdaGrad', 'Adam', 'AdamW', 'RMSProp', 'SGD'\], "
            r"got object$",
        ),
        (
            {"history": "loss"},
            TypeError,
            r"^history must be a dict mapping metric names to lists of numbers$",
        ),
        (
            {"history": {"loss": [1.0, "2"]}},
            TypeError,
            r"^history must be a dict .* numbers; history\['loss'\] is \[1.0, '2'\]$",
        ),
        (
            {"history": {"loss": [0.5, float("nan")]}},
            ValueError,
            r"^history\['loss'\]\[1\] holds nan, which JSON cannot store$",
        ),
        (
            {"optimizer_t": -1},
            ValueError,
            r"^optimizer.t must be an integer >= 0 \(steps taken\), got -1$",
        ),
    ],
    ids=[
        "not an optimizer",
        "history a string",
        "history of a string",
        "history with NaN",
        "negative step count",
    ],
)
def test_save_checkpoint_names_what_it_refuses(
    tmp_path: Path, change: dict[str, Any], error: type[Exception], message: str
) -> None:
    optimizer = nn.Adam()
    model, rng, history = trained(optimizer)
    optimizer.t = change.get("optimizer_t", optimizer.t)
    args = {"optimizer": optimizer, "rng": rng, "history": history, **change}
    path = tmp_path / "c.npz"
    with pytest.raises(error, match=message):
        save_checkpoint(path, model, args["optimizer"], args["rng"], 2, args["history"])
    assert not path.exists()
