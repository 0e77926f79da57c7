"""Small generated datasets: the planar "flower", XOR and logic-gate truth tables."""

from __future__ import annotations

import numpy as np

from .._typing import Array
from ..validation import check_non_negative, check_positive_int

GATE_INPUTS = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])


def flower(
    n_samples: int = 400, petals: int = 4, noise: float = 0.2, seed: int | None = 1
) -> tuple[Array, Array]:
    """Two interleaved classes of points shaped like a flower with ``2 * petals`` petals.

    Returns X: (n_samples, 2) float64 and y: (n_samples,) int64 of 0 (red) and 1 (blue).
    Not linearly separable: logistic regression gets about half right.

    Parameters
    ----------
    n_samples : int
        The points (>= 2), half of each class (the blue class gets the odd one).
    petals : int
        Half the number of petals (>= 1).
    noise : float
        The standard deviation of the noise on each point's angle and radius (>= 0).
    seed : int, optional
        Seeds the noise (None: fresh randomness).

    Returns
    -------
    X : ndarray
        (n_samples, 2) float64 points.
    y : ndarray
        (n_samples,) int64 labels, 0 (red) then 1 (blue).

    Raises
    ------
    TypeError, ValueError
        For a setting of the wrong type or out of range, naming it.
    """
    n_samples = check_positive_int("n_samples", n_samples)
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2, got {n_samples}")
    petals = check_positive_int("petals", petals)
    noise = check_non_negative("noise", noise)
    rng = np.random.default_rng(seed)
    X = np.zeros((n_samples, 2))
    y = np.zeros(n_samples, dtype=np.int64)
    half = n_samples // 2
    for label, rows in enumerate((slice(0, half), slice(half, n_samples))):
        n = rows.stop - rows.start
        theta = np.linspace(label * 3.12, (label + 1) * 3.12, n) + rng.standard_normal(n) * noise
        radius = petals * np.sin(petals * theta) + rng.standard_normal(n) * noise
        X[rows] = np.column_stack([radius * np.sin(theta), radius * np.cos(theta)])
        y[rows] = label
    return X, y


def truth_table(gate: str) -> tuple[Array, Array]:
    """The inputs (4, 2) and outputs (4,) of "and", "or", "nand" or "xor" on (0,0), (1,0),
    (0,1), (1,1).

    Parameters
    ----------
    gate : str
        ``"and"``, ``"or"``, ``"nand"`` or ``"xor"``.

    Returns
    -------
    X : ndarray
        (4, 2) int64 inputs, a fresh copy.
    y : ndarray
        (4,) int64 outputs.

    Raises
    ------
    ValueError
        For an unknown gate.
    """
    outputs = {"and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "nand": [1, 1, 1, 0], "xor": [0, 1, 1, 0]}
    if not isinstance(gate, str) or gate not in outputs:
        raise ValueError(f"gate must be one of {sorted(outputs)}, got {gate!r}")
    return GATE_INPUTS.copy(), np.array(outputs[gate])


def xor() -> tuple[Array, Array]:
    """The XOR truth table: X (4, 2) and y (4,)."""
    return truth_table("xor")
