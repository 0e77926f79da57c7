"""What a thing passed in place of another is, in words, and the fix: a class where an
object belongs (``Softmax`` for ``Softmax()``, ``Adam`` for ``Adam()``), a function or a name
where a layer belongs (``np.tanh`` or ``"relu"`` for ``Tanh()`` or ``ReLU()``). One place for
the messages of ``Sequential``, ``fit``'s ``optimizer``, ``loss`` and ``callbacks``."""

from __future__ import annotations

import inspect

from .layers.activations import ACTIVATION_LAYERS


def instead_of(value: object, base: type, what: str) -> str:
    """Why ``value`` is not a ``base`` object (``what`` names one, e.g. "a layer") and how to
    make one: "" if nothing more specific than its type can be said."""
    if inspect.isclass(value):
        name = value.__name__
        if issubclass(value, base):
            return f"the class {name}, not {what}: create one, {name}() (with its arguments)"
        return f"the class {name}, which is not {what}"
    layer = _activation_named(value)
    if layer is not None:
        kind = f"the string {value!r}" if isinstance(value, str) else _function(value)
        return f"{kind}, not {what}: use the layer {layer.__name__}()"
    if callable(value) and not isinstance(value, base):
        return f"{_function(value)}, not {what}"
    return ""


def _function(value: object) -> str:
    name = getattr(value, "__name__", None) or type(value).__name__
    return f"the function {name}"


def _activation_named(value: object) -> type | None:
    """The activation layer that ``value`` (a name such as "relu", or a function such as
    np.tanh or numpynn.activations.relu) names, if any."""
    name = value if isinstance(value, str) else getattr(value, "__name__", None)
    if not isinstance(name, str) or not (isinstance(value, str) or callable(value)):
        return None
    key = name.lower().replace("-", "_")
    return ACTIVATION_LAYERS.get({"linear": "identity"}.get(key, key))


def check_activation_name(argument: str, value: object) -> None:
    """TypeError naming the name to give when ``value``, given for ``argument`` (which takes
    an activation's name), is an activation layer or its class: ``ReLU`` or ``ReLU()`` for
    "relu"."""
    cls = value if inspect.isclass(value) else type(value)
    names = [name for name, layer in ACTIVATION_LAYERS.items() if layer is cls]
    if names and not isinstance(value, str):
        given = f"the class {cls.__name__}" if value is cls else f"the layer {cls.__name__}()"
        raise TypeError(f"{argument} takes an activation's name, {names[0]!r}, got {given}")
