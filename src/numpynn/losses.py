"""Loss functions, each averaged over the samples (rows) of a batch.

A loss has ``forward(output, target, weights=None) -> float`` and ``backward() -> dL/d(output)``,
with ``output`` and ``target`` of shape ``(n_samples, n_outputs)``. A subclass defines the loss of
each sample (``per_sample``) and its gradient (``sample_gradient``); the base class averages them
over the batch, weighting sample i by ``weights[i]`` when weights are given. ``prepare_targets``
turns the user's ``y`` (class labels or one-hot rows, or values) into that shape once, at the
boundary. For speed, MeanSquaredError and CrossEntropy on logits also override ``forward`` and
``backward`` with versions that write into reused scratch arrays (training calls them per batch).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from . import activations
from ._typing import Array
from .errors import ShapeError
from .layers import Layer, Sigmoid, Softmax
from .misuse import instead_of
from .scratch import scratch


class Loss:
    """Base class. ``classifies`` says whether outputs are class scores (accuracy applies)."""

    classifies = False

    def forward(self, output: Array, target: Array, weights: Array | None = None) -> float:
        """The mean loss of the batch, (1/m) sum_i w_i * loss_i (w_i = 1 without weights);
        keeps what ``backward`` needs.

        Parameters
        ----------
        output : ndarray, shape (n_samples, n_outputs)
            The model's output (m = n_samples).
        target : ndarray, shape (n_samples, n_outputs)
            The prepared targets (one-hot rows for a classifier).
        weights : ndarray, shape (n_samples,), optional
            Per-sample weights w_i.

        Returns
        -------
        float
            The mean loss.
        """
        self.weights = weights
        per_sample = self.per_sample(output, target)
        if weights is not None:
            per_sample = per_sample * weights
        return float(np.sum(per_sample) / len(output))

    def backward(self) -> Array:
        """dL/d(output) for the last ``forward``: (n_samples, n_outputs). Subclasses may return
        a work array they reuse on the next call: copy it to keep it."""
        grad = self.sample_gradient()
        grad /= len(grad)
        if self.weights is not None:
            grad *= self.weights[:, None]
        return grad

    def per_sample(self, output: Array, target: Array) -> Array:
        """The loss of each sample: (n_samples,). Keeps what ``sample_gradient`` needs.

        Parameters
        ----------
        output : ndarray
            (n_samples, n_outputs) the model's output.
        target : ndarray
            (n_samples, n_outputs) the prepared targets.

        Returns
        -------
        ndarray
            (n_samples,) loss_i.
        """
        raise NotImplementedError

    def sample_gradient(self) -> Array:
        """d(loss_i)/d(output_i) for each row of the last ``per_sample``: a new array."""
        raise NotImplementedError

    def count_correct(self, output: Array, target: Array) -> int:
        """How many rows of ``output`` predict the class of ``target`` (classifiers only).

        Parameters
        ----------
        output : ndarray
            (n_samples, n_outputs) the model's output.
        target : ndarray
            (n_samples, n_outputs) the prepared targets.

        Returns
        -------
        int
            The number of correct predictions.

        Raises
        ------
        TypeError
            For a loss that does not classify (this base method).
        """
        raise TypeError(f"{self!r} is not a classification loss: accuracy does not apply")

    def n_counted(self, target: Array) -> int:
        """How many predictions ``target`` scores, the denominator of the mean loss and the
        accuracy: its rows (samples); CrossEntropy on sequences counts the scored tokens.

        Parameters
        ----------
        target : ndarray
            The prepared targets of a batch.

        Returns
        -------
        int
            The number of scored predictions.
        """
        return len(target)

    def prepare_targets(self, y: npt.ArrayLike, n_outputs: int, dtype: Any) -> Array:
        """y: (n_samples,) or (n_samples, n_outputs) -> float targets (n_samples, n_outputs).

        Parameters
        ----------
        y : array_like
            (n_samples, n_outputs) targets, or (n_samples,) for one output.
        n_outputs : int
            The model's outputs.
        dtype : numpy dtype
            The model's floating type.

        Returns
        -------
        ndarray
            (n_samples, n_outputs) of ``dtype``.

        Raises
        ------
        TypeError
            For targets that are not real numbers.
        ValueError
            A :class:`numpynn.ShapeError` for the wrong shape; ValueError for NaN or
            infinite values.
        """
        y = _numeric_targets(y)
        if y.ndim == 1 and n_outputs == 1:
            y = y.reshape(-1, 1)
        if y.ndim != 2 or y.shape[1] != n_outputs:
            raise ShapeError(
                f"y must have shape (n_samples, {n_outputs}) to match the model's {n_outputs} "
                f"outputs, got {y.shape}"
            )
        if not np.issubdtype(y.dtype, np.number) or np.issubdtype(y.dtype, np.complexfloating):
            raise TypeError(f"y must hold real numbers, got dtype {y.dtype}")
        if not np.isfinite(y).all():
            raise ValueError("y contains NaN or infinite values")
        return y.astype(dtype, copy=False)

    def config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class MeanSquaredError(Loss):
    """The quadratic cost J = 1/(2m) * sum_i ||output_i - target_i||^2 (Nielsen's C; for one
    output, half the mean squared error). dJ/d(output) = (output - target) / m."""

    def forward(self, output: Array, target: Array, weights: Array | None = None) -> float:
        if weights is not None:
            return super().forward(output, target, weights)
        self.weights = None
        self.diff = np.subtract(
            output, target, out=scratch(self, "diff", output.shape, output.dtype)
        )
        return 0.5 * float(np.vdot(self.diff, self.diff)) / len(output)  # vdot: sum of squares

    def backward(self) -> Array:
        if self.weights is not None:
            return super().backward()
        grad = scratch(self, "grad", self.diff.shape, self.diff.dtype)
        return np.divide(self.diff, len(self.diff), out=grad)  # (output - target) / m

    def per_sample(self, output: Array, target: Array) -> Array:
        self.diff = output - target
        return 0.5 * np.sum(self.diff * self.diff, axis=1)

    def count_correct(self, output: Array, target: Array) -> int:
        """On a classifier's outputs (Nielsen's network): the most probable class of several
        outputs, or one output above 0.5, against the target's.

        Parameters
        ----------
        output : ndarray
            (n_samples, n_outputs) the model's output.
        target : ndarray
            (n_samples, n_outputs) the prepared targets.

        Returns
        -------
        int
            The number of correct predictions.
        """
        if output.shape[1] > 1:
            return int(np.count_nonzero(output.argmax(axis=1) == target.argmax(axis=1)))
        return int(np.count_nonzero((output[:, 0] > 0.5) == (target[:, 0] > 0.5)))

    def sample_gradient(self) -> Array:
        return self.diff.copy()


class BinaryCrossEntropy(Loss):
    """J = -(1/m) * sum(t log(a) + (1 - t) log(1 - a)) for independent yes/no outputs.

    With ``from_logits=True`` the output is z and a = sigmoid(z) is applied inside, stably:
    dJ/dz = (a - t) / m. Followed by a :class:`Sigmoid` layer, training fuses the two.

    Parameters
    ----------
    from_logits : bool
        The output is z, before the sigmoid.
    """

    classifies = True

    def __init__(self, from_logits: bool = False) -> None:
        self.from_logits = bool(from_logits)

    def per_sample(self, output: Array, target: Array) -> Array:
        self.target = target
        if self.from_logits:
            z = output
            self.a = activations.sigmoid(z)
            # log(1 + e^z) - t z, written so that e^z never overflows
            per_entry = np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z)))
        else:
            self.a = _clip_probabilities(output)
            per_entry = -(target * np.log(self.a) + (1 - target) * np.log1p(-self.a))
        return np.sum(per_entry, axis=1)

    def sample_gradient(self) -> Array:
        if self.from_logits:
            return self.a - self.target
        return (self.a - self.target) / (self.a * (1 - self.a))

    def count_correct(self, output: Array, target: Array) -> int:
        threshold = 0.0 if self.from_logits else 0.5
        return int(np.all((output > threshold) == (target > 0.5), axis=1).sum())

    def prepare_targets(self, y: npt.ArrayLike, n_outputs: int, dtype: Any) -> Array:
        """y: 0/1 (or probability) targets, (n_samples, n_outputs), or (n_samples,) for one
        output -> (n_samples, n_outputs) of ``dtype``.

        Parameters
        ----------
        y : array_like
            Targets in [0, 1].
        n_outputs : int
            The model's outputs.
        dtype : numpy dtype
            The model's floating type.

        Returns
        -------
        ndarray
            (n_samples, n_outputs) of ``dtype``.

        Raises
        ------
        TypeError
            For targets that are not real numbers.
        ValueError
            A :class:`numpynn.ShapeError` for one label per sample with several outputs or
            another shape; ValueError for values outside [0, 1], NaN or infinite.
        """
        if np.ndim(y) == 1:
            self.check_labels_fit(n_outputs, f", shape {np.shape(y)}")
        t = super().prepare_targets(y, n_outputs, dtype)
        if t.size and (t.min() < 0 or t.max() > 1):
            raise ValueError(
                f"y for BinaryCrossEntropy must lie in [0, 1], got values in "
                f"[{t.min():g}, {t.max():g}]"
            )
        return t

    def check_labels_fit(self, n_outputs: int, shape: str = "") -> None:
        """Refuse one target per sample (class labels, ``shape`` their shape as text) for
        ``n_outputs`` > 1: ShapeError naming the fix.

        Parameters
        ----------
        n_outputs : int
            The model's outputs.
        shape : str
            The targets' shape as text, for the message (e.g. ``", shape (100,)"``).

        Raises
        ------
        ValueError
            A :class:`numpynn.ShapeError` when ``n_outputs`` > 1.
        """
        if n_outputs > 1:
            raise ShapeError(
                f"BinaryCrossEntropy on {n_outputs} outputs needs a 0/1 target per output, y of "
                f"shape (n_samples, {n_outputs}), got one value per sample{shape}: for one "
                f"class out of {n_outputs} use Softmax with CrossEntropy, or give one-hot rows "
                "(numpynn.losses.one_hot)"
            )

    def config(self) -> dict[str, Any]:
        return {"from_logits": self.from_logits}


class CrossEntropy(Loss):
    """J = -(1/m) * sum_i sum_k t_ik log(a_ik) for one class per sample.

    Targets are class labels (n_samples,) or one-hot rows (n_samples, n_classes). With
    ``from_logits=True`` the output is z and a = softmax(z) is applied inside, stably:
    dJ/dz = (a - t) / m. Followed by a :class:`Softmax` layer, training fuses the two.

    On sequences, outputs (n_samples, T, n_classes) and targets (n_samples, T) of class ids
    (``prepare_token_targets``), the mean is over the scored tokens: those whose target is
    not ``ignore_index`` (-1 by default, as in Deep Learning from Scratch vol. 2), which count
    neither in the loss nor in the accuracy. No one-hot array is built: with m scored tokens,
    J = -(1/m) sum_j log a_j[t_j] and dJ/dz_j = (a_j - e_{t_j}) / m.

    Parameters
    ----------
    from_logits : bool
        The output is z, before the softmax.
    ignore_index : int
        The target id of tokens that are not scored.

    Raises
    ------
    TypeError
        If ``ignore_index`` is not an int.
    """

    classifies = True

    def __init__(self, from_logits: bool = False, ignore_index: int = -1) -> None:
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, int | np.integer):
            raise TypeError(f"ignore_index must be an integer, got {ignore_index!r}")
        self.from_logits = bool(from_logits)
        self.ignore_index = int(ignore_index)

    def forward(self, output: Array, target: Array, weights: Array | None = None) -> float:
        if output.ndim == 3:
            return self._forward_tokens(output, target, weights)
        self.tokens = False
        if not self.from_logits:
            return super().forward(output, target, weights)
        # Fused softmax + cross-entropy on logits, into reused arrays (training calls it per batch).
        # With z = output - max(output) (so exp(z) <= 1 never overflows) and s = sum_k exp(z_k):
        # a = exp(z) / s and loss_i = -sum_k t_ik log(a_ik) = log(s_i) - sum_k t_ik z_ik
        # (target rows sum to 1: one-hot or probabilities).
        m, k = output.shape
        self.target, self.weights = target, weights
        # Row maxima as column maxima of a transposed copy: NumPy reduces short rows slowly.
        columns = scratch(self, "columns", (k, m), output.dtype)
        columns[...] = output.T
        row_max = np.maximum.reduce(columns, out=scratch(self, "row_max", (m,), output.dtype))
        z = np.subtract(output, row_max[:, None], out=scratch(self, "z", (m, k), output.dtype))
        # sum_k t_ik z_ik: over the whole batch (vdot) or per sample (to weight each one)
        t_dot_z = np.vdot(target, z) if weights is None else np.einsum("ij,ij->i", target, z)
        a = np.exp(z, out=z)  # z is not needed any more: exp(z) overwrites it
        s = np.matmul(a, scratch(self, "ones", (k,), output.dtype, fill=1), out=row_max)  # row sums
        a /= s[:, None]
        log_s = np.log(s, out=s)
        self.a = a
        if weights is None:
            return float(np.add.reduce(log_s) - t_dot_z) / m
        return float(np.vdot(weights, log_s - t_dot_z)) / m

    def backward(self) -> Array:
        if self.tokens:
            return self._backward_tokens()
        if not self.from_logits:
            return super().backward()
        grad = np.subtract(
            self.a, self.target, out=scratch(self, "grad", self.a.shape, self.a.dtype)
        )
        grad /= len(grad)  # dJ/dz = (a - t) / m
        if self.weights is not None:
            grad *= self.weights[:, None]
        return grad

    def per_sample(self, output: Array, target: Array) -> Array:
        self.target = target
        self.a = _clip_probabilities(output)
        return -np.sum(target * np.log(self.a), axis=1)

    def sample_gradient(self) -> Array:
        return -self.target / self.a

    def count_correct(self, output: Array, target: Array) -> int:
        if output.ndim == 3:  # tokens: the scored ones whose most probable class is the target
            return int(np.count_nonzero(output.argmax(axis=-1) == target))
        return int(np.count_nonzero(output.argmax(axis=1) == target.argmax(axis=1)))

    def n_counted(self, target: Array) -> int:
        if target.ndim == 2 and target.dtype.kind == "i":  # token ids: the scored ones
            return int(np.count_nonzero(target != self.ignore_index))
        return len(target)

    def _forward_tokens(self, output: Array, target: Array, weights: Array | None) -> float:
        """The mean over scored tokens of -log a[target], for output (n, T, C) and target
        (n, T); a sample's weight applies to each of its tokens."""
        _, T, C = output.shape
        z = output.reshape(-1, C)
        t = target.reshape(-1)
        scored = t != self.ignore_index
        rows, classes = np.flatnonzero(scored), t[scored]
        if self.from_logits:  # a = softmax(z), stably: z - max(z) <= 0
            a = np.exp(z - z.max(axis=1, keepdims=True))
            a /= a.sum(axis=1, keepdims=True)
        else:
            a = _clip_probabilities(z)
        w = np.ones(len(rows), a.dtype) if weights is None else np.repeat(weights, T)[rows]
        self.tokens, self.a, self.rows, self.classes, self.w = True, a, rows, classes, w
        self.output_shape = output.shape
        m = max(len(rows), 1)  # a batch of ignored tokens only: loss 0, gradient 0
        return float(-np.dot(w, np.log(a[rows, classes]))) / m

    def _backward_tokens(self) -> Array:
        """dJ/dz = (a - e_t) / m at the scored tokens (logits), or -1 / (m a[t]) at the target
        (probabilities); 0 at ignored tokens."""
        a, rows, classes, w = self.a, self.rows, self.classes, self.w
        m = max(len(rows), 1)
        if self.from_logits:
            grad = a.copy()
            grad[rows, classes] -= 1
            ignored = np.ones(len(a), bool)
            ignored[rows] = False
            grad[ignored] = 0
            grad[rows] *= (w / m)[:, None].astype(a.dtype)
        else:
            grad = np.zeros_like(a)
            grad[rows, classes] = -w / (m * a[rows, classes])
        return grad.reshape(self.output_shape)

    def prepare_token_targets(self, y: npt.ArrayLike, n_outputs: int) -> Array:
        """Targets of a sequence model: class ids (n_samples, T) in [0, n_outputs) or
        ``ignore_index``, as int64; TypeError/ValueError naming what is wrong otherwise.

        Parameters
        ----------
        y : array_like
            (n_samples, T) integer class ids.
        n_outputs : int
            The model's outputs per position (the vocabulary).

        Returns
        -------
        ndarray
            (n_samples, T) int64, contiguous.

        Raises
        ------
        TypeError
            For ids that are not integers.
        ValueError
            A :class:`numpynn.ShapeError` for a shape other than (n_samples, T); ValueError
            for an id outside [0, n_outputs) that is not ``ignore_index``.
        """
        y = np.asarray(y)
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError(
                f"y for a sequence model must be integer class ids (n_samples, T), got dtype "
                f"{y.dtype}"
            )
        if y.ndim != 2:
            raise ShapeError(f"y for a sequence model must be (n_samples, T), got {y.shape}")
        scored = y[y != self.ignore_index]
        if scored.size and (scored.min() < 0 or scored.max() >= n_outputs):
            raise ValueError(
                f"class ids y must lie in [0, {n_outputs - 1}] for a model with {n_outputs} "
                f"outputs (or be ignore_index={self.ignore_index}), got ids in "
                f"[{scored.min()}, {scored.max()}]"
            )
        return np.ascontiguousarray(y, dtype=np.int64)

    def prepare_targets(self, y: npt.ArrayLike, n_outputs: int, dtype: Any) -> Array:
        """y: class labels (n_samples,) -> one-hot rows, or rows of probabilities
        (n_samples, n_outputs) checked and kept.

        Parameters
        ----------
        y : array_like
            (n_samples,) integer labels in [0, n_outputs) (floats with integer values too),
            or (n_samples, n_outputs) rows of probabilities summing to 1.
        n_outputs : int
            The model's outputs (classes).
        dtype : numpy dtype
            The model's floating type.

        Returns
        -------
        ndarray
            (n_samples, n_outputs) of ``dtype``.

        Raises
        ------
        TypeError
            For labels with fractional values, or targets that are not real numbers.
        ValueError
            For labels out of range, rows that are not probabilities summing to 1 (within
            1e-3), or a :class:`numpynn.ShapeError` for the wrong shape.
        """
        y = _numeric_targets(y)
        if y.ndim != 1:
            t = super().prepare_targets(y, n_outputs, dtype)
            sums = t.sum(axis=1)
            if t.size and (t.min() < 0 or not np.allclose(sums, 1, atol=1e-3)):
                raise ValueError(
                    "y for CrossEntropy must be class labels (n_samples,) or one-hot rows "
                    f"(probabilities summing to 1), got rows with values in [{t.min():g}, "
                    f"{t.max():g}] summing to [{sums.min():g}, {sums.max():g}]: for other "
                    "targets use MeanSquaredError or BinaryCrossEntropy"
                )
            return t
        if not (np.issubdtype(y.dtype, np.integer) or _holds_integers(y)):
            raise TypeError(
                f"class labels y must be integers, got dtype {y.dtype} with fractional values: "
                "for real-valued targets use MeanSquaredError"
            )
        if y.size and (y.min() < 0 or y.max() >= n_outputs):
            raise ValueError(
                f"class labels y must lie in [0, {n_outputs - 1}] for a model with {n_outputs} "
                f"outputs, got labels in [{y.min():g}, {y.max():g}]"
            )
        return one_hot(y.astype(np.int64), n_outputs, dtype)

    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"from_logits": self.from_logits}
        if self.ignore_index != -1:  # the default is left out: files of before still load
            config["ignore_index"] = self.ignore_index
        return config


