"""Recurrent layers: RNN, LSTM and GRU over sequences x: (n, T, n_in), exactly as PyTorch's.

Each layer reads a batch of sequences one time step at a time, carrying a hidden state h
(and the LSTM's cell state c) of H numbers per sequence, and outputs the last step's h:
(n, H), or every step's: (n, T, H) with ``return_sequences=True``. The parameters map one
to one to ``torch.nn.RNN/LSTM/GRU(batch_first=True)``'s: ``Wx`` is ``weight_ih_l0.T``,
``Wh`` is ``weight_hh_l0.T``, the gate blocks in the same column order.

As DLFS vol. 2's time layers: the input's part of every step, x Wx + b, is one matrix
product before the loop; each step is one product h Wh (n, H) @ (H, G H) and element-wise
work on the gates; backpropagation through time runs the loop backwards, keeping the
pre-activation gradients dA of every step, so that dWx = x^T dA, dWh = h_prev^T dA and
dx = dA Wx^T are again one product each after the loop.

The initial state is zeros, or what ``set_state`` gave; ``stateful=True`` carries each
call's last state into the next call (truncated backpropagation through time: the carried
state is a constant there, no gradient flows into the previous call), until ``reset_state``.
After ``backward``, ``dh0`` (and the LSTM's ``dc0``), (n, H), hold the gradient of the loss
with respect to the initial state, dL/dh_0 (dL/dc_0): an encoder-decoder whose decoder starts
from the encoder's state (``set_state``) passes it back into the encoder.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from .._typing import Array, Seed
from ..errors import ShapeError
from ..scratch import scratch
from .base import Layer, Shape, check_float_dtype, check_input_shape, check_sizes


class _Recurrent(Layer):
    """What RNN, LSTM and GRU share: the parameters' shapes and initialisation, the shapes
    they take and give, the state carried between calls, and the matrix products around
    the time loop. A subclass sets ``n_gates`` (the blocks of H columns in Wx and Wh) and
    ``n_states`` (h, or h and c), and writes ``forward`` and ``_backprop``."""

    n_gates: ClassVar[int]
    n_states: ClassVar[int] = 1
    Wx: Array
    Wh: Array
    dWx: Array  # noqa: N815 (the math's name)
    dWh: Array  # noqa: N815
    x: Array  # the last input, (n, T, n_in)
    hs: Array  # its hidden states h_0 ... h_T, (n, T + 1, H)
    dh0: Array  # after backward: dL/dh_0, the initial state's gradient, (n, H)

    def __init__(
        self,
        n_in: int,
        hidden: int,
        *,
        return_sequences: bool = False,
        stateful: bool = False,
        dtype: type | np.dtype[Any] = np.float32,
        seed: Seed = None,
    ) -> None:
        name = type(self).__name__
        check_sizes(name, n_in=n_in, hidden=hidden)
        dtype = check_float_dtype(name, dtype)
        for flag, value in (("return_sequences", return_sequences), ("stateful", stateful)):
            if not isinstance(value, bool | np.bool_):
                raise TypeError(f"{name} {flag} must be True or False, got {value!r}")
        self.return_sequences = bool(return_sequences)
        self.stateful = bool(stateful)
        # torch's initialisation: every parameter uniform in (-1/sqrt(H), 1/sqrt(H))
        rng = np.random.default_rng(seed)
        bound = 1 / math.sqrt(hidden)
        columns = self.n_gates * int(hidden)
        shapes = {"Wx": (int(n_in), columns), "Wh": (int(hidden), columns)}
        for p in self.params:
            weights = rng.uniform(-bound, bound, shapes.get(p, (columns,))).astype(dtype)
            setattr(self, p, weights)
            setattr(self, "d" + p, np.zeros_like(weights))
        self.state: tuple[Array, ...] | None = None

    @property
    def n_in(self) -> int:
        return int(self.Wx.shape[0])

    @property
    def hidden(self) -> int:
        return int(self.Wh.shape[0])

    @property
    def input_shape(self) -> Shape:
        return (None, self.n_in)

    def output_shape(self, input_shape: Shape | None) -> Shape:
        """(T, n_in) -> (H,), or (T, H) with ``return_sequences``."""
        hint = ""
        if input_shape is not None and len(input_shape) == 1:
            hint = (
                f": {type(self).__name__} reads sequences (n_samples, steps, features), not "
                "rows (n_samples, features); give each sample its time axis"
            )
        check_input_shape(self, input_shape, hint)
        steps = input_shape[0] if input_shape is not None else None
        return (steps, self.hidden) if self.return_sequences else (self.hidden,)

    # --- the state ---------------------------------------------------------------------

    def set_state(self, h: Array, c: Array | None = None) -> None:
        """Start the next call from h: (n, H) (and, for an LSTM, c: (n, H); zeros if None)
        instead of zeros; a layer that is not ``stateful`` starts every call from it."""
        name = type(self).__name__
        if c is not None and self.n_states == 1:
            raise TypeError(f"{name} has no cell state: give h only")
        h = np.asarray(h, dtype=self.Wh.dtype)
        if h.ndim != 2 or h.shape[1] != self.hidden:
            raise ShapeError(f"{self!r} state h must have shape (n, {self.hidden}), got {h.shape}")
        states = [h.copy()]
        if self.n_states == 2:
            c = np.zeros_like(h) if c is None else np.asarray(c, dtype=self.Wh.dtype)
            if c.shape != h.shape:
                raise ShapeError(f"{self!r} state c must have h's shape {h.shape}, got {c.shape}")
            states.append(c.copy())
        self.state = tuple(states)

    def reset_state(self) -> None:
        """Start the next call from zeros."""
        self.state = None

    def _initial_states(self, n: int, dtype: np.dtype[Any]) -> tuple[Array, ...]:
        """The state the call starts from: ``state`` (n, H) each, or zeros."""
        if self.state is None:
            return tuple(np.zeros((n, self.hidden), dtype) for _ in range(self.n_states))
        if len(self.state[0]) != n:
            raise ValueError(
                f"{self!r} holds a state for {len(self.state[0])} sequences but gets a batch of "
                f"{n}: a state (set_state, or a stateful layer's carry) is one per sequence, so "
                "every batch must have its size; call reset_state() first"
            )
        return self.state

    # --- around the time loop ----------------------------------------------------------

    def _check_input(self, x: Array) -> None:
        if x.ndim != 3 or x.shape[2] != self.n_in:
            raise ShapeError(
                f"{self!r} expects sequences of shape (n_samples, steps, {self.n_in}), got "
                f"{x.shape}"
            )

    def _input_products(self, x: Array, b: Array) -> Array:
        """x Wx + b for every step at once: (n, T, n_in) -> (n, T, G H)."""
        n, T, _ = x.shape
        xw = scratch(self, "xw", (n, T, self.Wx.shape[1]), x.dtype)
        np.matmul(x.reshape(n * T, -1), self.Wx, out=xw.reshape(n * T, -1))
        xw += b
        return xw

    def _output(self, training: bool, hs: Array, *cell_states: Array) -> Array:
        """Every step's h (n, T + 1, H), h_0 first -> (n, T, H) or the last (n, H). A
        stateful layer keeps the last h (and c, from ``cell_states``) for the next call."""
        if self.stateful:
            self.state = tuple(states[:, -1].copy() for states in (hs, *cell_states))
        out = hs[:, 1:] if self.return_sequences else hs[:, -1]
        return out if training else out.copy()  # inference: no view into kept arrays

    def _step_grad(self, dout: Array, t: int, dh: Array, dh_next: Array) -> Array:
        """dL/dh_t: the later steps' dh_next plus, with ``return_sequences``, the output's."""
        if self.return_sequences:
            return np.add(dh_next, dout[:, t], out=dh)
        return dh_next

    def _first_dh(self, dout: Array) -> Array:
        """dh_next for the last step: zeros with ``return_sequences``, else dL/dh_T = dout."""
        dh_next = scratch(self, "dh_next", (len(dout), self.hidden), dout.dtype)
        if self.return_sequences:
            dh_next.fill(0)
        else:
            dh_next[...] = dout
        return dh_next

    def _weight_grads(self, da_x: Array, da_h: Array) -> None:
        """dWx = x^T dA_x and dWh = h_prev^T dA_h, summed over samples and steps, for the
        gradients (n, T, G H) of x Wx and h Wh (the same but for a GRU)."""
        n, T, _ = da_x.shape
        np.matmul(self.x.reshape(n * T, -1).T, da_x.reshape(n * T, -1), out=self.dWx)
        np.matmul(self.hs[:, :-1].reshape(n * T, -1).T, da_h.reshape(n * T, -1), out=self.dWh)

    def _bias_grad(self, da: Array, db: Array) -> None:
        """db = the sum of da: (n, T, G H) over samples and steps."""
        np.sum(da.reshape(-1, da.shape[2]), axis=0, out=db)

    def _input_grad(self, da: Array) -> Array:
        """dx = dA Wx^T: (n, T, G H) -> (n, T, n_in)."""
        n, T, _ = da.shape
        dx = scratch(self, "dx", (n, T, self.n_in), da.dtype)
        np.matmul(da.reshape(n * T, -1), self.Wx.T, out=dx.reshape(n * T, -1))
        return dx

    def _keep_state_grads(self, dh0: Array, dc0: Array | None = None) -> None:
        """Keep dL/dh_0 (and dL/dc_0), what the time loop leaves after its first step, as
        ``dh0`` (``dc0``): new arrays, since the loop's work arrays are reused."""
        self.dh0 = dh0.copy()
        if dc0 is not None:
            self.dc0 = dc0.copy()

    def _backprop(self, dout: Array) -> Array:
        """Set every parameter's gradient and ``dh0`` (``dc0``); return dA (n, T, G H), the
        gradients of the pre-activations fed by x Wx."""
        raise NotImplementedError

    def backward(self, dout: Array) -> Array:
        return self._input_grad(self._backprop(dout))

    def backward_params(self, dout: Array) -> None:
        self._backprop(dout)

    def config(self) -> dict[str, Any]:
        return {
            "n_in": self.n_in,
            "hidden": self.hidden,
            "return_sequences": self.return_sequences,
            "stateful": self.stateful,
        }


