"""Run directories of ``numpynn train``: where a new one goes, and what a run holds (its
settings in config.json, its learning curves in metrics.json or checkpoint.npz)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from .. import io as nn_io
from ..errors import FileFormatError
from ..paths import check_output_dir, check_readable_dir, check_readable_file
from . import report
from .config import TrainConfig
from .errors import CLIError
from .text_config import TASK, TextConfig


def new_run_dir(out: str | None, dataset: str) -> Path:
    """``out``, or runs/<date>-<time>-<dataset>; refuses a directory that holds a run, or one
    that cannot be made (a PathError). The directory is created once the data has loaded."""
    if out is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        run_dir = Path("runs") / f"{stamp}-{dataset}"
        k = 2
        while run_dir.exists():
            run_dir = Path("runs") / f"{stamp}-{dataset}-{k}"
            k += 1
    else:
        run_dir = check_output_dir(out, "run directory")
        if (run_dir / "config.json").exists():
            raise CLIError(
                f"{run_dir} already holds a run; continue it with numpynn train --resume "
                f"{run_dir}, or choose another --out"
            )
    return run_dir


def load_run_config(run_dir: Path) -> TrainConfig | TextConfig:
    """The settings of the run in ``run_dir`` (its config.json): a classifier's, or a
    language model's (``"task": "language-model"``)."""
    path = check_readable_dir(run_dir, "run directory") / "config.json"
    if not path.exists():
        raise CLIError(f"{run_dir} is not a numpynn run directory: it has no config.json")
    check_readable_file(path, "run config")
    try:
        task = json.loads(path.read_text()).get("task")
    except (ValueError, AttributeError):
        task = None  # TrainConfig.load names what is wrong with the file
    return TextConfig.load(path) if task == TASK else TrainConfig.load(path)


def run_history(run_dir: Path) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """(history, metrics) of a run directory: a finished run's metrics.json, or the history in
    the checkpoint of a run still going or interrupted (metrics then hold only its config)."""
    check_readable_dir(run_dir, "run directory")
    metrics_path = run_dir / "metrics.json"
    if metrics_path.exists():
        check_readable_file(metrics_path, "run metrics")
        try:
            metrics = json.loads(metrics_path.read_text())
            if isinstance(metrics, dict) and metrics.get("task") == TASK:
                raise CLIError(
                    f"{run_dir} is a language model's run: its losses by step are drawn in "
                    f"{run_dir / 'curves.png'} (numpynn plot curves draws classifiers' runs)"
                )
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