def _numeric_targets(y: npt.ArrayLike) -> Array:
    """y as an array of numbers (an object array of numbers as float64); TypeError for
    strings or other objects (class names such as "cat"), naming the fix: the class ids
    0..k-1 of np.unique(y, return_inverse=True)."""
    y = np.asarray(y)
    if y.dtype.kind == "O" and all(_is_number(v) for v in y.flat):
        return y.astype(np.float64)
    if y.dtype.kind not in "USO":
        return y
    names = [str(v) for v in np.unique(y.ravel().astype(str))]
    shown = ", ".join(repr(name) for name in names[:3]) + (", ..." if len(names) > 3 else "")
    raise TypeError(
        f"y holds class names ({shown}; dtype {y.dtype}), not numbers: map the labels to "
        "class ids 0..k-1 first, classes, y = np.unique(y, return_inverse=True) (classes[k] is "
        "the name of class k); numpynn.sklearn's classifiers take names as they are"
    )


def _is_number(v: object) -> bool:
    return isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_)


def one_hot(labels: Array, n_classes: int, dtype: Any = np.float32) -> Array:
    """labels: (n_samples,) integers in [0, n_classes) -> (n_samples, n_classes) of 0 and 1.

    Parameters
    ----------
    labels : ndarray
        (n_samples,) class labels, integers in [0, n_classes).
    n_classes : int
        The number of columns.
    dtype : numpy dtype
        The result's type (float32 by default).

    Returns
    -------
    ndarray
        (n_samples, n_classes): 1 in each row's label column, else 0.

    Raises
    ------
    TypeError
        For labels that are not integers.
    ValueError
        For labels outside [0, n_classes) or not one-dimensional.
    """
    labels = np.asarray(labels)
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (n_samples,), got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must be in [0, {n_classes}) for {n_classes} classes, got values in "
            f"[{labels.min()}, {labels.max()}]"
        )
    t = np.zeros((len(labels), n_classes), dtype=dtype)
    t[np.arange(len(labels)), labels] = 1
    return t


