"""examples/sklearn_comparison.py runs and prints its table (on a small MNIST subset)."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.slow
def test_sklearn_comparison_prints_both_estimators_for_both_datasets() -> None:
    args = ["--epochs", "3", "--mnist-train", "1000", "--repeats", "1", "--blas-threads", "1"]
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "sklearn_comparison.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if "Classifier " in line]
    assert [(r[0], r[1]) for r in rows] == 2 * [
        ("MLPClassifier", "float32"),
        ("NumpyNNClassifier", "float32"),
        ("MLPClassifier", "float64"),
        ("NumpyNNClassifier", "float64"),
    ]
    assert all(r[2] == "3" and 0.4 < float(r[3]) <= 1.0 for r in rows)  # 3 epochs; chance: 0.1
