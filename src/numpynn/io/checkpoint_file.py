"""Checkpoints: a whole training state (model, optimiser, random generator, epoch, history and
the callbacks' states) in one ``.npz``, so that a resumed run is bit-identical to one that
was never interrupted (docs/model-files.md)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._typing import Array
from ..model import Sequential
from ..optimizers import OPTIMIZERS, Optimizer
from .archive import FLOAT_DTYPES, Archive, InvalidFileError, Unwritten
from .schema import (
    CHECKPOINT_FORMAT,
    ModelSpec,
    PathLike,
    as_dict,
    check_finite,
    check_format,
    check_keys,
    construct,
    describe_model,
    get_field,
    guarded,
    header,
    json_data,
    kind_of,
    lookup,
    short,
    write_checked,
)

# Checkpoints: version 1 (numpynn 0.1.0) had no "callbacks"; version 2 adds their states;
# version 3 holds a version-2 model description (layers with "buffers").
CHECKPOINT_VERSION = 3

BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")

_OPTIMIZER_TYPES: dict[str, type[Optimizer]] = {cls.__name__: cls for cls in OPTIMIZERS.values()}

_CHECKPOINT_KEYS = {"format", "format_version", "numpynn_version", "model", "optimizer", "rng"}

_CHECKPOINT_KEYS |= {"epoch", "history", "extra", "callbacks"}

ARRAY = "__array__"  # {"__array__": name, "shape": [...], "dtype": ...}: an array in callbacks


@dataclass
class Checkpoint:
    """A training state: continue with ``model.fit(..., optimizer=optimizer, seed=rng)``.

    ``epoch`` counts the completed epochs; ``history`` maps metric names to per-epoch values;
    ``extra`` is the JSON data given to :func:`save_checkpoint`, ``callbacks`` the callbacks'
    states by name (JSON data and arrays).

    Parameters
    ----------
    model : Sequential
        The model, with its parameters and buffers.
    optimizer : Optimizer
        The optimiser, with its step count ``t`` and state arrays.
    rng : numpy.random.Generator
        The generator driving shuffling and dropout, in its saved state.
    epoch : int
        Completed epochs.
    history : dict of str to list of float
        Each metric's value per completed epoch.
    extra : object, optional
        JSON data given to :func:`save_checkpoint`.
    callbacks : dict of str to dict
        The callbacks' states by name.
    """

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
    would refuse.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (replaced whole or not at all).
    model : Sequential
        The model being trained.
    optimizer : Optimizer
        Its optimiser (a built-in type), with state arrays of the model's parameters' shapes.
    rng : numpy.random.Generator
        The generator of the run.
    epoch : int
        Completed epochs (>= 0).
    history : dict of str to list of float
        Each metric's value per completed epoch.
    extra : object, optional
        JSON data kept with the state.
    callbacks : dict, optional
        The callbacks' states by name (:func:`numpynn.checkpoint.callback_states`).

    Raises
    ------
    TypeError, ValueError
        For an optimiser, generator, epoch, history, state or JSON data that cannot be saved
        (e.g. an optimiser state that does not match the model, a non-finite value).
    OSError
        When the file cannot be written.
    """
    model_description, arrays = describe_model(model)
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
            check_finite(state, f"optimizer state {slot!r}[{k}]")
            arrays[f"optimizer.{slot}.{k}"] = state
    if callbacks is not None and not isinstance(callbacks, dict):
        raise TypeError(f"callbacks must be a dict of states, got {type(callbacks).__name__}")
    callback_states = json_data(_store_arrays(callbacks or {}, arrays, "callbacks"), "callbacks")
    description = {
        **header(CHECKPOINT_FORMAT, CHECKPOINT_VERSION),
        "model": model_description,
        "optimizer": {
            "type": type(optimizer).__name__,
            "config": optimizer.config(),
            "t": int(optimizer.t),
            "state": list(optimizer.state),
        },
        "rng": json_data(rng.bit_generator.state, "rng state"),
        "epoch": int(epoch),
        "history": json_data(_check_history(history), "history"),
        "extra": json_data(extra, "extra"),
        "callbacks": callback_states,
    }
    write_checked(path, description, arrays, _load_checkpoint)


def load_checkpoint(path: PathLike) -> Checkpoint:
    """The training state saved at ``path`` by :func:`save_checkpoint`.

    Parameters
    ----------
    path : str or os.PathLike
        A checkpoint file (``.npz``). No pickle: only arrays and JSON.

    Returns
    -------
    Checkpoint
        The model, optimiser, generator, epoch, history, extra data and callback states.

    Raises
    ------
    FileFormatError
        If the file is truncated, corrupt, tampered with, or of an unknown format or version.
    FileNotFoundError
        If there is no file at ``path``.
    """
    return guarded(path, _load_checkpoint)