def fuse(layers: list[Layer], loss: Loss) -> tuple[list[Layer], Loss]:
    """The layers and loss that training uses: a final Softmax + CrossEntropy (or Sigmoid +
    BinaryCrossEntropy) becomes the loss on logits, whose gradient is simply (a - t) / m.

    Parameters
    ----------
    layers : list of Layer
        The model's layers; not modified.
    loss : Loss
        The model's loss.

    Returns
    -------
    tuple of (list of Layer, Loss)
        Without the final Softmax (Sigmoid) and with a new loss with ``from_logits=True``
        when they fuse; otherwise ``layers`` and ``loss`` themselves.
    """
    if layers and isinstance(loss, CrossEntropy | BinaryCrossEntropy) and not loss.from_logits:
        output_layer = Softmax if isinstance(loss, CrossEntropy) else Sigmoid
        if isinstance(layers[-1], output_layer):
            return layers[:-1], type(loss)(**{**loss.config(), "from_logits": True})
    return layers, loss


def check_loss(
    layers: list[Layer], loss: Loss, n_outputs: int, *, class_labels: bool = False
) -> None:
    """Refuse, before training, a loss that does not fit the model's output: ValueError naming
    the mismatch and the fix. What fits: a final Softmax with CrossEntropy() and a final Sigmoid
    with BinaryCrossEntropy() (probabilities); no squashing output with from_logits=True (raw
    scores); MeanSquaredError on any output (regression, or Nielsen's sigmoid outputs).
    ``class_labels``: the targets will be one class label per sample, which BinaryCrossEntropy
    takes for one output only (ShapeError, a ValueError, otherwise).

    Parameters
    ----------
    layers : list of Layer
        The model's layers, the last one deciding what its outputs are.
    loss : Loss
        The loss to be trained with.
    n_outputs : int
        The model's output features.
    class_labels : bool
        True when the targets are one class label per sample (not one row per sample).

    Raises
    ------
    ValueError
        For a loss that does not fit the final layer or the number of outputs, naming the fix.
    """
    last = layers[-1] if layers else None
    ends = f"the model ends with {type(last).__name__}" if last else "the model has no layers"
    if isinstance(loss, CrossEntropy):
        if n_outputs < 2:
            raise ValueError(
                f"{loss!r} needs one output per class (at least 2), but the model has "
                f"{n_outputs} output: for two classes end with Dense(n, 1) and Sigmoid() and use "
                "BinaryCrossEntropy(), or end with Dense(n, 2) and Softmax()"
            )
        if loss.from_logits and isinstance(last, Softmax):
            raise ValueError(
                f"CrossEntropy(from_logits=True) expects raw scores (logits), but {ends}, which "
                "makes them probabilities: use CrossEntropy(), or remove the final Softmax"
            )
        if not loss.from_logits and isinstance(last, Sigmoid):
            raise ValueError(
                f"CrossEntropy() expects probabilities that sum to 1 over the outputs (a final "
                f"Softmax), but {ends} (independent probabilities): end it with Softmax(), or "
                "use BinaryCrossEntropy() for independent yes/no outputs"
            )
        if not loss.from_logits and not isinstance(last, Softmax):
            raise ValueError(
                f"CrossEntropy() expects probabilities from a final Softmax, but {ends} (raw "
                "scores): add Softmax() at the end, or use CrossEntropy(from_logits=True)"
            )
    if isinstance(loss, BinaryCrossEntropy):
        if isinstance(last, Softmax):
            raise ValueError(
                f"{loss!r} treats each output as its own yes/no probability, but {ends}, which "
                "makes the outputs one distribution over classes: use CrossEntropy() with "
                "Softmax, or end with Sigmoid() for independent yes/no outputs"
            )
        if loss.from_logits and isinstance(last, Sigmoid):
            raise ValueError(
                f"BinaryCrossEntropy(from_logits=True) expects raw scores (logits), but {ends}, "
                "which makes them probabilities: use BinaryCrossEntropy(), or remove the final "
                "Sigmoid"
            )
        if not loss.from_logits and not isinstance(last, Sigmoid):
            raise ValueError(
                f"BinaryCrossEntropy() expects probabilities from a final Sigmoid, but {ends} "
                "(raw scores): add Sigmoid() at the end, or use "
                "BinaryCrossEntropy(from_logits=True)"
            )
        if class_labels:
            loss.check_labels_fit(n_outputs)


