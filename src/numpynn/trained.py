"""A trained model read from its file, with what its metadata says. A classifier: the
dataset it was trained on, its class names, the shape of its input pictures and how a photo is
prepared for it. A language model: its character vocabulary, and for a model of words (names)
the token that starts and ends each word. The one loader of ``numpynn evaluate``, ``numpynn
predict``, ``numpynn generate`` and ``numpynn serve``::

    trained = load_trained("runs/mnist/model.npz")
    trained.classes                   # ["0", "1", ..., "9"]
    trained.class_probabilities(X)    # X: (n_samples, n_features) -> (n_samples, n_classes)

    writer = load_language_model("runs/shakespeare/model.npz")
    for text in writer.write("ROMEO:", 200, temperature=0.8, seed=0):
        print(text, end="")           # each new character as soon as it is drawn

The metadata fields read here are the ones ``numpynn train`` saves with the model
(``numpynn.save(model, path, metadata=...)``); a model saved without them works too: its
classes are then numbered and a square number of inputs is taken as a square picture.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from . import datasets, imaging
from ._typing import Array, Seed
from .datasets.vocabulary import CharVocabulary
from .errors import FileFormatError
from .generation import stream
from .io import load_checkpoint, load_metadata, load_with_metadata
from .losses import LOSSES
from .model import Sequential
from .paths import check_readable_file

PathLike = str | os.PathLike[str]
MODEL_FILE = "model.npz"  # in a run directory: the run's final model
CHECKPOINT_FILE = "checkpoint.npz"  # ... the state after its last finished epoch
BEST_FILE = "best.npz"  # ... the model of its best epoch, whose metadata a checkpoint lacks


@dataclasses.dataclass(frozen=True)
class TrainedModel:
    """A classifier and the facts of its training. ``classes`` has one name per class: one
    per output, or 2 for one sigmoid output (the probability of class 1).

    Made by :func:`load_trained`.

    Parameters
    ----------
    model : Sequential
        The classifier.
    path : pathlib.Path
        The file read.
    metadata : dict
        The metadata saved with the model (its known fields checked).
    dataset : str, optional
        The name of the dataset it was trained on, if the metadata says.
    classes : list of str
        The class names, indexed by label.
    image_shape : tuple of int, optional
        (height, width) of the pictures it reads; None for a model of points.
    picture : str, optional
        How a photo is prepared: ``"digit"``, ``"item"``; None: it takes no pictures.
    """

    model: Sequential
    path: Path  # the file read
    metadata: dict[str, Any]  # saved with the model; the fields in METADATA are checked
    dataset: str | None  # the name of the dataset it was trained on, if it says
    classes: list[str]
    image_shape: tuple[int, int] | None  # (height, width) of its pictures; None: points
    picture: str | None  # how a photo is prepared: "digit", "item"; None: it takes no pictures

    @property
    def input_shape(self) -> tuple[int | None, ...] | None:
        """The model's input shape without the batch axis, ``(n_features,)`` or ``(1, h, w)``."""
        return self.model.input_shape

    @property
    def takes_images(self) -> bool:
        """Whether the model takes images (n, 1, height, width) (a convnet) rather than rows."""
        return self.input_shape is not None and len(self.input_shape) == 3

    def pictures(self) -> tuple[int, int]:
        """The (height, width) of the pictures the model reads; FileFormatError for a convnet
        whose metadata does not give it, ValueError for a model of points."""
        if self.image_shape is not None:
            return self.image_shape
        if self.takes_images:
            raise FileFormatError(
                f"{self.path}: a convnet's metadata must give its image_shape [height, width]"
            )
        raise ValueError(
            f"{self.path} takes {self.model.n_inputs} inputs, not a square image: pictures are "
            f"read by image classifiers ({', '.join(_picture_datasets())})"
        )

    def check_features(self, n_features: int, what: str) -> None:
        """ValueError unless the model takes ``n_features`` inputs (a convnet: pictures of that
        many pixels); ``what`` says whose they are: "the images have".

        Parameters
        ----------
        n_features : int
            The inputs (pixels) of the data.
        what : str
            Whose they are, in the message.

        Raises
        ------
        ValueError
            When the model takes another number of inputs.
        """
        if self.takes_images:
            if self.image_shape is not None and math.prod(self.image_shape) != n_features:
                height, width = self.image_shape
                raise ValueError(
                    f"{self.path} takes {height}x{width} images but {what} {n_features} features"
                )
        elif self.model.n_inputs != n_features:
            raise ValueError(
                f"{self.path} takes {self.model.n_inputs} inputs but {what} {n_features} features"
            )

    def class_probabilities(self, X: Array) -> Array:
        """Class probabilities (n_samples, n_classes) for X: (n_samples, n_features) rows; a
        convnet gets them as images (n_samples, 1, height, width) of its pictures' shape.

        Parameters
        ----------
        X : ndarray
            (n_samples, n_features) rows.

        Returns
        -------
        ndarray
            (n_samples, n_classes) probabilities.
        """
        if self.takes_images:
            X = imaging.as_model_input(X, self.input_shape, self.pictures())
        return class_probabilities(self.model, X.astype(self.model.dtype, copy=False))

    def prepare(self, grey: Array) -> Array:
        """A grey picture (height, width) in [0, 1] (``imaging.read_image``) -> the model's
        input picture, framed as its dataset's were: an item of clothing, else a digit
        (``imaging.PICTURES``: ``preprocess_item``, ``preprocess_digit``); NoDigitError if it
        holds none.

        Parameters
        ----------
        grey : ndarray
            (height, width) grey picture in [0, 1].

        Returns
        -------
        ndarray
            The model's input picture, of :meth:`pictures`' (height, width).

        Raises
        ------
        NoDigitError
            For a picture that holds no digit (or item).
        ValueError
            For a model of points (:meth:`pictures`).
        """
        shape = self.pictures()
        return imaging.PICTURES[self.picture or "digit"](grey, shape)


