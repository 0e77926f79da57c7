"""What model files and checkpoints share: the model's JSON description (written from a
``Sequential``, validated and built back into one), the header with format name and version,
the checks of JSON data, and the write that refuses what the loader would refuse.

Every problem found in a file raises :class:`~numpynn.io.archive.InvalidFileError`, which the
public loaders turn into a :class:`~numpynn.errors.FileFormatError` naming the file.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from .._typing import Array
from .._version import __version__
from ..errors import FileFormatError, ShapeError
from ..layers import LAYER_TYPES, Layer
from ..layers.base import get_array, grad_name, set_array
from ..losses import LOSSES, Loss
from ..model import Sequential
from . import archive
from .archive import FLOAT_DTYPES, Archive, InvalidFileError, Unwritten

MODEL_FORMAT = "numpynn-model"

CHECKPOINT_FORMAT = "numpynn-checkpoint"

# Model files: version 1 had no "buffers" in a layer's entry; version 2 adds them (BatchNorm).
FORMAT_VERSION = 2

LOSS_TYPES: dict[str, type[Loss]] = {cls.__name__: cls for cls in LOSSES.values()}

PathLike = str | os.PathLike[str]

T = TypeVar("T")


def header(file_format: str, version: int = FORMAT_VERSION) -> dict[str, Any]:
    return {"format": file_format, "format_version": version, "numpynn_version": __version__}


def describe_model(model: Sequential) -> tuple[dict[str, Any], dict[str, Array]]:
    """The model's JSON description and its parameter and buffer arrays by name."""
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a numpynn Sequential, got {type(model).__name__}")
    layers, arrays = [], {}
    for i, layer in enumerate(model.layers):
        name = type(layer).__name__
        registered = LAYER_TYPES.get(name)
        if registered is None:
            raise TypeError(
                f"layer {i} is a {name}, a class whose name starts with '_': model files name "
                "layers by class, and such names are not registered; give the class a public name"
            )
        if registered is not type(layer):
            raise TypeError(
                f"layer {i} is a {type(layer).__module__}.{name}, but the layer type {name} that "
                f"a model file would name is {registered.__module__}.{name} (defined later): "
                "give the two classes different names"
            )
        entry: dict[str, Any] = {"type": name, "config": layer.config()}
        for kind in ("params", "buffers"):
            entry[kind] = {}
            for p in getattr(layer, kind):
                array = get_array(layer, p)
                if array.dtype.name not in FLOAT_DTYPES:
                    raise TypeError(f"layer {i} ({name}) {p} must be one of {FLOAT_DTYPES}")
                check_finite(array, f"layer {i} ({name}) {p}")
                entry[kind][p] = {"shape": list(array.shape), "dtype": array.dtype.name}
                arrays[f"layers.{i}.{p}"] = array
        layers.append(entry)
    loss = None
    if model.loss is not None:
        if type(model.loss) not in LOSS_TYPES.values():
            raise TypeError(f"the model's loss must be one of {sorted(LOSS_TYPES)}")
        loss = {"type": type(model.loss).__name__, "config": model.loss.config()}
    dtype = None if model.dtype is None else model.dtype.name
    return {"dtype": dtype, "layers": layers, "loss": loss}, arrays


