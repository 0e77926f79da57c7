"""``numpynn generate``: a language model's text streamed as it is drawn, new names marked when
the training set holds them, and one-line errors for everything a user can get wrong."""

import os
import subprocess
import sys

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run
from test_text_datasets import SHARED_DATA

import numpynn as nn
from numpynn.cli import BROKEN_PIPE, main
from numpynn.datasets import CharVocabulary, download
from numpynn.trained import LANGUAGE_MODEL, TrainedLanguageModel, load_language_model

TEXT = CharVocabulary(list("\n abc:"))
NAMES = CharVocabulary([".", *"abcdefghijklmnopqrstuvwxyz"])  # the names dataset's
MARK = "  (in the training set)"


def tiny_gpt(V, block=8):
    return nn.Sequential(
        nn.Embedding(V, 8, seed=0),
        nn.PositionalEmbedding(block, 8, seed=1),
        nn.TransformerBlock(8, n_heads=2, causal=True, seed=2),
        nn.Dense(8, V, seed=3),
        nn.Softmax(),
    )


def tiny_lstm(V):
    return nn.Sequential(
        nn.Embedding(V, 8, seed=0),
        nn.LSTM(8, 8, return_sequences=True, seed=1),
        nn.Dense(8, V, seed=2),
        nn.Softmax(),
    )


def save(path, model, vocabulary, **metadata):
    meta = {"task": LANGUAGE_MODEL, "vocabulary": vocabulary.to_json(), **metadata}
    nn.save(model, path, metadata=meta)
    return path


@pytest.fixture(params=["gpt", "lstm"])
def text_model(request, tmp_path):
    """A tiny untrained model of running text (a transformer or an LSTM), saved: its path."""
    model = (tiny_gpt if request.param == "gpt" else tiny_lstm)(len(TEXT))
    return save(tmp_path / f"{request.param}.npz", model, TEXT, dataset="shakespeare")


def bigram_names(path, dataset="names"):
    """A names model that writes "eva" or "qxj" (half each): a bigram table whose rows are
    the logits of the character after each one. "eva" is in the names training set, "qxj"
    is not."""
    W = np.full((len(NAMES), len(NAMES)), -50.0)
    for a, b in [".e", "ev", "va", "a.", ".q", "qx", "xj", "j."]:
        W[NAMES.chars.index(a), NAMES.chars.index(b)] = 0.0
    model = nn.Sequential(nn.Embedding(len(NAMES), len(NAMES), dtype=np.float64), nn.Softmax())
    model.layers[0].W[...] = W
    metadata = {"boundary": ".", **({"dataset": dataset} if dataset else {})}
    return save(path, model, NAMES, **metadata)


@pytest.fixture
def names_model(tmp_path):
    return bigram_names(tmp_path / "names.npz")


@pytest.fixture
def names_data(monkeypatch):
    """The names training set found through NUMPYNN_DATA_DIR, as the user's data would be."""
    monkeypatch.setenv("NUMPYNN_DATA_DIR", str(SHARED_DATA))


