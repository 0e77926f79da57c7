"""Measure the training targets of `numpynn train` (issue 3) and write TRAIN_TARGETS.md.

    python benchmarks/train_targets.py            # all runs (about 4 minutes on 2 cores)
    python benchmarks/train_targets.py default    # some of: default nielsen best-mlp fashion planar

Each run is the real command in a subprocess, timed from outside (wall clock, data loading
included); accuracy and settings come from the run directory's metrics.json. The machine's
load average before each run is recorded: a busy machine makes the times meaningless.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from numpynn.atomic import atomic_write_text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

RUNS = {  # name: (numpynn train arguments, target accuracy, target seconds)
    "default": ([], 0.980, 30),
    "nielsen": (["--preset", "nielsen"], 0.95, None),
    "best-mlp": (["--preset", "best-mlp"], 0.985, 180),
    "fashion": (["--dataset", "fashion-mnist"], 0.88, None),
}


def train(args: list[str], out: Path) -> tuple[dict, float]:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "numpynn", "train", "--out", str(out), "--quiet", *args],
        check=True,
    )
    wall = time.perf_counter() - started
    return json.loads((out / "metrics.json").read_text()), wall


def planar() -> tuple[float, float]:
    """The textbook 2-4-1 network on the flower (examples/planar_flower.py): training accuracy."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "planar_flower.py")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    wall = time.perf_counter() - started
    match = re.search(r"2-4-1 network: (\d+)% training accuracy", out)
    assert match, out
    return int(match.group(1)) / 100, wall


def main(names: list[str]) -> None:
    rows = []
    blas = None
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            load = os.getloadavg()[0]
            if name == "planar":
                accuracy, wall = planar()
                command = "`python examples/planar_flower.py`"
                rows.append(
                    ("planar (2-4-1, training)", command, accuracy, 0.90, wall, None, load, "-")
                )
                continue
            args, target, target_seconds = RUNS[name]
            metrics, wall = train(args, Path(tmp) / name)
            blas = metrics["blas"]
            command = " ".join(["`numpynn train", *args]) + "`"
            accuracy = metrics["test"]["accuracy"]
            rows.append(
                (name, command, accuracy, target, wall, target_seconds, load, metrics["threads"])
            )
            print(f"{name}: {metrics['test']['accuracy']:.2%} in {wall:.1f} s", flush=True)

    lines = [
        "# `numpynn train`: measured against the targets",
        "",
        f"Command: `python benchmarks/train_targets.py {' '.join(names)}`; "
        f"{datetime.datetime.now().isoformat(timespec='minutes')}; {platform.platform()}, "
        f"{os.cpu_count()} cores; Python {platform.python_version()}. Wall time of the whole "
        "command, data loading (from the `.npz` cache) and reports included. BLAS: "
        f"{json.dumps(blas) if blas else 'n/a'}; OPENBLAS_CORETYPE="
        f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}.",
        "",
        "| run | command | accuracy | target | wall time | target | load before | BLAS threads |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, command, accuracy, target, wall, target_s, load, threads in rows:
        ok = "met" if accuracy >= target and (target_s is None or wall <= target_s) else "MISSED"
        limit = f"<= {target_s} s" if target_s else "-"
        lines.append(
            f"| {name} | {command} | {accuracy:.2%} | >= {target:.1%} | {wall:.1f} s | {limit} "
            f"({ok}) | {load:.2f} | {threads} |"
        )
    lines += [
        "",
        "The convnet preset (`--preset cnn`) is measured in [CNN_TRAINING.md](CNN_TRAINING.md).",
    ]
    atomic_write_text(HERE / "TRAIN_TARGETS.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:] or [*RUNS, "planar"])
