"""The files of a run directory: metrics.json, history.csv, report.txt and the PNG plots."""

from __future__ import annotations

import datetime
import json
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .._typing import Array
from ..atomic import atomic_write_text
from ..epochs import one_based
from ..metrics import confusion_matrix, precision_recall
from ..model import Sequential
from ..trained import class_probabilities, describe, n_parameters
from .config import TrainConfig
from .data import Splits

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")  # per epoch, in history.csv


def evaluate(model: Sequential, X: Array, y: Array, n_classes: int) -> dict[str, Any]:
    """Test-set results: "loss" and "accuracy" (``model.evaluate``), "y_pred" (n,), "scores"
    (n, n_classes), "confusion" (n_classes, n_classes) and "per_class" (precision, recall,
    f1, support arrays)."""
    scores = class_probabilities(model, X)
    y_pred = scores.argmax(axis=1)
    C = confusion_matrix(y, y_pred, n_classes)
    return {
        **model.evaluate(X, y),
        "y_pred": y_pred,
        "scores": scores,
        "confusion": C,
        "per_class": precision_recall(C),
    }


def per_class_table(labels: list[str], per_class: dict[str, Array]) -> str:
    """A text table: class, precision, recall, F1, support."""
    width = max(5, *map(len, labels))
    lines = [f"{'class':<{width}}  precision  recall     f1  support"]
    for k, label in enumerate(labels):
        lines.append(
            f"{label:<{width}}  {per_class['precision'][k]:9.4f}  {per_class['recall'][k]:6.4f}"
            f"  {per_class['f1'][k]:5.4f}  {per_class['support'][k]:7d}"
        )
    return "\n".join(lines)


def confusion_table(labels: list[str], C: Array) -> str:
    """The confusion matrix as text: rows true class, columns predicted class."""
    width = max(len(str(C.max())), *map(len, labels)) + 1
    head = " " * width + " " + "".join(f"{label[:width]:>{width}}" for label in labels)
    rows = [
        f"{label[:width]:>{width}} " + "".join(f"{v:>{width}d}" for v in C[k])
        for k, label in enumerate(labels)
    ]
    return "\n".join(["true \\ predicted", head, *rows])


