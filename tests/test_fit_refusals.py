"""Every refusal ``Sequential.fit`` makes, one case each, with the exact error and the words of
its message: the checks at the top of ``fit``, the callbacks' checks during the run and the
checks of a resume (``fit(resume=True)``). Each case fails if its check is removed."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import numpynn as nn
from numpynn.errors import FileFormatError, ShapeError
from numpynn.io import load_checkpoint, save_checkpoint

data = np.random.default_rng(0)
X = data.standard_normal((24, 4))
Y = np.arange(24) % 3
X_VAL = data.standard_normal((9, 4))
Y_VAL = np.arange(9) % 3


def fit(model: nn.Sequential | None = None, **settings: Any) -> dict[str, list[float]]:
    """A small classifier's fit: 24 rows of 4 features, 3 classes; ``settings`` override."""
    model = model or nn.mlp([4, 5, 3], seed=0)
    return model.fit(X, Y, **{"epochs": 2, "batch_size": 8, **settings})


def used_optimizer() -> nn.Adam:
    """An Adam that has stepped for another model (4 -> 3), so it holds state of its shapes."""
    adam = nn.Adam()
    nn.mlp([4, 3], seed=0).fit(X, Y, optimizer=adam, epochs=1)
    return adam


def refuses(call: Callable[[], object], error: type[Exception], words: str) -> None:
    """``call()`` raises exactly ``error`` (not a subclass), with ``words`` in its message."""
    with pytest.raises(error, match=re.escape(words)) as raised:
        call()
    assert type(raised.value) is error


# --- the checks at the top of fit ------------------------------------------------------------

TOP = {
    "loss by an unknown name": (
        {"loss": "hinge"},
        ValueError,
        "loss must be a Loss or one of ['binary_cross_entropy', 'cross_entropy', 'mse'], "
        "got 'hinge'",
    ),
    "optimizer by an unknown name": (
        {"optimizer": "lbfgs"},
        ValueError,
        "optimizer must be an Optimizer or one of ['adagrad', 'adam', 'adamw', 'rmsprop', 'sgd'], "
        "got 'lbfgs'",
    ),
    "an optimizer holding another model's state": (
        {"optimizer": used_optimizer},
        ShapeError,
        "state for parameters of shapes [(4, 3), (3,)], but this model's are [(4, 5), (5,), "
        "(5, 3), (3,)]: give each model its own optimizer",
    ),
    "epochs 0": ({"epochs": 0}, ValueError, "epochs must be a positive integer, got 0"),
    "epochs not an integer": ({"epochs": 2.0}, TypeError, "epochs must be a positive integer"),
    "initial_epoch not an integer": (
        {"initial_epoch": 1.5},
        TypeError,
        "initial_epoch must be an integer >= 0, got 1.5",
    ),
    "initial_epoch True": (
        {"initial_epoch": True},
        TypeError,
        "initial_epoch must be an integer >= 0, got True",
    ),
    "initial_epoch at epochs": (
        {"initial_epoch": 2},
        ValueError,
        "initial_epoch must be in [0, epochs) = [0, 2), got 2",
    ),
    "initial_epoch below 0": (
        {"initial_epoch": -1},
        ValueError,
        "initial_epoch must be in [0, epochs) = [0, 2), got -1",
    ),
    "resume and initial_epoch": (
        {"resume": True, "initial_epoch": 1, "callbacks": "checkpoint"},
        ValueError,
        "give initial_epoch or resume=True, not both: a resume knows it",
    ),
    "batch_size 0": ({"batch_size": 0}, ValueError, "batch_size must be a positive integer, got 0"),
    "X of other features": (
        {"X": X[:, :3]},
        ShapeError,
        "X must have 4 features (columns) to match the model's input, got shape (24, 3)",
    ),
    "y of another length": (
        {"y": Y[:20]},
        ShapeError,
        "X and y must have the same number of samples, got 24 rows in X and 20 in y",
    ),
    "a loss that does not fit the output": (
        {"loss": "binary_cross_entropy"},
        ValueError,
        "BinaryCrossEntropy(from_logits=False) treats each output as its own yes/no probability",
    ),
    "labels beyond the outputs": (
        {"y": Y + 1},
        ValueError,
        "class labels y must lie in [0, 2] for a model with 3 outputs, got labels in [1, 3]",
    ),
    "negative sample weights": (
        {"sample_weight": -np.ones(24)},
        ValueError,
        "sample_weight must hold finite values >= 0 with a positive sum",
    ),
    "validation_data not a pair": (
        {"validation_data": (X_VAL,)},
        TypeError,
        "validation_data must be a pair (X_val, y_val)",
    ),
    "validation features": (
        {"validation_data": (X_VAL[:, :3], Y_VAL)},
        ShapeError,
        "validation_data[0] must have 4 features (columns)",
    ),
    "validation lengths": (
        {"validation_data": (X_VAL, Y_VAL[:5])},
        ShapeError,
        "validation_data[0] and validation_data[1] must have the same number of samples, "
        "got 9 rows in validation_data[0] and 5 in validation_data[1]",
    ),
    "validation labels beyond the outputs": (
        {"validation_data": (X_VAL, Y_VAL + 5)},
        ValueError,
        "class labels y must lie in [0, 2] for a model with 3 outputs, got labels in [5, 7]",
    ),
    "threads 0": ({"threads": 0}, ValueError, "threads must be a positive integer, got 0"),
    "workers 0": ({"workers": 0}, ValueError, "workers must be a positive integer, got 0"),
    "divergence 1": (
        {"divergence": 1},
        ValueError,
        "divergence must be a finite number > 1, got 1",
    ),
    "augment not a function": (
        {"augment": 3},
        TypeError,
        "augment must be a function of (x_batch, rng), got 3",
    ),
    "a callback that is not a Callback": (
        {"callbacks": [print]},
        TypeError,
        "callbacks must be numpynn Callback objects, got the function print, not a callback",
    ),
}