def write_checked(
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
    archive.write(path, description, arrays)


def check_finite(array: Array, what: str) -> None:
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contains NaN or infinite values; such a file could not be loaded")


def json_data(value: Any, where: str) -> Any:
    """``value`` as plain JSON data (tuples and arrays become lists, NumPy scalars numbers);
    TypeError naming the place of anything else, ValueError for NaN or infinity."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.ndarray):
        return json_data(value.tolist(), where)
    if isinstance(value, np.generic):
        return json_data(value.item(), where)
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
        return {k: json_data(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_data(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{where} holds a {type(value).__name__}, which is not JSON data")


def guarded(path: PathLike, read: Callable[[Archive], T]) -> T:
    try:
        with Archive(path) as archive:
            return read(archive)
    except InvalidFileError as exc:
        raise FileFormatError(f"cannot load {os.fspath(path)}: {exc}") from None


def check_format(
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
        raise InvalidFileError(f"format must be {file_format!r}, got {short(found)}")
    version = get_field(description, "format_version", int, "the description")
    written_by = description.get("numpynn_version")
    if version > latest:
        raise InvalidFileError(
            f"it has format version {version} (written by numpynn {short(written_by)}); this "
            f"numpynn ({__version__}) reads format version {latest}: upgrade numpynn"
        )
    if version < 1:
        raise InvalidFileError(f"format_version must be >= 1, got {version}")
    get_field(description, "numpynn_version", str, "the description")
    check_keys(description, keys - {"callbacks"} if version == 1 else keys, "the description")
    return version


class ModelSpec:
    """A validated model description: what arrays to expect and how to build the model.
    ``buffers``: the layers list their buffers (format version 2; version 1 had none)."""

    def __init__(self, description: Any, *, buffers: bool = True) -> None:
        model = as_dict(description, "model", {"dtype", "layers", "loss"})
        entries = get_field(model, "layers", list, "model")
        self.layers: list[tuple[type[Layer], dict[str, Any]]] = []
        self.arrays: dict[str, tuple[tuple[int, ...], str]] = {}  # parameters and buffers
        self.param_arrays: dict[str, tuple[tuple[int, ...], str]] = {}  # in parameters() order
        for i, entry in enumerate(entries):
            where = f"model.layers[{i}]"
            keys = {"type", "config", "params"} | ({"buffers"} if buffers else set())
            entry = as_dict(entry, where, keys)
            hint = ": define (import) its Layer subclass before loading"
            cls = lookup(entry["type"], LAYER_TYPES, f"{where}.type", "layer type", hint)
            if not buffers and cls.buffers:
                raise InvalidFileError(
                    f"{where} is a {cls.__name__}, whose buffers a version-1 file cannot hold"
                )
            config = get_field(entry, "config", dict, where)
            for kind in ("params", "buffers") if buffers else ("params",):
                names = getattr(cls, kind)
                listed = as_dict(entry[kind], f"{where}.{kind}", set(names))
                for p in names:
                    self._param(listed[p], f"layers.{i}.{p}", f"{where}.{kind}.{p}")
                    if kind == "params":
                        self.param_arrays[f"layers.{i}.{p}"] = self.arrays[f"layers.{i}.{p}"]
            self.layers.append((cls, config))
        first_dtypes = [
            self.arrays[f"layers.{i}.{c.params[0]}"][1]
            for i, (c, _) in enumerate(self.layers)
            if c.params
        ]
        dtype = model["dtype"]
        if dtype != (first_dtypes[0] if first_dtypes else None):
            raise InvalidFileError(
                f"model.dtype is {short(dtype)} but the first layer with parameters has "
                f"{first_dtypes[0] if first_dtypes else 'none'}"
            )
        self.loss = None
        if model["loss"] is not None:
            loss = as_dict(model["loss"], "model.loss", {"type", "config"})
            loss_cls = lookup(loss["type"], LOSS_TYPES, "model.loss.type", "loss")
            self.loss = (loss_cls, get_field(loss, "config", dict, "model.loss"))

    def _param(self, description: Any, name: str, where: str) -> None:
        param = as_dict(description, where, {"shape", "dtype"})
        shape = get_field(param, "shape", list, where)
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
            raise InvalidFileError(f"{where}.shape must list sizes >= 0, got {short(shape)}")
        dtype = param["dtype"]
        if dtype not in FLOAT_DTYPES:
            raise InvalidFileError(
                f"{where}.dtype must be one of {FLOAT_DTYPES}, got {short(dtype)}"
            )
        self.arrays[name] = (tuple(shape), dtype)

    def build(self, arrays: dict[str, Array]) -> Sequential:
        """The model, from the validated ``arrays`` (its parameters and buffers are those
        arrays, which must have the shapes and the dtype that the layer's settings give)."""
        layers = []
        for i, (cls, config) in enumerate(self.layers):
            where = f"model.layers[{i}]"
            kwargs = dict(config)
            if cls.params and "dtype" in inspect.signature(cls).parameters:
                kwargs["dtype"] = arrays[f"layers.{i}.{cls.params[0]}"].dtype  # its parameters'
            check_sizes(config, [arrays[f"layers.{i}.{p}"] for p in (*cls.params, *cls.buffers)],
                        f"{where}.config")  # fmt: skip
            layer = construct(cls, kwargs, config, f"{where}.config")
            for p in (*cls.params, *cls.buffers):
                array, made = arrays[f"layers.{i}.{p}"], get_array(layer, p)
                if array.shape != made.shape or array.dtype != made.dtype:
                    raise InvalidFileError(
                        f"{where} is {layer!r}, so {p} must be {made.dtype} {made.shape}, but "
                        f"the file holds {array.dtype} {array.shape}"
                    )
                set_array(layer, p, array)
                if p in cls.params:
                    set_array(layer, grad_name(p), np.zeros_like(array))
            try:
                layer.check_state()
            except ValueError as exc:
                raise InvalidFileError(f"{where}: {exc}") from None
            layers.append(layer)
        if not layers:
            raise InvalidFileError("the file holds no layers: a model has at least one")
        try:
            model = Sequential(*layers)
        except ShapeError as exc:
            raise InvalidFileError(f"the layers do not chain: {exc}") from None
        if self.loss is not None:
            loss_cls, config = self.loss
            model.loss = construct(loss_cls, config, config, "model.loss.config")
        return model


def check_sizes(config: dict[str, Any], stored: list[Array], where: str) -> None:
    """Refuse, before the layer is built, a size in ``config`` (an integer setting) far larger
    than every axis of the arrays the file holds for the layer (more than twice the longest,
    plus 64): a tampered setting such as n_out = 10**9 would otherwise allocate gigabytes
    before the shapes are compared. A size a little off is left to that comparison, whose
    message names the shapes."""
    if not stored:
        return
    longest = max((n for array in stored for n in array.shape), default=0)
    too_big = {
        k: v
        for k, v in config.items()
        if isinstance(v, int) and not isinstance(v, bool) and v > 2 * longest + 64
    }
    if too_big:
        raise InvalidFileError(
            f"{where} gives {short(too_big)}, far larger than the layer's arrays (their "
            f"longest axis: {longest})"
        )


def construct(cls: type[T], kwargs: dict[str, Any], config: dict[str, Any], where: str) -> T:
    """``cls(**kwargs)``, whose ``config()`` must give back ``config`` exactly."""
    try:
        obj = cls(**kwargs)
    except (TypeError, ValueError, MemoryError) as exc:  # MemoryError: a tampered size
        raise InvalidFileError(
            f"{where} {short(config)} is not valid for {cls.__name__}: {exc}"
        ) from None
    again = obj.config()  # type: ignore[attr-defined]
    same = again.keys() == config.keys() and all(
        again[k] == config[k] and isinstance(again[k], bool) == isinstance(config[k], bool)
        for k in config
    )
    if not same:
        raise InvalidFileError(
            f"{where} must be {cls.__name__}'s settings {again}, got {short(config)}"
        )
    return obj


def lookup(name: Any, known: dict[str, T], where: str, what: str, hint: str = "") -> T:
    if not isinstance(name, str) or name not in known:
        raise InvalidFileError(
            f"{where}: unknown {what} {short(name)}{hint} (known: {sorted(known)})"
        )
    return known[name]


def as_dict(value: Any, where: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidFileError(f"{where} must be a JSON object, got {kind_of(value)}")
    check_keys(value, keys, where)
    return value


def check_keys(value: dict[str, Any], keys: set[str], where: str) -> None:
    missing, extra = sorted(keys - value.keys()), sorted(value.keys() - keys)
    if missing:
        raise InvalidFileError(f"{where} lacks {', '.join(map(repr, missing))}")
    if extra:
        raise InvalidFileError(f"{where} has unknown field(s) {', '.join(map(repr, extra[:5]))}")


def get_field(value: dict[str, Any], key: str, kind: type[T], where: str) -> T:
    if key not in value:
        raise InvalidFileError(f"{where} lacks {key!r}")
    item = value[key]
    if not isinstance(item, kind) or (kind is int and isinstance(item, bool)):
        raise InvalidFileError(f"{where}.{key} must be a JSON {kind.__name__}, got {kind_of(item)}")
    return item


def kind_of(value: Any) -> str:
    return f"{type(value).__name__} {short(value)}"


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