def _load_checkpoint(archive: Archive | Unwritten) -> Checkpoint:
    description = archive.description()
    version = check_format(description, CHECKPOINT_FORMAT, _CHECKPOINT_KEYS, CHECKPOINT_VERSION)
    if version == 1:
        description["callbacks"] = {}
    spec = ModelSpec(description["model"], buffers=version >= 3)
    optimizer, slots = _parse_optimizer(description["optimizer"])
    rng = _parse_rng(description["rng"])
    epoch = get_field(description, "epoch", int, "the description")
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
            f"callbacks must be a JSON object, got {kind_of(description['callbacks'])}"
        )
    _expect_arrays(description["callbacks"], expected, "callbacks")
    arrays = archive.arrays(expected)
    model = spec.build(arrays)
    optimizer.state = {
        slot: [arrays[f"optimizer.{slot}.{k}"] for k in range(len(param_arrays))] for slot in slots
    }
    callbacks = _load_arrays(description["callbacks"], arrays)
    return Checkpoint(model, optimizer, rng, epoch, history, description["extra"], callbacks)


def _store_arrays(value: Any, arrays: dict[str, Array], where: str) -> Any:
    """``value`` with each NumPy array (not a scalar) put into ``arrays`` as ``callbacks.{k}``
    and replaced by its reference {ARRAY: name, "shape", "dtype"}."""
    if isinstance(value, np.ndarray) and value.ndim:
        if value.dtype.name not in FLOAT_DTYPES:
            raise TypeError(f"{where} is a {value.dtype} array; checkpoints store {FLOAT_DTYPES}")
        check_finite(value, where)
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
        check_keys(ref, {ARRAY, "shape", "dtype"}, f"{where}: an array reference")
        name = ref[ARRAY]
        if not isinstance(name, str) or not name.startswith("callbacks.") or name in expected:
            raise InvalidFileError(f"{where}: bad or repeated array name {short(name)}")
        shape, dtype = ref["shape"], ref["dtype"]
        if not isinstance(shape, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            raise InvalidFileError(
                f"{where}: {name} shape must list sizes >= 0, got {short(shape)}"
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


def _check_history(history: Any) -> dict[str, list[float]]:
    message = "history must be a dict mapping metric names to lists of numbers"
    if not isinstance(history, dict) or not all(isinstance(k, str) for k in history):
        raise TypeError(message)
    for key, values in history.items():
        if not isinstance(values, list | tuple | np.ndarray) or not all(
            isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_) for v in values
        ):
            raise TypeError(f"{message}; history[{key!r}] is {short(values)}")
    return {k: [float(v) for v in values] for k, values in history.items()}


def _parse_optimizer(description: Any) -> tuple[Optimizer, list[str]]:
    opt = as_dict(description, "optimizer", {"type", "config", "t", "state"})
    cls = lookup(opt["type"], _OPTIMIZER_TYPES, "optimizer.type", "optimizer")
    config = get_field(opt, "config", dict, "optimizer")
    optimizer = construct(cls, config, config, "optimizer.config")
    t = get_field(opt, "t", int, "optimizer")
    slots = get_field(opt, "state", list, "optimizer")
    if t < 0:
        raise InvalidFileError(f"optimizer.t must be >= 0, got {t}")
    if slots and slots != list(optimizer.slots):
        raise InvalidFileError(
            f"optimizer.state must list {list(optimizer.slots)} (or nothing) for "
            f"{cls.__name__}, got {short(slots)}"
        )
    optimizer.t = t
    return optimizer, slots


def _parse_rng(state: Any) -> np.random.Generator:
    if not isinstance(state, dict):
        raise InvalidFileError(f"rng must be a JSON object, got {kind_of(state)}")
    name = state.get("bit_generator")
    if name not in BIT_GENERATORS:
        raise InvalidFileError(
            f"rng.bit_generator must be one of {BIT_GENERATORS}, got {short(name)}"
        )
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = state
        restored = json_data(bit_generator.state, "rng")
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        raise InvalidFileError(f"rng is not a valid {name} state ({exc})") from None
    if restored != state:
        raise InvalidFileError(f"rng is not a valid {name} state (it does not round-trip)")
    return np.random.Generator(bit_generator)


def _parse_history(history: Any) -> dict[str, list[float]]:
    if not isinstance(history, dict):
        raise InvalidFileError(f"history must be a JSON object, got {kind_of(history)}")
    for key, values in history.items():
        if not isinstance(values, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        ):
            raise InvalidFileError(f"history[{key!r}] must be a list of numbers")
    return {key: [float(v) for v in values] for key, values in history.items()}