LANGUAGE_MODEL = "language-model"  # the metadata "task" of a language model's file


@dataclasses.dataclass(frozen=True)
class TrainedLanguageModel:
    """A language model and its character vocabulary. ``boundary`` is the token that starts
    and ends each word of a model of words (makemore's "." for names), None for a model of a
    running text (Shakespeare).

    Made by :func:`load_language_model`.

    Parameters
    ----------
    model : Sequential
        The language model: token ids (n_samples, T) -> (n_samples, T, len(vocabulary))
        probabilities of the next token.
    path : pathlib.Path
        The file read.
    metadata : dict
        The metadata saved with the model.
    dataset : str, optional
        The name of the dataset it was trained on, if the metadata says.
    vocabulary : CharVocabulary
        Its characters, by id.
    boundary : str, optional
        The start/end token of a model of words; None for running text.
    """

    model: Sequential
    path: Path  # the file read
    metadata: dict[str, Any]
    dataset: str | None
    vocabulary: CharVocabulary
    boundary: str | None

    def encode(self, prompt: str) -> Array:
        """The ids (len(prompt),) of a prompt; ValueError naming the characters outside the
        vocabulary, or for an empty prompt.

        Parameters
        ----------
        prompt : str
            At least one character of the vocabulary.

        Returns
        -------
        ndarray
            (len(prompt),) int64 ids.

        Raises
        ------
        TypeError
            For a prompt that is not a str.
        ValueError
            For an empty prompt or characters outside the vocabulary.
        """
        if not isinstance(prompt, str):
            raise TypeError(f"the prompt must be text, got {type(prompt).__name__}")
        if not prompt:
            raise ValueError("the prompt is empty: give at least one character to continue")
        try:
            return self.vocabulary.encode(prompt)
        except ValueError as exc:
            raise ValueError(f"the prompt {str(exc).removeprefix('text ')}") from None

    def write(
        self,
        prompt: str,
        length: int,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: Seed = None,
    ) -> Iterator[str]:
        """The ``length`` characters that continue ``prompt``, each yielded as soon as it is
        drawn (``numpynn.generation.stream``); the same seed gives the same text.

        Parameters
        ----------
        prompt : str
            The text to continue (characters of the vocabulary).
        length : int
            How many characters to write (>= 0).
        temperature : float
            > 0; divides the logits.
        top_k : int, optional
            Draw from the ``top_k`` most probable ids only.
        seed : int or numpy.random.Generator, optional
            The draws' generator: the same seed gives the same text.

        Returns
        -------
        iterator of str
            One character at a time.

        Raises
        ------
        TypeError, ValueError
            For a bad prompt (:meth:`encode`) or argument, before the first character.
        """
        ids = stream(
            self.model,
            self.encode(prompt),
            length,
            temperature=temperature,
            top_k=top_k,
            seed=seed,
        )
        return (self.vocabulary.chars[int(step[0])] for step in ids)

    def words(
        self,
        count: int,
        *,
        prefix: str = "",
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: Seed = None,
        max_length: int = 30,
    ) -> list[str]:
        """``count`` new words (a model of words: names), each drawn from the boundary token
        followed by ``prefix`` until the next boundary (at most ``max_length`` characters
        after the prefix). ValueError for a model of running text.

        Parameters
        ----------
        count : int
            How many words.
        prefix : str
            The start of every word.
        temperature : float
            > 0; divides the logits.
        top_k : int, optional
            Draw from the ``top_k`` most probable ids only.
        seed : int or numpy.random.Generator, optional
            The draws' generator: the same seed gives the same text.
        max_length : int
            The most characters drawn after the prefix.

        Returns
        -------
        list of str
            ``count`` words, each starting with ``prefix``.

        Raises
        ------
        ValueError
            For a model of running text, or a prefix with characters outside the vocabulary.
        """
        if self.boundary is None:
            raise ValueError(
                f"{self.path} writes running text, not words: it has no boundary token"
            )
        start = self.encode(self.boundary + prefix)
        prompts = np.tile(start, (count, 1))
        columns = list(
            stream(self.model, prompts, max_length, temperature=temperature, top_k=top_k, seed=seed)
        )
        drawn = np.stack(columns, axis=1) if columns else np.empty((count, 0), np.int64)
        words = []
        for row in drawn:
            text = self.vocabulary.decode(row)
            words.append(prefix + text.split(self.boundary, 1)[0])
        return words


