"""numpynn.trained: a classifier file and what its metadata says, read once for the command
line and the server."""

import numpy as np
import pytest

import numpynn as nn
from numpynn import imaging
from numpynn.trained import load_trained


@pytest.fixture(scope="module")
def digits_mlp():
    return nn.mlp([64, 8, 10], "relu", "softmax", seed=0)


def test_the_metadata_gives_dataset_classes_and_picture(tmp_path, digits_mlp):
    path = tmp_path / "model.npz"
    labels = [f"class {k}" for k in range(10)]
    nn.save(digits_mlp, path, metadata={"dataset": "digits", "class_labels": labels})
    trained = load_trained(path)
    assert (trained.dataset, trained.classes, trained.path) == ("digits", labels, path)
    assert (trained.image_shape, trained.picture, trained.takes_images) == ((8, 8), "digit", False)


def test_a_model_without_metadata_has_numbered_classes_and_square_pictures(tmp_path, digits_mlp):
    nn.save(digits_mlp, tmp_path / "m.npz")
    trained = load_trained(tmp_path / "m.npz")
    assert trained.classes == [str(k) for k in range(10)]
    assert trained.pictures() == (8, 8)
    assert trained.dataset is None and trained.metadata == {}


def test_one_sigmoid_output_has_two_classes(tmp_path):
    nn.save(nn.mlp([2, 4, 1], "tanh", "sigmoid", seed=0), tmp_path / "m.npz")
    trained = load_trained(tmp_path / "m.npz")
    assert trained.classes == ["0", "1"]
    X = np.random.default_rng(0).random((5, 2))
    P = trained.class_probabilities(X)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-6)
    with pytest.raises(ValueError, match="takes 2 inputs, not a square image"):
        trained.pictures()


def test_extra_labels_are_cut_to_the_outputs_and_missing_ones_numbered(tmp_path, digits_mlp):
    nn.save(digits_mlp, tmp_path / "m.npz", metadata={"class_labels": ["zero", "one"]})
    assert load_trained(tmp_path / "m.npz").classes == ["zero", "one", *map(str, range(2, 10))]
    nn.save(digits_mlp, tmp_path / "m.npz", metadata={"class_labels": list("abcdefghijkl")})
    assert load_trained(tmp_path / "m.npz").classes == list("abcdefghij")


def test_a_convnet_takes_rows_as_images_of_its_image_shape(tmp_path):
    model = nn.Sequential(
        nn.Conv2D(1, 2, 3, padding=1, seed=0), nn.ReLU(), nn.Flatten(),
        nn.Dense(2 * 8 * 8, 10, seed=1), nn.Softmax(),
    )  # fmt: skip
    nn.save(model, tmp_path / "cnn.npz", metadata={"image_shape": [8, 8]})
    trained = load_trained(tmp_path / "cnn.npz")
    X = np.random.default_rng(0).random((3, 64), dtype=np.float32)
    assert trained.takes_images and trained.pictures() == (8, 8)
    np.testing.assert_array_equal(
        trained.class_probabilities(X), model.predict_proba(X.reshape(3, 1, 8, 8))
    )
    nn.save(model, tmp_path / "bare.npz")
    with pytest.raises(nn.FileFormatError, match="a convnet's metadata must give its image_shape"):
        load_trained(tmp_path / "bare.npz").pictures()


def test_a_fashion_model_frames_an_item_not_a_digit(tmp_path):
    model = nn.mlp([784, 8, 10], "relu", "softmax", seed=0)
    nn.save(model, tmp_path / "m.npz", metadata={"dataset": "fashion-mnist"})
    trained = load_trained(tmp_path / "m.npz")
    assert trained.picture == "item"
    assert trained.classes[9] == "Ankle boot"  # the dataset's names when the file has none
    grey = np.ones((60, 40), dtype=np.float32)
    grey[10:50, 10:30] = 0.2  # a dark item on a light background
    np.testing.assert_array_equal(trained.prepare(grey), imaging.preprocess_item(grey, (28, 28)))


def test_a_run_directory_and_a_checkpoint_give_the_run_model(tmp_path, digits_mlp):
    nn.save(digits_mlp, tmp_path / "model.npz", metadata={"dataset": "digits"})
    assert load_trained(tmp_path).path == tmp_path / "model.npz"
    checkpoint = tmp_path / "ckpt" / "checkpoint.npz"
    checkpoint.parent.mkdir()
    optimizer = nn.optimizers.Adam()
    nn.io.save_checkpoint(checkpoint, digits_mlp, optimizer, np.random.default_rng(0), 1, {})
    nn.save(digits_mlp, checkpoint.parent / "best.npz", metadata={"dataset": "digits"})
    for path in (checkpoint.parent, checkpoint):
        trained = load_trained(path)
        assert trained.path == checkpoint and trained.dataset == "digits"


def test_a_missing_file_or_an_empty_directory_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"model file .*nope\.npz: it does not exist"):
        load_trained(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError, match=r"is a directory without model\.npz"):
        load_trained(tmp_path)


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        ({"dataset": 7}, "'dataset' must be a dataset name"),
        ({"image_shape": [8, -8]}, r"'image_shape' must be null or \[height, width\]"),
        ({"config": {"loss": "hinge"}}, "loss must be one of .*got 'hinge'"),
    ],
)
def test_damaged_metadata_is_a_file_format_error(tmp_path, digits_mlp, metadata, words):
    nn.save(digits_mlp, tmp_path / "m.npz", metadata=metadata)
    with pytest.raises(nn.FileFormatError, match=words):
        load_trained(tmp_path / "m.npz")


def test_the_picture_preparation_is_the_registry_entry_s(tmp_path, digits_mlp, monkeypatch):
    from numpynn.datasets import registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    load = registry.get("fashion-mnist").load
    registry.register(registry.Dataset("shoes", load, (), (8, 8), False, picture="item"))
    nn.save(digits_mlp, tmp_path / "m.npz", metadata={"dataset": "shoes"})
    assert load_trained(tmp_path / "m.npz").picture == "item"
    nn.save(digits_mlp, tmp_path / "m.npz", metadata={"dataset": "my-own-digits"})
    assert load_trained(tmp_path / "m.npz").picture == "digit"  # unknown: framed as a digit
