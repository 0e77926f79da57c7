"""``numpynn predict MODEL IMAGE...``: the class of each picture, as the model reads it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write
from ..errors import FileFormatError, NoDigitError
from ..imaging import read_image
from ..paths import check_writable_file, make_dir
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
        "A blank image is an error (no digit found), as a file that is not a picture: each "
        "failing IMAGE gets one line on stderr, the others are answered, and the exit code is 2 "
        "if any failed. A top probability below 0.5 gets a warning.",
    )
    predict.add_argument("model", metavar="MODEL", help="a model file trained on images")
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="PNG or JPEG files")
    predict.add_argument(
        "--show-input",
        metavar="PATH",
        help="save the image the model saw, enlarged (for an IMAGE without a digit: the picture "
        "as cleaned): as PATH if it ends in .png (one IMAGE), else as NAME-input.png in the "
        "directory PATH",
    )


def predict_command(args: argparse.Namespace) -> int:
    """Answer every picture that can be read; report each one that cannot (one line on
    stderr: the file and why) and exit with 2 at the end if any could not."""
    trained = load_trained(args.model)
    refuse_language_model(trained, "predict")
    shape = trained.pictures()
    trained.check_features(shape[0] * shape[1], "the images have")
    outputs: list[Path | None] = [None] * len(args.images)
    if args.show_input:
        outputs = list(show_input_paths(args.show_input, args.images))
    shown: list[tuple[str, np.ndarray, str, Path]] = []  # (image, picture, what it is, where)
    width = max(len(str(p)) for p in args.images)
    failed = 0
    for path, out in zip(args.images, outputs, strict=True):
        try:
            x = trained.prepare(read_image(path))
        except (NoDigitError, FileFormatError, OSError) as exc:
            failed += 1
            print(f"numpynn predict: error: {why(path, exc)}", file=sys.stderr, flush=True)
            if out is not None and isinstance(exc, NoDigitError) and exc.cleaned is not None:
                found = str(exc).split(":")[0]  # "no digit found", "no item found"
                shown.append((path, exc.cleaned, f"picture as cleaned ({found} in it)", out))
            continue
        row = trained.class_probabilities(x.reshape(1, -1))[0]
        print_answer(path, row, trained.classes, width)
        if out is not None:
            shown.append((path, x, f"{shape[0]}x{shape[1]} input the model saw", out))
    for path, picture, what, out in shown:
        save_input_png(picture, out)
        print(f"{path}: the {what} is in {out}")
    return 2 if failed else 0


def why(path: str, exc: Exception) -> str:
    """One line naming the picture ``path`` and why it cannot be answered."""
    if isinstance(exc, NoDigitError):
        found, reason = str(exc).split(": ", 1)
        return f"{found} in {path}: {reason}"
    message = " ".join(str(exc).split())
    return message if path in message else f"{path}: {message}"


def print_answer(path: str, row: np.ndarray, labels: list[str], width: int) -> None:
    """The class of the picture ``path`` from its probabilities ``row``, warning when unsure;
    class names in a column (Fashion-MNIST's differ in length)."""
    named = max(map(len, labels))
    k, runner_up = (int(i) for i in np.argsort(row)[::-1][:2])
    print(f"{path!s:<{width}}  {labels[k]:<{named}}  (probability {row[k]:.3f})", flush=True)
    if row[k] < UNSURE:
        print(
            f"numpynn predict: warning: {path}: the model is unsure (top probability "
            f"{row[k]:.3f} < {UNSURE}; next {labels[runner_up]} at {row[runner_up]:.3f})",
            file=sys.stderr,
            flush=True,
        )


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
        return [check_writable_file(target, "--show-input file")]
    make_dir(target, "--show-input directory")
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
