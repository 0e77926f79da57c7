"""The runnable examples under examples/ run and print the textbook numbers."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(name: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_matrix_product():
    out = run("matrix_product.py")
    assert "[35 46 57 68]" in out
    assert "[ 5. 11. 17.]" in out
    assert "cannot multiply (3, 2) by W of shape (3, 4)" in out


def test_gates():
    out = run("gates.py")
    assert " 1  1 |  1   1   0    0" in out
    assert "XOR : did not converge" in out


def test_activation_functions():
    out = run("activation_functions.py")
    assert "softmax([1010, 1000, 990]) = [9.99954600e-01 4.53978686e-05 2.06106005e-09]" in out


def test_three_layer_network():
    out = run("three_layer_network.py")
    assert "identity output y = [0.31682708 0.69627909]" in out
    assert "[0.40442364 0.59557636]" in out
    assert "[0.40625907 0.59374093]" in out


@pytest.mark.slow
def test_planar_flower_cost_falls_and_reaches_90_percent():
    out = run("planar_flower.py")
    costs = [float(line.split()[3]) for line in out.splitlines() if line.startswith("epoch")]
    assert len(costs) == 10
    assert costs == sorted(costs, reverse=True)
    accuracy = next(line for line in out.splitlines() if line.startswith("2-4-1 network"))
    assert int(accuracy.split()[2].rstrip("%")) >= 90


def test_sequence_models():
    out = run("sequence_models.py")
    assert "tokens (2000, 12) -> outputs (12, 8) per sample" in out
    accuracies = [
        float(line.split("accuracy ")[1].split("%")[0])
        for line in out.splitlines()
        if "test loss" in line
    ]
    assert len(accuracies) == 2 and min(accuracies) > 99.0  # both models learned the copy
