"""The dataset registry: each dataset declared once, asked by name."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import numpynn
from numpynn import datasets
from numpynn.datasets import Dataset, registry


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations a test makes are undone after it."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


def tiny_points(data_dir: str | None) -> registry.Split:
    X = np.zeros((4, 3), dtype=np.float32)
    y = np.zeros(4, dtype=np.int64)
    return (X, y), (X, y)


def test_the_datasets_in_registration_order() -> None:
    assert datasets.names() == (
        "mnist",
        "fashion-mnist",
        "digits",
        "planar",
        "shakespeare",
        "names",
    )
    assert datasets.get is registry.get and datasets.Dataset is Dataset


def test_facts_of_each_entry() -> None:
    mnist, fashion = datasets.get("mnist"), datasets.get("fashion-mnist")
    digits, planar = datasets.get("digits"), datasets.get("planar")
    assert mnist.classes == tuple("0123456789") == digits.classes
    assert fashion.classes == datasets.FASHION_MNIST_CLASSES
    assert planar.classes == ("red", "blue")
    assert [d.n_classes for d in (mnist, fashion, digits, planar)] == [10, 10, 10, 2]
    assert [d.image_shape for d in (mnist, fashion, digits, planar)] == [
        (28, 28),
        (28, 28),
        (8, 8),
        None,
    ]
    assert [d.n_features for d in (mnist, fashion, digits, planar)] == [784, 784, 64, 2]
    assert [d.has_images for d in (mnist, fashion, digits, planar)] == [True, True, True, False]
    assert [d.reads_data_dir for d in (mnist, fashion, digits, planar)] == [
        True,
        True,
        False,
        False,
    ]
    assert [d.picture for d in (mnist, fashion, digits, planar)] == [
        "digit",
        "item",
        "digit",
        None,
    ]


def test_command_line_defaults_and_preset_settings() -> None:
    assert datasets.get("mnist").train_defaults == {}
    assert datasets.get("digits").train_defaults["hidden"] == [64]
    assert datasets.get("planar").train_defaults["loss"] == "binary_cross_entropy"
    assert datasets.get("fashion-mnist").preset_settings == {"cnn": {"shift": 1}}
    assert datasets.get("fashion-mnist").settings_for("cnn") == {"shift": 1}
    assert datasets.get("mnist").settings_for("cnn") == {}


def test_entries_cannot_be_changed() -> None:
    planar = datasets.get("planar")
    with pytest.raises(AttributeError):
        planar.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        planar.train_defaults["lr"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError):
        datasets.get("fashion-mnist").preset_settings["cnn"]["shift"] = 2  # type: ignore[index]


def test_unknown_name_names_the_known_ones() -> None:
    with pytest.raises(ValueError) as exc:
        datasets.get("cifar")
    assert str(exc.value) == (
        "dataset must be one of mnist, fashion-mnist, digits, planar, shakespeare, names, "
        "got 'cifar'"
    )
    with pytest.raises(ValueError, match="got None"):
        datasets.get(None)  # type: ignore[arg-type]


@pytest.mark.usefixtures("fresh_registry")
def test_register_adds_an_entry_after_the_others() -> None:
    points = Dataset("points", tiny_points, ("a", "b"), None, False, None, features=3)
    datasets.register(points)
    assert datasets.names()[-1] == "points" and datasets.get("points") is points
    assert points.n_features == 3 and points.n_classes == 2 and not points.has_images
    assert points.train_defaults == {} and points.preset_settings == {}


@pytest.mark.usefixtures("fresh_registry")
def test_register_refuses_a_clash() -> None:
    clash = Dataset("digits", tiny_points, (), None, False, None, features=3)
    with pytest.raises(ValueError, match="a dataset named 'digits' is already registered"):
        datasets.register(clash)
    assert datasets.get("digits") is not clash
    with pytest.raises(TypeError, match="dataset must be a Dataset, got str"):
        datasets.register("digits")  # type: ignore[arg-type]


@pytest.mark.usefixtures("fresh_registry")
def test_an_entry_without_classes_or_images() -> None:
    """A text dataset (the coming sequence work): no class names, no images, no pictures."""
    text = Dataset("text", tiny_points, (), None, False, None, features=3)
    datasets.register(text)
    assert text.n_classes == 0 and not text.has_images and text.picture is None


def test_entries_check_their_facts() -> None:
    with pytest.raises(ValueError, match="picture must be one of digit, item or None"):
        Dataset("x", tiny_points, (), (2, 2), False, "photo")
    with pytest.raises(ValueError, match="the x dataset has a picture but no image_shape"):
        Dataset("x", tiny_points, (), None, False, "digit", features=3)
    with pytest.raises(ValueError, match="the x dataset needs an image_shape or its features"):
        Dataset("x", tiny_points, (), None, False, None)
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        Dataset("", tiny_points, (), (2, 2), False, None)


def test_planar_loads_its_fixed_split() -> None:
    (X, y), (X_test, y_test) = datasets.get("planar").load(None)
    assert X.shape == (300, 2) and X_test.shape == (100, 2)
    assert X.dtype == np.float32 and y.dtype == np.int64
    points, labels = datasets.flower(400, seed=1)
    order = np.random.default_rng(0).permutation(400)
    np.testing.assert_array_equal(X_test, points[order][300:].astype(np.float32))
    np.testing.assert_array_equal(y, labels[order][:300])
    np.testing.assert_array_equal(y_test, labels[order][300:])


def test_digits_loads_rows_of_its_image_shape() -> None:
    pytest.importorskip("sklearn")
    digits = datasets.get("digits")
    (X, y), (X_test, _) = digits.load(None)
    assert X.shape[1] == X_test.shape[1] == digits.n_features
    assert X.dtype == np.float32 and y.dtype == np.int64 and y.max() == digits.n_classes - 1


def test_mnist_style_loaders_read_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    given: list[object] = []
    monkeypatch.setattr(datasets, "load_mnist", lambda d: given.append(("mnist", d)))
    monkeypatch.setattr(datasets, "load_fashion_mnist", lambda d: given.append(("fashion", d)))
    datasets.get("mnist").load(str(tmp_path))
    datasets.get("fashion-mnist").load(None)
    assert given == [("mnist", str(tmp_path)), ("fashion", None)]


def dataset_name_comparisons(path: Path, known: set[str], shown: str = "") -> list[str]:
    """'file:line: code' (file: ``shown``, else ``path``) for each place in ``path`` that
    compares a string literal naming a dataset in ``known``: ==, !=, in, not in (also against
    a tuple, list, set or dict of literals), a match/case value, or a keyed lookup
    (d["mnist"], d.get("mnist"))."""

    def names_a_dataset(node: ast.AST | None) -> bool:
        return isinstance(node, ast.Constant) and node.value in known

    def holds_a_name(node: ast.AST) -> bool:
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return any(names_a_dataset(e) for e in node.elts)
        if isinstance(node, ast.Dict):
            return any(names_a_dataset(k) for k in node.keys)
        return names_a_dataset(node)

    source = path.read_text()
    hits: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Compare):
            found = any(holds_a_name(n) for n in (node.left, *node.comparators))
        elif isinstance(node, ast.MatchValue):
            found = names_a_dataset(node.value)
        elif isinstance(node, ast.Subscript):
            found = names_a_dataset(node.slice)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            lookup = node.func.attr in ("get", "pop", "setdefault")
            found = lookup and bool(node.args) and names_a_dataset(node.args[0])
        else:
            found = False
        if found:
            lineno: int = node.lineno  # type: ignore[attr-defined]
            hits.append((lineno, source.splitlines()[lineno - 1].strip()))
    return [f"{shown or path}:{lineno}: {line}" for lineno, line in sorted(hits)]


def test_the_scan_finds_each_kind_of_comparison(tmp_path: Path) -> None:
    code = tmp_path / "code.py"
    code.write_text(
        "a = name == 'mnist'\n"
        "b = 'planar' != name\n"
        "c = name in ('digits', 'other')\n"
        "d = name not in {'fashion-mnist'}\n"
        "e = TABLE['mnist']\n"
        "f = TABLE.get('digits')\n"
        "match name:\n"
        "    case 'planar':\n"
        "        pass\n"
        "ok = name == 'cifar' or TABLE[name] or print('mnist')\n"
    )
    hits = dataset_name_comparisons(code, set(datasets.names()))
    assert [int(hit.split(":")[1]) for hit in hits] == [1, 2, 3, 4, 5, 6, 8]


def test_no_module_outside_datasets_compares_a_dataset_name() -> None:
    """Facts about a dataset live in its registry entry, not in switches on its name."""
    package = Path(numpynn.__file__).parent
    known = set(datasets.names())
    hits = [
        hit
        for path in sorted(package.rglob("*.py"))
        if "datasets" not in path.relative_to(package).parts[:-1]
        for hit in dataset_name_comparisons(path, known, str(path.relative_to(package.parent)))
    ]
    assert not hits, "switches on a dataset's name (ask numpynn.datasets.get(name)):\n" + (
        "\n".join(hits)
    )


@pytest.mark.usefixtures("fresh_registry")
def test_the_command_line_refuses_a_dataset_without_class_labels() -> None:
    from numpynn.cli import config

    datasets.register(Dataset("text", tiny_points, (), None, False, None, features=3))
    with pytest.raises(ValueError, match="the text dataset has no class labels"):
        config.resolve("default", {"dataset": "text"})