class RNN(_Recurrent):
    """Elman RNN (``torch.nn.RNN``, tanh): h_t = tanh(x_t Wx + h_{t-1} Wh + b).

    x: (n, T, n_in) -> h_T: (n, H), or (h_1, ..., h_T): (n, T, H) with ``return_sequences``.
    Wx: (n_in, H), Wh: (H, H), b: (H,) (torch's b_ih + b_hh).

    Backward, from t = T down to 1: dh_t = dout_t + dh_next; da_t = dh_t (1 - h_t^2);
    dh_next = da_t Wh^T.

    Parameters
    ----------
    n_in : int
        Input features per time step.
    hidden : int
        H, the size of the hidden state.
    return_sequences : bool
        Output every step's h (n, T, H), not only the last one (n, H).
    stateful : bool
        Carry each call's last state into the next call, until ``reset_state``.
    dtype : numpy dtype
        The parameters' floating type (float32 by default).
    seed : int or numpy.random.Generator, optional
        Seeds the initial weights.
    """

    params = ("Wx", "Wh", "b")
    n_gates = 1
    b: Array
    db: Array

    def forward(self, x: Array, training: bool = False) -> Array:
        self._check_input(x)
        self.x = x
        n, T, _ = x.shape
        xw = self._input_products(x, self.b)
        hs = scratch(self, "hs", (n, T + 1, self.hidden), x.dtype)  # h_0 ... h_T
        (hs[:, 0],) = self._initial_states(n, x.dtype)
        for t in range(T):
            h = np.matmul(hs[:, t], self.Wh, out=hs[:, t + 1])
            h += xw[:, t]
            np.tanh(h, out=h)
        self.hs = hs
        return self._output(training, hs)

    def _backprop(self, dout: Array) -> Array:
        hs, (n, T), H = self.hs, self.x.shape[:2], self.hidden
        da = scratch(self, "da", (n, T, H), dout.dtype)
        np.square(hs[:, 1:], out=da)
        np.subtract(1, da, out=da)  # tanh' = 1 - h^2, every step at once
        dh = scratch(self, "dh", (n, H), dout.dtype)
        dh_next = self._first_dh(dout)
        for t in reversed(range(T)):
            da_t = da[:, t]
            da_t *= self._step_grad(dout, t, dh, dh_next)
            np.matmul(da_t, self.Wh.T, out=dh_next)
        self._keep_state_grads(dh_next)
        self._weight_grads(da, da)
        self._bias_grad(da, self.db)
        return da


