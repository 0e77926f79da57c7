"""Model files: a model (layers, parameters, buffers, loss) and the user's metadata in one
``.npz``, saved atomically and loaded back bit for bit, never unpickled (docs/model-files.md).
"""

from __future__ import annotations

from typing import Any

from ..model import Sequential
from .archive import Archive, InvalidFileError, Unwritten
from .schema import (
    MODEL_FORMAT,
    ModelSpec,
    PathLike,
    check_format,
    describe_model,
    guarded,
    header,
    json_data,
    kind_of,
    write_checked,
)

_MODEL_KEYS = {"format", "format_version", "numpynn_version", "model", "metadata"}


def save(model: Sequential, path: PathLike, *, metadata: dict[str, Any] | None = None) -> None:
    """Write ``model`` (layers, parameters, loss) to ``path`` as one ``.npz``, atomically.

    Parameters
    ----------
    model : Sequential
        The model to save.
    path : str or os.PathLike
        The file to write (replaced whole or not at all).
    metadata : dict, optional
        JSON data kept with the model (class labels, training settings...): a dict with
        string keys holding dicts, lists, strings, finite numbers, booleans or None.

    Raises
    ------
    TypeError, ValueError
        For a model or metadata that cannot be saved, and ValueError for anything
        :func:`~numpynn.load` would refuse (e.g. a layer setting out of range).
    """
    model_description, arrays = describe_model(model)
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict (JSON object), got {type(metadata).__name__}")
    description = {
        **header(MODEL_FORMAT),
        "model": model_description,
        "metadata": json_data({} if metadata is None else metadata, "metadata"),
    }
    write_checked(path, description, arrays, _load_model)


def load(path: PathLike) -> Sequential:
    """The model saved at ``path`` by :func:`~numpynn.save`, exactly as it was saved.

    Parameters
    ----------
    path : str or os.PathLike
        A model file (``.npz``). No pickle: a file can hold only arrays and JSON.

    Returns
    -------
    Sequential
        The model, with its layers, parameters, buffers and loss.

    Raises
    ------
    FileFormatError
        If the file is truncated, corrupt, tampered with, or of an unknown format or version
        (the message names the file and what is wrong).
    FileNotFoundError
        If there is no file at ``path``.
    """
    return guarded(path, lambda archive: _load_model(archive)[0])


def load_metadata(path: PathLike) -> dict[str, Any]:
    """The JSON description of the model file at ``path``, after validating the whole file as
    :func:`~numpynn.load` does.

    Parameters
    ----------
    path : str or os.PathLike
        A model file (``.npz``).

    Returns
    -------
    dict
        Format, versions, layers, loss and the user's ``"metadata"``.

    Raises
    ------
    FileFormatError
        As :func:`~numpynn.load`.
    """
    return load_with_metadata(path)[1]


def load_with_metadata(path: PathLike) -> tuple[Sequential, dict[str, Any]]:
    """Both :func:`~numpynn.load`'s model and :func:`~numpynn.load_metadata`'s description,
    reading the file once.

    Parameters
    ----------
    path : str or os.PathLike
        A model file (``.npz``).

    Returns
    -------
    tuple of (Sequential, dict)
        The model, and the file's JSON description (format, versions, layers, loss and the
        user's ``"metadata"``).

    Raises
    ------
    FileFormatError
        As :func:`~numpynn.load`.
    FileNotFoundError
        If there is no file at ``path``.
    """
    return guarded(path, _load_model)


def _load_model(archive: Archive | Unwritten) -> tuple[Sequential, dict[str, Any]]:
    description = archive.description()
    version = check_format(description, MODEL_FORMAT, _MODEL_KEYS)
    spec = ModelSpec(description["model"], buffers=version >= 2)
    if not isinstance(description["metadata"], dict):
        raise InvalidFileError(
            f"metadata must be a JSON object, got {kind_of(description['metadata'])}"
        )
    model = spec.build(archive.arrays(spec.arrays))
    return model, description