@pytest.mark.parametrize("case", TOP)
def test_fit_refuses_bad_arguments(case: str, tmp_path: Path) -> None:
    settings, error, words = TOP[case]
    settings = dict(settings)
    if callable(settings.get("optimizer")):
        settings["optimizer"] = settings["optimizer"]()
    if settings.get("callbacks") == "checkpoint":  # a resume that could start: no checkpoint yet
        settings["callbacks"] = [nn.ModelCheckpoint(tmp_path, monitor=None)]
    model = nn.mlp([4, 5, 3], seed=0)
    before = [p.copy() for p in model.parameters()]
    x, y = settings.pop("X", X), settings.pop("y", Y)
    refuses(lambda: model.fit(x, y, **{"epochs": 2, "batch_size": 8, **settings}), error, words)
    assert all(np.array_equal(p, q) for p, q in zip(model.parameters(), before, strict=True))


# --- the callbacks' checks during the run ----------------------------------------------------

DURING = {
    "EarlyStopping on a metric fit does not log": (
        lambda tmp: [nn.EarlyStopping()],
        ValueError,
        "EarlyStopping monitors 'val_loss', which fit does not report; it reports ['accuracy', "
        "'loss', 'seconds'] (val_* needs validation_data)",
    ),
    "ModelCheckpoint on a metric fit does not log": (
        lambda tmp: [nn.ModelCheckpoint(tmp)],
        ValueError,
        "ModelCheckpoint monitors 'val_loss', which fit does not report; it reports "
        "['accuracy', 'loss', 'seconds'] (val_* needs validation_data; monitor=None: no best "
        "model)",
    ),
    "a schedule that gives a bad rate": (
        lambda tmp: [nn.LearningRateScheduler(lambda epoch, lr0: lr0 if epoch < 1 else -1.0)],
        ValueError,
        "the schedule gave the learning rate -1.0 for epoch 2 (schedule(1, 0.001))",
    ),
}


@pytest.mark.parametrize("case", DURING)
def test_fit_refuses_what_its_callbacks_refuse(case: str, tmp_path: Path) -> None:
    callbacks, error, words = DURING[case]
    refuses(lambda: fit(callbacks=callbacks(tmp_path)), error, words)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: nn.EarlyStopping(monitor=3), "monitor must be the name of a logged metric, got 3"),
        (
            lambda: nn.ModelCheckpoint("run", monitor=3),
            "monitor must be the name of a logged metric or None, got 3",
        ),
    ],
)
def test_a_monitor_must_name_a_metric(make: Callable[[], object], words: str) -> None:
    refuses(make, TypeError, words)


# --- the checks of a resume -------------------------------------------------------------------


class Stateful(nn.Callback):
    """A callback with state to save but no set_state to take it back."""

    def get_state(self) -> dict[str, Any]:
        return {"seen": 1}


def callbacks(run_dir: Path, *, schedule: nn.schedules.Schedule | None = None) -> list:
    return [
        nn.LearningRateScheduler(schedule or nn.schedules.StepDecay(2, gamma=0.5)),
        nn.EarlyStopping(patience=50),
        nn.ModelCheckpoint(run_dir),
    ]