def class_probabilities(model: Sequential, X: Array) -> Array:
    """Class probabilities (n_samples, n_classes) of a classifier on X: (n_samples, ...), by
    ``model.predict_proba``; one output p (a binary classifier) gives the columns (1 - p, p).

    Parameters
    ----------
    model : Sequential
        A classifier.
    X : ndarray
        (n_samples, ...) inputs of the model's shape.

    Returns
    -------
    ndarray
        (n_samples, n_classes) probabilities, n_classes = 2 for one output.
    """
    p = model.predict_proba(X)
    return np.column_stack([1 - p[:, 0], p[:, 0]]) if p.shape[1] == 1 else p


def describe(model: Sequential) -> str:
    """'Dense(784, 512) -> ReLU -> Dropout(0.2) -> Dense(512, 10) -> Softmax', or for a
    language model 'Embedding(65, 128) -> PositionalEmbedding(64, 128) ->
    TransformerBlock(128, 4) -> ... -> LSTM(64, 512) ...': each layer with its sizes.

    Parameters
    ----------
    model : Sequential
        Any model.

    Returns
    -------
    str
        One line: each layer's class name with its sizes (or its dropout rate).
    """
    parts = []
    for layer in model.layers:
        config = layer.config()
        sizes = [str(config[k]) for k in SIZES if k in config]
        if sizes:
            parts.append(f"{type(layer).__name__}({', '.join(sizes)})")
        elif "rate" in config:
            parts.append(f"{type(layer).__name__}({config['rate']:g})")
        else:
            parts.append(type(layer).__name__)
    return " -> ".join(parts)


