"""The learning path (docs/learn): the experiments of the classic texts, one module per chapter.

A chapter's module holds its experiment, functions that return their results as arrays, dicts
and lists, and what ``numpynn lab NAME`` makes of them: ``run()``, the experiment with the
chapter's settings; ``figures(numbers)``, its figures as {file name: matplotlib ``Figure``};
``summary(numbers)``, the text printed; and ``CHAPTER``, the :class:`Chapter` that names them.

Every figure follows one convention: a ``*_figure`` function draws a ``Figure`` from the
numbers (:func:`numpynn.plots.new_figure`) and returns it without writing anything;
:func:`numpynn.plots.save_figure` writes it as a PNG. matplotlib is imported on the first
drawing, never by importing :mod:`numpynn.lab`.

:data:`~numpynn.lab.CHAPTERS` lists the chapters once, in the path's order: a new chapter is
one module and its entry there.
"""

from typing import Any

from . import (
    activations,
    attention,
    backprop,
    batchnorm,
    forward_pass,
    gradients_through_time,
    hyperparameter_search,
    initial_weights,
    learned,
    lstm_lm,
    makemore,
    optimizers,
    overfitting,
    perceptrons,
    planar,
    rnn_lm,
    seq2seq,
    tiny_gpt,
    word_vectors,
)
from .activations import activation_curves, sigmoid_saturation
from .attention import date_accuracy, date_problems
from .backprop import gradient_errors
from .batchnorm import batchnorm_accuracy
from .chapter import Chapter
from .forward_pass import book_network, forward_steps
from .gradients_through_time import book_gradient_norms, clipping_runs, recurrent_gradients
from .hyperparameter_search import random_search
from .initial_weights import activation_histograms
from .learned import confident_mistakes, first_layer_images, what_it_learned
from .lstm_lm import lstm_perplexity
from .makemore import makemore_ladder
from .optimizers import mnist_losses, optimizer_paths, steps_to_reach
from .overfitting import overfitting_curves, train_test_gap
from .perceptrons import gate_lines, learning_rule
from .planar import hidden_sizes, planar_network
from .rnn_lm import rnn_perplexity
from .seq2seq import addition_accuracy, addition_problems
from .tiny_gpt import attention_maps, train_tiny_gpt
from .word_vectors import count_vectors, nearest_words, train_cbow

# name -> chapter, in the order of docs/learn.
CHAPTERS: dict[str, Chapter[Any]] = {
    chapter.name: chapter
    for chapter in (
        perceptrons.CHAPTER,
        activations.CHAPTER,
        forward_pass.CHAPTER,
        backprop.CHAPTER,
        planar.CHAPTER,
        optimizers.CHAPTER,
        initial_weights.CHAPTER,
        batchnorm.CHAPTER,
        overfitting.CHAPTER,
        hyperparameter_search.CHAPTER,
        learned.CHAPTER,
        word_vectors.CHAPTER,
        rnn_lm.CHAPTER,
        gradients_through_time.CHAPTER,
        lstm_lm.CHAPTER,
        seq2seq.CHAPTER,
        attention.CHAPTER,
        makemore.CHAPTER,
        tiny_gpt.CHAPTER,
    )
}

__all__ = [
    "CHAPTERS",
    "Chapter",
    "activation_curves",
    "activation_histograms",
    "addition_accuracy",
    "addition_problems",
    "attention_maps",
    "batchnorm_accuracy",
    "book_gradient_norms",
    "book_network",
    "clipping_runs",
    "confident_mistakes",
    "count_vectors",
    "date_accuracy",
    "date_problems",
    "first_layer_images",
    "forward_steps",
    "gate_lines",
    "gradient_errors",
    "hidden_sizes",
    "learning_rule",
    "lstm_perplexity",
    "makemore_ladder",
    "mnist_losses",
    "nearest_words",
    "optimizer_paths",
    "overfitting_curves",
    "planar_network",
    "random_search",
    "recurrent_gradients",
    "rnn_perplexity",
    "sigmoid_saturation",
    "steps_to_reach",
    "train_cbow",
    "train_test_gap",
    "train_tiny_gpt",
    "what_it_learned",
]
