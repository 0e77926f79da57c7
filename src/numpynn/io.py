"""Model files and checkpoints: save a model, or a whole training state, to one file and load
it back exactly (bit for bit) and safely.

A file is one ``.npz``: the arrays (``layers.{i}.{W,b}``; in a checkpoint also the optimiser's
``optimizer.{slot}.{k}`` and the callbacks' ``callbacks.{k}``) plus a JSON description (the
format is in docs/model-files.md).
Writes are atomic. Loading never unpickles and validates everything before it builds anything;
any problem raises :class:`~numpynn.errors.FileFormatError` naming the file and what is wrong.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from . import _archive
from . import layers as layers_module
from ._archive import FLOAT_DTYPES, Archive, InvalidFileError, Unwritten
from ._typing import Array
from ._version import __version__
from .errors import FileFormatError, ShapeError
from .layers import AvgPool2D, BatchNorm, Conv2D, Dense, Flatten, GlobalAvgPool2D, Layer, MaxPool2D
from .losses import LOSSES, Loss
from .model import Sequential
from .optimizers import OPTIMIZERS, Optimizer

MODEL_FORMAT = "numpynn-model"
CHECKPOINT_FORMAT = "numpynn-checkpoint"
# Model files: version 1 had no "buffers" in a layer's entry; version 2 adds them (BatchNorm).
FORMAT_VERSION = 2
# Checkpoints: version 1 (numpynn 0.1.0) had no "callbacks"; version 2 adds their states;
# version 3 holds a version-2 model description (layers with "buffers").
CHECKPOINT_VERSION = 3
# The layer types a model file stores, by name.
LAYER_TYPES: dict[str, type[Layer]] = {
    **layers_module.LAYER_TYPES,
    **{cls.__name__: cls for cls in (Conv2D, MaxPool2D, AvgPool2D, GlobalAvgPool2D)},
    **{cls.__name__: cls for cls in (BatchNorm, Flatten)},
}
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")

_LOSS_TYPES: dict[str, type[Loss]] = {cls.__name__: cls for cls in LOSSES.values()}
_OPTIMIZER_TYPES: dict[str, type[Optimizer]] = {cls.__name__: cls for cls in OPTIMIZERS.values()}
_MODEL_KEYS = {"format", "format_version", "numpynn_version", "model", "metadata"}
_CHECKPOINT_KEYS = {"format", "format_version", "numpynn_version", "model", "optimizer", "rng"}
_CHECKPOINT_KEYS |= {"epoch", "history", "extra", "callbacks"}
ARRAY = "__array__"  # {"__array__": name, "shape": [...], "dtype": ...}: an array in callbacks

PathLike = str | os.PathLike[str]
T = TypeVar("T")


# --- model files -------------------------------------------------------------------------


def save(model: Sequential, path: PathLike, *, metadata: dict[str, Any] | None = None) -> None:
    """Write ``model`` (layers, parameters, loss) to ``path`` as one ``.npz``, atomically.

    ``metadata`` is JSON data kept with the model (class labels, training settings...): a
    dict with string keys holding dicts, lists, strings, finite numbers, booleans or None.
    Raises TypeError or ValueError for a model or metadata that cannot be saved, and
    ValueError for anything :func:`load` would refuse (e.g. a layer setting out of range).
    """
    model_description, arrays = _describe_model(model)
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict (JSON object), got {type(metadata).__name__}")
    description = {
        **_header(MODEL_FORMAT),
        "model": model_description,
        "metadata": _json_data({} if metadata is None else metadata, "metadata"),
    }
    _write(path, description, arrays, _load_model)


def load(path: PathLike) -> Sequential:
    """The model saved at ``path`` by :func:`save`, exactly as it was saved."""
    return _guarded(path, lambda archive: _load_model(archive)[0])


def load_metadata(path: PathLike) -> dict[str, Any]:
    """The JSON description of the model file at ``path`` (format, versions, layers, loss and
    the user's ``"metadata"``), after validating the whole file as :func:`load` does."""
    return _guarded(path, lambda archive: _load_model(archive)[1])


def _load_model(archive: Archive | Unwritten) -> tuple[Sequential, dict[str, Any]]:
    description = archive.description()
    version = _check_format(description, MODEL_FORMAT, _MODEL_KEYS)
    spec = _ModelSpec(description["model"], buffers=version >= 2)
    if not isinstance(description["metadata"], dict):
        raise InvalidFileError(
            f"metadata must be a JSON object, got {_kind(description['metadata'])}"
        )
    model = spec.build(archive.arrays(spec.arrays))
    return model, description


# --- checkpoints -------------------------------------------------------------------------


@dataclass
class Checkpoint:
    """A training state: continue with ``model.fit(..., optimizer=optimizer, seed=rng)``.

    ``epoch`` counts the completed epochs; ``history`` maps metric names to per-epoch values;
    ``extra`` is the JSON data given to :func:`save_checkpoint`, ``callbacks`` the callbacks'
    states by name (JSON data and arrays)."""

    model: Sequential
    optimizer: Optimizer
    rng: np.random.Generator
    epoch: int
    history: dict[str, list[float]]
    extra: Any = None
    callbacks: dict[str, Any] = field(default_factory=dict)


def save_checkpoint(
    path: PathLike,
    model: Sequential,
    optimizer: Optimizer,
    rng: np.random.Generator,
    epoch: int,
    history: dict[str, list[float]],
    extra: Any = None,
    callbacks: dict[str, Any] | None = None,
) -> None:
    """Write a training state to ``path`` as one ``.npz``, atomically: the model, the
    optimiser (hyper-parameters, step count ``t`` and its state arrays), the generator driving
    shuffling and dropout, the number of completed epochs, the history, ``extra`` (JSON) and
    ``callbacks`` (the callbacks' states by name: JSON data and floating-point arrays).
    Raises TypeError or ValueError, writing nothing, for anything :func:`load_checkpoint`
    would refuse."""
    model_description, arrays = _describe_model(model)
    if type(optimizer) not in _OPTIMIZER_TYPES.values():
        raise TypeError(
            f"optimizer must be one of {sorted(_OPTIMIZER_TYPES)}, got {type(optimizer).__name__}"
        )
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if rng.bit_generator.state["bit_generator"] not in BIT_GENERATORS:
        raise TypeError(f"rng's bit generator must be one of {BIT_GENERATORS}")
    if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 0:
        raise ValueError(f"epoch must be an integer >= 0 (completed epochs), got {epoch!r}")
    t = optimizer.t
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
        raise ValueError(f"optimizer.t must be an integer >= 0 (steps taken), got {t!r}")
    params = model.parameters()
    for slot, states in optimizer.state.items():
        if len(states) != len(params):
            raise ValueError(
                f"optimizer state {slot!r} has {len(states)} arrays, the model has "
                f"{len(params)} parameters: was the optimizer used with another model?"
            )
        for k, (state, p) in enumerate(zip(states, params, strict=True)):
            if state.shape != p.shape or state.dtype != p.dtype:
                raise ValueError(
                    f"optimizer state {slot!r}[{k}] is {state.dtype} {state.shape}, its parameter "
                    f"is {p.dtype} {p.shape}: was the optimizer used with another model?"
                )
            _check_finite(state, f"optimizer state {slot!r}[{k}]")
            arrays[f"optimizer.{slot}.{k}"] = state
    if callbacks is not None and not isinstance(callbacks, dict):
        raise TypeError(f"callbacks must be a dict of states, got {type(callbacks).__name__}")
    callback_states = _json_data(_store_arrays(callbacks or {}, arrays, "callbacks"), "callbacks")
    description = {
        **_header(CHECKPOINT_FORMAT, CHECKPOINT_VERSION),
        "model": model_description,
        "optimizer": {
            "type": type(optimizer).__name__,
            "config": optimizer.config(),
            "t": int(optimizer.t),
            "state": list(optimizer.state),
        },
        "rng": _json_data(rng.bit_generator.state, "rng state"),
        "epoch": int(epoch),
        "history": _json_data(_check_history(history), "history"),
        "extra": _json_data(extra, "extra"),
        "callbacks": callback_states,
    }
    _write(path, description, arrays, _load_checkpoint)


def load_checkpoint(path: PathLike) -> Checkpoint:
    """The training state saved at ``path`` by :func:`save_checkpoint`."""
    return _guarded(path, _load_checkpoint)


def _load_checkpoint(archive: Archive | Unwritten) -> Checkpoint:
    description = archive.description()
    version = _check_format(description, CHECKPOINT_FORMAT, _CHECKPOINT_KEYS, CHECKPOINT_VERSION)
    if version == 1:
        description["callbacks"] = {}
    spec = _ModelSpec(description["model"], buffers=version >= 3)
    optimizer, slots = _parse_optimizer(description["optimizer"])
    rng = _parse_rng(description["rng"])
    epoch = _get(description, "epoch", int, "the description")
    if epoch < 0:
        raise InvalidFileError(f"epoch must be >= 0, got {epoch}")
    history = _parse_history(description["history"])

    expected = dict(spec.arrays)
    param_arrays = list(spec.param_arrays.items())
    for slot in slots:
        for k, (_, shape_and_dtype) in enumerate(param_arrays):
            expected[f"optimizer.{slot}.{k}"] = shape_and_dtype
    if not isinstance(description["callbacks"], dict):
        raise InvalidFileError(
            f"callbacks must be a JSON object, got {_kind(description['callbacks'])}"
        )
    _expect_arrays(description["callbacks"], expected, "callbacks")
    arrays = archive.arrays(expected)
    model = spec.build(arrays)
    optimizer.state = {
        slot: [arrays[f"optimizer.{slot}.{k}"] for k in range(len(param_arrays))] for slot in slots
    }
    callbacks = _load_arrays(description["callbacks"], arrays)
    return Checkpoint(model, optimizer, rng, epoch, history, description["extra"], callbacks)


# --- describing a model ------------------------------------------------------------------


def _header(file_format: str, version: int = FORMAT_VERSION) -> dict[str, Any]:
    return {"format": file_format, "format_version": version, "numpynn_version": __version__}


def _store_arrays(value: Any, arrays: dict[str, Array], where: str) -> Any:
    """``value`` with each NumPy array (not a scalar) put into ``arrays`` as ``callbacks.{k}``
    and replaced by its reference {ARRAY: name, "shape", "dtype"}."""
    if isinstance(value, np.ndarray) and value.ndim:
        if value.dtype.name not in FLOAT_DTYPES:
            raise TypeError(f"{where} is a {value.dtype} array; checkpoints store {FLOAT_DTYPES}")
        _check_finite(value, where)
        name = f"callbacks.{sum(key.startswith('callbacks.') for key in arrays)}"
        arrays[name] = value
        return {ARRAY: name, "shape": list(value.shape), "dtype": value.dtype.name}
    if isinstance(value, dict):
        return {k: _store_arrays(v, arrays, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_store_arrays(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _array_references(value: Any) -> list[dict[str, Any]]:
    """The array references in the JSON data ``value``."""
    if isinstance(value, dict):
        if ARRAY in value:
            return [value]
        return [ref for v in value.values() for ref in _array_references(v)]
    if isinstance(value, list):
        return [ref for v in value for ref in _array_references(v)]
    return []


def _expect_arrays(
    value: Any, expected: dict[str, tuple[tuple[int, ...], str]], where: str
) -> None:
    """Add the arrays that ``value``'s references describe to ``expected``."""
    for ref in _array_references(value):
        _check_keys(ref, {ARRAY, "shape", "dtype"}, f"{where}: an array reference")
        name = ref[ARRAY]
        if not isinstance(name, str) or not name.startswith("callbacks.") or name in expected:
            raise InvalidFileError(f"{where}: bad or repeated array name {_short(name)}")
        shape, dtype = ref["shape"], ref["dtype"]
        if not isinstance(shape, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            raise InvalidFileError(
                f"{where}: {name} shape must list sizes >= 0, got {_short(shape)}"
            )
        if dtype not in FLOAT_DTYPES:
            raise InvalidFileError(f"{where}: {name} dtype must be one of {FLOAT_DTYPES}")
        expected[name] = (tuple(shape), dtype)


def _load_arrays(value: Any, arrays: dict[str, Array]) -> Any:
    """``value`` with each array reference replaced by its array."""
    if isinstance(value, dict):
        if ARRAY in value:
            return arrays[value[ARRAY]]
        return {k: _load_arrays(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_load_arrays(v, arrays) for v in value]
    return value


def _describe_model(model: Sequential) -> tuple[dict[str, Any], dict[str, Array]]:
    """The model's JSON description and its parameter and buffer arrays by name."""
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a numpynn Sequential, got {type(model).__name__}")
    layers, arrays = [], {}
    for i, layer in enumerate(model.layers):
        name = type(layer).__name__
        if LAYER_TYPES.get(name) is not type(layer):
            raise TypeError(
                f"layer {i} is a {name}, which model files cannot store; they store the layer "
                f"types {sorted(LAYER_TYPES)}"
            )
        entry: dict[str, Any] = {"type": name, "config": layer.config()}
        for kind in ("params", "buffers"):
            entry[kind] = {}
            for p in getattr(layer, kind):
                array = getattr(layer, p)
                if array.dtype.name not in FLOAT_DTYPES:
                    raise TypeError(f"layer {i} ({name}) {p} must be one of {FLOAT_DTYPES}")
                _check_finite(array, f"layer {i} ({name}) {p}")
                entry[kind][p] = {"shape": list(array.shape), "dtype": array.dtype.name}
                arrays[f"layers.{i}.{p}"] = array
        layers.append(entry)
    loss = None
    if model.loss is not None:
        if type(model.loss) not in _LOSS_TYPES.values():
            raise TypeError(f"the model's loss must be one of {sorted(_LOSS_TYPES)}")
        loss = {"type": type(model.loss).__name__, "config": model.loss.config()}
    dtype = None if model.dtype is None else model.dtype.name
    return {"dtype": dtype, "layers": layers, "loss": loss}, arrays


def _write(
    path: PathLike,
    description: dict[str, Any],
    arrays: dict[str, Array],
    read: Callable[[Unwritten], object],
) -> None:
    """Write the file atomically, once ``read``, its loader, accepts it in memory: a save
    refuses (ValueError) whatever the load would refuse, and never writes a file it cannot read."""
    try:
        read(Unwritten(description, arrays))
    except InvalidFileError as exc:
        raise ValueError(f"cannot save {os.fspath(path)}: load would refuse it: {exc}") from None
    _archive.write(path, description, arrays)


def _check_finite(array: Array, what: str) -> None:
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contains NaN or infinite values; such a file could not be loaded")


def _check_history(history: Any) -> dict[str, list[float]]:
    message = "history must be a dict mapping metric names to lists of numbers"
    if not isinstance(history, dict) or not all(isinstance(k, str) for k in history):
        raise TypeError(message)
    for key, values in history.items():
        if not isinstance(values, list | tuple | np.ndarray) or not all(
            isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_) for v in values
        ):
            raise TypeError(f"{message}; history[{key!r}] is {_short(values)}")
    return {k: [float(v) for v in values] for k, values in history.items()}


def _json_data(value: Any, where: str) -> Any:
    """``value`` as plain JSON data (tuples and arrays become lists, NumPy scalars numbers);
    TypeError naming the place of anything else, ValueError for NaN or infinity."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.ndarray):
        return _json_data(value.tolist(), where)
    if isinstance(value, np.generic):
        return _json_data(value.item(), where)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} holds {value}, which JSON cannot store")
        return float(value)
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"{where} has the key {key!r}; JSON keys must be strings")
        return {k: _json_data(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_data(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{where} holds a {type(value).__name__}, which is not JSON data")


# --- validating a description ------------------------------------------------------------


def _guarded(path: PathLike, read: Callable[[Archive], T]) -> T:
    try:
        with Archive(path) as archive:
            return read(archive)
    except InvalidFileError as exc:
        raise FileFormatError(f"cannot load {os.fspath(path)}: {exc}") from None


def _check_format(
    description: dict[str, Any], file_format: str, keys: set[str], latest: int = FORMAT_VERSION
) -> int:
    """The format name and version (at most ``latest``) first, so a future file gets the
    clearest message, then exactly the expected top-level keys; returns the version. Version 1
    checkpoints have no "callbacks"."""
    found = description.get("format")
    if found != file_format:
        if found == CHECKPOINT_FORMAT:
            raise InvalidFileError(
                "it is a numpynn checkpoint: load it with numpynn.io.load_checkpoint"
            )
        if found == MODEL_FORMAT:
            raise InvalidFileError("it is a numpynn model file: load it with numpynn.load")
        raise InvalidFileError(f"format must be {file_format!r}, got {_short(found)}")
    version = _get(description, "format_version", int, "the description")
    written_by = description.get("numpynn_version")
    if version > latest:
        raise InvalidFileError(
            f"it has format version {version} (written by numpynn {_short(written_by)}); this "
            f"numpynn ({__version__}) reads format version {latest}: upgrade numpynn"
        )
    if version < 1:
        raise InvalidFileError(f"format_version must be >= 1, got {version}")
    _get(description, "numpynn_version", str, "the description")
    _check_keys(description, keys - {"callbacks"} if version == 1 else keys, "the description")
    return version


class _ModelSpec:
    """A validated model description: what arrays to expect and how to build the model.
    ``buffers``: the layers list their buffers (format version 2; version 1 had none)."""

    def __init__(self, description: Any, *, buffers: bool = True) -> None:
        model = _as_dict(description, "model", {"dtype", "layers", "loss"})
        entries = _get(model, "layers", list, "model")
        self.layers: list[tuple[type[Layer], dict[str, Any]]] = []
        self.arrays: dict[str, tuple[tuple[int, ...], str]] = {}  # parameters and buffers
        self.param_arrays: dict[str, tuple[tuple[int, ...], str]] = {}  # in parameters() order
        width = None
        for i, entry in enumerate(entries):
            where = f"model.layers[{i}]"
            keys = {"type", "config", "params"} | ({"buffers"} if buffers else set())
            entry = _as_dict(entry, where, keys)
            cls = _lookup(entry["type"], LAYER_TYPES, f"{where}.type", "layer type")
            if not buffers and cls.buffers:
                raise InvalidFileError(
                    f"{where} is a {cls.__name__}, whose buffers a version-1 file cannot hold"
                )
            config = _get(entry, "config", dict, where)
            shapes = {}
            for kind in ("params", "buffers") if buffers else ("params",):
                names = getattr(cls, kind)
                listed = _as_dict(entry[kind], f"{where}.{kind}", set(names))
                for p in names:
                    shapes[p] = self._param(listed[p], f"layers.{i}.{p}", f"{where}.{kind}.{p}")
                    if kind == "params":
                        self.param_arrays[f"layers.{i}.{p}"] = self.arrays[f"layers.{i}.{p}"]
            if cls is Dense:
                width = _check_dense(config, shapes, where, width)
            self.layers.append((cls, config))
        first_dtypes = [
            self.arrays[f"layers.{i}.{c.params[0]}"][1]
            for i, (c, _) in enumerate(self.layers)
            if c.params
        ]
        dtype = model["dtype"]
        if dtype != (first_dtypes[0] if first_dtypes else None):
            raise InvalidFileError(
                f"model.dtype is {_short(dtype)} but the first layer with parameters has "
                f"{first_dtypes[0] if first_dtypes else 'none'}"
            )
        self.loss = None
        if model["loss"] is not None:
            loss = _as_dict(model["loss"], "model.loss", {"type", "config"})
            loss_cls = _lookup(loss["type"], _LOSS_TYPES, "model.loss.type", "loss")
            self.loss = (loss_cls, _get(loss, "config", dict, "model.loss"))

    def _param(self, description: Any, name: str, where: str) -> tuple[int, ...]:
        param = _as_dict(description, where, {"shape", "dtype"})
        shape = _get(param, "shape", list, where)
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
            raise InvalidFileError(f"{where}.shape must list sizes >= 0, got {_short(shape)}")
        dtype = param["dtype"]
        if dtype not in FLOAT_DTYPES:
            raise InvalidFileError(
                f"{where}.dtype must be one of {FLOAT_DTYPES}, got {_short(dtype)}"
            )
        self.arrays[name] = (tuple(shape), dtype)
        return tuple(shape)

    def build(self, arrays: dict[str, Array]) -> Sequential:
        """The model, from the validated ``arrays`` (its parameters and buffers are those
        arrays, which must have the shapes and the dtype that the layer's settings give)."""
        layers = []
        for i, (cls, config) in enumerate(self.layers):
            where = f"model.layers[{i}]"
            kwargs = dict(config)
            if cls.params:  # Dense, Conv2D, BatchNorm: the dtype is their parameters'
                kwargs["dtype"] = arrays[f"layers.{i}.{cls.params[0]}"].dtype
            layer = _construct(cls, kwargs, config, f"{where}.config")
            for p in (*cls.params, *cls.buffers):
                array, made = arrays[f"layers.{i}.{p}"], getattr(layer, p)
                if array.shape != made.shape or array.dtype != made.dtype:
                    raise InvalidFileError(
                        f"{where} is {layer!r}, so {p} must be {made.dtype} {made.shape}, but "
                        f"the file holds {array.dtype} {array.shape}"
                    )
                setattr(layer, p, array)
                if p in cls.params:
                    setattr(layer, "d" + p, np.zeros_like(array))
            if isinstance(layer, BatchNorm) and (layer.running_var < 0).any():
                raise InvalidFileError(f"{where} running_var must be >= 0 (a variance)")
            layers.append(layer)
        try:
            model = Sequential(*layers)
        except ShapeError as exc:
            raise InvalidFileError(f"the layers do not chain: {exc}") from None
        if self.loss is not None:
            loss_cls, config = self.loss
            model.loss = _construct(loss_cls, config, config, "model.loss.config")
        return model


def _check_dense(
    config: dict[str, Any], shapes: dict[str, tuple[int, ...]], where: str, width: int | None
) -> int:
    """A Dense layer's W: (n_in, n_out) and b: (n_out,) must agree with its config and with the
    layer before; returns its output width."""
    n_in, n_out = config.get("n_in"), config.get("n_out")
    for key, n in (("n_in", n_in), ("n_out", n_out)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidFileError(f"{where}.config.{key} must be an integer >= 1, got {_short(n)}")
    assert isinstance(n_in, int) and isinstance(n_out, int)
    if shapes["W"] != (n_in, n_out) or shapes["b"] != (n_out,):
        raise InvalidFileError(
            f"{where} is Dense({n_in}, {n_out}), so W must be ({n_in}, {n_out}) and b "
            f"({n_out},), but the description lists W {shapes['W']} and b {shapes['b']}"
        )
    if width is not None and n_in != width:
        raise InvalidFileError(
            f"{where} takes {n_in} inputs but the layer before it outputs {width}"
        )
    return n_out


def _parse_optimizer(description: Any) -> tuple[Optimizer, list[str]]:
    opt = _as_dict(description, "optimizer", {"type", "config", "t", "state"})
    cls = _lookup(opt["type"], _OPTIMIZER_TYPES, "optimizer.type", "optimizer")
    config = _get(opt, "config", dict, "optimizer")
    optimizer = _construct(cls, config, config, "optimizer.config")
    t = _get(opt, "t", int, "optimizer")
    slots = _get(opt, "state", list, "optimizer")
    if t < 0:
        raise InvalidFileError(f"optimizer.t must be >= 0, got {t}")
    if slots and slots != list(optimizer.slots):
        raise InvalidFileError(
            f"optimizer.state must list {list(optimizer.slots)} (or nothing) for "
            f"{cls.__name__}, got {_short(slots)}"
        )
    optimizer.t = t
    return optimizer, slots


def _parse_rng(state: Any) -> np.random.Generator:
    if not isinstance(state, dict):
        raise InvalidFileError(f"rng must be a JSON object, got {_kind(state)}")
    name = state.get("bit_generator")
    if name not in BIT_GENERATORS:
        raise InvalidFileError(
            f"rng.bit_generator must be one of {BIT_GENERATORS}, got {_short(name)}"
        )
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = state
        restored = _json_data(bit_generator.state, "rng")
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        raise InvalidFileError(f"rng is not a valid {name} state ({exc})") from None
    if restored != state:
        raise InvalidFileError(f"rng is not a valid {name} state (it does not round-trip)")
    return np.random.Generator(bit_generator)


def _parse_history(history: Any) -> dict[str, list[float]]:
    if not isinstance(history, dict):
        raise InvalidFileError(f"history must be a JSON object, got {_kind(history)}")
    for key, values in history.items():
        if not isinstance(values, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        ):
            raise InvalidFileError(f"history[{key!r}] must be a list of numbers")
    return {key: [float(v) for v in values] for key, values in history.items()}


def _construct(cls: type[T], kwargs: dict[str, Any], config: dict[str, Any], where: str) -> T:
    """``cls(**kwargs)``, whose ``config()`` must give back ``config`` exactly."""
    try:
        obj = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise InvalidFileError(
            f"{where} {_short(config)} is not valid for {cls.__name__}: {exc}"
        ) from None
    again = obj.config()  # type: ignore[attr-defined]
    same = again.keys() == config.keys() and all(
        again[k] == config[k] and isinstance(again[k], bool) == isinstance(config[k], bool)
        for k in config
    )
    if not same:
        raise InvalidFileError(
            f"{where} must be {cls.__name__}'s settings {again}, got {_short(config)}"
        )
    return obj


def _lookup(name: Any, known: dict[str, T], where: str, what: str) -> T:
    if not isinstance(name, str) or name not in known:
        raise InvalidFileError(f"{where}: unknown {what} {_short(name)} (known: {sorted(known)})")
    return known[name]


def _as_dict(value: Any, where: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidFileError(f"{where} must be a JSON object, got {_kind(value)}")
    _check_keys(value, keys, where)
    return value


def _check_keys(value: dict[str, Any], keys: set[str], where: str) -> None:
    missing, extra = sorted(keys - value.keys()), sorted(value.keys() - keys)
    if missing:
        raise InvalidFileError(f"{where} lacks {', '.join(map(repr, missing))}")
    if extra:
        raise InvalidFileError(f"{where} has unknown field(s) {', '.join(map(repr, extra[:5]))}")


def _get(value: dict[str, Any], key: str, kind: type[T], where: str) -> T:
    if key not in value:
        raise InvalidFileError(f"{where} lacks {key!r}")
    item = value[key]
    if not isinstance(item, kind) or (kind is int and isinstance(item, bool)):
        raise InvalidFileError(f"{where}.{key} must be a JSON {kind.__name__}, got {_kind(item)}")
    return item


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {_short(value)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
