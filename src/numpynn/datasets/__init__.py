"""Datasets: MNIST and Fashion-MNIST (with their IDX format), scikit-learn's 8x8 digits,
small generated sets for demos and tests, and random shifts to augment images."""

from .augment import random_shift
from .digits import load_digits
from .idx import read_idx, write_idx
from .mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from .split import split_validation
from .toy import flower, truth_table, xor

__all__ = [
    "FASHION_MNIST_CLASSES",
    "flower",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "random_shift",
    "read_idx",
    "split_validation",
    "truth_table",
    "write_idx",
    "xor",
]
