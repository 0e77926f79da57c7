"""fit(workers=...): each batch's rows split over threads, one replica of the layers each
(numpynn.parallel). A step gives the whole batch's loss, output and gradients, BatchNorm's
statistics included; runs are reproducible and resume exactly; a failing worker neither hangs
the others nor the next step."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numpynn as nn
from numpynn import losses
from numpynn.parallel import Replicas
from numpynn.training import _backward_order, backward, forward

rng_data = np.random.default_rng(0)
IMAGES = rng_data.standard_normal((90, 1, 6, 6)).astype(np.float32)
LABELS = rng_data.integers(0, 3, 90)


def convnet(dropout: float = 0.0, dtype: type = np.float32) -> nn.Sequential:
    """Every kind of layer a replica must handle: Conv2D (per-sample columns), BatchNorm on
    images and on rows, a pool, Dropout, Dense."""
    return nn.Sequential(
        nn.Conv2D(1, 4, 3, padding=1, seed=0, dtype=dtype),
        nn.BatchNorm(4, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2D(2),
        nn.Flatten(),
        nn.Dense(36, 8, seed=1, dtype=dtype),
        nn.BatchNorm(8, dtype=dtype),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Dense(8, 3, seed=2, dtype=dtype),
        nn.Softmax(),
    )


@settings(max_examples=20, deadline=None)
@given(extra=st.integers(0, 10), workers=st.integers(2, 4), seed=st.integers(0, 2**16))
def test_a_split_step_gives_the_whole_batchs_output_loss_gradients_and_statistics(
    extra, workers, seed
):
    """Float64, so that only the order of the sums differs: any rows, evenly split or not
    (fit splits no batch of fewer rows than workers: see the fallback test)."""
    rows = workers + extra
    one, split = convnet(dtype=np.float64), convnet(dtype=np.float64)
    layers, loss = losses.fuse(one.layers, losses.CrossEntropy())
    split_layers, split_loss = losses.fuse(split.layers, losses.CrossEntropy())
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, 1, 6, 6))
    t = np.eye(3)[rng.integers(0, 3, rows)]
    w = rng.random(rows)
    output = forward(layers, x, training=True)
    expected_loss = loss.forward(output, t, w)
    backward(_backward_order(layers), loss.backward())
    replicas = Replicas(split_layers, split_loss, workers)
    try:
        split_output, split_value = replicas.step(x, t, w, np.random.default_rng(0))
    finally:
        replicas.close()
    np.testing.assert_allclose(split_output, output, rtol=1e-12, atol=1e-12)
    assert split_value == pytest.approx(expected_loss, rel=1e-12)
    for g, h in zip(one.gradients(), split.gradients(), strict=True):
        np.testing.assert_allclose(h, g, rtol=1e-9, atol=1e-12)
    for a, b in ((one.layers[1], split.layers[1]), (one.layers[6], split.layers[6])):
        np.testing.assert_allclose(b.running_mean, a.running_mean, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(b.running_var, a.running_var, rtol=1e-12)


def fit(model: nn.Sequential, workers: int, epochs: int = 3, **kwargs) -> dict:
    return model.fit(
        IMAGES, LABELS, epochs=epochs, batch_size=16, seed=5, workers=workers, **kwargs
    )


def test_without_dropout_two_workers_train_as_one_up_to_rounding():
    """SGD: Adam would blow up the rounding noise of the convolution's bias, whose exact
    gradient the BatchNorm after it makes 0, into steps of the learning rate's size."""
    one, two = convnet(), convnet()
    h1 = fit(one, 1, optimizer=nn.SGD(lr=0.1))  # 90 rows: the last batch of 10 is split too
    h2 = fit(two, 2, optimizer=nn.SGD(lr=0.1))
    np.testing.assert_allclose(h2["loss"], h1["loss"], rtol=1e-5)
    for p, q in zip(one.parameters(), two.parameters(), strict=True):
        np.testing.assert_allclose(q, p, rtol=1e-3, atol=1e-5)


