"""Chapter 19, a tiny GPT (docs/learn/19-tiny-gpt.md): each claim of the page at a small size,
and the page's code as written (slow)."""

import dataclasses
import json

import numpy as np
import pytest
from page_code import run_page
from test_text_datasets import SHARED_DATA

from numpynn import lab
from numpynn.cli import main
from numpynn.cli.lab import one_blas_thread
from numpynn.cli.text_config import TextConfig
from numpynn.lab.tiny_gpt import (
    NANOGPT,
    SMALL,
    look_back,
    most_read,
    offset_weights,
)

PAGE = "docs/learn/19-tiny-gpt.md"


@pytest.fixture(autouse=True)
def single_blas_thread():
    """Small matrices: one BLAS thread, as `numpynn lab` runs (several times faster on a
    busy machine)."""
    with one_blas_thread():
        yield


TINY = {
    "dim": 32,
    "layers": 2,
    "heads": 2,
    "block": 32,
    "eval_windows": 40,
    "warmup": 5,
    "lr": 3e-3,
}


def test_the_full_setting_is_the_command_lines_gpt_preset():
    """The lab cannot import the command line: its copy of the settings is checked here."""
    defaults = {f.name: f.default for f in dataclasses.fields(TextConfig)}
    assert {k: defaults[k] for k in NANOGPT} == NANOGPT
    assert {k: v for k, v in SMALL.items() if NANOGPT[k] != v} == {"dim": 64, "layers": 2}


@pytest.fixture(scope="module")
def tiny_run():
    result = lab.train_tiny_gpt(
        **TINY, steps=40, eval_every=20, sample_at=(0, 20, 1000), sample_length=60,
        data_dir=str(SHARED_DATA),
    )  # fmt: skip
    return result


def test_the_loss_falls_from_chance(tiny_run):
    assert tiny_run["val_steps"] == [0, 20, 40]
    assert tiny_run["val_loss"][0] == pytest.approx(np.log(65), abs=0.1)  # uniform guessing
    assert tiny_run["val_loss"][-1] < tiny_run["val_loss"][0] - 0.5
    loss = tiny_run["loss"]
    assert loss.shape == (40,) and loss[-10:].mean() < loss[:5].mean() - 0.5


def test_samples_are_taken_at_the_steps_reached_and_are_text_of_the_vocabulary(tiny_run):
    samples = tiny_run["samples"]
    assert list(samples) == [0, 20]  # step 1000 is not reached in 40 steps
    alphabet = set(tiny_run["vocabulary"].decode(np.arange(65)))
    for text in samples.values():
        assert len(text) == 60 and set(text) <= alphabet


def test_the_run_is_seeded():
    a = lab.train_tiny_gpt(**TINY, steps=5, eval_every=5, sample_at=(5,), sample_length=20,
                           data_dir=str(SHARED_DATA))  # fmt: skip
    b = lab.train_tiny_gpt(**TINY, steps=5, eval_every=5, sample_at=(5,), sample_length=20,
                           data_dir=str(SHARED_DATA))  # fmt: skip
    assert np.array_equal(a["loss"], b["loss"]) and a["samples"] == b["samples"]


def test_the_heat_maps_rows_sum_to_one_and_are_causal(tiny_run):
    maps = lab.attention_maps(tiny_run["model"], tiny_run["vocabulary"], "ROMEO:\nGood day.")
    assert maps.shape == (2, 2, 16, 16)
    np.testing.assert_allclose(maps.sum(axis=-1), 1.0, rtol=1e-5)
    assert np.all(np.triu(maps, k=1) == 0)
    assert np.all(maps >= 0)


def test_the_attention_maps_are_the_heads_of_a_forward_pass(tiny_run):
    """The maps are what each block's attention computed: softmax(q k^T / sqrt(hs)), masked."""
    model, vocabulary = tiny_run["model"], tiny_run["vocabulary"]
    maps = lab.attention_maps(model, vocabulary, "To be")
    block = model.layers[2]
    x = model.layers[1].forward(model.layers[0].forward(vocabulary.encode("To be")[None]))
    h = block.ln1.forward(x)
    qkv = h[0] @ block.attn.W_qkv + block.attn.b_qkv
    q, k = qkv[:, :32].reshape(5, 2, 16), qkv[:, 32:64].reshape(5, 2, 16)
    scores = np.einsum("ihd,jhd->hij", q, k) / 4.0
    scores[:, np.triu(np.ones((5, 5), bool), 1)] = -np.inf
    att = np.exp(scores - scores.max(-1, keepdims=True))
    np.testing.assert_allclose(maps[0], att / att.sum(-1, keepdims=True), rtol=1e-4, atol=1e-6)


def test_look_back_and_offset_weights_measure_where_a_head_looks():
    T = 6
    itself = np.eye(T)[None, None]
    previous = np.eye(T, k=-1)
    previous[0, 0] = 1.0  # the first position can only read itself
    previous = previous[None, None]
    assert look_back(itself)[0, 0] == 0.0
    assert look_back(previous)[0, 0] == pytest.approx(5 / 6)
    np.testing.assert_allclose(offset_weights(itself)[0, 0], [1, 0, 0])
    np.testing.assert_allclose(offset_weights(previous)[0, 0], [1 / 6, 1, 0])
    first = np.zeros((1, 1, T, T))
    first[..., 0] = 1.0  # every position reads the first character
    assert most_read(first, "abcdef", skip=2) == [["'a' at 0"]]


@pytest.mark.slow
def test_the_full_run_starts_as_the_command_lines_gpt_preset(tmp_path):
    """Same settings and seeding: the same validation losses after a few steps."""
    argv = ["train", "--dataset", "shakespeare", "--data-dir", SHARED_DATA, "--steps", "3"]
    argv += ["--eval-every", "3", "--threads", "1", "--out", tmp_path / "run", "--no-plots"]
    assert main([str(a) for a in argv]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    ours = lab.train_tiny_gpt(**{**NANOGPT, "steps": 3, "eval_every": 3}, sample_at=(),
                              data_dir=str(SHARED_DATA))  # fmt: skip
    assert ours["val_loss"][1:] == pytest.approx(metrics["val_loss"], rel=1e-6)


@pytest.mark.slow
def test_the_pages_code_runs_as_written_and_its_claims_hold(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMPYNN_DATA_DIR", str(SHARED_DATA))
    ns = run_page(PAGE, tmp_path)
    result = ns["result"]
    assert result["val_steps"] == [0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000]
    assert result["val_loss"][-1] == pytest.approx(2.06, abs=0.02)
    assert np.all(np.diff(result["val_loss"]) < 0)  # falls at every evaluation
    assert list(result["samples"]) == [0, 250, 1000, 2000]
    maps = ns["maps"]
    np.testing.assert_allclose(maps.sum(axis=-1), 1.0, rtol=1e-5)
    assert np.all(np.triu(maps, k=1) == 0)
    # block 1 has heads that read the previous character most (the page's claim)
    assert (offset_weights(maps)[0].argmax(axis=-1) == 1).sum() >= 2
    assert {p.name for p in tmp_path.glob("*.png")} == {"gpt-loss.png", "gpt-attention.png"}