class LSTM(_Recurrent):
    """Long short-term memory (``torch.nn.LSTM``), gates in torch's order i, f, g, o::

        [a_i a_f a_g a_o] = x_t Wx + h_{t-1} Wh + b
        i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o)
        c_t = f c_{t-1} + i g,  h_t = o tanh(c_t)

    x: (n, T, n_in) -> h_T: (n, H), or (n, T, H) with ``return_sequences``.
    Wx: (n_in, 4H), Wh: (H, 4H), b: (4H,): torch's b_ih + b_hh (one bias does the same).
    ``set_state(h0, c0)`` sets the initial state; after ``backward``, ``dh0`` and ``dc0`` are
    its gradients.

    Backward: dc_t = dc_next + dh_t o (1 - tanh(c_t)^2); the gates' gradients dc g, dc c_{t-1},
    dc i, dh tanh(c_t) times their derivatives (sigmoid' = s (1 - s), tanh' = 1 - g^2) are dA_t;
    dh_next = dA_t Wh^T, dc_next = dc f.

    Parameters
    ----------
    n_in : int
        Input features per time step.
    hidden : int
        H, the size of the hidden state.
    return_sequences : bool
        Output every step's h (n, T, H), not only the last one (n, H).
    stateful : bool
        Carry each call's last state into the next call, until ``reset_state``.
    dtype : numpy dtype
        The parameters' floating type (float32 by default).
    seed : int or numpy.random.Generator, optional
        Seeds the initial weights.
    """

    params = ("Wx", "Wh", "b")
    n_gates = 4
    n_states = 2
    b: Array
    db: Array
    dc0: Array  # after backward: dL/dc_0, (n, H)

    def forward(self, x: Array, training: bool = False) -> Array:
        self._check_input(x)
        self.x = x
        n, T, _ = x.shape
        H, dtype = self.hidden, x.dtype
        # sigmoid(a) = (1 + tanh(a / 2)) / 2: one tanh over the four gates, with the sigmoid
        # gates' columns halved beforehand (exact: halving is a power of two) and mapped after
        half = np.ones(4 * H, dtype)
        half[: 2 * H] = half[3 * H :] = 0.5
        shift = 1 - half
        Wh_half = np.multiply(self.Wh, half, out=scratch(self, "Wh_half", self.Wh.shape, dtype))
        gates = self._input_products(x, self.b)  # x Wx + b (halved), then a, then the gates
        gates *= half
        hs = scratch(self, "hs", (n, T + 1, H), dtype)  # h_0 ... h_T
        cs = scratch(self, "cs", (n, T + 1, H), dtype)  # c_0 ... c_T
        tanh_cs = scratch(self, "tanh_cs", (n, T, H), dtype)
        hWh = scratch(self, "hWh", (n, 4 * H), dtype)
        ig = scratch(self, "ig", (n, H), dtype)
        hs[:, 0], cs[:, 0] = self._initial_states(n, dtype)
        for t in range(T):
            a = gates[:, t]
            a += np.matmul(hs[:, t], Wh_half, out=hWh)
            np.tanh(a, out=a)
            a *= half  # i, f, o: (1 + tanh) / 2; g: tanh
            a += shift
            i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
            c = np.multiply(f, cs[:, t], out=cs[:, t + 1])
            c += np.multiply(i, g, out=ig)  # c_t = f c_{t-1} + i g
            np.multiply(o, np.tanh(c, out=tanh_cs[:, t]), out=hs[:, t + 1])  # h_t = o tanh(c_t)
        self.gates, self.hs, self.cs, self.tanh_cs = gates, hs, cs, tanh_cs
        return self._output(training, hs, cs)

    def _backprop(self, dout: Array) -> Array:
        gates, cs, tanh_cs = self.gates, self.cs, self.tanh_cs
        (n, T), H, dtype = self.x.shape[:2], self.hidden, dout.dtype
        # Every step at once: the gates' derivatives, and dh_t -> dc_t's factor o (1 - tanh^2)
        deriv = scratch(self, "deriv", gates.shape, dtype)
        np.subtract(1, gates, out=deriv)
        deriv *= gates  # s (1 - s)
        g = gates[:, :, 2 * H : 3 * H]
        np.square(g, out=deriv[:, :, 2 * H : 3 * H])
        np.subtract(1, deriv[:, :, 2 * H : 3 * H], out=deriv[:, :, 2 * H : 3 * H])  # 1 - g^2
        dh_to_dc = scratch(self, "dh_to_dc", (n, T, H), dtype)
        np.square(tanh_cs, out=dh_to_dc)
        np.subtract(1, dh_to_dc, out=dh_to_dc)
        dh_to_dc *= gates[:, :, 3 * H :]
        da = scratch(self, "da", gates.shape, dtype)
        dh, tmp = scratch(self, "dh", (n, H), dtype), scratch(self, "tmp", (n, H), dtype)
        dc = scratch(self, "dc", (n, H), dtype)
        dc.fill(0)
        dh_next = self._first_dh(dout)
        for t in reversed(range(T)):
            dh_t = self._step_grad(dout, t, dh, dh_next)
            dc += np.multiply(dh_t, dh_to_dc[:, t], out=tmp)  # dc_t
            a, da_t = gates[:, t], da[:, t]
            np.multiply(dc, a[:, 2 * H : 3 * H], out=da_t[:, :H])  # di = dc g
            np.multiply(dc, cs[:, t], out=da_t[:, H : 2 * H])  # df = dc c_{t-1}
            np.multiply(dc, a[:, :H], out=da_t[:, 2 * H : 3 * H])  # dg = dc i
            np.multiply(dh_t, tanh_cs[:, t], out=da_t[:, 3 * H :])  # do = dh tanh(c_t)
            da_t *= deriv[:, t]
            dc *= a[:, H : 2 * H]  # dc_next = dc f
            np.matmul(da_t, self.Wh.T, out=dh_next)
        self._keep_state_grads(dh_next, dc)
        self._weight_grads(da, da)
        self._bias_grad(da, self.db)
        return da


