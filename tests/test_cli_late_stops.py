"""numpynn train's words around a run's end (issue 26): the time of a resumed run, a Ctrl-C
after the last batch, the momentum option."""

from __future__ import annotations

import re

from cli_helpers import run

from numpynn.cli import report

PLANAR = ["train", "--dataset", "planar", "--threads", "1", "--no-plots"]


def test_a_resumed_runs_time_counts_this_parts_training_within_its_wall_time(capsys, tmp_path):
    run_dir = tmp_path / "r"
    assert run(capsys, *PLANAR, "--epochs", "2", "--out", run_dir)[0] == 0
    code, out, err = run(capsys, "train", "--resume", run_dir, "--epochs", "4", "--no-plots")
    assert code == 0, err
    found = re.search(
        r"; ([\d.]+) s in all for this part \(([\d.]+) s training; ([\d.]+) s training over "
        r"the whole run\); run directory",
        out.splitlines()[-1],
    )
    assert found, out
    wall, now, whole = map(float, found.groups())
    assert now <= wall and now <= whole


def test_time_spent_words_a_fresh_and_a_resumed_run():
    assert report.time_spent(3.04, [1.0, 1.5], None) == "3.0 s in all (2.5 s training)"
    assert report.time_spent(2.0, [5.0, 1.0, 0.5], 1) == (
        "2.0 s in all for this part (1.5 s training; 6.5 s training over the whole run)"
    )


def test_a_ctrl_c_after_the_last_batch_names_the_resume(capsys, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    run_dir = tmp_path / "r"
    monkeypatch.setattr(report, "evaluate", interrupted)  # Ctrl-C while testing the model
    code, _, err = run(capsys, *PLANAR, "--epochs", "2", "--out", run_dir)
    assert code == 130
    assert err.strip() == (
        f"numpynn train: interrupted; the last checkpoint, {run_dir / 'checkpoint.npz'}, is "
        f"intact; resume with: numpynn train --resume {run_dir}"
    )
    monkeypatch.undo()
    code, out, err = run(capsys, "train", "--resume", run_dir, "--no-plots")
    assert code == 0, err
    assert (run_dir / "model.npz").exists() and "test accuracy" in out


def test_a_ctrl_c_before_any_checkpoint_is_a_plain_interruption(capsys, tmp_path, monkeypatch):
    from numpynn.cli import data

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "load", interrupted)
    code, _, err = run(capsys, *PLANAR, "--epochs", "2", "--out", tmp_path / "r")
    assert code == 130 and err.strip() == "numpynn train: interrupted"
