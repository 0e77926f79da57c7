"""Layers: small classes with ``forward`` and ``backward`` that read like the math.

=================  ==========================================================
module             layers
=================  ==========================================================
``base``           ``Layer``: the base class, shapes, the registry of types
``core``           ``Dense``, ``Dropout``, ``Flatten``, ``Identity``
``activations``    ``Sigmoid``, ``Tanh``, ``ReLU``, ``LeakyReLU``, ``Step``, ``Softmax``,
                   ``GELU``
``conv``           ``Conv2D`` (im2col/col2im)
``pooling``        ``MaxPool2D``, ``AvgPool2D``, ``GlobalAvgPool2D``
``normalization``  ``BatchNorm``, ``LayerNorm``
``recurrent``      ``RNN``, ``LSTM``, ``GRU``
``embedding``      ``Embedding``, ``PositionalEmbedding``
``attention``      ``MultiHeadAttention``, ``TransformerBlock``
``consecutive``    ``FlattenConsecutive``
=================  ==========================================================
"""

from .activations import (
    ACTIVATION_LAYERS,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Step,
    Tanh,
    activation_layer,
)
from .base import LAYER_TYPES, Layer, Shape, layer_type
from .conv import Conv2D
from .core import Dense, Dropout, Flatten, Identity
from .normalization import BatchNorm
from .pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D, ReLUMaxPool2D, fuse_relu_pool
from .recurrent import GRU, LSTM, RNN

__all__ = [
    "ACTIVATION_LAYERS",
    "LAYER_TYPES",
    "AvgPool2D",
    "BatchNorm",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2D",
    "Identity",
    "Layer",
    "LeakyReLU",
    "MaxPool2D",
    "ReLU",
    "ReLUMaxPool2D",
    "Shape",
    "Sigmoid",
    "Softmax",
    "Step",
    "Tanh",
    "activation_layer",
    "fuse_relu_pool",
    "layer_type",
]
__all__ += ["GRU", "LSTM", "RNN"]
from .activations import GELU  # noqa: E402
from .embedding import Embedding, PositionalEmbedding  # noqa: E402
from .normalization import LayerNorm  # noqa: E402

__all__ += ["GELU", "Embedding", "LayerNorm", "PositionalEmbedding"]

from .attention import MultiHeadAttention, TransformerBlock  # noqa: E402

__all__ += ["MultiHeadAttention", "TransformerBlock"]

from .consecutive import FlattenConsecutive  # noqa: E402

__all__ += ["FlattenConsecutive"]
