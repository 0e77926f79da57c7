"""The benchmark suite's smoke run (tiny sizes) still works end to end: it keeps the suite from
rotting. It asserts that the report is complete, not any speed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_text_datasets import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]


def source_env() -> dict[str, str]:
    """The environment with this checkout's src first on the path."""
    path = filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}


@pytest.mark.slow
def test_smoke_run_reports_every_workload_and_target(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke", "--output", str(report)],
        cwd=ROOT,
        env=source_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = report.read_text()
    for workload in (
        "784-100-10, batch 32, SGD",
        "784-100-10, batch 128, SGD",
        "784-100-10, batch 1024, SGD",
        "wide 784-1024-1024-10, batch 128, SGD",
        "784-100-10, batch 128, Adam",
        "Nielsen [784,30,10] sigmoid+MSE, batch 10",
        "Nielsen [784,30,10] sigmoid+MSE, batch 128",
        "inference, batch 10,000",
        "inference, batch 1",
    ):
        assert f"| {workload}" in text, workload
    assert "| user_api | internal_api |" in text  # the BLAS table (threadpoolctl)
    assert "OPENBLAS_CORETYPE=" in text
    assert "| numpynn |" in text  # the memory table
    assert text.count("| yes |") + text.count("| **no** |") >= 12  # the targets table


@pytest.mark.slow
def test_generation_benchmark_smoke_run_reports_both_paths_and_pytorch() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.generation", "--smoke", "--threads", "1"],
        cwd=ROOT,
        env=source_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| 1 |")]
    assert len(rows) == 2, done.stdout  # whole runs, and the fastest time of each step
    row = rows[0]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert len(cells) == 9, row
    assert all(float(cells[i]) > 0 for i in (1, 2, 5, 6))  # tokens/s
    assert cells[3].endswith("x") and cells[4] in ("yes", "**no**")
    assert cells[8].startswith("yes")  # the same ids with and without the cache
    assert "threadpoolctl: openblas" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("model", ["gpt", "lstm"])
def test_language_models_benchmark_trains_both_libraries_alike(model: str) -> None:
    """benchmarks/language_models.py, 3 steps: the report's row and curves, and numpynn's and
    PyTorch's losses equal at every evaluation (the same weights, windows and optimiser)."""
    args = ["--steps", "3", "--eval-every", "2", "--eval-windows", "16", "--threads", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.language_models", model, *args],
        cwd=ROOT,
        # tiny Shakespeare from ../shared/data: a fresh machine has no cache and no internet
        env={**source_env(), "NUMPYNN_DATA_DIR": str(SHARED_DATA)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "OPENBLAS_CORETYPE=" in done.stdout
    (row,) = [line for line in lines if line.startswith("| 1 |")]
    assert row.count("|") == 12 and "x |" in row  # every column, the ratio among them
    curve = {
        line.split("|")[1].strip(): line for line in lines if line.startswith(("| 2 |", "| 3 |"))
    }
    assert sorted(curve) == ["2", "3"]
    for line in curve.values():
        ours_train, theirs_train, ours_val, theirs_val = map(float, line.split("|")[2:6])
        assert abs(ours_train - theirs_train) < 1e-3 and abs(ours_val - theirs_val) < 1e-3