# The constructor arguments that describe() shows, in this order, for the layers that have them.
SIZES = ("n_in", "n_out", "hidden", "n_tokens", "max_len", "dim", "n_heads")


def n_parameters(model: Sequential) -> int:
    """The number of trained numbers (weights, biases, scales...) of ``model``.

    Parameters
    ----------
    model : Sequential
        Any model.

    Returns
    -------
    int
        The total size of its parameter arrays (not counting buffers such as BatchNorm's
        running statistics).
    """
    return sum(p.size for p in model.parameters())


def load_trained(path: PathLike) -> TrainedModel:
    """The classifier at ``path`` and its metadata. ``path`` may be a model file (model.npz,
    best.npz), a checkpoint (its model, with the metadata of the run's best.npz beside it) or
    a run directory (its model.npz, else its checkpoint.npz). A PathError (numpynn.paths)
    for a path that cannot be read, FileNotFoundError for a directory that holds none;
    FileFormatError naming the file for a damaged one or bad metadata.

    Parameters
    ----------
    path : str or os.PathLike
        A model file, a checkpoint or a run directory.

    Returns
    -------
    TrainedModel
        The classifier with its class names, picture shape and metadata.

    Raises
    ------
    numpynn.PathError
        For a path that cannot be read (an OSError).
    FileNotFoundError
        For a directory that holds neither model.npz nor checkpoint.npz.
    FileFormatError
        Naming the file, for a damaged model file or checkpoint or bad metadata.
    """
    model, metadata, file = _read(Path(path))
    dataset = metadata.get("dataset")
    facts = datasets.get(dataset) if dataset in datasets.names() else None
    n_outputs = model.n_outputs or 0
    n_classes = 2 if n_outputs == 1 else n_outputs
    labels = metadata.get("class_labels") or (list(facts.classes) if facts else [])
    classes = labels[:n_classes] + [str(k) for k in range(len(labels), n_classes)]
    image_shape = _image_shape(model, metadata, facts)
    picture = facts.picture if facts else "digit" if image_shape else None
    return TrainedModel(model, file, metadata, dataset, classes, image_shape, picture)


def load_language_model(path: PathLike) -> TrainedLanguageModel:
    """The language model at ``path`` (a model file, checkpoint or run directory, as
    :func:`load_trained` reads them) with the vocabulary its metadata holds. ValueError for a
    model that is not a language model; FileFormatError for one without its vocabulary.

    Parameters
    ----------
    path : str or os.PathLike
        A model file, a checkpoint or a run directory.

    Returns
    -------
    TrainedLanguageModel
        The model with its vocabulary and boundary token.

    Raises
    ------
    ValueError
        For a model whose metadata's task is not ``"language-model"``.
    numpynn.PathError
        For a path that cannot be read (an OSError).
    FileNotFoundError
        For a directory that holds neither model.npz nor checkpoint.npz.
    FileFormatError
        Naming the file, for a damaged model file or checkpoint or bad metadata. Also for
        metadata without a vocabulary, or one that does not match the model's outputs.
    """
    model, metadata, file = _read(Path(path))
    if metadata.get("task") != LANGUAGE_MODEL:
        raise ValueError(
            f"{file} is not a language model (numpynn train --dataset shakespeare or names "
            "makes one)"
        )
    if "vocabulary" not in metadata:
        raise FileFormatError(f"{file}: a language model's metadata must hold its vocabulary")
    vocabulary = CharVocabulary.from_json(metadata["vocabulary"])
    if model.output_shape is None or model.output_shape[-1] != len(vocabulary):
        raise FileFormatError(
            f"{file}: the model writes {model.output_shape} tokens per step but its "
            f"vocabulary has {len(vocabulary)} characters"
        )
    boundary = metadata.get("boundary")
    return TrainedLanguageModel(
        model, file, metadata, metadata.get("dataset"), vocabulary, boundary
    )


