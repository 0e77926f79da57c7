"""FlattenConsecutive: the steps of a sequence joined n at a time, the hierarchy of WaveNet
(van den Oord et al. 2016) as makemore builds it (Karpathy, "Building makemore part 5")."""

from __future__ import annotations

from typing import Any

from .._typing import Array
from ..errors import ShapeError
from .base import Layer, Shape, check_sizes, describe_shape


class FlattenConsecutive(Layer):
    """Join each ``n`` consecutive steps' features into one step::

        x: (N, T, C) -> y: (N, T / n, C n),   y[:, j] = x[:, j n], ..., x[:, j n + n - 1]
                                                         side by side;

    when T / n == 1 the steps axis is dropped, y: (N, C n), as makemore's
    ``FlattenConsecutive`` squeezes it (a Dense layer then sees rows). Three of them with
    n = 2 read 8 characters as a tree: pairs, pairs of pairs, then the whole. It only
    reshapes: backward reshapes dout back to (N, T, C).

    Parameters
    ----------
    n : int
        Steps joined into one; T must be a multiple of it.

    Raises
    ------
    ValueError
        For an ``n`` that is not a positive int; :class:`~numpynn.errors.ShapeError` (a
        ValueError) for an input that is not (N, T, C) with T a multiple of ``n``.
    """

    def __init__(self, n: int) -> None:
        check_sizes("FlattenConsecutive", n=n)
        self.n = int(n)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        """(T, C) -> (T / n, C n), or (C n,) when T == n; None (not known) while T is not
        known, since whether the steps axis goes depends on it. A model's shapes are
        chained before any data arrives, when an Embedding's T is open: the layers after
        the first FlattenConsecutive then see rows (a Dense layer's (n_out,)), which a
        later FlattenConsecutive cannot check either (it returns None; its ``forward``
        checks the steps)."""
        if input_shape is None or len(input_shape) == 1:
            return None
        if len(input_shape) != 2:
            raise ShapeError(
                f"{self!r} takes sequences of shape (n_samples, steps, features) but gets "
                f"{describe_shape(input_shape)}"
            )
        T, C = input_shape
        if T is None:
            return None
        self._check_steps(T)
        width = None if C is None else C * self.n
        return (width,) if T // self.n == 1 else (T // self.n, width)

    def forward(self, x: Array, training: bool = False) -> Array:
        """x (N, T, C) -> (N, T / n, C n), or (N, C n) when T == n."""
        if x.ndim != 3:
            raise ShapeError(
                f"{self!r} expects input of shape (n_samples, steps, features), got {x.shape}"
            )
        N, T, C = x.shape
        self._check_steps(T)
        self.shape = x.shape
        y = x.reshape(N, T // self.n, C * self.n)
        return y[:, 0] if T // self.n == 1 else y  # squeezed, as makemore does

    def backward(self, dout: Array) -> Array:
        """dout (N, T / n, C n) or (N, C n) -> dx (N, T, C)."""
        return dout.reshape(self.shape)

    def _check_steps(self, T: int) -> None:
        if T % self.n:
            raise ShapeError(
                f"{self!r} joins {self.n} consecutive steps: the number of steps must be a "
                f"multiple of {self.n}, got {T}"
            )

    def config(self) -> dict[str, Any]:
        return {"n": self.n}
