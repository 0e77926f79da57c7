"""The model: a sequence of layers, with ``fit``, ``predict`` and ``evaluate``.

Rows are samples throughout: ``X`` has shape ``(n_samples, n_features)``. For layer sizes
``[n_0, n_1, ..., n_L]`` (input is layer 0, output is layer L), layer l >= 1 computes
z[l] = a[l-1] @ W[l] + b[l] and a[l] = h(z[l]), with W[l] of shape (n_{l-1}, n_l).
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from . import activations
from . import losses as losses_module
from . import optimizers as optimizers_module
from ._typing import Array, Seed
from .callbacks import Callback, TrainingRun
from .errors import ShapeError
from .layers import (
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    MaxPool2D,
    ReLU,
    Shape,
    Sigmoid,
    Softmax,
    activation_layer,
    fuse_relu_pool,
)
from .layers.base import get_array, get_grad
from .losses import BinaryCrossEntropy, CrossEntropy, Loss, MeanSquaredError
from .misuse import check_activation_name, instead_of
from .optimizers import Optimizer
from .parallel import Replicas
from .sampling import BatchSource, ContiguousWindows, RandomRows, RandomWindows
from .training import (
    DIVERGENCE,
    Augment,
    forward,
    forward_in_chunks,
    interrupt_after_batch,
    train,
)
from .validation import (
    check_above_one,
    check_ids,
    check_positive_int,
    check_same_length,
    check_sample_weight,
    check_X,
)


class Sequential:
    """Layers applied one after another: ``Sequential(Dense(2, 3), Sigmoid(), Dense(3, 1))``.

    Parameters
    ----------
    *layers : Layer
        The layers, first to last, each its own object: X (n_samples, n_features) goes into
        the first, the last one's output is the model's.

    Raises
    ------
    TypeError
        For an argument that is not a Layer object (a list of layers, a class, a function).
    ValueError
        For no layers, or one layer object at two positions; a :class:`numpynn.ShapeError`
        (a ValueError) when a layer cannot take the output of the layer before it.
    """

    def __init__(self, *layers: Layer) -> None:
        if not layers:
            raise ValueError(
                "Sequential needs at least one layer, e.g. Sequential(Dense(4, 3), Softmax()), "
                "got none"
            )
        if len(layers) == 1 and isinstance(layers[0], list | tuple):  # Keras's Sequential([...])
            raise TypeError(
                f"Sequential takes the layers as arguments, not a {type(layers[0]).__name__} of "
                "them: Sequential(Dense(4, 3), Softmax()), or Sequential(*layers)"
            )
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                why = instead_of(layer, Layer, "a layer")
                raise TypeError(
                    f"layer {i} must be a numpynn Layer, got "
                    + (why or f"{type(layer).__name__} {layer!r:.60}")
                )
            first = next(j for j, other in enumerate(layers) if other is layer)
            if first != i:  # one object would keep two layers' inputs: wrong gradients
                raise ValueError(
                    f"layer {i} is the same object as layer {first} ({layer!r}); give each "
                    f"position its own layer, e.g. {type(layer).__name__}() twice"
                )
        _check_shapes(layers)
        self.layers: list[Layer] = list(layers)
        self.loss: Loss | None = None  # set by fit; evaluate uses it by default
        self.stop_training = False

    def __repr__(self) -> str:
        return "Sequential(" + ", ".join(map(repr, self.layers)) + ")"

    # --- structure ---------------------------------------------------------------------

    @property
    def dense_layers(self) -> list[Dense]:
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    @property
    def input_shape(self) -> Shape | None:
        """The shape of one sample the model takes, None for a size it leaves open:
        ``(n_features,)`` for rows (a first Dense), ``(channels, None, None)`` for images (a
        first Conv2D; pools: ``(None, None, None)``): the shape its first layer takes, after
        any layers that keep the shape (activations, BatchNorm); None when any shape would do
        (a first Flatten, or no layer that fixes it)."""
        for layer in self.layers:
            if layer.input_shape is not None:
                return layer.input_shape
            if layer.output_shape(None) is not None:
                return None  # the layer reshapes (Flatten): what it takes is open
        return None

    @property
    def output_shape(self) -> Shape | None:
        """The shape of one output sample (None when not known before the data arrives)."""
        shape = self.input_shape
        for layer in self.layers:
            shape = layer.output_shape(shape)
        return shape

    @property
    def n_inputs(self) -> int | None:
        """Number of input features of a model that takes rows (None for images, or a model
        without Dense layers)."""
        shape = self.input_shape
        return shape[0] if shape is not None and len(shape) == 1 else None

    @property
    def n_outputs(self) -> int | None:
        """The number of outputs, the size of an output row (of each step's, for sequences), or a
        convnet's output channels (None when the layers do not fix it)."""
        shape = self.output_shape
        if not shape:
            return None
        return shape[0] if len(shape) == 3 else shape[-1]

    @property
    def outputs_sequences(self) -> bool:
        """Whether the model outputs a sequence (n_samples, T, n_outputs), one row per step."""
        shape = self.output_shape
        return shape is not None and len(shape) == 2

    @property
    def dtype(self) -> np.dtype[Any] | None:
        """The parameters' floating type (None for a model without parameters)."""
        params = self.parameters()
        return params[0].dtype if params else None

    def parameters(self) -> list[Array]:
        """Every trainable array, in layer order (W then b for each Dense)."""
        return [get_array(layer, name) for layer in self.layers for name in layer.params]

    def gradients(self) -> list[Array]:
        """The gradient arrays, in the order of ``parameters()``."""
        return [get_grad(layer, name) for layer in self.layers for name in layer.params]

    def buffers(self) -> list[Array]:
        """The arrays of state that is not trained (BatchNorm's running statistics), in layer
        order."""
        return [get_array(layer, name) for layer in self.layers for name in layer.buffers]

    def state_arrays(self) -> list[Array]:
        """What the model's outputs depend on: ``parameters()`` then ``buffers()``. A model's
        weights, to save, copy or restore in place (best weights, checkpoints)."""
        return self.parameters() + self.buffers()

    # --- forward and backward ----------------------------------------------------------

    def forward(self, X: npt.ArrayLike, training: bool = False) -> Array:
        """The network's output for ``X``.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_inputs), or images (n_samples, C, H, W)
            The input rows.
        training : bool
            Run the training pass (dropout active, BatchNorm on batch statistics).

        Returns
        -------
        ndarray, shape (n_samples, n_outputs)
            The last layer's output. Inference runs on images in chunks (training.CHUNK).
        """
        X = self._check_X(X)
        if not training:
            return forward_in_chunks(self.layers, X)
        return forward(self.layers, X, training).copy()  # training outputs are reused scratch

    def predict(self, X: npt.ArrayLike) -> Array:
        """Class labels for a classifier, the output values otherwise.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_inputs), or images (n_samples, C, H, W)
            The input rows.

        Returns
        -------
        ndarray, shape (n_samples,) or (n_samples, n_outputs)
            For a classifier (a Softmax or Sigmoid output layer, or trained with a
            cross-entropy): the most probable class (n_samples,), or 0/1 per sigmoid output for
            binary cross-entropy; the output values (n_samples, n_outputs) otherwise.
        """
        kind = self._output_kind()
        if kind == "multiclass":  # softmax keeps the order within a row: skip it, take the argmax
            layers = self.layers[:-1] if isinstance(self.layers[-1], Softmax) else self.layers
            return forward_in_chunks(layers, self._check_X(X)).argmax(axis=-1)
        output = self.forward(X)
        if kind == "binary":
            threshold = 0.0 if self.outputs_are_logits() else 0.5
            labels = (output > threshold).astype(np.int64)
            return labels[:, 0] if labels.shape[1] == 1 else labels
        return output

    def predict_proba(self, X: npt.ArrayLike) -> Array:
        """Class probabilities of a classifier: softmax rows, or the probability of each
        sigmoid output.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_inputs), or images (n_samples, C, H, W)
            The input rows.

        Returns
        -------
        ndarray, shape (n_samples, n_outputs)
            The probabilities.

        Raises
        ------
        TypeError
            If the model is not a classifier (no Softmax or Sigmoid output, no cross-entropy).
        """
        kind = self._output_kind()
        if kind == "values":
            raise TypeError(
                "predict_proba needs a classifier: end the model with Softmax or Sigmoid, or "
                "fit it with a cross-entropy loss"
            )
        output = self.forward(X)
        if not self.outputs_are_logits():
            return output
        squash = activations.softmax if kind == "multiclass" else activations.sigmoid
        return np.asarray(squash(output))

    def generate(
        self,
        prompt_ids: npt.ArrayLike,
        max_new_tokens: int,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: Seed = None,
        cache: bool = True,
    ) -> Array:
        """A language model's continuation: prompt_ids (T0,) or (n, T0) followed by
        ``max_new_tokens`` drawn ids, (T0 + max_new_tokens,) or (n, T0 + max_new_tokens)
        int64; temperature > 0 divides the logits, ``top_k`` keeps the k most probable ids,
        the same ``seed`` gives the same ids. ``cache`` (default True) lets a transformer
        keep its keys and values (one position's work per id) and a recurrent model its
        state; False runs the whole window for every id. See
        :func:`numpynn.generation.generate` (what context each id sees past the block).

        Parameters
        ----------
        prompt_ids : array_like of int
            (T0,) or (n, T0), T0 >= 1: the ids to continue.
        max_new_tokens : int
            How many ids to draw (>= 0).
        temperature : float
            > 0; divides the logits.
        top_k : int, optional
            Draw from the ``top_k`` most probable ids only.
        seed : int or numpy.random.Generator, optional
            The draws' generator.
        cache : bool
            Reuse a transformer's keys and values, or a recurrent model's state.

        Returns
        -------
        ndarray
            (T0 + max_new_tokens,) or (n, T0 + max_new_tokens) int64.

        Raises
        ------
        TypeError, ValueError
            For a model that is not a language model, or a bad argument, naming it.
        """
        from .generation import generate

        return generate(
            self,
            prompt_ids,
            max_new_tokens,
            temperature=temperature,
            top_k=top_k,
            seed=seed,
            cache=cache,
        )

    def evaluate(
        self, X: npt.ArrayLike, y: npt.ArrayLike, loss: Loss | str | None = None
    ) -> dict[str, float]:
        """The mean loss, and the accuracy of a classifier, on ``(X, y)``.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_inputs), or images (n_samples, C, H, W)
            The input rows.
        y : array_like, shape (n_samples,) or (n_samples, n_outputs)
            Class labels, one-hot rows or target values.
        loss : Loss or str, optional
            Defaults to the one ``fit`` used, else the one the output layer suggests.

        Returns
        -------
        dict of str to float
            ``{"loss": mean loss, "accuracy": fraction correct}`` (accuracy for classifiers).
        """
        loss = losses_module.get(loss) if loss is not None else self.loss or self._default_loss()
        X = self._check_X(X)
        check_same_length(X, y)
        layers, fused_loss = losses_module.fuse(self.layers, loss)
        T = self._prepare_targets(fused_loss, y, self._n_outputs_of(X), X.dtype)
        output = forward_in_chunks(layers, X)
        result = {"loss": fused_loss.forward(output, T)}
        if self._reports_accuracy(loss):
            result["accuracy"] = fused_loss.count_correct(output, T) / fused_loss.n_counted(T)
        return result

    # --- training ----------------------------------------------------------------------

    def fit(
        self,
        X: npt.ArrayLike | BatchSource,
        y: npt.ArrayLike | None = None,
        *,
        loss: Loss | str | None = None,
        optimizer: Optimizer | str = "adam",
        epochs: int = 10,
        batch_size: int | None = 32,
        validation_data: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
        shuffle: bool = True,
        seed: Seed = None,
        callbacks: Iterable[Callback] = (),
        sample_weight: npt.ArrayLike | None = None,
        threads: int | None = None,
        initial_epoch: int = 0,
        resume: bool = False,
        augment: Augment | None = None,
        workers: int = 1,
        max_steps: int | None = None,
        divergence: float | None = DIVERGENCE,
    ) -> dict[str, list[float]]:
        """Train by mini-batch gradient descent with backpropagation; return the history.

        Parameters
        ----------
        X : array_like or ~numpynn.sampling.BatchSource
            Shape (n_samples, n_features), or images (n_samples, channels, height, width)
            for a model that starts with Conv2D; or a batch source (``RandomWindows``,
            ``ContiguousWindows``, ``RandomRows``) and no ``y``.
        y : array_like, shape (n_samples,) or (n_samples, n_outputs), optional
            Class labels, one-hot rows or target values; ids (n_samples, T) for a language
            model.
        loss : Loss or str, optional
            Defaults to what the output layer suggests (Softmax -> CrossEntropy, Sigmoid ->
            BinaryCrossEntropy, else MeanSquaredError).
        optimizer : Optimizer or str
            An optimiser or its name (``"adam"``, ``"sgd"``, ...).
        epochs : int
            The epoch at which the run ends (counted from the run's start).
        batch_size : int or None
            Rows per mini-batch; None trains on the full batch.
        validation_data : tuple, optional
            ``(X_val, y_val)``, scored after each epoch, never augmented.
        shuffle : bool
            Shuffle the rows every epoch.
        seed : int or numpy.random.Generator, optional
            Drives the shuffling and dropout: the same seed and starting weights give
            bit-identical results.
        callbacks : iterable of Callback
            Called after each batch and epoch (:class:`~numpynn.EarlyStopping`,
            :class:`~numpynn.ModelCheckpoint`, ...).
        sample_weight : array_like, shape (n_samples,), optional
            Non-negative numbers weighting each sample's loss (scaled to average 1, so the
            learning rate keeps its meaning).
        threads : int, optional
            Limits the BLAS threads for this call (below).
        initial_epoch : int
            The number of epochs already done.
        resume : bool
            Continue from a :class:`~numpynn.ModelCheckpoint`'s last saved epoch (below).
        augment : callable, optional
            A function of (x_batch, rng) returning a changed copy of a training batch (below).
        workers : int
            Threads that split each batch's rows (below).
        max_steps : int, optional
            End the run after that many batches (optimiser steps) in all, inside an epoch if
            need be.

        Returns
        -------
        dict of str to list of float
            The history: "loss", "accuracy" (classifiers), "val_loss" and "val_accuracy"
            (with validation data), one value per epoch.

        Raises
        ------
        TypeError, ValueError
            For an argument of the wrong type or out of range, naming it.
        TrainingInterrupted
            On Ctrl-C, at the end of the current batch (a KeyboardInterrupt).
        DivergenceError
            When the loss becomes NaN or infinite.

        Notes
        -----

        A language model (a first layer that takes token ids, outputs (n, T, vocab)) trains on
        its targets, the next id at each step: y (n_samples, T) ids, or, from one long stream
        of ids, ``X = numpynn.RandomWindows(ids, block, steps_per_epoch=...)`` and no y: each
        epoch is that many batches of random windows (nanoGPT's sampling), with
        ``validation_data=numpynn.spread_windows(valid_ids, block, count)``; or, for a recurrent
        model, ``X = numpynn.ContiguousWindows(ids, block)``, the stream read in order in
        ``batch_size`` tracks, the recurrent layers carrying their state from batch to batch
        (truncated backpropagation through time). Losses and accuracies are then means over
        tokens. ``numpynn.RandomRows(X, y, steps_per_epoch=...)`` draws rows at random for each
        batch, makemore's way. ``max_steps`` ends the run after that many
        batches (optimiser steps) in all, inside an epoch if need be.

        A run that explodes stops with :class:`~numpynn.DivergenceError` (naming the epoch,
        batch and learning rate): a NaN or infinite batch loss, or one above ``divergence``
        (default 100) times the run's starting loss (the first batch's, at least an
        uninformed guess's: log(classes) for cross-entropy, the targets' variance for MSE).
        ``divergence=None`` checks only for NaN and inf (a run meant to show divergence).

        A run can continue: ``epochs`` is the epoch at which it ends, ``initial_epoch`` the
        number already done (callbacks see epochs counted from the run's start). With
        ``resume=True`` a :class:`~numpynn.ModelCheckpoint` among the callbacks restores the
        last complete epoch it saved (parameters, optimiser, generator, history and every
        callback's state; without a saved checkpoint the run starts afresh), so a run
        interrupted by a crash or Ctrl-C and started again with the same call ends
        bit-identical to an uninterrupted one. Ctrl-C stops training at the end of the current
        batch, raising :class:`~numpynn.errors.TrainingInterrupted` (a KeyboardInterrupt).

        ``augment`` is a function of (x_batch, rng) that returns a changed copy of a training
        batch, e.g. ``lambda x, rng: nn.datasets.random_shift(x, 2, rng)``: it draws from the
        run's generator (``seed``), so the same seed gives the same changes and a resumed run
        continues them exactly. Validation data is never augmented.

        ``threads`` limits the BLAS threads for this call (needs threadpoolctl). Small matrix
        products run much slower on two threads when another process holds a core: on a busy
        machine ``threads=1`` is often faster.

        ``workers`` > 1 splits each batch's rows over that many threads, each with a replica of
        the layers (:mod:`numpynn.parallel`): the gradients, and BatchNorm's statistics, are
        still the whole batch's, for one optimiser step. It pays for convolutional networks,
        whose element-wise passes one BLAS call on two threads leaves on one core (the MNIST
        convnet trains 1.5-1.6x faster with ``workers=2`` on two idle cores than with two
        BLAS threads); the BLAS then gets one thread per worker (``threads`` defaults to 1,
        if threadpoolctl is installed). A run is reproducible, and resumes exactly, for a
        given number of workers; another number rounds differently and, with dropout, draws
        other masks (and so other shuffles after them).
        """
        loss = losses_module.get(loss) if loss is not None else self._default_loss()
        optimizer = optimizers_module.get(optimizer)
        self._check_optimizer_state(optimizer)
        epochs = check_positive_int("epochs", epochs)
        if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, int | np.integer):
            raise TypeError(f"initial_epoch must be an integer >= 0, got {initial_epoch!r}")
        if not 0 <= initial_epoch < epochs:
            raise ValueError(
                f"initial_epoch must be in [0, epochs) = [0, {epochs}), got {initial_epoch}"
            )
        if resume and initial_epoch:
            raise ValueError("give initial_epoch or resume=True, not both: a resume knows it")
        if batch_size is not None:
            batch_size = check_positive_int("batch_size", batch_size)
        if max_steps is not None:
            max_steps = check_positive_int("max_steps", max_steps)
        if divergence is not None:  # a factor of the starting loss: 1 or less stops at once
            divergence = check_above_one("divergence", divergence)
        if isinstance(X, BatchSource) and batch_size is None:
            raise ValueError(
                f"batch_size=None is a full batch of rows: {type(X).__name__} needs a number "
                "of samples per batch"
            )
        if isinstance(X, BatchSource) and sample_weight is not None:
            raise ValueError(f"sample_weight weights rows of X; {type(X).__name__} draws rows")
        weights = None
        drawn = X if isinstance(X, RandomRows) else None
        if drawn is not None:
            if y is not None:
                raise TypeError("fit(RandomRows(X, y, ...)) holds its targets: give no y")
            X, y = drawn.X, drawn.y
        data: Array | BatchSource
        if isinstance(X, RandomWindows | ContiguousWindows):
            n_outputs, layers, train_loss, T = self._check_stream(X, y, loss)
            data, dtype = X, np.dtype(np.int64)
        elif isinstance(X, BatchSource):
            raise TypeError(
                f"fit takes RandomWindows, ContiguousWindows or RandomRows, got {type(X).__name__}"
            )
        else:
            if y is None:
                raise TypeError("fit needs targets y (RandomWindows and RandomRows hold theirs)")
            X = self._check_X(X)
            check_same_length(X, y)
            n_outputs = self._n_outputs_of(X)
            losses_module.check_loss(self.layers, loss, n_outputs)  # before any training
            layers, train_loss = losses_module.fuse(fuse_relu_pool(self.layers), loss)
            T = self._prepare_targets(train_loss, y, n_outputs, X.dtype)
            data, dtype = X, X.dtype
            if sample_weight is not None:
                weights = check_sample_weight(sample_weight, X)
            if drawn is not None:  # the checked arrays, drawn from at random
                data, T = RandomRows(X, T, steps_per_epoch=drawn.steps_per_epoch), None
        validation = None
        if validation_data is not None:
            if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
                raise TypeError("validation_data must be a pair (X_val, y_val)")
            X_val = self._check_X(validation_data[0], name="validation_data[0]")
            check_same_length(X_val, validation_data[1], "validation_data[0]", "validation_data[1]")
            T_val = self._prepare_targets(train_loss, validation_data[1], n_outputs, dtype)
            validation = (X_val, T_val)
        if threads is not None:
            threads = check_positive_int("threads", threads)
        workers = check_positive_int("workers", workers)
        if workers > 1 and isinstance(data, BatchSource):
            raise ValueError(
                f"workers={workers} splits the rows of arrays X; train a "
                f"{type(data).__name__} with workers=1"
            )
        if workers > 1 and T is not None and T.dtype.kind == "i":
            raise ValueError(
                f"workers={workers} splits a batch's rows, whose losses are means over samples; "
                "a sequence model's loss is a mean over its scored tokens: use workers=1"
            )
        if workers > 1 and threads is None and importlib.util.find_spec("threadpoolctl"):
            threads = 1  # one BLAS thread per worker
        if augment is not None and not callable(augment):
            raise TypeError(f"augment must be a function of (x_batch, rng), got {augment!r}")
        if isinstance(callbacks, Callback) or inspect.isclass(callbacks):
            name = (callbacks if inspect.isclass(callbacks) else type(callbacks)).__name__
            one = "the class " + name if inspect.isclass(callbacks) else f"one {name}"
            raise TypeError(
                f"callbacks must be a list of Callback objects, got {one}: give a list, e.g. "
                f"callbacks=[{name}()]"
            )
        callbacks = list(callbacks)
        for callback in callbacks:
            if not isinstance(callback, Callback):
                why = instead_of(callback, Callback, "a callback")
                raise TypeError(
                    f"callbacks must be numpynn Callback objects, got {why or repr(callback)}"
                )
        self.loss = loss
        run = TrainingRun(
            self, optimizer, np.random.default_rng(seed), epochs, callbacks, epoch=initial_epoch
        )
        # A diverging run overflows on its way to a NaN loss: train reports that as one
        # DivergenceError instead of a stream of RuntimeWarnings. Ctrl-C stops after a batch.
        replicas = Replicas(layers, train_loss, workers) if workers > 1 else None
        with (
            _blas_threads(threads),
            np.errstate(over="ignore", invalid="ignore"),
            interrupt_after_batch(run),
            contextlib.closing(replicas) if replicas else contextlib.nullcontext(),
        ):
            return train(
                run,
                layers,
                data,
                T,
                weights=weights,
                loss=train_loss,
                batch_size=batch_size or len(data),  # data: arrays (checked above)
                validation=validation,
                shuffle=shuffle,
                accuracy=self._reports_accuracy(loss),
                augment=augment,
                resume=resume,
                replicas=replicas,
                max_steps=max_steps,
                divergence=divergence,
            )

    # --- helpers -----------------------------------------------------------------------

    def _check_stream(
        self, windows: RandomWindows | ContiguousWindows, y: object, loss: Loss
    ) -> tuple[int, list[Layer], Loss, None]:
        """(n_outputs, layers, train_loss, None): fit's checks of a language model trained on
        ``windows``, its ids checked once, for the whole stream."""
        if y is not None:
            raise TypeError(
                f"fit({type(windows).__name__}(...)) makes each window's targets: give no y"
            )
        if not (self.layers and self.layers[0].takes_ids and self.outputs_sequences):
            raise TypeError(
                f"{type(windows).__name__} trains a language model: a first layer that takes "
                f"token ids (Embedding) and outputs (n, T, vocab); this model is {self!r}"
            )
        if not isinstance(loss, CrossEntropy):
            raise TypeError(f"a language model trains with CrossEntropy, got {loss!r}")
        n_outputs = self.n_outputs
        assert n_outputs is not None  # outputs_sequences
        self._check_X(windows.ids[None, : windows.block])  # the model reads such windows
        if windows.ids.max() >= n_outputs:  # every id is also a target: one of the outputs
            raise ValueError(
                f"the ids of {type(windows).__name__} must lie in [0, {n_outputs - 1}] for a "
                f"model of {n_outputs} outputs (its vocabulary), got ids up to "
                f"{windows.ids.max()}"
            )
        layers, train_loss = losses_module.fuse(fuse_relu_pool(self.layers), loss)
        return n_outputs, layers, train_loss, None

    def _check_X(self, X: npt.ArrayLike, name: str = "X") -> Array:
        shape = self.input_shape
        if self.layers and self.layers[0].takes_ids:  # token ids, kept integers
            return check_ids(X, name=name, ndim=2 if shape is None else len(shape) + 1)
        ndim = None if shape is None else len(shape) + 1
        n_features = None if shape is None else shape[-1] if len(shape) == 2 else shape[0]
        return check_X(X, name=name, n_features=n_features, dtype=self.dtype, ndim=ndim)

    def _check_optimizer_state(self, optimizer: Optimizer) -> None:
        """An optimiser that has already stepped must hold state for this model's parameters."""
        shapes = [p.shape for p in self.parameters()]
        for slot, arrays in optimizer.state.items():
            held = [a.shape for a in arrays]
            if held != shapes:
                raise ShapeError(
                    f"optimizer {optimizer!r} holds {slot!r} state for parameters of shapes "
                    f"{held}, but this model's are {shapes}: give each model its own optimizer"
                )

    def _n_outputs_of(self, X: Array) -> int:
        return self.n_outputs if self.n_outputs is not None else X.shape[1]  # rows only

    def _reports_accuracy(self, loss: Loss) -> bool:
        """Whether fit and evaluate report accuracy: for a classification loss, or any loss
        (the quadratic cost of Nielsen's network) on a classifier's outputs."""
        return loss.classifies or self._output_kind(loss) != "values"

    def _prepare_targets(self, loss: Loss, y: npt.ArrayLike, n_outputs: int, dtype: Any) -> Array:
        """The targets ``loss`` needs (n_samples, n_outputs); class labels (n_samples,) for a
        classifier of several outputs trained with the quadratic cost become one-hot rows."""
        if isinstance(loss, CrossEntropy) and self.outputs_sequences:
            return loss.prepare_token_targets(y, n_outputs)  # (n_samples, T) class ids
        if np.dtype(dtype).kind != "f":  # a model of token ids: targets in its own type
            dtype = self.dtype or np.float64
        labels = np.ndim(y) == 1 and n_outputs > 1
        if (
            isinstance(loss, MeanSquaredError)
            and labels
            and self._output_kind(loss) == "multiclass"
        ):
            return CrossEntropy().prepare_targets(y, n_outputs, dtype)  # checked, one-hot
        return loss.prepare_targets(y, n_outputs, dtype)

    def _default_loss(self) -> Loss:
        last = self.layers[-1] if self.layers else None
        if isinstance(last, Softmax):
            return CrossEntropy()
        if isinstance(last, Sigmoid):
            return BinaryCrossEntropy()
        return MeanSquaredError()

    def outputs_are_logits(self) -> bool:
        """Whether the outputs are logits (the loss applies softmax/sigmoid itself) rather than
        probabilities, as the loss the model was fitted with treats them."""
        loss = self.loss or self._default_loss()
        if not isinstance(loss, CrossEntropy | BinaryCrossEntropy) or not loss.from_logits:
            return False
        squash = Softmax if isinstance(loss, CrossEntropy) else Sigmoid
        return not isinstance(self.layers[-1], squash)

    def _output_kind(self, loss: Loss | None = None) -> str:
        """ "multiclass", "binary" or "values": what the outputs mean. A final Softmax or
        Sigmoid says it (several sigmoid outputs trained with the quadratic cost, as in
        Nielsen's network, are one class out of many); otherwise the loss (by default the
        fitted one) does."""
        loss = loss or self.loss or self._default_loss()
        last = self.layers[-1] if self.layers else None
        if isinstance(loss, CrossEntropy) or isinstance(last, Softmax):
            return "multiclass"
        if isinstance(loss, BinaryCrossEntropy):
            return "binary"
        if isinstance(last, Sigmoid):
            return "binary" if self.n_outputs == 1 else "multiclass"
        return "values"


