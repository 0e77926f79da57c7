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


def test_plot_weights_draws_an_mlps_first_layer_one_picture_per_hidden_unit(capsys, runs):
    code, out, err = run(capsys, "plot", "weights", runs["digits"] / "model.npz")
    assert code == 0, err
    assert out == f"wrote {runs['digits'] / 'weights.png'}\n"
    assert is_png(runs["digits"] / "weights.png")


def test_weights_figure_shows_each_unit_in_the_inputs_shape_centred_at_0():
    import numpy as np

    import numpynn as nn
    from numpynn.plots import first_layer_images, weights_figure

    model = nn.mlp([64, 5, 10], seed=0)
    images = first_layer_images(model, (8, 8))
    assert images.shape == (5, 8, 8)
    np.testing.assert_array_equal(images[2], model.layers[0].W[:, 2].reshape(8, 8))
    fig = weights_figure(images, title="digits run")
    assert (
        len(fig.axes) == 5
        and "digits run, one 8x8 image per hidden unit" in fig._suptitle.get_text()
    )
    low, high = fig.axes[0].images[0].get_clim()
    assert -low == high > 0  # a diverging colour map centred at 0
    assert fig.axes[0].images[0].get_cmap().name == "RdBu_r"
    assert len(weights_figure(np.zeros((130, 2, 2)), title="t").axes) == 100
    with pytest.raises(ValueError, match="takes 64 inputs, not 28x28 pictures"):
        first_layer_images(model)


def test_plot_weights_of_a_model_of_points(capsys, runs):
    code, _, err = run(capsys, "plot", "weights", runs["planar"] / "model.npz")
    assert code == 2
    assert "error: " in err and "Errno" not in err


def test_plot_curves_counts_the_runs_and_names_two_of_one_name_by_their_paths(
    capsys, runs, tmp_path, monkeypatch
):
    import shutil

    from numpynn import plots

    drawn = {}
    monkeypatch.setattr(
        plots, "plot_histories", lambda runs, path, title: drawn.update(runs=runs, title=title)
    )
    copy = tmp_path / "other" / "planar"
    shutil.copytree(runs["planar"], copy)
    assert run(capsys, "plot", "curves", runs["planar"], copy)[0] == 0
    assert drawn["title"] == "Learning curves of 2 runs"
    assert sorted(drawn["runs"]) == sorted(f"{p} (planar)" for p in (runs["planar"], copy))
    assert run(capsys, "plot", "curves", runs["planar"], runs["planar"])[0] == 0
    assert drawn["title"] == "Learning curves of 1 run"


def test_the_epoch_axis_has_whole_epochs_only():
    from numpynn.plots import history_figure

    fig = history_figure({"loss": [1.0, 0.5], "accuracy": [0.5, 0.7]})
    fig.canvas.draw()
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
