"""ONNX export: a numpynn ``Sequential`` as an ``onnx.ModelProto`` (needs the ``onnx`` extra).

The graph takes ``X`` of shape ``(batch, n_features)``, or images ``(batch, channels, height,
width)`` for a convnet (the batch dimension, and an image's height and width, are dynamic), and
gives ``Y`` of shape ``(batch, n_outputs)``, in the model's floating type (float32 or float64).
Each layer becomes the ONNX operator of the same formula, for inference:

=============== ================================================
numpynn layer   ONNX
=============== ================================================
Dense           Gemm(x, W, b): x @ W + b
Sigmoid         Sigmoid
Tanh            Tanh
ReLU            Relu
LeakyReLU       LeakyRelu(alpha) (float64: PRelu(x, alpha), as the attribute is float32)
Identity        Identity
Step            Cast(Greater(x, 0)): 1 where x > 0, else 0
Softmax         Softmax(axis=-1)
Dropout         Identity (dropout is the identity at inference)
Conv2D          Conv(x, W, b), W: (C_out, C_in, k, k) as ONNX lays it out; strides, pads
MaxPool2D       MaxPool (floor mode: the edge left over is dropped, as numpynn does)
AvgPool2D       AveragePool (no padding)
GlobalAvgPool2D GlobalAveragePool, then Flatten: (n, C, 1, 1) -> (n, C)
Flatten         Flatten(axis=1)
BatchNorm       BatchNormalization(x, gamma, beta, running_mean, running_var, epsilon): the
                inference formula with the running statistics (numpynn's running_var averages
                the batches' biased variances; ONNX uses the given var as it is); on
                sequences (n, T, C) between Transpose to (n, C, T) and back
Embedding       Gather(W, ids): the graph then takes int64 token ids X: (batch, T)
PositionalEmb.  Add(x, Slice(W, 0, T)), T read from the shape of x
LayerNorm       LayerNormalization(x, gamma, beta, axis=-1, epsilon) (opset >= 17)
GELU            0.5 x (1 + Tanh(c (x + k x x x))): Mul, Add and Tanh
MultiHead-      MatMul + Add for q, k, v; Reshape and Transpose into heads; MatMul,
Attention       Mul(1 / sqrt(hs)), the causal mask (Range, Greater, Where(-inf)) for the
                input's T, Softmax(axis=-1), MatMul; heads joined (Transpose, Reshape);
                MatMul + Add
Transformer-    the attention above, Add for the residuals, the layer norms from primitives
Block           (MatMul by a column of 1 / dim for the means, Sub, Mul, Sqrt, Div), fc and
                proj as MatMul + Add, GELU's tanh formula (Mul, Add, Tanh)
=============== ================================================

Any other layer (e.g. a user's own ``Layer`` subclass) raises a TypeError naming it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._typing import Array
from ._version import __version__
from .atomic import atomic_write
from .layers import (
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Identity,
    Layer,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Softmax,
    Step,
    Tanh,
)
from .layers.activations import GELU
from .layers.attention import MultiHeadAttention, TransformerBlock
from .layers.embedding import Embedding, PositionalEmbedding
from .layers.normalization import LayerNorm
from .layers.recurrent import GRU, LSTM, RNN
from .model import Sequential

if TYPE_CHECKING:
    import onnx

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax(axis=-1) normalises the last axis only from opset 13 on

# What each layer adds to the graph: convert(layer, x, y, prefix, dtype) -> (nodes, initializers)
Converter = Callable[[Any, str, str, str, np.dtype[Any]], tuple[list[Any], list[Any]]]


def to_onnx(model: Sequential, *, opset: int = DEFAULT_OPSET) -> onnx.ModelProto:
    """The ONNX model computing ``model.forward(X)`` at inference (``onnx.checker``-valid).

    Parameters
    ----------
    model : Sequential
        The model; each layer maps to the operators in the module's table.
    opset : int
        The ONNX operator set version (13 up to the installed onnx's newest).

    Returns
    -------
    onnx.ModelProto
        Input ``X`` (batch, n_features) or (batch, channels, height, width) in the model's
        floating type, or int64 token ids (batch, T) for a model that starts with an
        Embedding; output ``Y`` (batch, n_outputs), or (batch, T, vocab) for a language
        model, in the model's floating type.

    Raises
    ------
    TypeError
        For a model that is not a Sequential, or a layer with no ONNX equivalent.
    ValueError
        For a bad ``opset`` or layers of mixed floating types.
    """
    import onnx
    from onnx import helper

    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a numpynn Sequential, got {type(model).__name__}")
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"opset must be an integer in [{MIN_OPSET}, {newest}], got {opset!r}")
    dtype = _model_dtype(model)
    elem_type = helper.np_dtype_to_tensor_dtype(dtype)

    nodes: list[Any] = []
    initializers: list[Any] = []
    # The dimensions: fixed sizes as numbers, the others named (dynamic).
    shape = model.input_shape or (None,)  # a first BatchNorm or Flatten: rows of any width
    input_dims = ["batch", *_dims(shape, "")]
    if model.layers and model.layers[0].takes_ids:  # token ids (batch, T), int64
        input_type, input_dims = helper.np_dtype_to_tensor_dtype(np.dtype(np.int64)), ["batch", "T"]
    else:
        input_type = elem_type
    x = "X"
    for i, layer in enumerate(model.layers):
        convert = _CONVERTERS.get(type(layer))
        if convert is _dense and len(shape) == 2:  # on a sequence (n, T, n_in): Gemm is 2-D
            convert = _dense_on_steps
        if convert is _batch_norm and len(shape) == 2:  # on a sequence (n, T, C): channels last
            convert = _batch_norm_on_steps
        if convert is None:
            raise TypeError(
                f"layer {i} ({layer!r}) has no ONNX equivalent; exportable layers are "
                f"{', '.join(sorted(cls.__name__ for cls in _CONVERTERS))}"
            )
        y = "Y" if i == len(model.layers) - 1 else f"layer{i}_{type(layer).__name__.lower()}"
        if convert is _layer_norm and opset < 17:
            raise ValueError(f"layer {i} ({layer!r}) needs LayerNormalization: opset >= 17")
        new_nodes, new_initializers = convert(layer, x, y, f"layer{i}_", dtype)
        nodes += new_nodes
        initializers += new_initializers
        shape = layer.output_shape(shape) or shape
        x = y
    output_dims = ["batch", *_dims(shape, "out_")]
    if not model.layers:
        nodes.append(helper.make_node("Identity", ["X"], ["Y"]))

    graph = helper.make_graph(
        nodes,
        "numpynn",
        [helper.make_tensor_value_info("X", input_type, input_dims)],
        [helper.make_tensor_value_info("Y", elem_type, output_dims)],
        initializer=initializers,
    )
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="numpynn",
        producer_version=__version__,
        doc_string=repr(model),
    )
    onnx.checker.check_model(proto, full_check=True)
    return proto


def save_onnx(
    model: Sequential, path: str | os.PathLike[str], *, opset: int = DEFAULT_OPSET
) -> None:
    """Write ``to_onnx(model, opset=opset)`` to ``path`` atomically (all or nothing).

    Parameters
    ----------
    model : Sequential
        The model; each layer maps to the operators in the module's table.
    path : str or os.PathLike
        The ``.onnx`` file to write (replaced whole or not at all).
    opset : int
        The ONNX operator set version (13 up to the installed onnx's newest).

    Raises
    ------
    TypeError, ValueError
        As :func:`to_onnx`; nothing is written.
    OSError
        When the file cannot be written.
    ImportError
        Without the ``onnx`` package (the ``onnx`` extra).
    """
    data = to_onnx(model, opset=opset).SerializeToString()
    with atomic_write(path, "ONNX file") as f:
        f.write(data)


def _dims(shape: tuple[int | None, ...], prefix: str) -> list[int | str]:
    """One sample's dimensions for ONNX: known sizes as numbers, the others named."""
    names = {1: ["features"], 3: ["channels", "height", "width"]}.get(
        len(shape), [f"d{k}" for k in range(len(shape))]
    )
    return [
        prefix + name if size is None else size for size, name in zip(shape, names, strict=True)
    ]


def _model_dtype(model: Sequential) -> np.dtype[Any]:
    """The one floating type of the model's parameters (float32 for a model without any)."""
    dtypes = {array.dtype for array in model.state_arrays()}
    if len(dtypes) > 1:
        raise ValueError(
            f"the model's layers mix floating types {sorted(map(str, dtypes))}: ONNX needs "
            "one; cast the parameters to float32 or float64 first"
        )
    dtype = dtypes.pop() if dtypes else np.dtype(np.float32)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"ONNX export supports float32 and float64 models, got {dtype}")
    return dtype


def _dense(layer: Dense, x: str, y: str, prefix: str, dtype: np.dtype[Any]) -> tuple[list, list]:
    from onnx import helper, numpy_helper

    W, b = prefix + "W", prefix + "b"
    return (
        [helper.make_node("Gemm", [x, W, b], [y])],  # x @ W + b (W: (n_in, n_out))
        [numpy_helper.from_array(layer.W, W), numpy_helper.from_array(layer.b, b)],
    )


def _dense_on_steps(layer: Dense, x: str, y: str, prefix: str, dtype: np.dtype[Any]) -> tuple:
    from onnx import helper, numpy_helper

    W, b, xW = prefix + "W", prefix + "b", prefix + "xW"
    return (
        [helper.make_node("MatMul", [x, W], [xW]), helper.make_node("Add", [xW, b], [y])],
        [numpy_helper.from_array(layer.W, W), numpy_helper.from_array(layer.b, b)],
    )


def _elementwise(op: str, **attributes: Any) -> Converter:
    def convert(layer: Layer, x: str, y: str, prefix: str, dtype: np.dtype[Any]) -> tuple:
        from onnx import helper

        return [helper.make_node(op, [x], [y], **attributes)], []

    return convert


def _leaky_relu(layer: LeakyReLU, x: str, y: str, prefix: str, dtype: np.dtype[Any]) -> tuple:
    from onnx import helper, numpy_helper

    if dtype == np.float32:
        return [helper.make_node("LeakyRelu", [x], [y], alpha=layer.alpha)], []
    # LeakyRelu's alpha attribute is a float32; PRelu takes the slope as a float64 tensor
    alpha = prefix + "alpha"
    return (
        [helper.make_node("PRelu", [x, alpha], [y])],
        [numpy_helper.from_array(np.asarray(layer.alpha, dtype=dtype), alpha)],
    )


def _step(layer: Step, x: str, y: str, prefix: str, dtype: np.dtype[Any]) -> tuple:
    from onnx import helper, numpy_helper

    zero, positive = prefix + "zero", prefix + "positive"
    return (
        [
            helper.make_node("Greater", [x, zero], [positive]),  # x > 0
            helper.make_node("Cast", [positive], [y], to=helper.np_dtype_to_tensor_dtype(dtype)),
        ],
        [numpy_helper.from_array(np.zeros((), dtype=dtype), zero)],
    )


def _conv(layer: Conv2D, x: str, y: str, prefix: str, dtype: np.dtype[Any]) -> tuple:
    from onnx import helper, numpy_helper

    W, b, k, s, p = prefix + "W", prefix + "b", layer.kernel_size, layer.stride, layer.padding
    node = helper.make_node(
        "Conv", [x, W, b], [y], kernel_shape=[k, k], strides=[s, s], pads=[p, p, p, p]
    )
    return [node], [numpy_helper.from_array(layer.W, W), numpy_helper.from_array(layer.b, b)]


def _pool(op: str) -> Converter:
    def convert(layer: Any, x: str, y: str, prefix: str, dtype: np.dtype[Any]) -> tuple:
        from onnx import helper

        k, s = layer.size, layer.stride
        return [helper.make_node(op, [x], [y], kernel_shape=[k, k], strides=[s, s])], []

    return convert


def _global_avg_pool(layer: Layer, x: str, y: str, prefix: str, dtype: np.dtype[Any]) -> tuple:
    from onnx import helper

    pooled = prefix + "pooled"  # (n, C, 1, 1)
    return [
        helper.make_node("GlobalAveragePool", [x], [pooled]),
        helper.make_node("Flatten", [pooled], [y], axis=1),
    ], []


def _batch_norm_on_steps(
    layer: BatchNorm, x: str, y: str, prefix: str, dtype: np.dtype[Any]
) -> tuple:
    from onnx import helper

    steps, normed = prefix + "channels_first", prefix + "normed"  # (n, C, T)
    nodes, initializers = _batch_norm(layer, steps, normed, prefix, dtype)
    return [
        helper.make_node("Transpose", [x], [steps], perm=[0, 2, 1]),
        *nodes,
        helper.make_node("Transpose", [normed], [y], perm=[0, 2, 1]),
    ], initializers


def _batch_norm(layer: BatchNorm, x: str, y: str, prefix: str, dtype: np.dtype[Any]) -> tuple:
    from onnx import helper, numpy_helper

    names = [prefix + name for name in ("gamma", "beta", "running_mean", "running_var")]
    arrays = [layer.gamma, layer.beta, layer.running_mean, layer.running_var]
    return (
        [helper.make_node("BatchNormalization", [x, *names], [y], epsilon=layer.eps)],
        [numpy_helper.from_array(a, n) for a, n in zip(arrays, names, strict=True)],
    )


def _recurrent(op: str, order: list[int]) -> Converter:
    """The ONNX ``op`` for a numpynn RNN/LSTM/GRU whose gate blocks, in ONNX's order, are
    the layer's blocks ``order`` (e.g. LSTM: i, o, f, c = blocks 0, 3, 1, 2 of i, f, g, o)."""

    def convert(layer: Any, x: str, y: str, prefix: str, dtype: np.dtype[Any]) -> tuple:
        from onnx import helper, numpy_helper

        if layer.state is not None:
            raise ValueError(
                f"{layer!r} holds a state (set_state or a stateful carry), but the ONNX graph "
                "starts from zeros: call reset_state() before the export"
            )
        H = layer.hidden

        def onnx_blocks(columns: Any) -> Any:  # (..., G H) in numpynn's order -> ONNX's
            return np.concatenate([columns[..., k * H : (k + 1) * H] for k in order], axis=-1)

        if isinstance(layer, GRU):  # ONNX B = [Wb, Rb]: the input's and the state's biases
            bias = np.concatenate([onnx_blocks(layer.bx), onnx_blocks(layer.bh)])
        else:  # torch's two biases are one: all of it on the input's side
            bias = np.concatenate([onnx_blocks(layer.b), np.zeros_like(layer.b)])
        W, R, B, axis = (prefix + name for name in ("W", "R", "B", "axis"))
        arrays = {
            W: onnx_blocks(layer.Wx).T[None],  # (1, G H, n_in)
            R: onnx_blocks(layer.Wh).T[None],  # (1, G H, H)
            B: bias[None],  # (1, 2 G H)
        }
        extra: dict[str, Any] = {"linear_before_reset": 1} if isinstance(layer, GRU) else {}
        time_first, all_h, last_h = prefix + "x_tnd", prefix + "Y", prefix + "Y_h"
        nodes = [
            helper.make_node("Transpose", [x], [time_first], perm=[1, 0, 2]),  # (T, n, n_in)
            helper.make_node(
                op, [time_first, W, R, B], [all_h, last_h], hidden_size=H, **extra
            ),  # Y: (T, 1, n, H); Y_h: (1, n, H)
        ]
        if layer.return_sequences:
            squeezed = prefix + "y_tnh"
            nodes += [
                helper.make_node("Squeeze", [all_h, axis], [squeezed]),
                helper.make_node("Transpose", [squeezed], [y], perm=[1, 0, 2]),
            ]
            arrays[axis] = np.array([1], dtype=np.int64)
        else:
            nodes.append(helper.make_node("Squeeze", [last_h, axis], [y]))
            arrays[axis] = np.array([0], dtype=np.int64)
        return nodes, [
            numpy_helper.from_array(np.ascontiguousarray(a), n) for n, a in arrays.items()
        ]

    return convert


def _embedding(layer: Embedding, x: str, y: str, prefix: str, dtype: np.dtype[Any]) -> tuple:
    from onnx import helper, numpy_helper

    W = prefix + "W"  # rows W[ids]: (batch, T) -> (batch, T, dim)
    return [helper.make_node("Gather", [W, x], [y], axis=0)], [numpy_helper.from_array(layer.W, W)]


def _positional(layer: PositionalEmbedding, x: str, y: str, prefix: str, dtype: Any) -> tuple:
    from onnx import helper, numpy_helper

    shape, axis1, zero, T, W, W_T = (
        prefix + name for name in ("shape", "axis1", "zero", "T", "W", "W_T")
    )
    nodes = [
        helper.make_node("Shape", [x], [shape]),
        helper.make_node("Gather", [shape, axis1], [T]),  # [T], from x: (batch, T, dim)
        helper.make_node("Slice", [W, zero, T, zero], [W_T]),  # W[:T] (axis 0)
        helper.make_node("Add", [x, W_T], [y]),
    ]
    arrays = {W: layer.W, axis1: np.array([1], np.int64), zero: np.array([0], np.int64)}
    return nodes, [numpy_helper.from_array(a, name) for name, a in arrays.items()]


def _layer_norm(layer: LayerNorm, x: str, y: str, prefix: str, dtype: np.dtype[Any]) -> tuple:
    from onnx import helper, numpy_helper

    gamma, beta = prefix + "gamma", prefix + "beta"
    node = helper.make_node("LayerNormalization", [x, gamma, beta], [y], axis=-1, epsilon=layer.eps)
    return [node], [
        numpy_helper.from_array(layer.gamma, gamma),
        numpy_helper.from_array(layer.beta, beta),
    ]


def _gelu(layer: GELU, x: str, y: str, prefix: str, dtype: np.dtype[Any]) -> tuple:
    """0.5 x (1 + tanh(c (x + k x^3))) in the primitive operators of every opset."""
    from onnx import helper, numpy_helper

    from .activations import GELU_C, GELU_K

    def name(part: str) -> str:
        return prefix + part

    nodes = [
        helper.make_node("Mul", [x, x], [name("x2")]),
        helper.make_node("Mul", [name("x2"), name("k")], [name("kx2")]),
        helper.make_node("Add", [name("kx2"), name("one")], [name("1_kx2")]),
        helper.make_node("Mul", [x, name("1_kx2")], [name("x_kx3")]),  # x + k x^3
        helper.make_node("Mul", [name("x_kx3"), name("c")], [name("u")]),
        helper.make_node("Tanh", [name("u")], [name("t")]),
        helper.make_node("Add", [name("t"), name("one")], [name("1_t")]),
        helper.make_node("Mul", [x, name("half")], [name("half_x")]),
        helper.make_node("Mul", [name("half_x"), name("1_t")], [y]),
    ]
    constants = {"k": GELU_K, "c": GELU_C, "one": 1.0, "half": 0.5}
    return nodes, [
        numpy_helper.from_array(np.asarray(value, dtype=dtype), name(key))
        for key, value in constants.items()
    ]


# --- attention and the transformer block -------------------------------------------------


class _Graph:
    """Nodes and constants added under one prefix: ``op`` adds a node and returns its output's
    name, ``const`` an initializer's."""

    def __init__(self, prefix: str, dtype: np.dtype[Any]) -> None:
        self.prefix, self.dtype = prefix, dtype
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def op(
        self, op: str, inputs: list[str], name: str, *, exact: bool = False, **attributes: Any
    ) -> str:
        """The node's output is ``name`` under the prefix (``exact``: ``name`` as it is)."""
        from onnx import helper

        output = name if exact else self.prefix + name
        self.nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    def const(self, name: str, value: Any, dtype: Any = None) -> str:
        from onnx import numpy_helper

        array = np.array(value, dtype or self.dtype)  # 0-d stays 0-d (a scalar)
        self.initializers.append(numpy_helper.from_array(array, self.prefix + name))
        return self.prefix + name

    def affine(self, x: str, W: Array, b: Array, name: str) -> str:
        """x @ W + b on the last axis (MatMul + Add)."""
        xW = self.op("MatMul", [x, self.const(name + "_W", W)], name + "_xW")
        return self.op("Add", [xW, self.const(name + "_b", b)], name)

    def layer_norm(self, layer: LayerNorm, x: str, name: str) -> str:
        """(x - mean) / sqrt(var + eps) gamma + beta over the last axis; the means as products
        with a column of 1 / dim (any opset: ReduceMean's axes moved in opset 18)."""
        average = self.const(name + "_average", np.full((layer.dim, 1), 1 / layer.dim))
        mean = self.op("MatMul", [x, average], name + "_mean")
        xc = self.op("Sub", [x, mean], name + "_xc")
        var = self.op("MatMul", [self.op("Mul", [xc, xc], name + "_xc2"), average], name + "_var")
        std = self.op(
            "Sqrt",
            [self.op("Add", [var, self.const(name + "_eps", layer.eps)], name + "_ve")],
            name + "_std",
        )
        xhat = self.op("Div", [xc, std], name + "_xhat")
        scaled = self.op("Mul", [xhat, self.const(name + "_gamma", layer.gamma)], name + "_gx")
        return self.op("Add", [scaled, self.const(name + "_beta", layer.beta)], name)

    def gelu(self, x: str, name: str) -> str:
        """0.5 x (1 + tanh(c (x + k x^3))), GPT-2's tanh approximation."""
        from .activations import GELU_C, GELU_K

        x3 = self.op("Mul", [self.op("Mul", [x, x], name + "_x2"), x], name + "_x3")
        inner = self.op(
            "Add",
            [x, self.op("Mul", [x3, self.const(name + "_k", GELU_K)], name + "_kx3")],
            name + "_u0",
        )
        t = self.op(
            "Tanh",
            [self.op("Mul", [inner, self.const(name + "_c", GELU_C)], name + "_u")],
            name + "_t",
        )
        one_t = self.op("Add", [t, self.const(name + "_one", 1.0)], name + "_1t")
        half_x = self.op("Mul", [x, self.const(name + "_half", 0.5)], name + "_hx")
        return self.op("Mul", [half_x, one_t], name)

    def attention(self, layer: MultiHeadAttention, x: str, name: str) -> str:
        """x (n, T, dim) -> (n, T, dim): the heads as 4-D MatMuls, the causal mask built for
        the input's T (Range, Greater: step j > step i is the future) and applied by Where."""
        D, H = layer.dim, layer.n_heads
        i64 = np.int64
        qkv = self.affine(x, layer.W_qkv, layer.b_qkv, name + "_qkv")
        split = self.op(
            "Reshape",
            [qkv, self.const(name + "_split", [0, 0, 3, H, D // H], i64)],
            name + "_heads",
        )
        heads = self.op("Transpose", [split], name + "_3nhts", perm=[2, 0, 3, 1, 4])
        q, k, v = (
            self.op("Gather", [heads, self.const(f"{name}_i{j}", j, i64)], f"{name}_{part}", axis=0)
            for j, part in enumerate("qkv")
        )
        kT = self.op("Transpose", [k], name + "_kT", perm=[0, 1, 3, 2])
        scores = self.op("MatMul", [q, kT], name + "_qk")
        scores = self.op(
            "Mul", [scores, self.const(name + "_scale", 1 / np.sqrt(D // H))], name + "_scores"
        )
        if layer.causal:
            T = self.op(
                "Gather",
                [self.op("Shape", [x], name + "_shape"), self.const(name + "_i1T", 1, i64)],
                name + "_T",
            )
            steps = self.op(
                "Range",
                [self.const(name + "_zero", 0, i64), T, self.const(name + "_step", 1, i64)],
                name + "_steps",
            )
            rows = self.op(
                "Reshape", [steps, self.const(name + "_column", [-1, 1], i64)], name + "_rows"
            )
            future = self.op("Greater", [steps, rows], name + "_future")  # (T, T): j > i
            scores = self.op(
                "Where",
                [future, self.const(name + "_minus_inf", -np.inf), scores],
                name + "_masked",
            )
        att = self.op("Softmax", [scores], name + "_att", axis=-1)
        joined = self.op(
            "Transpose",
            [self.op("MatMul", [att, v], name + "_yh")],
            name + "_ynthd",
            perm=[0, 2, 1, 3],
        )
        y = self.op("Reshape", [joined, self.const(name + "_join", [0, 0, D], i64)], name + "_y")
        return self.affine(y, layer.W_out, layer.b_out, name)


def _attention(
    layer: MultiHeadAttention, x: str, y: str, prefix: str, dtype: np.dtype[Any]
) -> tuple:
    graph = _Graph(prefix, dtype)
    out = graph.attention(layer, x, "attn")
    graph.op("Identity", [out], y, exact=True)
    return graph.nodes, graph.initializers


def _transformer_block(
    layer: TransformerBlock, x: str, y: str, prefix: str, dtype: np.dtype[Any]
) -> tuple:
    graph = _Graph(prefix, dtype)
    attended = graph.attention(layer.attn, graph.layer_norm(layer.ln1, x, "ln1"), "attn")
    h = graph.op("Add", [x, attended], "h")  # h = x + attn(ln1(x))
    hidden = graph.gelu(
        graph.affine(graph.layer_norm(layer.ln2, h, "ln2"), layer.fc.W, layer.fc.b, "fc"), "gelu"
    )
    graph.op("Add", [h, graph.affine(hidden, layer.proj.W, layer.proj.b, "proj")], y, exact=True)
    return graph.nodes, graph.initializers


# Each layer class's converter: the one table to_onnx reads.
_CONVERTERS: dict[type[Layer], Converter] = {
    Dense: _dense,
    Sigmoid: _elementwise("Sigmoid"),
    Tanh: _elementwise("Tanh"),
    ReLU: _elementwise("Relu"),
    LeakyReLU: _leaky_relu,
    Identity: _elementwise("Identity"),
    Step: _step,
    Softmax: _elementwise("Softmax", axis=-1),
    Dropout: _elementwise("Identity"),
    Conv2D: _conv,
    MaxPool2D: _pool("MaxPool"),
    AvgPool2D: _pool("AveragePool"),
    GlobalAvgPool2D: _global_avg_pool,
    Flatten: _elementwise("Flatten", axis=1),
    BatchNorm: _batch_norm,
    RNN: _recurrent("RNN", [0]),
    LSTM: _recurrent("LSTM", [0, 3, 1, 2]),  # i, f, g, o -> i, o, f, c
    GRU: _recurrent("GRU", [1, 0, 2]),  # r, z, n -> z, r, h
    Embedding: _embedding,
    PositionalEmbedding: _positional,
    LayerNorm: _layer_norm,
    GELU: _gelu,
    MultiHeadAttention: _attention,
    TransformerBlock: _transformer_block,
}
