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