class GRU(_Recurrent):
    """Gated recurrent unit, exactly ``torch.nn.GRU``, gate blocks r, z, n::

        r = sigmoid(x_t Wx_r + bx_r + h_{t-1} Wh_r + bh_r)
        z = sigmoid(x_t Wx_z + bx_z + h_{t-1} Wh_z + bh_z)
        n = tanh(x_t Wx_n + bx_n + r (h_{t-1} Wh_n + bh_n))
        h_t = (1 - z) n + z h_{t-1}

    x: (n, T, n_in) -> h_T: (n, H), or (n, T, H) with ``return_sequences``.
    Wx: (n_in, 3H), Wh: (H, 3H), bx: (3H,) (torch's b_ih), bh: (3H,) (b_hh).

    Backward: dn = dh (1 - z), dz = dh (h_{t-1} - n); the n pre-activation's gradient
    da_n = dn (1 - n^2) reaches h Wh_n + bh_n as da_n r and r as da_n (h Wh_n + bh_n);
    dh_next = dh z + dA_h Wh^T, with dA_h the gradients of h Wh + bh.

    Parameters
    ----------
    n_in : int
        Input features per time step.
    hidden : int
        H, the size of the hidden state.
    return_sequences : bool
        Output every step's h (n, T, H), not only the last one (n, H).
    stateful : bool
        Carry each call's last state into the next call, until ``reset_state``.
    dtype : numpy dtype
        The parameters' floating type (float32 by default).
    seed : int or numpy.random.Generator, optional
        Seeds the initial weights.
    """

    params = ("Wx", "Wh", "bx", "bh")
    n_gates = 3
    bx: Array
    bh: Array
    dbx: Array
    dbh: Array

    def forward(self, x: Array, training: bool = False) -> Array:
        self._check_input(x)
        self.x = x
        n, T, _ = x.shape
        H, dtype = self.hidden, x.dtype
        xw = self._input_products(x, self.bx)
        hw = scratch(self, "hw", (n, T, 3 * H), dtype)  # h_{t-1} Wh + bh
        gates = scratch(self, "gates", (n, T, 3 * H), dtype)  # r, z, n
        hs = scratch(self, "hs", (n, T + 1, H), dtype)  # h_0 ... h_T
        (hs[:, 0],) = self._initial_states(n, dtype)
        for t in range(T):
            hw_t, a = np.matmul(hs[:, t], self.Wh, out=hw[:, t]), gates[:, t]
            hw_t += self.bh
            rz = np.add(xw[:, t, : 2 * H], hw_t[:, : 2 * H], out=a[:, : 2 * H])
            rz *= 0.5  # sigmoid(a) = (1 + tanh(a / 2)) / 2
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            r, z, n_t = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
            np.multiply(r, hw_t[:, 2 * H :], out=n_t)
            n_t += xw[:, t, 2 * H :]
            np.tanh(n_t, out=n_t)
            h = np.subtract(hs[:, t], n_t, out=hs[:, t + 1])
            h *= z
            h += n_t  # h_t = n + z (h_{t-1} - n)
        self.hw, self.gates, self.hs = hw, gates, hs
        return self._output(training, hs)

    def _backprop(self, dout: Array) -> Array:
        hw, gates, hs = self.hw, self.gates, self.hs
        (n, T), H, dtype = self.x.shape[:2], self.hidden, dout.dtype
        r, z, n_ = gates[:, :, :H], gates[:, :, H : 2 * H], gates[:, :, 2 * H :]
        # Every step at once: dh_t's factors into the pre-activations of n, r and z
        to_n = scratch(self, "to_n", (n, T, H), dtype)  # (1 - z)(1 - n^2)
        np.square(n_, out=to_n)
        np.subtract(1, to_n, out=to_n)
        to_n *= np.subtract(1, z)
        to_r = np.subtract(1, r)  # (h Wh_n + bh_n) r (1 - r), from da_n
        to_r *= r
        to_r *= hw[:, :, 2 * H :]
        to_z = np.subtract(hs[:, :-1], n_)  # (h_{t-1} - n) z (1 - z)
        to_z *= z
        to_z *= np.subtract(1, z)
        dxw = scratch(self, "dxw", gates.shape, dtype)  # d(x Wx + bx)
        dhw = scratch(self, "dhw", gates.shape, dtype)  # d(h Wh + bh)
        dh, dh_z = scratch(self, "dh", (n, H), dtype), scratch(self, "dh_z", (n, H), dtype)
        dh_next = self._first_dh(dout)
        for t in reversed(range(T)):
            dh_t = self._step_grad(dout, t, dh, dh_next)
            dx_t, dh_w = dxw[:, t], dhw[:, t]
            da_n = np.multiply(dh_t, to_n[:, t], out=dx_t[:, 2 * H :])
            np.multiply(da_n, r[:, t], out=dh_w[:, 2 * H :])
            np.multiply(da_n, to_r[:, t], out=dx_t[:, :H])
            np.multiply(dh_t, to_z[:, t], out=dx_t[:, H : 2 * H])
            dh_w[:, : 2 * H] = dx_t[:, : 2 * H]
            np.multiply(dh_t, z[:, t], out=dh_z)
            np.matmul(dh_w, self.Wh.T, out=dh_next)
            dh_next += dh_z  # dh_{t-1} = dh z + dA_h Wh^T
        self._keep_state_grads(dh_next)
        self._weight_grads(dxw, dhw)
        self._bias_grad(dxw, self.dbx)
        self._bias_grad(dhw, self.dbh)
        return dxw
