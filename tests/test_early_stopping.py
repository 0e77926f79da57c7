"""Early stopping on the validation loss: stop after ``patience`` epochs without improvement and
put back the weights of the best epoch."""

from __future__ import annotations

import numpy as np
import pytest

import numpynn as nn
from numpynn.callbacks import Monitor

rng = np.random.default_rng(0)
X = rng.standard_normal((60, 5))
Y = rng.integers(0, 3, 60)  # random labels: the network can only memorise, so it overfits
X_VAL = rng.standard_normal((40, 5))
Y_VAL = rng.integers(0, 3, 40)


class RecordParameters(nn.Callback):
    """Copies of the parameters at the end of every epoch."""

    def on_train_begin(self, model: nn.Sequential) -> None:
        super().on_train_begin(model)
        self.snapshots: list[list[np.ndarray]] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.snapshots.append([p.copy() for p in self.model.parameters()])


def train(stopper: nn.EarlyStopping, epochs: int = 200) -> tuple[nn.Sequential, dict, list]:
    model = nn.mlp([5, 64, 3], seed=1)
    recorder = RecordParameters()
    history = model.fit(
        X,
        Y,
        optimizer=nn.Adam(lr=0.01),
        epochs=epochs,
        batch_size=20,
        validation_data=(X_VAL, Y_VAL),
        seed=2,
        callbacks=[recorder, stopper],
    )
    return model, history, recorder.snapshots


def test_stops_patience_epochs_after_the_best_val_loss() -> None:
    stopper = nn.EarlyStopping(patience=4)
    _, history, _ = train(stopper)
    val_loss = history["val_loss"]
    best = int(np.argmin(val_loss))
    assert len(val_loss) < 200, "the data should make the model overfit and stop early"
    assert stopper.best_epoch == best
    assert len(val_loss) == best + 4 + 1  # the best epoch, then 4 without improvement
    assert all(v >= val_loss[best] for v in val_loss[best + 1 :])


def test_restores_the_best_epochs_weights() -> None:
    model, history, snapshots = train(nn.EarlyStopping(patience=4))
    best = int(np.argmin(history["val_loss"]))
    assert best < len(snapshots) - 1  # so restoring makes a difference
    for p, q in zip(model.parameters(), snapshots[best], strict=True):
        assert np.array_equal(p, q)
    assert not np.array_equal(model.parameters()[0], snapshots[-1][0])
    assert model.evaluate(X_VAL, Y_VAL)["loss"] == pytest.approx(history["val_loss"][best])


def test_without_restore_keeps_the_last_weights() -> None:
    model, _, snapshots = train(nn.EarlyStopping(patience=4, restore_best_weights=False))
    for p, q in zip(model.parameters(), snapshots[-1], strict=True):
        assert np.array_equal(p, q)


def test_larger_patience_trains_longer() -> None:
    _, short, _ = train(nn.EarlyStopping(patience=2))
    _, long, _ = train(nn.EarlyStopping(patience=8))
    assert len(short["loss"]) < len(long["loss"])


def test_no_stop_while_improving() -> None:
    _, history, _ = train(nn.EarlyStopping(patience=4), epochs=3)
    assert len(history["loss"]) == 3


def test_monitors_val_accuracy_upwards() -> None:
    stopper = nn.EarlyStopping(monitor="val_accuracy", patience=3)
    _, history, _ = train(stopper)
    best = int(np.argmax(history["val_accuracy"]))  # the first best one
    assert stopper.best_epoch == best
    assert len(history["val_accuracy"]) == best + 3 + 1


def test_monitoring_a_metric_fit_does_not_report() -> None:
    model = nn.mlp([5, 3], seed=0)
    with pytest.raises(ValueError, match=r"monitors 'val_loss'.*needs validation_data"):
        model.fit(X, Y, epochs=2, callbacks=[nn.EarlyStopping()])


def test_the_monitor_counts_accuracy_upwards_and_the_rest_downwards() -> None:
    accuracy, loss = Monitor("val_accuracy", owner="test"), Monitor("val_loss", owner="test")
    for epoch, value in enumerate([0.5, 0.4, 0.6, 0.6]):
        accuracy.improved(epoch, {"val_accuracy": value})
        loss.improved(epoch, {"val_loss": value})
    assert (accuracy.best, accuracy.best_epoch) == (0.6, 2)  # the first of the equal best
    assert (loss.best, loss.best_epoch) == (0.4, 1)


def test_the_monitor_counts_an_improvement_only_beyond_min_delta() -> None:
    monitor = Monitor("val_loss", owner="test", min_delta=0.1)
    assert [monitor.improved(e, {"val_loss": v}) for e, v in enumerate([1.0, 0.95, 0.85])] == [
        True,
        False,
        True,
    ]
    assert monitor.get_state() == {"best": 0.85, "best_epoch": 2}