def resume(run_dir: Path, model: nn.Sequential | None = None, **settings: Any) -> object:
    settings = {
        "optimizer": nn.Adam(lr=0.01),
        "epochs": 6,
        "seed": 0,
        "callbacks": callbacks(run_dir),
        "validation_data": (X_VAL, Y_VAL),
        **settings,
    }
    return fit(model, resume=True, **settings)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory whose checkpoint.npz holds 3 epochs of a 6-epoch run."""
    run_dir = tmp_path_factory.mktemp("run")
    fit(optimizer=nn.Adam(lr=0.01), epochs=3, seed=0, callbacks=callbacks(run_dir),
        validation_data=(X_VAL, Y_VAL))  # fmt: skip
    return run_dir


def damaged(run_dir: Path, to: Path, name: str, change: dict[str, Any]) -> Path:
    """A copy of ``run_dir`` in ``to`` whose checkpoint holds ``change`` in the state of the
    callback ``name``."""
    shutil.copytree(run_dir, to, dirs_exist_ok=True)
    path = to / "checkpoint.npz"
    ckpt = load_checkpoint(path)
    states = {**ckpt.callbacks, name: {**ckpt.callbacks[name], **change}}
    save_checkpoint(path, ckpt.model, ckpt.optimizer, ckpt.rng, ckpt.epoch, ckpt.history,
                    callbacks=states)  # fmt: skip
    return to


RESUMES: dict[str, tuple[Callable[[Path, Path], object], type[Exception], str]] = {
    "without a ModelCheckpoint": (
        lambda run, tmp: resume(run, callbacks=[]),
        ValueError,
        "fit(resume=True) continues from the checkpoints of a ModelCheckpoint callback; pass "
        "one in callbacks",
    ),
    "another network": (
        lambda run, tmp: resume(run, nn.mlp([4, 6, 3], seed=0)),
        ValueError,
        "holds the run of another network",
    ),
    "fewer epochs than it has trained": (
        lambda run, tmp: resume(run, epochs=2),
        ValueError,
        "has trained 3 epochs already: epochs must be at least 3, got 2",
    ),
    "another optimiser": (
        lambda run, tmp: resume(run, optimizer=nn.SGD(lr=0.01)),
        ValueError,
        "resume with the run's own optimiser settings",
    ),
    "another kind of generator": (
        lambda run, tmp: resume(run, seed=np.random.Generator(np.random.MT19937(0))),
        ValueError,
        "saved a PCG64 generator; this fit has a MT19937 one (seed=)",
    ),
    "other callbacks": (
        lambda run, tmp: resume(run, callbacks=callbacks(run)[::2]),
        ValueError,
        "holds the state of the callbacks ['EarlyStopping', 'LearningRateScheduler', "
        "'ModelCheckpoint']; this fit has the callbacks with state ['LearningRateScheduler', "
        "'ModelCheckpoint']: resume with the run's own callbacks",
    ),
    "another named schedule": (
        lambda run, tmp: resume(
            run, callbacks=callbacks(run, schedule=nn.schedules.ExponentialDecay(0.9))
        ),
        ValueError,
        "the run was saved with the schedule {'type': 'StepDecay', 'step_size': 2, 'gamma': "
        "0.5}, this fit has {'type': 'ExponentialDecay', 'rate': 0.9}",
    ),
    "a damaged early-stopping state": (
        lambda run, tmp: resume(
            damaged(run, tmp, "EarlyStopping", {"best_epoch": 3}), callbacks=callbacks(tmp)
        ),
        FileFormatError,
        "checkpoint.npz: the state of EarlyStopping is not valid: expected best (a number), "
        "best_epoch and stopped_epoch (epochs below 3)",
    ),
    "a damaged checkpoint state": (
        lambda run, tmp: resume(
            damaged(run, tmp, "ModelCheckpoint", {"best_epoch": 4}), callbacks=callbacks(tmp)
        ),
        FileFormatError,
        "checkpoint.npz: the state of ModelCheckpoint is not valid: expected best (a number) "
        "and best_epoch (an epoch from 1 to 3), or both None, got best=",
    ),
    "a callback state without set_state": (
        lambda run, tmp: (
            fit(callbacks=[nn.ModelCheckpoint(tmp, monitor=None), Stateful()]),
            fit(callbacks=[nn.ModelCheckpoint(tmp, monitor=None), Stateful()], resume=True),
        ),
        FileFormatError,
        "checkpoint.npz: the state of Stateful is not valid: Stateful has no state to set",
    ),
}


@pytest.mark.parametrize("case", RESUMES)
def test_resume_refuses_a_run_it_cannot_continue(case: str, saved: Path, tmp_path: Path) -> None:
    call, error, words = RESUMES[case]
    before = (saved / "checkpoint.npz").read_bytes()
    refuses(lambda: call(saved, tmp_path), error, words)
    assert (saved / "checkpoint.npz").read_bytes() == before  # left as it was


def test_a_resume_with_the_runs_own_settings_continues(saved: Path, tmp_path: Path) -> None:
    """The resumes refused above differ from this one, which works, in one setting each."""
    shutil.copytree(saved, tmp_path, dirs_exist_ok=True)
    history = resume(tmp_path, callbacks=callbacks(tmp_path))
    assert isinstance(history, dict) and len(history["loss"]) == 6
    assert load_checkpoint(tmp_path / "checkpoint.npz").epoch == 6
