"""numpynn train's words around a run's end (issue 26): the time of a resumed run, a Ctrl-C
after the last batch, the momentum option."""

from __future__ import annotations

import re

from cli_helpers import assert_one_line_error, run

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


def test_momentum_is_sgds_saved_in_the_config_and_resumed_exactly(capsys, tmp_path):
    import json

    import numpy as np

    import numpynn as nn

    sgd = [*PLANAR, "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9"]
    assert run(capsys, *sgd, "--epochs", "4", "--out", tmp_path / "whole")[0] == 0
    assert run(capsys, *sgd, "--epochs", "2", "--out", tmp_path / "part")[0] == 0
    assert json.loads((tmp_path / "part" / "config.json").read_text())["momentum"] == 0.9
    assert "optimizer sgd lr 0.05 momentum 0.9" in (tmp_path / "part" / "report.txt").read_text()
    code, _, err = run(capsys, "train", "--resume", tmp_path / "part", "--epochs", "4")
    assert code == 0, err
    whole, part = (nn.load(tmp_path / name / "model.npz") for name in ("whole", "part"))
    for a, b in zip(whole.parameters(), part.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)
    with_momentum = whole
    assert run(capsys, *PLANAR, "--optimizer", "sgd", "--lr", "0.05", "--epochs", "4",
               "--out", tmp_path / "plain")[0] == 0  # fmt: skip
    without = nn.load(tmp_path / "plain" / "model.npz")
    assert not np.array_equal(with_momentum.parameters()[0], without.parameters()[0])  # it acts


def test_momentum_with_another_optimizer_is_refused_with_the_fix(capsys, tmp_path):
    code, _, err = run(capsys, *PLANAR, "--momentum", "0.9", "--out", tmp_path / "r")
    assert code == 2
    assert_one_line_error(err, "--momentum is SGD's velocity; adam keeps", "--optimizer sgd")


def test_a_run_saved_before_momentum_existed_resumes(capsys, tmp_path):
    import json

    run_dir = tmp_path / "r"
    assert run(capsys, *PLANAR, "--epochs", "1", "--out", run_dir)[0] == 0
    config = json.loads((run_dir / "config.json").read_text())
    del config["momentum"]
    (run_dir / "config.json").write_text(json.dumps(config))
    code, _, err = run(capsys, "train", "--resume", run_dir, "--epochs", "2")
    assert code == 0, err