LOSSES: dict[str, type[Loss]] = {
    "mse": MeanSquaredError,
    "binary_cross_entropy": BinaryCrossEntropy,
    "cross_entropy": CrossEntropy,
}


def get(loss: Loss | str) -> Loss:
    """A loss object from itself or its name ("mse", "binary_cross_entropy", "cross_entropy").

    Parameters
    ----------
    loss : Loss or str
        A loss object (returned as it is) or a name.

    Returns
    -------
    Loss
        ``loss`` itself, or a new loss of that name with its default settings.

    Raises
    ------
    TypeError
        For a class or a function given instead of a Loss object (``CrossEntropy`` for
        ``CrossEntropy()``, say).
    ValueError
        For an unknown name or any other value.
    """
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]()
    why = instead_of(loss, Loss, "a loss")
    error = TypeError if why else ValueError
    raise error(f"loss must be a Loss or one of {sorted(LOSSES)}, got {why or repr(loss)}")


def _clip_probabilities(a: Array) -> Array:
    """Keep probabilities in [eps, 1 - eps] so their logarithms stay finite."""
    eps = np.finfo(a.dtype).eps if np.issubdtype(a.dtype, np.floating) else 1e-12
    return np.clip(a, eps, 1 - eps)


def _holds_integers(y: Array) -> bool:
    return bool(
        np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y))
    )