def _check_shapes(layers: Sequence[Layer]) -> None:
    """ShapeError naming the layer and both shapes where a layer cannot take what the layer
    before it outputs (each layer's ``output_shape``). Image heights and widths depend on the
    input; the layers check them when they run."""
    shape: Shape | None = None
    for i, layer in enumerate(layers):
        try:
            shape = layer.output_shape(shape)
        except ShapeError as exc:
            raise ShapeError(f"layer {i}: {exc}") from None


def _blas_threads(threads: int | None) -> contextlib.AbstractContextManager[object]:
    """A context that limits the BLAS threads to ``threads`` (None: leave them alone)."""
    if threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError(
            f"fit(threads={threads}) needs threadpoolctl to limit the BLAS threads: "
            "pip install threadpoolctl (or numpynn[cli]), or leave threads=None"
        ) from None
    return threadpool_limits(limits=threads, user_api="blas")


def mlp(
    sizes: Sequence[int],
    activation: str | Sequence[str] = "relu",
    output: str = "softmax",
    *,
    init: str | None = None,
    dropout: float = 0.0,
    dtype: Any = np.float32,
    seed: Seed = None,
) -> Sequential:
    """The classic fully connected network from a list of layer sizes.

    ``mlp([784, 30, 10], activation="sigmoid", output="softmax")`` gives Dense(784, 30),
    Sigmoid, Dense(30, 10), Softmax. ``sizes[0]`` is the number of inputs (layer 0); each later
    entry is a layer's width. ``activation`` is one name for every hidden layer or a list of
    names, one per hidden layer. ``dropout`` > 0 adds Dropout after each hidden activation.
    ``init`` defaults to "he" before ReLU-type activations and "xavier" otherwise.

    Parameters
    ----------
    sizes : sequence of int
        ``[n_inputs, hidden_1, ..., n_outputs]``, at least 2 entries.
    activation : str or sequence of str
        The hidden layers' activation (``"relu"``, ``"sigmoid"``, ``"tanh"``...), one name
        for all or one per hidden layer.
    output : str
        The output layer's activation (``"softmax"``, ``"sigmoid"``, ``"identity"``...).
    init : str, optional
        The weight initialiser of every Dense layer.
    dropout : float
        The dropout rate after each hidden activation (0: none).
    dtype : numpy dtype
        The parameters' floating type (float32 by default).
    seed : int or numpy.random.Generator, optional
        Seeds the initial weights.

    Returns
    -------
    Sequential
        Dense and activation layers, input (n_samples, sizes[0]) -> (n_samples, sizes[-1]).

    Raises
    ------
    ValueError
        For fewer than 2 sizes, a wrong number of activation names, or an unknown name.
    """
    if isinstance(sizes, str | bytes) or len(sizes) < 2:
        raise ValueError(f"sizes must list at least 2 layer sizes (inputs, outputs), got {sizes!r}")
    n_hidden = len(sizes) - 2
    check_activation_name("activation", activation)
    check_activation_name("output", output)
    hidden = [activation] * n_hidden if isinstance(activation, str) else list(activation)
    for name in hidden:
        check_activation_name("activation", name)
    if len(hidden) != n_hidden:
        raise ValueError(
            f"activation must be one name or a list of {n_hidden} names (one per hidden layer), "
            f"got {activation!r}"
        )
    for name in (*hidden, output):
        activation_layer(name)  # validates the name
    rng = np.random.default_rng(seed)

    def init_for(act: str) -> str:
        return init or ("he" if act in ("relu", "leaky_relu") else "xavier")

    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        act = hidden[i] if i < n_hidden else output
        layers += [
            Dense(n_in, n_out, init=init_for(act), dtype=dtype, seed=rng),
            activation_layer(act),
        ]
        if dropout and i < n_hidden:
            layers.append(Dropout(dropout, seed=rng))
    return Sequential(*layers)