def write_run(
    run_dir: Path,
    cfg: TrainConfig,
    splits: Splits,
    model: Sequential,
    history: dict[str, list[float]],
    seconds: list[float],
    test: dict[str, Any],
    info: dict[str, Any],
) -> None:
    """Write metrics.json, history.csv and report.txt into ``run_dir``."""
    import numpynn

    per_class = test["per_class"]
    val = history.get("val_accuracy", [])
    best_epoch = one_based(int(np.argmax(val))) if val else None
    metrics = {
        "finished": datetime.datetime.now().isoformat(timespec="seconds"),
        "config": cfg.to_dict(),
        "seed": cfg.seed,
        "model": describe(model),
        "n_parameters": n_parameters(model),
        "data": {
            "dataset": cfg.dataset,
            "n_train": len(splits.y_train),
            "n_validation": len(splits.y_val),
            "n_test": len(splits.y_test),
            "class_labels": splits.labels,
        },
        "epochs": len(seconds),
        "history": {**history, "seconds": seconds},
        "best_epoch": best_epoch,
        "best_val_accuracy": max(val) if val else None,
        "test": {
            "loss": test["loss"],
            "accuracy": test["accuracy"],
            "per_class": {
                label: {
                    "precision": float(per_class["precision"][k]),
                    "recall": float(per_class["recall"][k]),
                    "f1": float(per_class["f1"][k]),
                    "support": int(per_class["support"][k]),
                }
                for k, label in enumerate(splits.labels)
            },
            "confusion_matrix": test["confusion"].tolist(),
        },
        "train_seconds": float(sum(seconds)),
        **info,
        "versions": {
            "numpynn": numpynn.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "blas": thread_pools(),
    }
    atomic_write_text(run_dir / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    atomic_write_text(run_dir / "history.csv", history_csv(history, seconds))
    atomic_write_text(run_dir / "report.txt", report_text(metrics, splits, test))


def time_spent(wall: float, seconds: list[float], done_before: int | None) -> str:
    """'7.9 s in all (6.5 s training)': this command's wall time and its training time, from
    ``seconds`` (each epoch's of the whole run, a resumed run's first ``done_before`` ones
    from before); a resumed run also gives its whole training time."""
    if not done_before:
        return f"{wall:.1f} s in all ({sum(seconds):.1f} s training)"
    return (
        f"{wall:.1f} s in all for this part ({sum(seconds[done_before:]):.1f} s training; "
        f"{sum(seconds):.1f} s training over the whole run)"
    )


def history_csv(history: dict[str, list[float]], seconds: list[float]) -> str:
    columns = [c for c in HISTORY_KEYS if c in history]
    lines = [",".join(["epoch", *columns, "seconds"])]
    for e, s in enumerate(seconds):
        values = [repr(history[c][e]) for c in columns]
        lines.append(",".join([str(one_based(e)), *values, f"{s:.3f}"]))
    return "\n".join(lines) + "\n"


def schedule(cfg: dict[str, Any]) -> str:
    """How the learning rate changes, as the report says it: "" for a constant rate."""
    if cfg.get("schedule") == "cosine":
        return f" along a cosine to {cfg['lr'] / 100:g} over {cfg['epochs']} epochs"
    return f" x {cfg['lr_decay']:g} per epoch" if cfg["lr_decay"] != 1 else ""


def report_text(metrics: dict[str, Any], splits: Splits, test: dict[str, Any]) -> str:
    cfg, d = metrics["config"], metrics["data"]
    history = metrics["history"]
    lines = [
        f"numpynn training run, finished {metrics['finished']}",
        f"dataset: {d['dataset']}: {d['n_train']} training, {d['n_validation']} validation, "
        f"{d['n_test']} test samples",
        f"network: {metrics['model']} ({metrics['n_parameters']:,} parameters)",
        f"loss {cfg['loss']}, optimizer {cfg['optimizer']} lr {cfg['lr']:g}"
        + (f" momentum {cfg['momentum']:g}" if cfg.get("momentum") else "")
        + schedule(cfg)
        + f", batch {cfg['batch_size']}, L2 {cfg['l2']:g}, dropout {cfg['dropout']:g}"
        + (f", shifts of up to {cfg['shift']} px" if cfg.get("shift") else "")
        + f", seed {cfg['seed']}",
        "",
        "epoch      loss  accuracy  val_loss  val_accuracy  seconds",
    ]
    for e, s in enumerate(history["seconds"]):
        lines.append(
            f"{one_based(e):>5}  {history['loss'][e]:8.4f}  {history['accuracy'][e]:8.2%}  "
            f"{history['val_loss'][e]:8.4f}  {history['val_accuracy'][e]:12.2%}  {s:7.2f}"
        )
    if metrics["best_epoch"]:
        lines.append(
            f"best validation accuracy {metrics['best_val_accuracy']:.2%} "
            f"at epoch {metrics['best_epoch']} (best.npz)"
        )
    early = metrics.get("early_stopping")
    if early:
        stopped = (
            f"stopped early after epoch {early['stopped_after_epoch']} of {cfg['epochs']}"
            if early["stopped_early"]
            else "did not stop early"
        )
        lines.append(f"early stopping (--patience {early['patience']}): {stopped}")
        if early["restored_best_weights"]:
            lines.append(
                f"lowest validation loss {early['best_val_loss']:.4f} at epoch "
                f"{early['best_epoch']}: model.npz holds its weights (best_val_loss.npz)"
            )
    lines += [
        "",
        f"test accuracy {test['accuracy']:.2%}, test loss {test['loss']:.4f} (model.npz)",
        "",
        per_class_table(splits.labels, test["per_class"]),
        "",
        confusion_table(splits.labels, test["confusion"]),
        "",
        f"wall time {metrics['wall_seconds']:.1f} s (data {metrics['data_seconds']:.1f} s, "
        f"training {metrics['train_seconds']:.1f} s)",
    ]
    return "\n".join(lines) + "\n"


def write_plots(
    run_dir: Path,
    cfg: TrainConfig,
    splits: Splits,
    model: Sequential,
    history: dict[str, list[float]],
    test: dict[str, Any],
    epoch: int,
) -> None:
    """curves.png, confusion.png and, for images, misclassified.png; for 2-D points,
    decision_boundary.png. ``epoch`` (from 1) is the epoch whose weights the final model holds.
    A missing matplotlib is reported in one line, not an error."""
    try:
        from .. import plots
    except ImportError:  # pragma: no cover - matplotlib is in the cli extra
        print("numpynn: plots skipped: pip install 'numpynn[cli]' for matplotlib", file=sys.stderr)
        return
    title = f"{cfg.dataset}, run {run_dir.name}"
    try:
        plots.plot_history(
            history,
            run_dir / "curves.png",
            title=title,
            loss_name=cfg.loss,
            best_epoch=epoch,
            test_accuracy=test["accuracy"],
        )
        plots.plot_confusion_matrix(
            test["confusion"],
            splits.labels,
            run_dir / "confusion.png",
            title=f"{cfg.dataset} test set",
        )
        wrong = np.flatnonzero(test["y_pred"] != splits.y_test)
        if splits.image_shape is not None:
            plots.plot_misclassified(
                splits.X_test[wrong].reshape(-1, *splits.image_shape),
                splits.y_test[wrong],
                test["y_pred"][wrong],
                splits.labels,
                run_dir / "misclassified.png",
                probabilities=test["scores"][wrong, test["y_pred"][wrong]],
                title=cfg.dataset,
            )
        elif splits.X_test.shape[1] == 2:
            plots.plot_decision_boundary(
                lambda points: class_probabilities(model, points).argmax(axis=1),
                np.vstack([splits.X_train, splits.X_val]),
                np.concatenate([splits.y_train, splits.y_val]),
                run_dir / "decision_boundary.png",
                title=f"{title}: decision boundary\ntest accuracy {test['accuracy']:.1%} "
                f"({len(wrong)} of {len(splits.y_test)} test points wrong)",
                X_test=splits.X_test,
                y_test=splits.y_test,
                labels=splits.labels,
            )
    except ModuleNotFoundError as exc:  # pragma: no cover
        print(f"numpynn: plots skipped: {exc}; pip install 'numpynn[cli]'", file=sys.stderr)


def weights_epoch(epochs: int, early_stopping: dict[str, Any] | None) -> int:
    """The epoch (from 1) whose weights a run's model.npz holds, after ``epochs`` epochs with
    ``early_stopping`` (its record in metrics.json, None without --patience): the best epoch
    if early stopping put its weights back, else the last."""
    early = early_stopping or {}
    if early.get("restored_best_weights") and early.get("best_epoch"):
        return int(early["best_epoch"])
    return int(epochs)


def final_epoch(metrics: dict[str, Any]) -> int:
    """The epoch (from 1) whose weights a finished run's model.npz holds."""
    return weights_epoch(metrics["epochs"], metrics.get("early_stopping"))


def thread_pools() -> list[dict[str, Any]]:
    """The BLAS and OpenMP libraries loaded and their thread counts (via threadpoolctl; none
    without it)."""
    try:
        from threadpoolctl import threadpool_info  # type: ignore[import-untyped]
    except ImportError:
        return []
    keys = ("user_api", "internal_api", "version", "num_threads", "threading_layer", "architecture")
    return [{k: pool.get(k) for k in keys} for pool in threadpool_info()]