def read_metadata(path: PathLike) -> dict[str, Any]:
    """The metadata saved with the model file at ``path`` (empty if there is none);
    FileFormatError naming the file if a field in METADATA has the wrong type.

    Parameters
    ----------
    path : str or os.PathLike
        A model file.

    Returns
    -------
    dict
        The metadata (empty if there is none).

    Raises
    ------
    FileFormatError
        For a damaged file or a metadata field of the wrong type, naming the file.
    numpynn.PathError
        For a path that cannot be read (an OSError).
    """
    return _checked_metadata(load_metadata(path), path)


def _checked_metadata(description: dict[str, Any], path: PathLike) -> dict[str, Any]:
    """The user's metadata in a model file's ``description``, its fields checked."""
    metadata = description.get("metadata")
    if not isinstance(metadata, dict):
        return {}
    for key, (ok, expected) in METADATA.items():
        if key in metadata and not ok(metadata[key]):
            raise FileFormatError(
                f"{path}: metadata field {key!r} must be {expected}, got {metadata[key]!r:.80}"
            )
    loss = metadata.get("config", {}).get("loss")
    if loss is not None and loss not in LOSSES:
        raise FileFormatError(
            f"{path}: metadata field 'config': loss must be one of "
            f"{', '.join(sorted(LOSSES))}, got {loss!r}"
        )
    return metadata


def _read(given: Path) -> tuple[Sequential, dict[str, Any], Path]:
    """(model, metadata, the file read) of a model file, checkpoint or run directory."""
    file = given
    if given.is_dir():
        inside = [given / name for name in (MODEL_FILE, CHECKPOINT_FILE)]
        file = next((f for f in inside if f.exists()), given)
        if file == given:
            raise FileNotFoundError(
                f"{given} is a directory without {MODEL_FILE} or {CHECKPOINT_FILE}: give a "
                "model file or a run directory of numpynn train"
            )
    check_readable_file(file, "model file")
    try:
        model, description = load_with_metadata(file)  # one reading of the file
        return model, _checked_metadata(description, file), file
    except FileFormatError as not_a_model:
        try:
            checkpoint = load_checkpoint(file)
        except (FileFormatError, OSError):
            raise not_a_model from None
    best = file.parent / BEST_FILE  # the same run's model file carries its metadata
    return checkpoint.model, read_metadata(best) if best.exists() else {}, file


def _image_shape(
    model: Sequential, metadata: dict[str, Any], facts: datasets.Dataset | None
) -> tuple[int, int] | None:
    """The pictures' (height, width): the metadata's image_shape; else, for a model of rows,
    its dataset's, or a square of its number of inputs; else None."""
    shape = metadata.get("image_shape")
    if shape is not None:
        return (shape[0], shape[1])
    if model.input_shape is not None and len(model.input_shape) == 3:
        return None  # a convnet: only its metadata knows
    if facts is not None:
        return facts.image_shape
    side = math.isqrt(model.n_inputs or 0)
    return (side, side) if side > 0 and side * side == model.n_inputs else None


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# The metadata fields read here: a test of the value and what it must be.
METADATA: dict[str, tuple[Callable[[Any], bool], str]] = {
    "dataset": (lambda v: isinstance(v, str), "a dataset name"),
    "class_labels": (
        lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "a list of class names",
    ),
    "image_shape": (
        lambda v: (
            v is None
            or (isinstance(v, list) and len(v) == 2 and all(_is_int(x) and x > 0 for x in v))
        ),
        "null or [height, width]",
    ),
    "config": (lambda v: isinstance(v, dict), "a JSON object of training settings"),
    "task": (lambda v: isinstance(v, str), 'the kind of model ("language-model")'),
    "vocabulary": (
        lambda v: isinstance(v, list) and all(isinstance(c, str) and len(c) == 1 for c in v),
        "a list of single characters",
    ),
    "boundary": (
        lambda v: v is None or (isinstance(v, str) and len(v) == 1),
        "null or one character",
    ),
}


def _picture_datasets() -> list[str]:
    """The names of the datasets whose models read pictures."""
    return [name for name in datasets.names() if datasets.get(name).picture is not None]
