"""Run directories of ``numpynn train``: where a new one goes, and what a run holds (its
settings in config.json, its learning curves in metrics.json or checkpoint.npz)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from .. import io as nn_io
from ..errors import FileFormatError
from . import report
from .config import TrainConfig
from .errors import CLIError
from .text_config import TASK, TextConfig


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


def load_run_config(run_dir: Path) -> TrainConfig | TextConfig:
    """The settings of the run in ``run_dir`` (its config.json): a classifier's, or a
    language model's (``"task": "language-model"``)."""
    path = run_dir / "config.json"
    if not path.exists():
        raise CLIError(f"{run_dir} is not a numpynn run directory: it has no config.json")
    try:
        task = json.loads(path.read_text()).get("task")
    except (ValueError, AttributeError):
        task = None  # TrainConfig.load names what is wrong with the file
    return TextConfig.load(path) if task == TASK else TrainConfig.load(path)


def run_history(run_dir: Path) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """(history, metrics) of a run directory: a finished run's metrics.json, or the history in
    the checkpoint of a run still going or interrupted (metrics then hold only its config)."""
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
