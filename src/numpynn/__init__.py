"""numpynn: neural networks from scratch on NumPy.

Rows are samples: ``X`` has shape ``(n_samples, n_features)``; a Dense layer holds
``W`` of shape ``(n_in, n_out)`` and ``b`` of shape ``(n_out,)``.
"""

from typing import Any

from . import datasets, gates, initializers, schedules
from ._version import __version__
from .activations import gelu, identity, leaky_relu, relu, sigmoid, softmax, step, tanh
from .callbacks import Callback, EarlyStopping, LearningRateScheduler, PrintProgress, TrainingRun
from .checkpoint import ModelCheckpoint
from .errors import (
    ConvergenceWarning,
    DatasetNotFoundError,
    DivergenceError,
    FileFormatError,
    NoDigitError,
    PathError,
    ShapeError,
    TrainingInterrupted,
)
from .gradcheck import gradient_check, numerical_gradient
from .io import load, load_metadata, save
from .language_models import char_rnn, gpt
from .layers import (
    GELU,
    GRU,
    LSTM,
    RNN,
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    FlattenConsecutive,
    GlobalAvgPool2D,
    Identity,
    Layer,
    LayerNorm,
    LeakyReLU,
    MaxPool2D,
    MultiHeadAttention,
    PositionalEmbedding,
    ReLU,
    Sigmoid,
    Softmax,
    Step,
    Tanh,
    TransformerBlock,
)
from .losses import BinaryCrossEntropy, CrossEntropy, Loss, MeanSquaredError
from .model import Sequential, convnet, mlp
from .optimizers import SGD, AdaGrad, Adam, AdamW, Optimizer, RMSProp
from .perceptron import Perceptron
from .sampling import ContiguousWindows, RandomRows, RandomWindows, spread_windows


def __getattr__(name: str) -> Any:
    """``numpynn.to_onnx``, imported on first use (ONNX export needs the optional onnx)."""
    if name == "to_onnx":
        from .onnx import to_onnx

        return to_onnx
    raise AttributeError(f"module 'numpynn' has no attribute {name!r}")


__all__ = [
    "GELU",
    "GRU",
    "LSTM",
    "RNN",
    "SGD",
    "AdaGrad",
    "Adam",
    "AdamW",
    "AvgPool2D",
    "BatchNorm",
    "BinaryCrossEntropy",
    "Callback",
    "ContiguousWindows",
    "Conv2D",
    "ConvergenceWarning",
    "CrossEntropy",
    "DatasetNotFoundError",
    "Dense",
    "DivergenceError",
    "Dropout",
    "EarlyStopping",
    "Embedding",
    "FileFormatError",
    "Flatten",
    "FlattenConsecutive",
    "GlobalAvgPool2D",
    "Identity",
    "Layer",
    "LayerNorm",
    "LeakyReLU",
    "LearningRateScheduler",
    "Loss",
    "MaxPool2D",
    "MeanSquaredError",
    "ModelCheckpoint",
    "MultiHeadAttention",
    "NoDigitError",
    "Optimizer",
    "PathError",
    "Perceptron",
    "PositionalEmbedding",
    "PrintProgress",
    "RMSProp",
    "RandomRows",
    "RandomWindows",
    "ReLU",
    "Sequential",
    "ShapeError",
    "Sigmoid",
    "Softmax",
    "Step",
    "Tanh",
    "TrainingInterrupted",
    "TrainingRun",
    "TransformerBlock",
    "__version__",
    "char_rnn",
    "convnet",
    "datasets",
    "gates",
    "gelu",
    "gpt",
    "gradient_check",
    "identity",
    "initializers",
    "leaky_relu",
    "load",
    "load_metadata",
    "mlp",
    "numerical_gradient",
    "relu",
    "save",
    "schedules",
    "sigmoid",
    "softmax",
    "spread_windows",
    "step",
    "tanh",
]
