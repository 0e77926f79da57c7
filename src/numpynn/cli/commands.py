"""The commands: each takes the parsed arguments and returns the exit code."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import importlib
import importlib.util
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileFormatError
from ..layers import Conv2D
from . import config, data, report, train
from .errors import CLIError
from .models import class_probabilities, user_metadata

# The settings --resume may change; the others come from the run's config.json. (--data-dir,
# --threads, --quiet and --no-plots are not settings: they apply to each invocation.)
RESUME_OPTIONS = ("epochs",)
CONFIG_OPTIONS = tuple(f.name for f in dataclasses.fields(config.TrainConfig))


def train_command(args: argparse.Namespace) -> int:
    given = {k: getattr(args, k) for k in CONFIG_OPTIONS if getattr(args, k, None) is not None}
    if args.resume:
        run_dir = Path(args.resume)
        cfg = load_run_config(run_dir)
        saved = cfg.to_dict()
        changed = [k for k in given if k not in RESUME_OPTIONS and given[k] != saved[k]]
        if args.preset or args.out or changed:
            names = ["--" + k.replace("_", "-") for k in changed]
            names += ["--preset"] * bool(args.preset) + ["--out"] * bool(args.out)
            raise CLIError(
                f"--resume continues the run with its saved settings ({run_dir / 'config.json'});"
                f" it cannot change {', '.join(names)} (only --epochs may change)"
            )
        for stale in run_dir.glob(".*.tmp"):  # left by a write that was killed mid-way
            stale.unlink()
        if args.epochs is not None:
            cfg.epochs = args.epochs
    else:
        cfg = config.resolve(args.preset or "default", given)
        run_dir = new_run_dir(args.out, cfg.dataset)
    threads, why = args.threads, f"--threads {args.threads}"
    runs_own = threads == "auto" and args.resume and cfg.blas_threads
    if runs_own:
        threads, why = cfg.blas_threads, "the run's own; --threads N to change it"
    elif threads == "auto":
        threads, measured = auto_threads()
        why = f"--threads auto: {measured}"
    if threads is not None and importlib.util.find_spec("threadpoolctl") is None:
        raise CLIError("--threads needs threadpoolctl: pip install 'numpynn[cli]'", 1)
    if cfg.network == "cnn" and not runs_own:
        # A convnet's element-wise passes stay on one core whatever the BLAS threads: its
        # threads go to workers that each take a share of every batch, one BLAS thread each.
        cfg.workers, threads = threads or blas_threads() or os.cpu_count() or 1, 1
    if not args.quiet:
        n = threads or blas_threads()
        count = f"{n} BLAS thread{'s' * (n != 1)}" if n else "the BLAS default threads"
        count += "" if threads else " (the BLAS default)"
        if (cfg.workers or 1) > 1:
            count = f"{cfg.workers} workers with {count} each"
        print(f"using {count} ({why})")
    cfg.blas_threads = threads or blas_threads()
    with datasets_log(quiet=args.quiet):
        return train.run(
            cfg,
            run_dir,
            resume=bool(args.resume),
            data_dir=args.data_dir,
            quiet=args.quiet,
            plots=not args.no_plots,
            threads=threads,
            started=args.started,
        )


def load_run_config(run_dir: Path) -> config.TrainConfig:
    path = run_dir / "config.json"
    if not path.exists():
        raise CLIError(f"{run_dir} is not a numpynn run directory: it has no config.json")
    return config.TrainConfig.load(path)


def new_run_dir(out: str | None, dataset: str) -> Path:
    """``out``, or runs/<date>-<time>-<dataset>; refuses a directory that holds a run.
    The directory is created once the data has loaded."""
    if out is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        run_dir = Path("runs") / f"{stamp}-{dataset}"
        k = 2
        while run_dir.exists():
            run_dir = Path("runs") / f"{stamp}-{dataset}-{k}"
            k += 1
    else:
        run_dir = Path(out)
        if (run_dir / "config.json").exists():
            raise CLIError(
                f"{run_dir} already holds a run; continue it with numpynn train --resume "
                f"{run_dir}, or choose another --out"
            )
        if run_dir.exists() and not run_dir.is_dir():
            raise CLIError(f"--out {run_dir} is a file, not a directory")
    return run_dir


@contextlib.contextmanager
def datasets_log(quiet: bool) -> Iterator[None]:
    """Show where the datasets come from (numpynn.datasets logs it at INFO) on stderr."""
    logger = logging.getLogger("numpynn.datasets")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("numpynn: %(message)s"))
    previous = logger.level
    if not quiet:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def auto_threads() -> tuple[int | None, str]:
    """The BLAS threads for the cores other processes leave idle now, and why: (None, why) on
    an idle machine (the BLAS default: every core), else (the idle cores rounded, at least 1,
    why). BLAS threads that share a core with another process wait for each other at every
    matrix product, so on a busy machine fewer threads train faster (measured in docs/cli.md).
    The idle time is measured over 0.2 s (/proc/stat); the 1-minute load average,
    used only where /proc/stat is missing, still counts runs that ended a minute ago."""
    cores = os.cpu_count() or 1
    measured = idle_cores(0.2)
    if measured is not None:
        idle, how = min(measured, cores), "idle over the last 0.2 s"
    else:
        try:
            idle, how = max(0.0, cores - os.getloadavg()[0]), "idle by the 1-minute load average"
        except OSError:  # not available on this platform
            return None, "no measure of the load on this platform: the BLAS default"
    why = f"{idle:.1f} of {cores} cores {how}"
    if idle > cores - 0.5:
        return None, why
    return max(1, round(idle)), why


def idle_cores(seconds: float) -> float | None:
    """How many cores were idle, on average, over the next ``seconds`` (from the kernel's CPU
    time counters in /proc/stat; None where there is none)."""

    def counters() -> tuple[int, int, int]:
        with open("/proc/stat") as f:
            lines = f.read().splitlines()
        # cpu  user nice system idle iowait irq softirq steal ...  (in clock ticks)
        ticks = [int(v) for v in lines[0].split()[1:9]]
        n_cpus = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
        return ticks[3] + ticks[4], sum(ticks), n_cpus

    try:
        idle0, total0, n_cpus = counters()
        time.sleep(seconds)
        idle1, total1, _ = counters()
    except (OSError, ValueError, IndexError):
        return None
    if total1 <= total0:
        return None
    return n_cpus * (idle1 - idle0) / (total1 - total0)


def blas_threads() -> int | None:
    """The number of threads NumPy's BLAS uses by default (None without threadpoolctl)."""
    counts = [pool["num_threads"] for pool in report.thread_pools() if pool["user_api"] == "blas"]
    return max(counts) if counts else None


