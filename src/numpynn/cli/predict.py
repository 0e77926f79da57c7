"""``numpynn predict MODEL IMAGE...``: the class of each picture, as the model reads it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write
from ..errors import NoDigitError
from ..imaging import read_image
from ..trained import load_trained
from .errors import CLIError
from .generate import refuse_language_model

UNSURE = 0.5  # predict warns when the top class probability is below this


def add_parser(commands: Any) -> None:
    predict = commands.add_parser(
        "predict",
        help="classify digit images (PNG/JPEG of any size, photos of paper or drawings)",
        description="Classify images of digits. Each is cleaned as a photo of paper needs "
        "(lighting flattened, noise and specks removed, dark or light ink), then cropped, "
        "scaled into 20x20 and centred by its centre of mass in 28x28, as MNIST's digits were. "
        "A blank image is an error (no digit found); a top probability below 0.5 gets a "
        "warning.",
    )
    predict.add_argument("model", metavar="MODEL", help="a model file trained on images")
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="PNG or JPEG files")
    predict.add_argument(
        "--show-input",
        metavar="PATH",
        help="save the image the model saw, enlarged: as PATH if it ends in .png (one IMAGE), "
        "else as NAME-input.png in the directory PATH",
    )


def predict_command(args: argparse.Namespace) -> int:
    trained = load_trained(args.model)
    refuse_language_model(trained, "predict")
    shape = trained.pictures()
    outputs = show_input_paths(args.show_input, args.images) if args.show_input else []
    inputs = []
    for path in args.images:
        try:
            inputs.append(trained.prepare(read_image(path)))
        except NoDigitError as exc:
            found, reason = str(exc).split(": ", 1)
            raise CLIError(f"{found} in {path}: {reason}") from None
    X = np.stack([x.ravel() for x in inputs])
    trained.check_features(X.shape[1], "the images have")
    scores = trained.class_probabilities(X)
    labels = trained.classes
    width = max(len(str(p)) for p in args.images)
    named = max(map(len, labels))  # class names in a column (Fashion-MNIST's differ in length)
    for path, row in zip(args.images, scores, strict=True):
        k, runner_up = (int(i) for i in np.argsort(row)[::-1][:2])
        print(f"{path!s:<{width}}  {labels[k]:<{named}}  (probability {row[k]:.3f})", flush=True)
        if row[k] < UNSURE:
            print(
                f"numpynn predict: warning: {path}: the model is unsure (top probability "
                f"{row[k]:.3f} < {UNSURE}; next {labels[runner_up]} at {row[runner_up]:.3f})",
                file=sys.stderr,
                flush=True,
            )
    for path, x, out in zip(args.images, inputs, outputs, strict=False):
        save_input_png(x, out)
        print(f"{path}: the {shape[0]}x{shape[1]} input the model saw is in {out}")
    return 0


def show_input_paths(where: str, images: list[str]) -> list[Path]:
    """Where ``--show-input`` saves each image's model input: the file ``where`` if it ends in
    .png (one image only), else ``NAME-input.png`` in the directory ``where`` (made if need be)."""
    target = Path(where)
    if target.suffix.lower() == ".png":
        if len(images) > 1:
            raise CLIError(
                f"--show-input {where} names one file but {len(images)} images were given; "
                "give a directory instead"
            )
        if not target.parent.is_dir():
            raise CLIError(f"--show-input {where}: directory {target.parent} does not exist")
        return [target]
    if target.exists() and not target.is_dir():
        raise CLIError(f"--show-input {where} is a file: give a directory or a .png file")
    target.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for image in images:
        out, n = target / f"{Path(image).stem}-input.png", 2
        while out in paths:  # two images of the same name in different directories
            out, n = target / f"{Path(image).stem}-input-{n}.png", n + 1
        paths.append(out)
    return paths


def save_input_png(x: np.ndarray, path: Path) -> None:
    """x: (height, width) in [0, 1] saved as a grey PNG, each pixel a square of about 10 x 10
    screen pixels (28x28 -> 280x280), light digit on black as the model sees it."""
    from PIL import Image  # lazy: Pillow is needed for pictures only

    scale = max(1, 280 // max(x.shape))
    pixels = np.kron(np.round(255 * x).astype(np.uint8), np.ones((scale, scale), np.uint8))
    with atomic_write(path) as f:
        Image.fromarray(pixels, mode="L").save(f, format="PNG")
