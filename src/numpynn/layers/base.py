"""The layer base class: ``forward``/``backward``, the shapes a layer takes and gives, and the
registry of layer types by class name (what model files store).

Shapes without the batch axis describe one sample: ``(n_features,)`` for rows, ``(channels,
height, width)`` for images; ``None`` in place of a size means "not known before the data
arrives" (an image's height and width), and ``None`` in place of a whole shape "any shape".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from .._typing import Array
from ..errors import ShapeError
from ..scratch import scratch

Shape = tuple[int | None, ...]

# Every Layer subclass, by class name: built in, or defined in user code (subclassing
# registers it). Model files name a layer's type by this name.
LAYER_TYPES: dict[str, type[Layer]] = {}


class Layer:
    """Base class. ``params`` names the trainable arrays; their gradients are ``d`` + name.
    ``buffers`` names the arrays of state that is not trained but must be saved with the model
    (BatchNorm's running statistics); like parameters, they are updated in place.

    A subclass implements ``forward`` and ``backward``; ``output_shape`` (and ``input_shape``)
    when it changes the shape of what flows through it; and ``config`` when its constructor
    takes arguments. Defining the subclass registers it under its class name, so models holding
    it save and load with :func:`numpynn.save` and :func:`numpynn.load` (a name that a built-in
    layer has is refused; a class of your own defined again replaces the earlier one).
    """

    params: ClassVar[tuple[str, ...]] = ()
    buffers: ClassVar[tuple[str, ...]] = ()
    # A composite layer's sub-layers, by attribute name ("ln1", "attn"...); its ``params`` and
    # ``buffers`` name theirs with dots ("ln1.gamma"), gradients "ln1.dgamma".
    parts: ClassVar[tuple[str, ...]] = ()
    # A layer that takes integer token ids (Embedding): a model starting with it gets its
    # input as int64 ids, not cast to floats; its ``backward`` gives no input gradient.
    takes_ids: ClassVar[bool] = False
    # A layer whose output at each position (each step of a sequence) depends on that
    # position's input alone: Dense, LayerNorm, the activations, Dropout at inference,
    # Embedding. Generation runs such a layer on the new positions only (recurrent models and
    # the key/value cache of transformers, numpynn/generation.py). Subclasses inherit it: a
    # subclass whose forward mixes positions sets it back to False.
    acts_per_position: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register(cls)

    def forward(self, x: Array, training: bool = False) -> Array:
        """``x: (n_samples, *input_shape) -> output: (n_samples, *output_shape)``.

        Parameters
        ----------
        x : ndarray
            ``(n_samples, *input_shape)`` inputs.
        training : bool
            Training mode (Dropout drops, BatchNorm uses the batch's statistics); the layer
            then keeps what ``backward`` needs.

        Returns
        -------
        ndarray
            ``(n_samples, *output_shape)`` outputs.
        """
        raise NotImplementedError

    def backward(self, dout: Array) -> Array:
        """dout = dL/d(output), shaped like the output -> dL/dx, shaped like x.

        Sets the parameters' gradients (``d`` + name) from the last ``forward`` in training mode.

        Parameters
        ----------
        dout : ndarray
            dL/d(output), the last output's shape.

        Returns
        -------
        ndarray
            dL/dx, the last input's shape.
        """
        raise NotImplementedError

    def backward_params(self, dout: Array) -> None:
        """Parameter gradients only, for the first layer (whose input needs no gradient).

        Parameters
        ----------
        dout : ndarray
            dL/d(output), the last output's shape.
        """
        self.backward(dout)

    @property
    def input_shape(self) -> Shape | None:
        """The shape of one sample this layer takes (None where a size is open), or None
        when it takes any shape (elementwise layers)."""
        return None

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        """The shape of one output sample for an input sample of ``input_shape`` (None: not
        known). Raises :class:`~numpynn.errors.ShapeError` naming the layer and both shapes
        when the input does not fit ``input_shape``. The default passes the shape through,
        as elementwise layers do.

        Parameters
        ----------
        input_shape : tuple, optional
            One input sample's shape, None for a size not known.

        Returns
        -------
        tuple or None
            One output sample's shape.

        Raises
        ------
        ValueError
            A :class:`~numpynn.errors.ShapeError` when the input does not fit.
        """
        check_input_shape(self, input_shape)
        return input_shape

    def check_state(self) -> None:
        """ValueError when parameters or buffers set from outside (a loaded file) are invalid;
        the default accepts any finite values."""

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this layer (parameters excluded)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


# A composite layer (TransformerBlock) is built of sub-layers held in attributes; it lists
# their parameters and buffers by dotted names, "ln1.gamma" for its attribute ln1's gamma,
# whose gradient is "ln1.dgamma". Everything that reads or writes a layer's arrays by name
# (the model's parameters, model files, checkpoints, replicas) goes through these helpers.


def _owner(layer: Any, name: str) -> tuple[Any, str]:
    """The object holding the array ``name`` names in ``layer``, and its own attribute name:
    (layer.ln1, "gamma") for "ln1.gamma", (layer, "W") for "W"."""
    *path, attribute = name.split(".")
    for part in path:
        layer = getattr(layer, part)
    return layer, attribute


def grad_name(name: str) -> str:
    """The gradient's name of the parameter ``name``: "W" -> "dW", "ln1.gamma" -> "ln1.dgamma"."""
    head, _, attribute = name.rpartition(".")
    return f"{head}.d{attribute}" if head else "d" + attribute


def get_array(layer: Layer, name: str) -> Array:
    """``layer``'s parameter, gradient or buffer named ``name`` (dotted for a sub-layer's)."""
    owner, attribute = _owner(layer, name)
    return getattr(owner, attribute)


def set_array(layer: Layer, name: str, array: Array | Layer) -> None:
    """Set ``layer``'s array named ``name`` (dotted for a sub-layer's) to ``array`` (or its
    sub-layer at that path to another layer)."""
    owner, attribute = _owner(layer, name)
    setattr(owner, attribute, array)


def get_part(layer: Layer, path: str) -> Layer:
    """``layer``'s sub-layer at the dotted ``path`` ("attn", "attn.drop")."""
    owner, attribute = _owner(layer, path)
    part: Layer = getattr(owner, attribute)
    return part


def get_grad(layer: Layer, name: str) -> Array:
    """The gradient of ``layer``'s parameter ``name``."""
    return get_array(layer, grad_name(name))


def sublayers(layer: Layer) -> list[str]:
    """The dotted paths of ``layer``'s sub-layers (its ``parts``, theirs...), outer first:
    ["ln1", "attn", "attn.drop", ...]; empty for a layer without parts."""
    paths = []
    for part in layer.parts:
        paths.append(part)
        paths += [f"{part}.{path}" for path in sublayers(getattr(layer, part))]
    return paths


def walk(layers: Iterable[Layer]) -> list[Layer]:
    """Each of ``layers`` followed by its sub-layers (to find every Dropout, for instance)."""
    found: list[Layer] = []
    for layer in layers:
        found += [layer, *(get_part(layer, path) for path in sublayers(layer))]
    return found


def register(cls: type[Layer]) -> None:
    """Record ``cls`` in :data:`LAYER_TYPES` under its name (private names, starting with
    "_", are bases, not layer types). TypeError for the name of a built-in layer."""
    name = cls.__name__
    if name.startswith("_"):
        return
    known = LAYER_TYPES.get(name)
    if known is not None and _built_in(known) and not _built_in(cls):
        raise TypeError(
            f"numpynn has a layer named {name} ({known.__module__}.{name}); give your layer "
            "class another name: model files name layers by their class"
        )
    LAYER_TYPES[name] = cls


def _built_in(cls: type) -> bool:
    return cls.__module__.startswith("numpynn.")


def layer_type(name: str) -> type[Layer]:
    """The layer class registered under ``name``; KeyError naming what to define when none is.

    Parameters
    ----------
    name : str
        A layer class's name, as saved in a model file (``"Dense"``, ``"Conv2D"``...).

    Returns
    -------
    type
        The :class:`numpynn.Layer` subclass of that name.

    Raises
    ------
    KeyError
        When no subclass of that name has been defined (imported).
    """
    try:
        return LAYER_TYPES[name]
    except KeyError:
        raise KeyError(
            f"no layer type {name!r} is defined: define (import) the Layer subclass {name} "
            f"first; known: {sorted(LAYER_TYPES)}"
        ) from None


def describe_shape(shape: Shape | None) -> str:
    """'rows of shape (n_samples, 8)', 'images of shape (n_samples, 3, height, width)'..."""
    if shape is None:
        return "input of any shape"
    kind, names = _KINDS.get(len(shape), ("input", tuple(f"d{k}" for k in range(len(shape)))))
    sizes = ", ".join(
        name if size is None else str(size) for size, name in zip(shape, names, strict=True)
    )
    return f"{kind} of shape (n_samples, {sizes})"


_KINDS = {
    1: ("rows", ("n_features",)),
    2: ("sequences", ("steps", "features")),
    3: ("images", ("channels", "height", "width")),
}


def fits(input_shape: Shape | None, takes: Shape | None) -> bool:
    """Whether an input sample of ``input_shape`` fits a layer that takes ``takes`` (None
    fits anything; sizes must agree where both are known)."""
    if input_shape is None or takes is None:
        return True
    return len(input_shape) == len(takes) and all(
        a is None or b is None or a == b for a, b in zip(input_shape, takes, strict=True)
    )


def check_input_shape(layer: Layer, input_shape: Shape | None, hint: str = "") -> None:
    """ShapeError naming ``layer`` and both shapes unless ``input_shape`` fits the shape it
    takes (its ``input_shape``)."""
    takes = layer.input_shape
    if not fits(input_shape, takes):
        rows_from_images = takes is not None and len(takes) == 1 and len(input_shape or ()) > 1
        if not hint and rows_from_images:
            hint = ": add a Flatten() before it"
        raise ShapeError(
            f"{layer!r} takes {describe_shape(takes)} but gets {describe_shape(input_shape)}" + hint
        )


def out_array(layer: Layer, name: str, shape: tuple[int, ...], dtype: Any, training: bool) -> Any:
    """Where ``forward`` writes its result: a scratch array in training, else None (NumPy
    makes a new array, which the caller may keep)."""
    return scratch(layer, name, shape, dtype) if training else None


def new_array(layer: Layer, name: str, shape: tuple[int, ...], dtype: Any, training: bool) -> Any:
    """A scratch array in training, else a new empty one (the caller may keep it)."""
    return scratch(layer, name, shape, dtype) if training else np.empty(shape, dtype)


def check_sizes(layer: str, **sizes: Any) -> None:
    """ValueError naming ``layer`` and the setting unless each of ``sizes`` is an integer >= 1."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{layer} {name} must be a positive integer, got {value!r}")


def check_float_dtype(layer: str, dtype: Any) -> np.dtype[Any]:
    """``dtype`` as a NumPy floating dtype; TypeError naming ``layer`` otherwise."""
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"{layer} dtype must be a floating type, got {dtype}")
    return dtype
