"""A kill -9 at any moment never leaves a checkpoint that cannot be loaded.

A subprocess trains a small model and checkpoints after every batch (so most of its time is
spent writing); it is killed with SIGKILL at random moments, restarted from the checkpoint,
and after each kill ``load_checkpoint`` must succeed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from numpynn.io import load_checkpoint

TRAINER = """
import sys
import numpy as np
import numpynn as nn
from numpynn.io import load_checkpoint, save_checkpoint

path = sys.argv[1]
data = np.random.default_rng(0)
X = data.standard_normal((64, 8)).astype(np.float32)
y = data.integers(0, 4, 64)
try:
    ckpt = load_checkpoint(path)
    model, optimizer, rng = ckpt.model, ckpt.optimizer, ckpt.rng
    epoch, history = ckpt.epoch, ckpt.history
except FileNotFoundError:
    model, optimizer = nn.mlp([8, 32, 4], dropout=0.2, seed=0), nn.Adam(lr=0.01)
    rng, epoch, history = np.random.default_rng(0), 0, {}
print("training", flush=True)  # the parent's random wait starts now, not at process start


class SaveEveryBatch(nn.Callback):
    def on_batch_end(self, batch, logs):
        save_checkpoint(path, model, optimizer, rng, epoch, history, extra={"batch": batch})


while True:
    more = model.fit(X, y, optimizer=optimizer, epochs=1, batch_size=8, seed=rng,
                     callbacks=[SaveEveryBatch()])
    epoch += 1
    for key, values in more.items():
        history.setdefault(key, []).extend(values)
    save_checkpoint(path, model, optimizer, rng, epoch, history)
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX-only")
def test_checkpoint_survives_kill_9_at_random_moments(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.npz"
    rnd = random.Random(20240607)
    steps = []  # the optimizer's step count found after each kill
    started = time.monotonic()
    for kill in range(30):
        child = subprocess.Popen(
            [sys.executable, "-c", TRAINER, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ.copy(),
        )
        assert child.stdout is not None
        child.stdout.readline()  # "training": imports done, checkpoint (if any) loaded
        time.sleep(rnd.uniform(0.0, 0.5))
        alive = child.poll() is None
        child.send_signal(signal.SIGKILL)
        _, stderr = child.communicate(timeout=60)
        assert alive, f"the trainer died by itself before kill {kill}:\n{stderr.decode()}"
        if path.exists():
            ckpt = load_checkpoint(path)  # must never raise
            steps.append(ckpt.optimizer.t)
        elif steps:
            pytest.fail(f"the checkpoint disappeared after kill {kill}")
    elapsed = time.monotonic() - started

    assert len(steps) >= 20, f"only {len(steps)} of 30 kills came after the first checkpoint"
    assert steps == sorted(steps), "every restart resumes from the last checkpoint"
    assert steps[-1] > steps[0]
    leftovers = list(tmp_path.glob(".ckpt.npz.*.tmp"))
    assert leftovers, "no kill landed during a write: the test did not exercise that window"
    print(f"{len(steps)} loads after 30 kills, {len(leftovers)} kills mid-write, {elapsed:.1f} s")


def test_leftover_temporary_files_do_not_disturb_loading(tmp_path: Path) -> None:
    import numpy as np

    import numpynn as nn
    from numpynn.io import save_checkpoint

    path = tmp_path / "ckpt.npz"
    (tmp_path / ".ckpt.npz.abc123.tmp").write_bytes(b"PK\x03\x04 half")
    save_checkpoint(path, nn.mlp([2, 2]), nn.SGD(), np.random.default_rng(0), 1, {})
    assert load_checkpoint(path).epoch == 1
