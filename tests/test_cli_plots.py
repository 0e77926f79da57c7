"""The run directory's figures and numpynn plot curves, from small real runs (issue 13)."""

import json

import pytest
from cli_helpers import assert_one_line_error, run
from PIL import Image

from numpynn.cli import main

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two short planar runs and a digits run: {name: run directory}."""
    base = tmp_path_factory.mktemp("runs")
    argv = {
        "planar": ["--dataset", "planar", "--epochs", "12"],
        "planar-b": ["--dataset", "planar", "--epochs", "8", "--lr", "0.1"],
        "digits": ["--dataset", "digits", "--epochs", "5"],
    }
    for name, options in argv.items():
        assert main(["train", *options, "--threads", "1", "--out", str(base / name)]) == 0
    return {name: base / name for name in argv}


def is_png(path):
    with Image.open(path) as image:
        return image.format == "PNG" and image.size[0] >= 300


def test_a_planar_run_draws_its_decision_boundary_and_curves(runs):
    for name in ("curves.png", "confusion.png", "decision_boundary.png"):
        assert is_png(runs["planar"] / name)


def test_a_digits_run_draws_its_misclassified_digits(runs):
    assert is_png(runs["digits"] / "misclassified.png")


def test_plot_curves_redraws_one_run_in_its_directory(capsys, runs):
    (runs["planar"] / "curves.png").unlink()
    code, out, err = run(capsys, "plot", "curves", runs["planar"])
    assert code == 0, err
    assert out == f"wrote {runs['planar'] / 'curves.png'}\n"
    assert is_png(runs["planar"] / "curves.png")


def test_plot_curves_overlays_several_runs(capsys, runs, tmp_path):
    out_file = tmp_path / "compare.png"
    code, out, err = run(
        capsys,
        "plot",
        "curves",
        runs["planar"],
        runs["planar-b"],
        runs["digits"],
        "--out",
        out_file,
    )
    assert code == 0, err
    assert out == f"wrote {out_file}\n"
    assert is_png(out_file)


def test_plot_curves_of_an_interrupted_run_reads_its_checkpoint(capsys, runs, tmp_path):
    """A run without metrics.json (still going, or stopped by Ctrl-C) has its history in the
    checkpoint."""
    run_dir = tmp_path / "unfinished"
    run_dir.mkdir()
    for name in ("config.json", "checkpoint.npz"):
        (run_dir / name).write_bytes((runs["planar"] / name).read_bytes())
    code, _, err = run(capsys, "plot", "curves", run_dir)
    assert code == 0, err
    assert is_png(run_dir / "curves.png")


def test_plot_curves_without_a_run_directory(capsys):
    code, _, err = run(capsys, "plot", "curves")
    assert code == 2
    assert_one_line_error(err, "plot curves needs at least one RUN_DIR")


def test_plot_curves_of_a_directory_that_is_not_a_run(capsys, tmp_path):
    code, _, err = run(capsys, "plot", "curves", tmp_path)
    assert code == 2
    assert_one_line_error(err, f"{tmp_path} is not a numpynn run directory", "metrics.json")


def test_plot_curves_of_a_missing_directory(capsys, tmp_path):
    code, _, err = run(capsys, "plot", "curves", tmp_path / "nope")
    assert code == 2
    assert_one_line_error(err, f"cannot read run directory {tmp_path / 'nope'}: it does not exist")


def test_plot_curves_of_a_damaged_metrics_json(capsys, tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"history": {}}))
    code, _, err = run(capsys, "plot", "curves", tmp_path)
    assert code == 2
    assert_one_line_error(err, "metrics.json is not a numpynn run's metrics: it has no 'config'")


def test_plot_activations_takes_no_run_directory(capsys, runs):
    code, _, err = run(capsys, "plot", "activations", runs["planar"])
    assert code == 2
    assert_one_line_error(err, "plot activations takes no RUN_DIR")


@pytest.mark.parametrize(
    ("name", "magic"),
    [("act.jpg", b"\xff\xd8\xff"), ("act.JPEG", b"\xff\xd8\xff"), ("act.svg", b"<?xml"),
     ("act.pdf", b"%PDF"), ("act.png", b"\x89PNG"), ("act", b"\x89PNG")],
)  # fmt: skip
def test_a_figure_is_written_in_the_format_its_suffix_names(capsys, tmp_path, name, magic):
    """plot activations --out act.jpg writes JPEG bytes, not PNG bytes under a .jpg name
    (issue 26); no suffix: PNG."""
    code, _, err = run(capsys, "plot", "activations", "--out", tmp_path / name)
    assert code == 0, err
    assert (tmp_path / name).read_bytes().startswith(magic)


def test_a_figure_suffix_matplotlib_cannot_write_is_refused(capsys, tmp_path):
    code, _, err = run(capsys, "plot", "activations", "--out", tmp_path / "act.txt")
    assert code == 2
    assert_one_line_error(
        err, f"cannot write figure {tmp_path / 'act.txt'}: matplotlib cannot write .txt", ".jpg"
    )
    assert not (tmp_path / "act.txt").exists()