def test_with_dropout_a_run_with_workers_is_reproducible_but_draws_its_own_masks():
    runs = [convnet(dropout=0.5) for _ in range(3)]
    fit(runs[0], 2), fit(runs[1], 2), fit(runs[2], 1)
    for p, q in zip(runs[0].parameters(), runs[1].parameters(), strict=True):
        np.testing.assert_array_equal(p, q)
    assert not np.allclose(runs[0].parameters()[0], runs[2].parameters()[0], rtol=1e-3)


def test_a_run_with_workers_resumes_bit_identical(tmp_path):
    straight = convnet(dropout=0.5)
    expected = fit(straight, 2, epochs=4)
    first = convnet(dropout=0.5)
    fit(first, 2, epochs=2, callbacks=[nn.ModelCheckpoint(tmp_path, monitor=None)])
    resumed = convnet(dropout=0.5)
    history = fit(
        resumed, 2, epochs=4, callbacks=[nn.ModelCheckpoint(tmp_path, monitor=None)], resume=True
    )
    assert history == expected
    for p, q in zip(straight.parameters(), resumed.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)


def test_a_batch_with_fewer_rows_than_workers_is_trained_on_one_thread():
    one, three = convnet(), convnet()
    X, y = IMAGES[:2], LABELS[:2]
    h1 = one.fit(X, y, epochs=2, batch_size=2, seed=0)
    h3 = three.fit(X, y, epochs=2, batch_size=2, seed=0, workers=3)
    assert h3 == h1
    for p, q in zip(one.parameters(), three.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)


class FailsOnOddRows(nn.Layer):
    """Raises in the replica whose share has an odd number of rows."""

    def forward(self, x, training=False):
        if training and len(x) % 2:
            raise FloatingPointError(f"odd share of {len(x)} rows")
        return x

    def backward(self, dout):
        return dout


def test_a_failing_worker_raises_its_error_without_hanging_the_others():
    model = convnet()
    model.layers.insert(5, FailsOnOddRows())  # after the first BatchNorm: its sync waits
    layers, loss = losses.fuse(model.layers, losses.CrossEntropy())
    replicas = Replicas(layers, loss, 2)
    t = np.eye(3, dtype=np.float32)[LABELS[:9]]
    done = threading.Event()
    try:

        def step_on_9_rows():  # shares of 4 and 5 rows: the second one fails
            with pytest.raises(FloatingPointError, match="odd share of 5 rows"):
                replicas.step(IMAGES[:9], t, None, np.random.default_rng(0))
            done.set()

        runner = threading.Thread(target=step_on_9_rows, daemon=True)
        runner.start()
        runner.join(timeout=30)
        assert done.is_set(), "the step hung or raised something else"
        output, _ = replicas.step(IMAGES[:8], t[:8], None, np.random.default_rng(0))
        assert np.isfinite(output).all()  # the barriers were reset: the next step runs
    finally:
        for barrier in replicas.barriers:  # should the test fail: free a hung worker
            barrier.abort()
        replicas.close()


@pytest.mark.parametrize("workers", [0, -1])
def test_workers_must_be_a_positive_integer(workers):
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        convnet().fit(IMAGES, LABELS, epochs=1, workers=workers)


def test_workers_must_be_an_integer():
    with pytest.raises(TypeError, match=r"workers must be a positive integer, got 2\.0"):
        convnet().fit(IMAGES, LABELS, epochs=1, workers=2.0)


def test_an_mlp_regression_with_sample_weights_trains_on_workers_as_on_one_thread():
    """No BatchNorm, another loss (mean squared error), weighted rows: the same plumbing."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 4))
    y = X @ rng.standard_normal((4, 2))
    weights = rng.random(50) + 0.5
    runs = []
    for workers in (1, 2):
        model = nn.mlp([4, 8, 2], output="identity", seed=0, dtype=np.float64)
        history = model.fit(
            X, y, optimizer=nn.SGD(lr=0.05), epochs=3, batch_size=16, seed=0,
            sample_weight=weights, workers=workers,
        )  # fmt: skip
        runs.append((history["loss"], model.parameters()))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-12)
    for p, q in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_allclose(q, p, rtol=1e-10, atol=1e-14)
