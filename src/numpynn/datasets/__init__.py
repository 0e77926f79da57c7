"""Datasets: MNIST and Fashion-MNIST (with their IDX format), scikit-learn's 8x8 digits,
small generated sets for demos and tests, and random shifts to augment images; the registry
of the datasets known by name (``get("mnist")``, ``names()``, ``register``)."""

from .augment import random_shift
from .digits import load_digits
from .idx import read_idx, write_idx
from .mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from .registry import Dataset, get, names, register
from .split import split_validation
from .toy import flower, truth_table, xor

__all__ = [
    "FASHION_MNIST_CLASSES",
    "Dataset",
    "flower",
    "get",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "names",
    "random_shift",
    "read_idx",
    "register",
    "split_validation",
    "truth_table",
    "write_idx",
    "xor",
]