def evaluate_command(args: argparse.Namespace) -> int:
    model, metadata = load_model(args.model)
    dataset = args.dataset or metadata.get("dataset")
    if dataset is None:
        raise CLIError(f"{args.model} does not say which dataset it was trained on: use --dataset")
    labels = metadata.get("class_labels") or [str(k) for k in range(model.n_outputs or 0)]
    with datasets_log(quiet=False):
        X, y = data.load_test(dataset, args.data_dir)
    check_inputs(args.model, model, metadata, X.shape[1], f"the {dataset} test set has")
    if model_takes_images(model):
        X = X.reshape(len(X), 1, *data_image_shape(args.model, dataset, metadata))
    n_classes = max(len(labels), int(y.max()) + 1)
    labels = labels + [str(k) for k in range(len(labels), n_classes)]
    test = report.evaluate(model, X.astype(model.dtype), y, n_classes)
    print(f"{args.model} on the {dataset} test set ({len(y)} samples)")
    print(f"accuracy {test['accuracy']:.2%}  loss {test['loss']:.4f}")
    print()
    print(report.per_class_table(labels, test["per_class"]))
    print()
    print(report.confusion_table(labels, test["confusion"]))
    return 0


UNSURE = 0.5  # predict warns when the top class probability is below this


def predict_command(args: argparse.Namespace) -> int:
    from ..errors import NoDigitError
    from ..imaging import as_model_input, preprocessor, read_image

    model, metadata = load_model(args.model)
    shape = metadata.get("image_shape")
    if shape is None and model_takes_images(model):
        raise CLIError(f"{args.model} is a convnet without an image_shape in its metadata")
    if shape is None:
        side = round(float(np.sqrt(model.n_inputs or 0)))
        if side * side != model.n_inputs:
            raise CLIError(
                f"{args.model} takes {model.n_inputs} inputs, not a square image: predict works "
                "with image models (mnist, fashion-mnist, digits)"
            )
        shape = [side, side]
    shape = (int(shape[0]), int(shape[1]))
    outputs = show_input_paths(args.show_input, args.images) if args.show_input else []
    labels = metadata.get("class_labels") or [str(k) for k in range(model.n_outputs or 0)]
    inputs, preprocess = [], preprocessor(metadata.get("dataset"))
    for path in args.images:
        try:
            inputs.append(preprocess(read_image(path), shape))
        except NoDigitError as exc:
            found, reason = str(exc).split(": ", 1)
            raise CLIError(f"{found} in {path}: {reason}") from None
    X = np.stack([x.ravel() for x in inputs])
    check_inputs(args.model, model, metadata, X.shape[1], "the images have")
    X = as_model_input(X, model.input_shape, shape)
    scores = class_probabilities(model, X.astype(model.dtype))
    width = max(len(str(p)) for p in args.images)
    for path, row in zip(args.images, scores, strict=True):
        k, runner_up = (int(i) for i in np.argsort(row)[::-1][:2])
        print(f"{path!s:<{width}}  {labels[k]}  (probability {row[k]:.3f})", flush=True)
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
    from PIL import Image

    from ..atomic import atomic_write

    scale = max(1, 280 // max(x.shape))
    pixels = np.kron(np.round(255 * x).astype(np.uint8), np.ones((scale, scale), np.uint8))
    with atomic_write(path) as f:
        Image.fromarray(pixels, mode="L").save(f, format="PNG")


def gates_command(args: argparse.Namespace) -> int:
    from .. import gates

    inputs = [(0, 0), (0, 1), (1, 0), (1, 1)]
    single = {"AND": gates.AND_PERCEPTRON, "OR": gates.OR_PERCEPTRON, "NAND": gates.NAND_PERCEPTRON}
    for name, fn in (
        ("AND", gates.AND),
        ("OR", gates.OR),
        ("NAND", gates.NAND),
        ("XOR", gates.XOR),
    ):
        if name in single:
            p = single[name]
            w = ", ".join(f"{v:g}" for v in p.w)
            how = f"one perceptron: w = ({w}), b = {p.b:g}"
        else:
            how = "two layers: AND(NAND(x1, x2), OR(x1, x2)); no single perceptron can do it"
        print(f"{name}  ({how})")
        print("  x1  x2 | y")
        for x1, x2 in inputs:
            print(f"   {x1}   {x2} | {fn(x1, x2)}")
        print()
    return 0


def plot_command(args: argparse.Namespace) -> int:
    from .. import plots

    if args.what == "activations":
        if args.runs:
            raise CLIError("plot activations takes no RUN_DIR (plot curves RUN_DIR draws a run)")
        path = plots.plot_activations(args.out or "activations.png")
    elif args.what == "filters":
        if len(args.runs) != 1:
            raise CLIError(
                "plot filters takes one model file: numpynn plot filters RUN_DIR/model.npz"
            )
        model, _ = load_model(args.runs[0])
        convs = [layer for layer in model.layers if isinstance(layer, Conv2D)]
        if not convs:
            raise CLIError(f"{args.runs[0]} has no Conv2D layer: plot filters draws a convnet's")
        given = Path(args.runs[0])
        where = given if given.is_dir() else given.parent
        path = plots.plot_filters(
            convs[0].W, args.out or where / "filters.png", title=f"{where.name}, first Conv2D"
        )
    elif not args.runs:
        raise CLIError("plot curves needs at least one RUN_DIR: numpynn plot curves runs/mnist")
    elif len(args.runs) == 1:
        run_dir = Path(args.runs[0])
        history, metrics = run_history(run_dir)
        path = plots.plot_history(
            history,
            args.out or run_dir / "curves.png",
            title=f"{metrics['config']['dataset']}, run {run_dir.name}",
            loss_name=metrics["config"]["loss"],
            best_epoch=report.final_epoch(metrics) if "test" in metrics else None,
            test_accuracy=metrics["test"]["accuracy"] if "test" in metrics else None,
        )
    else:
        runs = {}
        for name in args.runs:
            history, metrics = run_history(Path(name))
            runs[f"{Path(name).name} ({metrics['config']['dataset']})"] = history
        path = plots.plot_histories(
            runs, args.out or "curves.png", title=f"Learning curves of {len(runs)} runs"
        )
    print(f"wrote {path}")
    return 0


def run_history(run_dir: Path) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """(history, metrics) of a run directory: a finished run's metrics.json, or the history in
    the checkpoint of a run still going or interrupted (metrics then hold only its config)."""
    from .. import io as nn_io

    if not run_dir.is_dir():
        raise CLIError(
            f"{run_dir} is not a run directory"
            + ("" if run_dir.exists() else " (it does not exist)")
        )
    metrics_path = run_dir / "metrics.json"
    if metrics_path.exists():
        try:
            metrics = json.loads(metrics_path.read_text())
            history = {k: v for k, v in metrics["history"].items() if k in report.HISTORY_KEYS}
            config = metrics["config"]
            if not isinstance(config["dataset"], str) or not isinstance(config["loss"], str):
                raise TypeError("config.dataset and config.loss must be names")
        except KeyError as exc:
            raise FileFormatError(
                f"{metrics_path} is not a numpynn run's metrics: it has no {exc.args[0]!r}"
            ) from None
        except (ValueError, TypeError) as exc:
            raise FileFormatError(f"{metrics_path} is not a numpynn run's metrics: {exc}") from None
        return history, metrics
    checkpoint = run_dir / "checkpoint.npz"
    if checkpoint.exists():
        return nn_io.load_checkpoint(checkpoint).history, {
            "config": load_run_config(run_dir).to_dict()
        }
    raise CLIError(
        f"{run_dir} is not a numpynn run directory: it has no metrics.json or checkpoint.npz"
    )


def export_command(args: argparse.Namespace) -> int:
    model, _ = load_model(args.model)
    try:
        nn_onnx = importlib.import_module("numpynn.onnx")  # lazy: needs the onnx extra
        nn_onnx.save_onnx(model, args.output)
    except ModuleNotFoundError as exc:
        if exc.name in ("onnx", "onnxruntime", "numpynn.onnx"):
            raise CLIError(
                f"numpynn export needs the onnx extra ({exc.name} is not installed): "
                "pip install 'numpynn[onnx]'",
                1,
            ) from None
        raise
    print(f"wrote {args.output}")
    return 0


def load_model(path: str) -> tuple[Any, dict[str, Any]]:
    """The model in ``path`` and the metadata the command line saved with it. ``path`` may be
    a model file, a checkpoint (its model, with the metadata of the run's best.npz) or a run
    directory (its model.npz)."""
    import numpynn

    from .. import io as nn_io

    given = Path(path)
    if not given.exists():
        raise CLIError(f"model file {path} does not exist")
    if given.is_dir():
        if (given / "model.npz").exists():
            given = given / "model.npz"
        elif (given / "checkpoint.npz").exists():  # an interrupted run: its last epoch
            given = given / "checkpoint.npz"
        else:
            raise CLIError(
                f"{path} is a directory without model.npz or checkpoint.npz: give a model file "
                "or a run directory of numpynn train"
            )
    try:
        return numpynn.load(given), user_metadata(given)
    except FileFormatError as not_a_model:
        try:
            checkpoint = nn_io.load_checkpoint(given)
        except (FileFormatError, OSError):
            raise not_a_model from None
    best = given.parent / "best.npz"  # the same run's model file carries its metadata
    return checkpoint.model, user_metadata(best) if best.exists() else {}


def model_takes_images(model: Any) -> bool:
    shape = model.input_shape
    return shape is not None and len(shape) == 3


def data_image_shape(model_path: str, dataset: str, metadata: dict[str, Any]) -> tuple[int, int]:
    """The (height, width) of ``dataset``'s images, which a convnet must have been trained on
    (its metadata's image_shape); CLIError otherwise."""
    shape = data.IMAGE_SHAPES.get(dataset)
    trained = metadata.get("image_shape")
    if shape is None or (trained is not None and tuple(trained) != shape):
        held = "points" if shape is None else f"{shape[0]}x{shape[1]} images"
        on = "images" if trained is None else f"{trained[0]}x{trained[1]} images"
        raise CLIError(f"{model_path} is a convnet trained on {on} but {dataset} holds {held}")
    return shape


def check_inputs(
    model_path: str, model: Any, metadata: dict[str, Any], n_features: int, what: str
) -> None:
    """The model must take ``n_features`` inputs, or for a convnet images of its metadata's
    image_shape with that many pixels."""
    if model_takes_images(model):
        trained = metadata.get("image_shape")
        if trained is not None and trained[0] * trained[1] != n_features:
            raise CLIError(
                f"{model_path} takes {trained[0]}x{trained[1]} images but {what} {n_features} "
                "features"
            )
        return
    if model.n_inputs != n_features:
        raise CLIError(
            f"{model_path} takes {model.n_inputs} inputs but {what} {n_features} features"
        )