def convnet(
    input_shape: Sequence[int],
    sizes: Sequence[int],
    *,
    channels: Sequence[int] = (32, 64),
    activation: str = "relu",
    output: str = "softmax",
    dropout: float = 0.0,
    seed: Seed = None,
) -> Sequential:
    """A small convnet for images of ``input_shape`` (channels, height, width): for each
    entry c of ``channels`` a block Conv2D(3x3, c filters, padding 1), BatchNorm, ReLU,
    MaxPool2D(2) (each block halves the height and width), then Flatten and
    ``mlp([features, *sizes], activation, output, dropout=)``.

    ``convnet((1, 28, 28), [128, 10], dropout=0.25)`` is the network of ``numpynn train
    --preset cnn``: 28x28 -> 32 x 14 x 14 -> 64 x 7 x 7 -> 128 -> 10.

    Parameters
    ----------
    input_shape : sequence of int
        One image's (channels, height, width).
    sizes : sequence of int
        The dense head's widths after Flatten, the last one the outputs.
    channels : sequence of int
        The filters of each convolution block.
    activation : str
        The dense head's hidden activation (the blocks use ReLU).
    output : str
        The output layer's activation.
    dropout : float
        The dropout rate after each hidden dense activation (0: none).
    seed : int or numpy.random.Generator, optional
        Seeds the initial weights.

    Returns
    -------
    Sequential
        Input (n_samples, channels, height, width) -> (n_samples, sizes[-1]).

    Raises
    ------
    ValueError
        For an input_shape that is not 3 positive ints, an image too small for the blocks
        (it halves to 0), or a bad head setting (see :func:`numpynn.mlp`).
    """
    if len(input_shape) != 3 or not all(isinstance(n, int) and n > 0 for n in input_shape):
        raise ValueError(f"input_shape must be (channels, height, width), got {input_shape!r}")
    rng = np.random.default_rng(seed)
    c_in, height, width = input_shape
    layers: list[Layer] = []
    for c_out in channels:
        layers += [Conv2D(c_in, c_out, 3, padding=1, seed=rng), BatchNorm(c_out), ReLU()]
        layers.append(MaxPool2D(2))
        c_in, height, width = c_out, height // 2, width // 2
    head = mlp([c_in * height * width, *sizes], activation, output, dropout=dropout, seed=rng)
    return Sequential(*layers, Flatten(), *head.layers)
