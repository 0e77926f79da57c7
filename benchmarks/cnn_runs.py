"""A Markdown table of finished `numpynn train` runs, from their run directories' metrics.json.

    python benchmarks/cnn_runs.py RUN_DIR [RUN_DIR ...]

One row per run (dataset, seed, epochs, the final validation and test accuracy, the wall time
of the whole command and its BLAS threads), then per dataset the mean, lowest and highest
test accuracy over the runs. Used for benchmarks/CNN_TRAINING.md.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any


def row(run: Path, metrics: dict[str, Any]) -> str:
    history, test = metrics["history"], metrics["test"]
    return (
        f"| `{run.name}` | {metrics['data']['dataset']} | {metrics['seed']} | "
        f"{len(history['loss'])} | {history['val_accuracy'][-1]:.2%} | "
        f"**{test['accuracy']:.2%}** | {test['loss']:.4f} | {metrics['wall_seconds']:.0f} s | "
        f"{metrics['threads']} |"
    )


def main(run_dirs: list[str]) -> None:
    print(
        "| run | dataset | seed | epochs | final val_accuracy | test accuracy | test loss | "
        "wall time | BLAS threads |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    accuracies: dict[str, list[float]] = defaultdict(list)
    for name in run_dirs:
        run = Path(name)
        metrics = json.loads((run / "metrics.json").read_text())
        print(row(run, metrics))
        accuracies[metrics["data"]["dataset"]].append(metrics["test"]["accuracy"])
    print()
    for dataset, values in accuracies.items():
        print(
            f"- {dataset}: test accuracy {statistics.mean(values):.2%} on average over "
            f"{len(values)} runs (lowest {min(values):.2%}, highest {max(values):.2%})"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
