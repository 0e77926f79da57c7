"""Property: save and load validate every field of a model file or checkpoint alike, both ways.

For each field, the same value is given once to ``save_checkpoint`` (set on the object saved)
and once to ``load_checkpoint`` (written into a valid file, bypassing save). What save refuses,
load refuses; what load accepts, save writes, and loading either file gives the same value.
So no save ever writes a file its own loader would refuse.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import numpynn as nn
from numpynn.errors import FileFormatError
from numpynn.io import Checkpoint, load_checkpoint, save_checkpoint

X = np.random.default_rng(0).standard_normal((6, 2))
Y = np.arange(6) % 2


@dataclass
class State:
    """What save_checkpoint takes."""

    model: nn.Sequential
    optimizer: nn.Optimizer
    rng: np.random.Generator
    epoch: Any
    history: Any
    extra: Any

    def save(self, path: Path) -> None:
        save_checkpoint(
            path, self.model, self.optimizer, self.rng, self.epoch, self.history, self.extra
        )


def fresh_state() -> State:
    """Dense, LeakyReLU, Dropout, Dense, Softmax, trained one epoch with Adam."""
    model = nn.mlp([2, 3, 2], activation="leaky_relu", dropout=0.2, seed=0)
    optimizer = nn.Adam()
    rng = np.random.default_rng(1)
    history = model.fit(X, Y, optimizer=optimizer, epochs=1, batch_size=3, seed=rng)
    return State(model, optimizer, rng, 1, history, {"run": 1})


def parts(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return json.loads(arrays.pop("__description__").tobytes()), arrays


def rewrite(path: Path, description: Any, arrays: dict[str, np.ndarray]) -> Path:
    text = json.dumps(description).encode()  # NaN and Infinity as JSON's non-standard literals
    np.savez(path, __description__=np.frombuffer(text, dtype=np.uint8), **arrays)
    return path


@dataclass
class Field:
    """One field: where it lives on the objects saved, in the description, and once loaded."""

    set_on_state: Callable[[State, Any], None]
    set_in_description: Callable[[dict[str, Any], Any], None]
    get_loaded: Callable[[Checkpoint], Any]


def _set_attr(get: Callable[[State], Any], name: str) -> Callable[[State, Any], None]:
    return lambda state, value: setattr(get(state), name, value)


def _set_key(*path: Any) -> Callable[[dict[str, Any], Any], None]:
    def set_key(description: dict[str, Any], value: Any) -> None:
        for key in path[:-1]:
            description = description[key]
        description[path[-1]] = value

    return set_key


def _config(layer: int) -> tuple[Any, ...]:
    return ("model", "layers", layer, "config")


FIELDS = {
    "epoch": Field(
        lambda state, v: setattr(state, "epoch", v), _set_key("epoch"), lambda c: c.epoch
    ),
    "history": Field(
        lambda state, v: setattr(state, "history", {"loss": [v]}),
        lambda d, v: d.__setitem__("history", {"loss": [v]}),
        lambda c: c.history,
    ),
    "extra": Field(
        lambda state, v: setattr(state, "extra", v), _set_key("extra"), lambda c: c.extra
    ),
    "optimizer step count": Field(
        _set_attr(lambda s: s.optimizer, "t"),
        _set_key("optimizer", "t"),
        lambda c: c.optimizer.t,
    ),
    "optimizer learning rate": Field(
        _set_attr(lambda s: s.optimizer, "lr"),
        _set_key("optimizer", "config", "lr"),
        lambda c: c.optimizer.lr,
    ),
    "optimizer beta1": Field(
        _set_attr(lambda s: s.optimizer, "beta1"),
        _set_key("optimizer", "config", "beta1"),
        lambda c: c.optimizer.beta1,
    ),
    "Dense init": Field(
        _set_attr(lambda s: s.model.layers[0], "init"),
        _set_key(*_config(0), "init"),
        lambda c: c.model.layers[0].init,
    ),
    "LeakyReLU alpha": Field(
        _set_attr(lambda s: s.model.layers[1], "alpha"),
        _set_key(*_config(1), "alpha"),
        lambda c: c.model.layers[1].alpha,
    ),
    "Dropout rate": Field(
        _set_attr(lambda s: s.model.layers[2], "rate"),
        _set_key(*_config(2), "rate"),
        lambda c: c.model.layers[2].rate,
    ),
    "loss from_logits": Field(
        _set_attr(lambda s: s.model.loss, "from_logits"),
        _set_key("model", "loss", "config", "from_logits"),
        lambda c: c.model.loss.from_logits,
    ),
}

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 3),
    st.floats(-2.0, 2.0),
    st.sampled_from([1e-3, 0.5, 0.999, 1.0, 1e9, math.nan, math.inf, -math.inf]),
    st.sampled_from(["he", "xavier", "nielsen", "normal", "0.5", ""]),
    st.lists(st.integers(0, 1), max_size=2),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 1), max_size=1),
)


def saved_or_refused(state: State, path: Path) -> bool:
    try:
        state.save(path)
    except (TypeError, ValueError):
        assert not path.exists()  # a refused save writes nothing
        return False
    return True


def loaded_or_refused(path: Path) -> Checkpoint | None:
    try:
        return load_checkpoint(path)
    except FileFormatError:
        return None


def same(a: Any, b: Any) -> bool:
    return a == b and type(a) is type(b)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(sorted(FIELDS)), value=VALUES)
@example(name="optimizer step count", value=-1)  # Adam would divide by zero
@example(name="Dropout rate", value=1.5)  # set on the layer after its constructor checked it
@example(name="Dense init", value=None)
@example(name="history", value="0.5")
def test_save_and_load_accept_the_same_values(name: str, value: Any) -> None:
    field = FIELDS[name]
    with tempfile.TemporaryDirectory() as directory:
        saved_path, tampered_path = Path(directory) / "saved.npz", Path(directory) / "t.npz"
        state = fresh_state()
        valid = Path(directory) / "valid.npz"
        state.save(valid)
        description, arrays = parts(valid)
        field.set_in_description(description, value)
        by_load = loaded_or_refused(rewrite(tampered_path, description, arrays))

        field.set_on_state(state, value)
        by_save = saved_or_refused(state, saved_path)
        assert by_save == (by_load is not None), (
            f"{name} = {value!r}: save {'accepts' if by_save else 'refuses'} it, "
            f"load {'accepts' if by_load is not None else 'refuses'} it"
        )
        if by_save:
            assert by_load is not None
            reloaded = load_checkpoint(saved_path)  # what save writes, load reads back
            assert same(field.get_loaded(reloaded), field.get_loaded(by_load)), name


def test_save_refuses_a_bias_that_would_broadcast(tmp_path: Path) -> None:
    model = nn.mlp([2, 3])
    model.layers[0].b = np.zeros(1, np.float32)  # would add one number to all 3 outputs
    with pytest.raises(
        ValueError, match=r"load would refuse it: .*b must be float32 \(3,\).*\(1,\)"
    ):
        nn.save(model, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("metadata", [{"a": [1, 2.5, None, True]}, {}])
def test_model_file_metadata_that_save_writes_load_reads(tmp_path: Path, metadata: Any) -> None:
    nn.save(nn.mlp([2, 2]), tmp_path / "m.npz", metadata=metadata)
    assert nn.load_metadata(tmp_path / "m.npz")["metadata"] == metadata


@pytest.mark.parametrize("metadata", [[1, 2], "text", 3, {"x": math.nan}, {"x": [math.inf]}])
def test_model_file_metadata_that_save_refuses_load_refuses(tmp_path: Path, metadata: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        nn.save(nn.mlp([2, 2]), tmp_path / "m.npz", metadata=metadata)
    assert not (tmp_path / "m.npz").exists()
    description, arrays = parts(saved_model(tmp_path / "valid.npz"))
    description["metadata"] = metadata
    message = "NaN|Inf"  # not JSON: refused by the parser
    if not isinstance(metadata, dict):
        message = f"metadata must be a JSON object, got {type(metadata).__name__}"
    with pytest.raises(FileFormatError, match=message):
        nn.load(rewrite(tmp_path / "bad.npz", description, arrays))


def saved_model(path: Path) -> Path:
    nn.save(nn.mlp([2, 2]), path)
    return path


def test_save_names_the_type_of_metadata_it_refuses(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"^metadata must be a dict \(JSON object\), got list$"):
        nn.save(nn.mlp([2, 2]), tmp_path / "m.npz", metadata=[1])
