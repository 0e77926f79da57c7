"""Files written by numpynn before the layers/ and io/ packages (commit 6384942, the code of
numpynn 0.1.0's format versions) load into the same models: same layers, same outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import numpynn as nn
from numpynn import io as nn_io

FILES = Path(__file__).parent / "data" / "written-before-issue-21"


@pytest.fixture(scope="module")
def expected() -> dict[str, np.ndarray]:
    with np.load(FILES / "expected.npz", allow_pickle=False) as data:
        return dict(data)


@pytest.mark.parametrize(
    ("name", "inputs", "layers"),
    [
        ("mlp", "X", ["Dense", "LeakyReLU", "Dropout", "Dense", "Tanh", "Dense", "Softmax"]),
        (
            "convnet",
            "Xi",
            [
                "Conv2D",
                "BatchNorm",
                "ReLU",
                "MaxPool2D",
                "Conv2D",
                "AvgPool2D",
                "GlobalAvgPool2D",
                "Dense",
                "Sigmoid",
            ],
        ),
        ("flatten-float64", "Xi", ["Flatten", "Dense", "Sigmoid", "Step", "Identity"]),
    ],
)
def test_model_files_load_with_the_outputs_they_had(name, inputs, layers, expected) -> None:
    model = nn.load(FILES / f"{name}.npz")
    assert [type(layer).__name__ for layer in model.layers] == layers
    X = expected[inputs].astype(model.dtype)
    np.testing.assert_array_equal(model.forward(X), expected[name.split("-")[0]])


def test_the_metadata_is_kept() -> None:
    assert nn.load_metadata(FILES / "mlp.npz")["metadata"] == {"classes": ["a", "b", "c"]}


def test_a_checkpoint_loads_with_its_training_state(expected) -> None:
    checkpoint = nn_io.load_checkpoint(FILES / "checkpoint.npz")
    assert (checkpoint.epoch, checkpoint.history, checkpoint.extra) == (
        1,
        {"loss": [1.0]},
        {"note": "x"},
    )
    assert isinstance(checkpoint.optimizer, nn.Adam) and checkpoint.optimizer.t == 1
    np.testing.assert_array_equal(checkpoint.model.forward(expected["X"]), expected["checkpoint"])