@pytest.fixture
def no_names_data(monkeypatch, tmp_path):
    """No copy of names.txt anywhere: an empty data directory and cache, no network."""
    monkeypatch.setenv("NUMPYNN_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("NUMPYNN_CACHE_DIR", str(tmp_path / "cache"))

    def offline(file_name, mirrors, sha256, **kwargs):
        raise download.DownloadError(f"{file_name}: no mirror reachable: offline (test)")

    monkeypatch.setattr(download, "fetch", offline)


# Running text


def test_the_output_is_the_prompt_and_the_continuation_write_draws(capsys, text_model):
    code, out, err = run(
        capsys, "generate", text_model, "--prompt", "ab:", "--length", 60, "--seed", 3,
        "--temperature", "0.9", "--top-k", 4,
    )  # fmt: skip
    assert code == 0, err
    writer = load_language_model(text_model)
    text = "".join(writer.write("ab:", 60, temperature=0.9, top_k=4, seed=3))
    assert out == "ab:" + text + ("" if text.endswith("\n") else "\n")
    assert err == ""  # the seed was given: nothing to say


def test_the_same_seed_writes_the_same_text_and_another_seed_another(capsys, text_model):
    texts = [run(capsys, "generate", text_model, "--seed", s, "--length", 80)[1] for s in (0, 0, 1)]
    assert texts[0] == texts[1] != texts[2]


def test_each_character_is_flushed_as_soon_as_it_is_drawn(monkeypatch, text_model):
    class Recorder:
        """A pipe's stdout: what it holds at each flush."""

        def __init__(self):
            self.text, self.flushed = "", []

        def write(self, s):
            self.text += s
            return len(s)

        def flush(self):
            self.flushed.append(self.text)

    recorder = Recorder()
    monkeypatch.setattr(sys, "stdout", recorder)
    assert (
        main(["generate", str(text_model), "--prompt", "a", "--length", "20", "--seed", "0"]) == 0
    )
    assert recorder.text.startswith("a") and len(recorder.text) in (21, 22)  # + "\n" at the end
    assert recorder.flushed[:21] == [recorder.text[: i + 1] for i in range(21)]


def test_without_a_prompt_a_line_starts_and_without_a_seed_one_is_chosen_and_said(
    capsys, text_model
):
    code, out, err = run(capsys, "generate", text_model, "--length", 30)
    assert code == 0, err
    assert out.startswith("\n")
    (line,) = err.splitlines()
    seed = line.split()[3]
    assert line == f"numpynn generate: seed {seed} (--seed {seed} writes the same again)"
    assert run(capsys, "generate", text_model, "--length", 30, "--seed", seed)[1] == out


def test_threads_change_nothing_of_the_text(capsys, text_model):
    one = run(capsys, "generate", text_model, "--seed", 5, "--length", 40, "--threads", 1)
    assert one[0] == 0, one[2]
    assert one[1] == run(capsys, "generate", text_model, "--seed", 5, "--length", 40)[1]


def test_a_closed_pipe_ends_the_text_quietly(tmp_path):
    """numpynn generate ... | head -c 100: the reader has gone; no message, exit code 141."""
    model = save(tmp_path / "m.npz", tiny_gpt(len(TEXT)), TEXT)
    read_end, write_end = os.pipe()
    os.close(read_end)
    result = subprocess.run(
        [sys.executable, "-m", "numpynn", "generate", str(model), "--seed", "0"],
        stdout=write_end,
        stderr=subprocess.PIPE,
    )
    os.close(write_end)
    assert result.returncode == BROKEN_PIPE
    assert result.stderr == b""


def test_ctrl_c_ends_the_line_before_saying_interrupted(capsys, monkeypatch, text_model):
    def interrupted(self, prompt, length, **settings):
        yield "b"
        raise KeyboardInterrupt

    monkeypatch.setattr(TrainedLanguageModel, "write", interrupted)
    code, out, err = run(capsys, "generate", text_model, "--prompt", "a", "--seed", 0)
    assert (code, out, err) == (130, "ab\n", "numpynn generate: interrupted\n")


# Names


def test_new_names_one_a_line_marked_when_the_training_set_has_them(
    capsys, names_model, names_data
):
    code, out, err = run(capsys, "generate", names_model, "--count", 20, "--seed", 0)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 20 and set(lines) == {"eva" + MARK, "qxj"}
    n_known = lines.count("eva" + MARK)
    assert err == (
        f"numpynn generate: in the names training set (24,002 distinct words): {n_known} of 20\n"
    )


def test_the_prompt_of_a_names_model_begins_every_name(capsys, names_model, names_data):
    code, out, err = run(capsys, "generate", names_model, "--prompt", "q", "--seed", 0)
    assert code == 0, err
    assert out.splitlines() == ["qxj"] * 20  # --count's default, none in the training set


def test_names_are_written_unmarked_when_the_training_set_is_not_found(
    capsys, names_model, no_names_data
):
    code, out, err = run(capsys, "generate", names_model, "--count", 6, "--seed", 0)
    assert code == 0, err
    assert set(out.splitlines()) == {"eva", "qxj"}
    (line,) = err.splitlines()
    assert line.startswith("numpynn generate: words not marked: names not found (tried: ")
    assert "--data-dir DIR" in line


def test_names_of_a_model_that_does_not_name_its_dataset_are_unmarked(capsys, tmp_path, names_data):
    model = bigram_names(tmp_path / "m.npz", dataset=None)
    code, out, err = run(capsys, "generate", model, "--count", 4, "--seed", 0)
    assert code == 0, err
    assert MARK not in out
    assert err == (
        f"numpynn generate: {model} does not name the dataset it was trained on: words not marked\n"
    )


def test_a_data_dir_without_the_names_is_an_error(capsys, tmp_path, names_model):
    code, out, err = run(capsys, "generate", names_model, "--data-dir", tmp_path, "--seed", 0)
    assert code == 2 and out == ""
    assert_one_line_error(err, f"data_dir='{tmp_path}' has no names.txt")


def test_a_data_dir_with_the_names_marks_them(capsys, names_model, no_names_data):
    argv = ["generate", names_model, "--data-dir", SHARED_DATA, "--count", 8, "--seed", 0]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert "eva" + MARK in out.splitlines()


# Errors: one line, exit code 2, nothing on stdout


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--prompt", "a€bü"], ["the prompt has 2 character(s) outside", "'ü', '€'"]),
        (["--prompt", ""], ["the prompt is empty"]),
        (["--length", "0"], ["--length", "expected a whole number 1-100000", "'0'"]),
        (["--length", "100001"], ["--length", "expected a whole number 1-100000"]),
        (["--length", "ten"], ["--length", "'ten'"]),
        (["--temperature", "0"], ["--temperature", "expected a finite number > 0", "'0'"]),
        (["--temperature", "-1"], ["--temperature", "expected a finite number > 0"]),
        (["--temperature", "nan"], ["--temperature", "'nan'"]),
        (["--temperature", "inf"], ["--temperature", "'inf'"]),
        (["--top-k", "0"], ["--top-k", "expected a whole number >= 1", "'0'"]),
        (["--top-k", "7"], ["--top-k must be between 1 and 6", "vocabulary has 6", "got 7"]),
        (["--seed", "-1"], ["--seed", "expected a whole number >= 0"]),
        (["--threads", "0"], ["--threads", "expected a positive integer or auto"]),
        (["--count", "3"], ["--count is for a model of words (names)", "writes running text"]),
        (["--data-dir", "d"], ["--data-dir is for a model of words", "writes running text"]),
    ],
)
def test_bad_settings_of_running_text(capsys, tmp_path, argv, words):
    model = save(tmp_path / "m.npz", tiny_gpt(len(TEXT)), TEXT)
    code, out, err = run(capsys, "generate", model, *argv, "--seed", "1")
    assert code == 2 and out == ""
    assert_one_line_error(err, *words)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--length", "10"], ["--length:", "writes words (names)", "give --count N"]),
        (["--count", "0"], ["--count", "expected a whole number 1-10000"]),
        (["--count", "10001"], ["--count", "expected a whole number 1-10000"]),
        (["--prompt", "e.v"], ["the prompt 'e.v' holds '.', the end of a word"]),
        (["--prompt", "Eva"], ["the prompt has 1 character(s) outside", "'E'"]),
        (["--top-k", "28"], ["--top-k must be between 1 and 27"]),
    ],
)
def test_bad_settings_of_names(capsys, names_model, names_data, argv, words):
    code, out, err = run(capsys, "generate", names_model, *argv, "--seed", "1")
    assert code == 2 and out == ""
    assert_one_line_error(err, *words)


