"""Errors a new user meets in the first hour: each names the cause in one line (issue 13)."""

import os
import re
import subprocess
import sys

import pytest
from cli_helpers import assert_one_line_error, run

from numpynn.cli import BROKEN_PIPE, main
from numpynn.cli.train_command import DEFAULTS


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A short real run on scikit-learn's 8x8 digits: its run directory."""
    run_dir = tmp_path_factory.mktemp("runs") / "digits"
    argv = ["train", "--dataset", "digits", "--epochs", "2", "--threads", "1", "--no-plots"]
    assert main([*argv, "--out", str(run_dir)]) == 0
    return run_dir


def test_evaluate_a_run_directory_uses_its_model(capsys, digits_run):
    code, out, err = run(capsys, "evaluate", digits_run)
    assert code == 0, err
    assert f"{digits_run} on the digits test set (359 samples)" in out


def test_evaluate_a_directory_without_a_model_names_what_it_needs(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", tmp_path)
    assert code == 2
    assert_one_line_error(err, f"{tmp_path} is a directory without model.npz", "run directory")
    assert "Errno" not in err


def test_evaluate_a_checkpoint_uses_its_model(capsys, digits_run):
    code, out, err = run(capsys, "evaluate", digits_run / "checkpoint.npz")
    assert code == 0, err
    assert "on the digits test set" in out
    assert out == run(capsys, "evaluate", digits_run / "model.npz")[1].replace(
        "model.npz", "checkpoint.npz"
    )  # the run's last epoch is its final model


def test_export_into_a_missing_directory_names_the_directory(capsys, tmp_path, digits_run):
    pytest.importorskip("onnx")
    target = tmp_path / "missing" / "m.onnx"
    code, _, err = run(capsys, "export", digits_run / "model.npz", target)
    assert code == 2
    assert_one_line_error(
        err, f"cannot write ONNX file {target}", f"{target.parent} does not exist"
    )
    assert ".tmp" not in err


def test_output_into_a_closed_pipe_exits_quietly():
    """numpynn gates | head -1: the reader has gone; no error message, exit code 141."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE
    result = subprocess.run(
        [sys.executable, "-m", "numpynn", "gates"], stdout=write_end, stderr=subprocess.PIPE
    )
    os.close(write_end)
    assert result.returncode == BROKEN_PIPE == 141
    assert result.stderr == b""


@pytest.mark.parametrize("value", ["many", "0", "-2", "1.5"])
def test_threads_says_auto_is_valid_too(capsys, value):
    code, _, err = run(capsys, "train", "--threads", value)
    assert code == 2
    assert_one_line_error(err, "--threads", "expected a positive integer or auto", repr(value))


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["train", "--optimiser", "sgd"], "did you mean --optimizer?"),
        (["train", "--optimiser=sgd"], "did you mean --optimizer?"),
        (["evaluate", "m.npz", "--data-dri", "d"], "did you mean --data-dir?"),
        (["trian"], "did you mean train?"),
        (["train", "--dataset", "fashion"], "did you mean fashion-mnist?"),
        (["train", "--optimizer", "adma"], "did you mean adam?"),
        # other libraries' names for an option, and underscores for hyphens (issue 26)
        (["train", "--learning-rate", "0.1"], "did you mean --lr?"),
        (["train", "--learnrate=0.1"], "did you mean --lr?"),
        (["train", "--learning_rate", "0.1"], "did you mean --lr?"),
        (["train", "--weight-decay", "0.1"], "did you mean --l2?"),
        (["train", "--batch_size", "8"], "did you mean --batch-size?"),
        (["lab", "optimiser"], "did you mean optimizers?"),
    ],
)
def test_a_misspelling_gets_a_did_you_mean(capsys, argv, suggestion):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert_one_line_error(err, suggestion)


def test_an_unknown_option_far_from_any_gets_no_guess(capsys):
    code, _, err = run(capsys, "train", "--bogus")
    assert code == 2
    assert_one_line_error(err, "numpynn train: error: unrecognized arguments: --bogus")
    assert "did you mean" not in err


@pytest.mark.parametrize("dataset", ["digits", "planar"])
def test_data_dir_with_a_dataset_that_does_not_read_it_is_refused(capsys, tmp_path, dataset):
    code, _, err = run(
        capsys, "train", "--dataset", dataset, "--data-dir", tmp_path, "--out", tmp_path / "r"
    )
    assert code == 2
    assert_one_line_error(
        err, f"the {dataset} dataset does not read a data directory", "mnist and fashion-mnist"
    )
    assert not (tmp_path / "r").exists()


def test_evaluate_with_a_data_dir_its_dataset_does_not_read_is_refused(
    capsys, tmp_path, digits_run
):
    code, _, err = run(capsys, "evaluate", digits_run, "--data-dir", tmp_path)
    assert code == 2
    assert_one_line_error(err, "the digits dataset does not read a data directory")


def test_train_says_how_many_threads_and_why(capsys, tmp_path):
    code, out, _ = run(
        capsys,
        "train",
        "--dataset",
        "planar",
        "--epochs",
        "1",
        "--no-plots",
        "--out",
        tmp_path / "r",
    )
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("using ") and "(--threads auto: " in first
    assert "cores idle over the last 0.2 s" in first or "load average" in first


def test_the_printed_time_is_the_whole_command_with_training_apart(capsys, tmp_path):
    code, out, _ = run(
        capsys, "train", "--dataset", "planar", "--epochs", "2", "--threads", "1",
        "--out", tmp_path / "r",
    )  # fmt: skip
    assert code == 0
    last = out.splitlines()[-1]
    assert " s in all (" in last and " s training); run directory " in last


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (
            ["--loss", "binary_cross_entropy"],
            ["--loss binary_cross_entropy needs one sigmoid output for two classes",
             "the mnist network ends with softmax", "use --loss cross_entropy or mse"],
        ),
        (
            ["--dataset", "planar", "--loss", "cross_entropy"],
            ["--loss cross_entropy needs a softmax output",
             "the planar network ends with sigmoid", "use --loss mse or binary_cross_entropy"],
        ),
        (
            ["--preset", "nielsen", "--loss", "cross_entropy"],
            ["the --preset nielsen network ends with sigmoid", "use --loss mse"],
        ),
    ],
)  # fmt: skip
def test_a_loss_that_does_not_fit_the_output_is_refused_before_loading(
    capsys, tmp_path, argv, words
):
    code, out, err = run(capsys, "train", *argv, "--out", tmp_path / "r")
    assert code == 2
    assert_one_line_error(err, *words)
    assert out == ""  # refused before the threads, the data and the run directory
    assert not (tmp_path / "r").exists()


def test_train_help_shows_each_default_in_brackets_as_it_says(capsys):
    """train --help says "defaults in brackets": each default is in [...], none in (...)
    (issue 26)."""

    code, out, _ = run(capsys, "train", "--help")
    assert code == 0 and "defaults in brackets" in " ".join(out.split())
    text = " ".join(out.split())
    for option, setting in [("--lr LR", "lr"), ("--epochs N", "epochs"), ("--seed N", "seed")]:
        assert re.search(rf"{option} [^\[]*\[{DEFAULTS[setting]:g}\]", text), option
    assert "[cross_entropy]" in text and "[off]" in text and "[512]" in text
    assert not re.search(r"\((default[ :)]|\d+(\.\d+)?\)|off\)|adam\))", text), text
