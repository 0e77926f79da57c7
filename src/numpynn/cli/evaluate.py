"""``numpynn evaluate MODEL``: accuracy, per-class precision and recall and the confusion
matrix of a model on the test set of its dataset."""

from __future__ import annotations

import argparse
from typing import Any

from .. import datasets
from ..trained import TrainedModel, load_trained
from . import data, report
from .config import CHOICES
from .data_log import datasets_log
from .errors import CLIError
from .generate import refuse_language_model


def add_parser(commands: Any) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        help="accuracy, per-class precision/recall and confusion matrix of a model",
        description="Evaluate a model file on the test set of its dataset.",
    )
    evaluate.add_argument("model", metavar="MODEL", help="a model file (model.npz, best.npz)")
    evaluate.add_argument(
        "--dataset", choices=CHOICES["dataset"], help="default: the model's dataset"
    )
    evaluate.add_argument("--data-dir", metavar="DIR", help="directory with the dataset files")


def evaluate_command(args: argparse.Namespace) -> int:
    trained = load_trained(args.model)
    refuse_language_model(trained, "evaluate")
    dataset = args.dataset or trained.dataset
    if dataset is None:
        raise CLIError(f"{args.model} does not say which dataset it was trained on: use --dataset")
    with datasets_log(quiet=False):
        X, y = data.load_test(dataset, args.data_dir)
    trained.check_features(X.shape[1], f"the {dataset} test set has")
    if trained.takes_images:
        X = X.reshape(len(X), 1, *data_image_shape(args.model, trained, dataset))
    n_classes = max(len(trained.classes), int(y.max()) + 1)
    labels = trained.classes + [str(k) for k in range(len(trained.classes), n_classes)]
    test = report.evaluate(trained.model, X.astype(trained.model.dtype), y, n_classes)
    print(f"{args.model} on the {dataset} test set ({len(y)} samples)")
    print(f"accuracy {test['accuracy']:.2%}  loss {test['loss']:.4f}")
    print()
    print(report.per_class_table(labels, test["per_class"]))
    print()
    print(report.confusion_table(labels, test["confusion"]))
    return 0


def data_image_shape(model_path: str, trained: TrainedModel, dataset: str) -> tuple[int, int]:
    """The (height, width) of ``dataset``'s images, which a convnet must have been trained on
    (its metadata's image_shape); CLIError otherwise."""
    shape = datasets.get(dataset).image_shape
    if shape is None or trained.image_shape not in (None, shape):
        held = "points" if shape is None else f"{shape[0]}x{shape[1]} images"
        on = (
            "images" if trained.image_shape is None else "{}x{} images".format(*trained.image_shape)
        )
        raise CLIError(f"{model_path} is a convnet trained on {on} but {dataset} holds {held}")
    return shape