def test_a_model_that_is_not_a_language_model_says_what_makes_one(capsys, tmp_path):
    nn.save(nn.Sequential(nn.Dense(3, 2), nn.Softmax()), tmp_path / "c.npz")
    code, out, err = run(capsys, "generate", tmp_path / "c.npz")
    assert code == 2 and out == ""
    assert_one_line_error(err, "c.npz is not a language model", "numpynn train --dataset")


def test_a_missing_or_damaged_file_is_named(capsys, tmp_path):
    code, _, err = run(capsys, "generate", tmp_path / "none.npz")
    assert code == 2
    assert_one_line_error(err, f"model file {tmp_path / 'none.npz'}: it does not exist")
    (tmp_path / "bad.npz").write_bytes(b"not a zip archive at all")
    code, _, err = run(capsys, "generate", tmp_path / "bad.npz")
    assert code == 2
    assert_one_line_error(err, f"cannot load {tmp_path / 'bad.npz'}", "not a numpynn file")


def test_a_run_directory_is_read_for_its_model(capsys, tmp_path):
    save(tmp_path / "model.npz", tiny_gpt(len(TEXT)), TEXT)
    by_dir = run(capsys, "generate", tmp_path, "--seed", 2, "--length", 30)
    assert by_dir[0] == 0, by_dir[2]
    assert (
        by_dir[1] == run(capsys, "generate", tmp_path / "model.npz", "--seed", 2, "--length", 30)[1]
    )


@pytest.mark.parametrize("command", [["evaluate"], ["predict", "digit.png"]])
def test_evaluate_and_predict_point_a_language_model_to_generate(capsys, text_model, command):
    code, out, err = run(capsys, command[0], text_model, *command[1:])
    assert code == 2 and out == ""
    assert_one_line_error(
        err, f"{text_model} is a language model", f"Let it write: numpynn generate {text_model}"
    )


def test_a_long_option_is_not_taken_for_a_longer_one(capsys, text_model):
    code, _, err = run(capsys, "generate", text_model, "--temperatur", "0.5")
    assert code == 2
    assert_one_line_error(err, "unrecognized arguments", "did you mean --temperature?")
