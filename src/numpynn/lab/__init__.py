"""The learning path: the experiments of the classic texts, each a function that returns its
results as arrays and dicts (see docs/learn/). The figures are drawn from those results by
:mod:`numpynn.lab.figures` (matplotlib); ``numpynn lab NAME`` runs one and writes its figure.

=============  =========================================================================
name           experiment
=============  =========================================================================
perceptron     the gates' decision lines, XOR in two layers, the perceptron learning rule
activations    activation functions and their derivatives; the sigmoid's saturation
forward        the 3-layer network's forward pass as matrix products, with its shapes
backprop       analytic against numerical gradients, per layer
planar         the flower's decision boundary for 1 to 50 hidden units
optimizers     optimiser paths on x^2/20 + y^2; their MNIST loss curves
init           hidden-layer activations for weights of std 1, 0.01, Xavier's and He's
batchnorm      training accuracy with and without BatchNorm for weight scales 1 to 1e-4
overfitting    training and test accuracy on 300 images: plain, dropout, weight decay
search         random search over learning rate and weight decay, by validation accuracy
learned        first-layer weights as images, the most confident mistakes, confusion matrix
=============  =========================================================================
"""

from .activations import activation_curves, sigmoid_saturation
from .backprop import gradient_errors
from .batchnorm import batchnorm_accuracy
from .forward_pass import book_network, forward_steps
from .hyperparameter_search import random_search
from .initial_weights import activation_histograms
from .learned import confident_mistakes, first_layer_images, what_it_learned
from .optimizers import mnist_losses, optimizer_paths, steps_to_reach
from .overfitting import overfitting_curves, train_test_gap
from .perceptrons import gate_lines, learning_rule
from .planar import hidden_sizes, planar_network

# name -> one line; the order of the chapters in docs/learn.
EXPERIMENTS = {
    "perceptron": "perceptrons: AND/OR/NAND decision lines, XOR in two layers, the learning rule",
    "activations": "activation functions and their derivatives; the saturation of the sigmoid",
    "forward": "the 3-layer network's forward pass as matrix products, step by step",
    "backprop": "backpropagation checked: numerical vs analytic gradients per layer",
    "planar": "planar data: the decision boundary for 1, 2, 3, 4, 5, 20 and 50 hidden units",
    "optimizers": "optimisers: paths on x^2/20 + y^2 and loss curves on an MNIST subset",
    "init": "initial weights: activation histograms of a 5-layer net (std 1, 0.01, Xavier, He)",
    "batchnorm": "batch normalization: training accuracy with and without, weight std 1 to 1e-4",
    "overfitting": "overfitting: train vs test accuracy on 300 images, dropout, weight decay",
    "search": "hyper-parameter search: random learning rate and weight decay, by val accuracy",
    "learned": "what the network learned: first-layer weights, confident mistakes, confusion",
}

__all__ = [
    "EXPERIMENTS",
    "activation_curves",
    "activation_histograms",
    "batchnorm_accuracy",
    "book_network",
    "confident_mistakes",
    "first_layer_images",
    "forward_steps",
    "gate_lines",
    "gradient_errors",
    "hidden_sizes",
    "learning_rule",
    "mnist_losses",
    "optimizer_paths",
    "overfitting_curves",
    "planar_network",
    "random_search",
    "sigmoid_saturation",
    "steps_to_reach",
    "train_test_gap",
    "what_it_learned",
]
