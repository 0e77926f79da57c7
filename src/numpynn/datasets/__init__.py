"""Datasets: MNIST and Fashion-MNIST (with their IDX format), scikit-learn's 8x8 digits,
the text sets tiny Shakespeare and makemore's names (with a character vocabulary), small
generated sets for demos and tests, and random shifts to augment images; the registry
of the datasets known by name (``get("mnist")``, ``names()``, ``register``)."""

from .augment import random_shift
from .digits import load_digits
from .idx import read_idx, write_idx
from .mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from .registry import Dataset, get, names, register
from .split import split_validation
from .text import TextData, WordsData, load_names, load_shakespeare, padded_words
from .toy import flower, truth_table, xor
from .vocabulary import CharVocabulary

__all__ = [
    "FASHION_MNIST_CLASSES",
    "CharVocabulary",
    "Dataset",
    "TextData",
    "WordsData",
    "flower",
    "get",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_names",
    "load_shakespeare",
    "names",
    "padded_words",
    "random_shift",
    "read_idx",
    "register",
    "split_validation",
    "truth_table",
    "write_idx",
    "xor",
]
