"""``numpynn train``: its options, and the settings and threads of the run it starts or
resumes (the run itself is ``cli/train.py``)."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import datasets
from ..checkpoint import ModelCheckpoint
from . import train, train_text
from .config import CHOICES, PRESETS, TrainConfig, parse_setting, resolve
from .data_log import datasets_log
from .errors import CLIError
from .runs import load_run_config, new_run_dir
from .text_config import (
    TEXT_DATASETS,
    TEXT_OPTIONS,
    TEXT_PRESETS,
    TextConfig,
    check_text_setting,
    resolve_text,
)
from .threads import apply_thread_policy, threads_option

# The settings --resume may change; the others come from the run's config.json. (--data-dir,
# --threads, --quiet and --no-plots are not settings: they apply to each invocation.)
RESUME_OPTIONS = ("epochs",)
CONFIG_OPTIONS = tuple(f.name for f in dataclasses.fields(TrainConfig))
DEFAULTS = TrainConfig().to_dict()  # the settings of a run without options


def add_parser(commands: Any) -> None:
    train_parser = commands.add_parser(
        "train",
        help="train a classifier or a language model and write a run directory",
        description="Train a fully connected network, or a convnet (--preset cnn). Without "
        "options: the default MNIST classifier (defaults in brackets; digits and planar have "
        "their own). Options override the preset, which overrides the dataset's defaults. "
        "Each epoch is checkpointed; Ctrl-C stops after the current batch. A text dataset "
        "(shakespeare, names) trains a language model counted in steps: --preset gpt (nanoGPT's "
        "CPU model, the default for shakespeare), char-lstm, or names (the default for names); "
        "--steps, --eval-every, --lr, --batch-size, --dropout and --seed change the preset's.",
    )
    add = train_parser.add_argument
    add(
        "--dataset",
        choices=CHOICES["dataset"] + TEXT_DATASETS,
        help="the data [mnist] (shakespeare and names train language models)",
    )
    add("--data-dir", metavar="DIR", help="directory with the dataset's files")
    add(
        "--preset",
        choices=sorted(PRESETS) + sorted(TEXT_PRESETS),
        help="a tested configuration [default]",
    )
    add(
        "--hidden",
        type=option("hidden"),
        nargs="+",
        metavar="N",
        help=described("hidden layer widths", "hidden"),
    )
    add(
        "--activation",
        choices=CHOICES["activation"],
        help=described("hidden activation", "activation"),
    )
    add("--loss", choices=CHOICES["loss"], help=described("loss function", "loss"))
    add("--optimizer", choices=CHOICES["optimizer"], help=described("optimiser", "optimizer"))
    add("--lr", type=option("lr"), help=described("learning rate", "lr"))
    add(
        "--momentum",
        type=option("momentum"),
        metavar="MU",
        help=described("SGD's momentum in [0, 1) (--optimizer sgd only)", "momentum"),
    )
    add(
        "--lr-decay",
        type=option("lr_decay"),
        metavar="F",
        help=described("multiply the rate by F each epoch", "lr_decay"),
    )
    add(
        "--schedule",
        choices=CHOICES["schedule"],
        help=described("learning rate: exponential (--lr-decay) or cosine (to lr/100)", "schedule"),
    )
    add(
        "--epochs", type=option("epochs"), metavar="N", help=described("number of epochs", "epochs")
    )
    add(
        "--batch-size",
        type=option("batch_size"),
        metavar="N",
        help=described("mini-batch size", "batch_size"),
    )
    add("--l2", type=option("l2"), metavar="LAMBDA", help=described("L2 weight decay", "l2"))
    add(
        "--dropout",
        type=option("dropout"),
        metavar="RATE",
        help=described("dropout after hidden layers", "dropout"),
    )
    add(
        "--seed",
        type=option("seed"),
        metavar="N",
        help=described("seed of weights, split, shuffling, dropout", "seed"),
    )
    add(
        "--validation",
        type=option("validation"),
        metavar="N",
        help=described("training samples held out", "validation"),
    )
    add(
        "--shift",
        type=option("shift"),
        metavar="N",
        help=described(
            "move each training image by up to N pixels, new shifts every epoch", "shift"
        ),
    )
    add(
        "--patience",
        type=option("patience"),
        metavar="N",
        help=described(
            "stop when val_loss has not improved for N epochs; keep its best weights", "patience"
        ),
    )
    add(
        "--steps",
        type=text_option("steps"),
        metavar="N",
        help="a language model's training steps [the preset's: gpt 2000]",
    )
    add(
        "--eval-every",
        type=text_option("eval_every"),
        metavar="N",
        help="a language model's steps between validation losses and checkpoints [250]",
    )
    add("--out", metavar="RUN_DIR", help="run directory [runs/<date>-<time>-<dataset>]")
    add("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its last epoch")
    add(
        "--threads",
        type=threads_option,
        default="auto",
        metavar="N",
        help="threads, or auto [auto]: the cores measured idle now, and says why; an MLP's "
        "go to the BLAS, a convnet's to workers that each train on a share of every batch",
    )
    add("--no-plots", action="store_true", help="do not draw the PNG plots")
    add("--quiet", action="store_true", help="print only the final result")


def described(text: str, setting: str) -> str:
    """An option's help with the setting's default in brackets, from TrainConfig itself."""
    default = DEFAULTS[setting]
    if default is None:
        shown = "off"
    elif isinstance(default, list):
        shown = " ".join(map(str, default))
    else:
        shown = f"{default:g}" if isinstance(default, float) else str(default)
    return f"{text} [{shown}]"


def option(setting: str) -> Callable[[str], Any]:
    """The argparse type of a TrainConfig setting: its value from text, checked."""

    def parse(text: str) -> Any:
        try:
            return parse_setting(setting, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = setting
    return parse


def text_option(setting: str) -> Callable[[str], Any]:
    """The argparse type of a TextConfig setting: its value from text, checked."""

    def parse(text: str) -> Any:
        try:
            return check_text_setting(setting, int(text) if text.isdigit() else text)
        except ValueError as exc:
            message = f"{str(exc).rsplit(', got ', 1)[0]}, got {text!r}"
            raise argparse.ArgumentTypeError(message) from None

    parse.__name__ = setting
    return parse


def trains_text(args: argparse.Namespace) -> bool:
    """Whether the options ask for a language model (a text dataset or a text preset)."""
    if args.resume:
        return isinstance(load_run_config(Path(args.resume)), TextConfig)
    if args.preset in TEXT_PRESETS:
        return True
    return args.dataset is not None and datasets.get(args.dataset).is_text


def train_command(args: argparse.Namespace) -> int:
    if trains_text(args):
        return text_command(args)
    for name in ("steps", "eval_every"):
        if getattr(args, name) is not None:
            raise CLIError(
                f"--{name.replace('_', '-')} counts a language model's steps (--dataset "
                f"{' or '.join(TEXT_DATASETS)}); a classifier trains for --epochs"
            )
    given = {k: getattr(args, k) for k in CONFIG_OPTIONS if getattr(args, k, None) is not None}
    if args.resume:
        run_dir = Path(args.resume)
        cfg = load_run_config(run_dir)
        assert isinstance(cfg, TrainConfig)
        changed = [k for k in given if k not in RESUME_OPTIONS and given[k] != getattr(cfg, k)]
        check_resume(args, run_dir, changed, " (only --epochs may change)")
        if args.epochs is not None:
            cfg.epochs = args.epochs
    else:
        cfg = resolve(args.preset or "default", given)
        run_dir = new_run_dir(args.out, cfg.dataset)
    return start(train.run, cfg, run_dir, args)


def text_command(args: argparse.Namespace) -> int:
    """``numpynn train`` of a language model: new (--dataset shakespeare/names or a text
    preset) or resumed."""
    given = {k: getattr(args, k) for k in TEXT_OPTIONS if getattr(args, k, None) is not None}
    foreign = [
        "--" + k.replace("_", "-")
        for k in CONFIG_OPTIONS
        if getattr(args, k, None) is not None and k not in (*TEXT_OPTIONS, "dataset")
    ]
    if foreign:
        raise CLIError(
            f"{', '.join(foreign)} configure a classifier; a language model takes "
            + ", ".join("--" + k.replace("_", "-") for k in TEXT_OPTIONS)
        )
    if args.resume:
        run_dir = Path(args.resume)
        cfg = load_run_config(run_dir)
        assert isinstance(cfg, TextConfig)
        check_resume(args, run_dir, [k for k in given if given[k] != getattr(cfg, k)], "")
    else:
        preset = args.preset or DEFAULT_TEXT_PRESET.get(args.dataset, "gpt")
        if preset not in TEXT_PRESETS:
            raise CLIError(
                f"--preset {preset} is a classifier's; the {args.dataset} dataset trains a "
                f"language model: --preset {DEFAULT_TEXT_PRESET.get(args.dataset, 'gpt')}"
            )
        try:
            cfg = resolve_text(
                preset, {**given, **({"dataset": args.dataset} if args.dataset else {})}
            )
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        run_dir = new_run_dir(args.out, cfg.dataset)
    return start(train_text.run_text, cfg, run_dir, args)


def check_resume(args: argparse.Namespace, run_dir: Path, changed: list[str], hint: str) -> None:
    """Refuse a --resume that changes the run's settings (``changed``), its preset or its
    directory; then remove what a write killed mid-way left in ``run_dir``."""
    if args.preset or args.out or changed:
        names = ["--" + k.replace("_", "-") for k in changed]
        names += ["--preset"] * bool(args.preset) + ["--out"] * bool(args.out)
        raise CLIError(
            f"--resume continues the run with its saved settings ({run_dir / 'config.json'});"
            f" it cannot change {', '.join(names)}{hint}"
        )
    for stale in run_dir.glob(".*.tmp"):  # left by a write that was killed mid-way
        stale.unlink()


def start(run: Callable[..., int], cfg: TrainConfig | TextConfig, run_dir: Path,
          args: argparse.Namespace) -> int:  # fmt: skip
    """Settle the threads and ``run`` the training (cli/train.py's or train_text.py's). A
    Ctrl-C outside the batches (loading, testing, writing the reports; or a second Ctrl-C)
    names the resume command whenever the run has a checkpoint."""
    threads = apply_thread_policy(cfg, args.threads, bool(args.resume), args.quiet)
    try:
        with datasets_log(quiet=args.quiet):
            return run(
                cfg,
                run_dir,
                resume=bool(args.resume),
                data_dir=args.data_dir,
                quiet=args.quiet,
                plots=not args.no_plots,
                threads=threads,
                started=args.started,
            )
    except KeyboardInterrupt:
        checkpoint = run_dir / ModelCheckpoint.CHECKPOINT
        if not checkpoint.exists():
            raise
        raise CLIError(
            f"interrupted; the last checkpoint, {checkpoint}, is intact; resume with: numpynn "
            f"train --resume {run_dir}",
            130,
        ) from None


# The preset a text dataset trains with when none is given.
DEFAULT_TEXT_PRESET = {"shakespeare": "gpt", "names": "names"}
