"""Fuzzing the model loader (bounded): random bytes and mutations of valid files either load
or raise FileFormatError, never another exception. The longer standalone run is
tests/fuzz/fuzz_modelfile.py (see docs/model-files.md for the longest run done)."""

from __future__ import annotations

import importlib.util
import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_spec = importlib.util.spec_from_file_location(
    "fuzz_modelfile", Path(__file__).parent / "fuzz" / "fuzz_modelfile.py"
)
assert _spec is not None and _spec.loader is not None
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

VALID = fuzz.valid_files()


def check(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as directory:
        return fuzz.check(data, Path(directory) / "input.npz")


def test_valid_files_load() -> None:
    assert all(check(data) == "loaded" for data in VALID.values())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(sorted(VALID)),
    names=st.lists(st.sampled_from(sorted(fuzz.MUTATORS)), min_size=1, max_size=3),
    seed=st.integers(0, 2**64 - 1),
)
def test_mutated_files_load_or_raise_file_format_error(base: str, names: list, seed: int) -> None:
    check(fuzz.mutate(random.Random(seed), VALID[base], names))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY"]), data=st.binary())
def test_random_bytes_raise_file_format_error(prefix: bytes, data: bytes) -> None:
    assert check(prefix + data) == "rejected"


def test_every_mutator_produces_rejected_inputs() -> None:
    """The harness is not vacuous: each mutator makes files the loader must reject."""
    rnd = random.Random(0)
    for name in fuzz.MUTATORS:
        outcomes = {check(fuzz.mutate(rnd, VALID["model"], [name])) for _ in range(20)}
        assert "rejected" in outcomes, name
