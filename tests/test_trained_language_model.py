"""numpynn.trained.load_language_model: a language model's file and its vocabulary."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.datasets import CharVocabulary
from numpynn.errors import FileFormatError
from numpynn.trained import LANGUAGE_MODEL, load_language_model

VOCABULARY = CharVocabulary(".abc")


def tiny_gpt(block=8):
    V = len(VOCABULARY)
    return nn.Sequential(
        nn.Embedding(V, 8, seed=0),
        nn.PositionalEmbedding(block, 8, seed=1),
        nn.TransformerBlock(8, n_heads=2, causal=True, seed=2),
        nn.Dense(8, V, seed=3),
        nn.Softmax(),
    )


def save(path, model, **metadata):
    meta = {"task": LANGUAGE_MODEL, "vocabulary": VOCABULARY.to_json(), **metadata}
    nn.save(model, path, metadata=meta)
    return path


def test_write_streams_the_continuation_generate_draws(tmp_path):
    model = tiny_gpt()
    writer = load_language_model(save(tmp_path / "m.npz", model))
    text = "".join(writer.write("ab", 20, temperature=0.9, seed=3))
    ids = model.generate(VOCABULARY.encode("ab"), 20, temperature=0.9, seed=3)
    assert text == VOCABULARY.decode(ids[2:])
    assert text == "".join(writer.write("ab", 20, temperature=0.9, seed=3))


def test_a_prompt_outside_the_vocabulary_is_named(tmp_path):
    writer = load_language_model(save(tmp_path / "m.npz", tiny_gpt()))
    with pytest.raises(ValueError, match=r"the prompt has 2 character\(s\).*'x', 'z'"):
        writer.encode("azbx")
    with pytest.raises(ValueError, match="prompt is empty"):
        writer.encode("")


def test_words_end_at_the_boundary_and_start_with_the_prefix(tmp_path):
    writer = load_language_model(save(tmp_path / "m.npz", tiny_gpt(), boundary="."))
    words = writer.words(12, prefix="b", seed=0, max_length=6)
    assert len(words) == 12
    assert all(w.startswith("b") and "." not in w and len(w) <= 7 for w in words)
    assert words == writer.words(12, prefix="b", seed=0, max_length=6)


def test_a_classifier_or_a_file_without_vocabulary_is_refused(tmp_path):
    classifier = nn.Sequential(nn.Dense(3, 2), nn.Softmax())
    nn.save(classifier, tmp_path / "c.npz")
    with pytest.raises(ValueError, match="is not a language model"):
        load_language_model(tmp_path / "c.npz")
    nn.save(tiny_gpt(), tmp_path / "v.npz", metadata={"task": LANGUAGE_MODEL})
    with pytest.raises(FileFormatError, match="must hold its vocabulary"):
        load_language_model(tmp_path / "v.npz")
    save(tmp_path / "w.npz", tiny_gpt(), vocabulary=["a", "b"])
    with pytest.raises(FileFormatError, match="vocabulary has 2 characters"):
        load_language_model(tmp_path / "w.npz")
    save(tmp_path / "x.npz", tiny_gpt(), vocabulary=["ab"])
    with pytest.raises(FileFormatError, match="'vocabulary' must be a list of single"):
        load_language_model(tmp_path / "x.npz")


def test_the_model_reads_back_bit_for_bit(tmp_path):
    writer = load_language_model(save(tmp_path / "ok.npz", tiny_gpt()))
    for read, saved in zip(writer.model.parameters(), tiny_gpt().parameters(), strict=True):
        np.testing.assert_array_equal(read, saved)
    assert writer.vocabulary == VOCABULARY and writer.boundary is None
