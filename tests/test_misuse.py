"""The library's everyday misuse, each with a message that names the mistake and the fix
(issue 26): class names as labels, an empty Sequential, a class, a function or a name where
an object belongs."""

from __future__ import annotations

import re

import numpy as np
import pytest

import numpynn as nn
from numpynn import activations

X = np.random.default_rng(0).standard_normal((12, 4))
Y = np.arange(12) % 3


@pytest.mark.parametrize(
    "y",
    [np.array(list("abc") * 4), np.array(["cat", "dog", "cow"] * 4, dtype=object)],
    ids=["strings", "objects"],
)
@pytest.mark.parametrize("output", ["softmax", "identity"])
def test_class_names_as_labels_say_so_and_how_to_map_them(y, output):
    model = nn.mlp([4, 3 if output == "softmax" else 1], output=output, seed=0)
    with pytest.raises(TypeError) as caught:
        model.fit(X, y, epochs=1)
    message = str(caught.value)
    assert "y holds class names" in message and "np.unique(y, return_inverse=True)" in message
    assert "fractional" not in message and "MeanSquaredError" not in message


def test_an_object_array_of_integer_labels_trains():
    nn.mlp([4, 3], seed=0).fit(X, Y.astype(object), epochs=1)


@pytest.mark.filterwarnings("ignore:NumpyNNClassifier")
def test_the_scikit_learn_classifier_still_takes_class_names():
    from numpynn.sklearn import NumpyNNClassifier

    names = np.array(["cat", "dog", "cow"])[Y]
    clf = NumpyNNClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0).fit(X, names)
    assert set(clf.predict(X)) <= {"cat", "dog", "cow"}


def test_a_list_of_layers_for_sequential_names_the_unpacking():
    with pytest.raises(TypeError, match=re.escape("not a list of them: Sequential(Dense(4, 3)")):
        nn.Sequential([nn.Dense(4, 3), nn.Softmax()])  # type: ignore[arg-type]


def test_an_empty_sequential_is_refused():
    with pytest.raises(ValueError, match="Sequential needs at least one layer"):
        nn.Sequential()


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (nn.Softmax, "the class Softmax, not a layer: create one, Softmax()"),
        (np.tanh, "the function tanh, not a layer: use the layer Tanh()"),
        (activations.relu, "the function relu, not a layer: use the layer ReLU()"),
        ("relu", "the string 'relu', not a layer: use the layer ReLU()"),
        (lambda x: x, "the function <lambda>, not a layer"),
        (nn.Adam, "the class Adam, which is not a layer"),
        (3, "got int 3"),
    ],
)
def test_what_is_not_a_layer_in_sequential_is_named(given, words):
    with pytest.raises(TypeError) as caught:
        nn.Sequential(nn.Dense(4, 3), given)
    assert str(caught.value).startswith("layer 1 must be a numpynn Layer, got ")
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ({"optimizer": nn.Adam}, "the class Adam, not an optimizer: create one, Adam()"),
        (
            {"loss": nn.CrossEntropy},
            "the class CrossEntropy, not a loss: create one, CrossEntropy()",
        ),
        ({"callbacks": [nn.EarlyStopping]}, "the class EarlyStopping, not a callback"),
        ({"callbacks": [print]}, "the function print, not a callback"),
    ],
)
def test_a_class_or_function_where_fit_takes_an_object_is_named(setting, words):
    with pytest.raises(TypeError, match=words.replace("(", r"\(").replace(")", r"\)")):
        nn.mlp([4, 3], seed=0).fit(X, Y, epochs=1, **setting)


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"activation": nn.ReLU}, "activation takes an activation's name, 'relu', got the class"),
        ({"activation": nn.ReLU()}, "activation takes an activation's name, 'relu', got the layer"),
        ({"activation": ["relu", nn.Tanh]}, "activation takes an activation's name, 'tanh'"),
        ({"output": nn.Softmax}, "output takes an activation's name, 'softmax', got the class"),
    ],
)
def test_an_activation_layer_where_mlp_takes_a_name_names_the_name(settings, words):
    sizes = [4, 5, 5, 3] if isinstance(settings.get("activation"), list) else [4, 5, 3]
    with pytest.raises(TypeError, match=re.escape(words)):
        nn.mlp(sizes, **settings)


@pytest.mark.parametrize(
    ("callbacks", "words"),
    [
        (nn.EarlyStopping("loss"), "got one EarlyStopping: give a list, e.g. callbacks=[Early"),
        (nn.EarlyStopping, "got the class EarlyStopping: give a list"),
    ],
)
def test_one_callback_for_the_list_of_callbacks_is_named(callbacks, words):
    with pytest.raises(TypeError, match=re.escape(words)):
        nn.mlp([4, 3], seed=0).fit(X, Y, epochs=1, callbacks=callbacks)
