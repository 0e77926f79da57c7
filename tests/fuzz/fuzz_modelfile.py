"""Fuzz the model-file and checkpoint loaders: random bytes and mutations of valid files must
either load (into a model that works) or raise FileFormatError; never another exception.

Used by tests/test_fuzz_modelfile.py for a short hypothesis run; run it alone for longer:

    PYTHONPATH=src python tests/fuzz/fuzz_modelfile.py --seconds 300 [--seed 1]

Any other exception stops the run, saves the input under ./fuzz-failures/ and exits 1.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import numpynn as nn
from numpynn.errors import FileFormatError
from numpynn.io import load_checkpoint, save_checkpoint

Mutator = Callable[[random.Random, bytes], bytes]


# --- valid files to start from -----------------------------------------------------------


def valid_files() -> dict[str, bytes]:
    """A few valid files (every layer type, float64, a checkpoint), as bytes."""
    every = nn.Sequential(
        nn.Dense(3, 4, seed=0),
        nn.LeakyReLU(0.1),
        nn.Dropout(0.2),
        nn.Dense(4, 4, seed=1),
        nn.Tanh(),
        nn.Sigmoid(),
        nn.ReLU(),
        nn.Identity(),
        nn.Step(),
        nn.Dense(4, 2, seed=2),
        nn.Softmax(),
    )
    regression = nn.mlp([2, 3, 1], output="identity", dtype=np.float64, seed=0)
    regression.fit(np.eye(2), [[1.0], [2.0]], epochs=1)
    trained = nn.mlp([3, 5, 2], dropout=0.1, seed=0)
    optimizer, rng = nn.Adam(), np.random.default_rng(0)
    history = trained.fit(np.eye(3), [0, 1, 0], optimizer=optimizer, epochs=2, seed=rng)
    files = {}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "f.npz"
        nn.save(every, path, metadata={"classes": ["a", "b"]})
        files["model"] = path.read_bytes()
        nn.save(regression, path)
        files["model64"] = path.read_bytes()
        save_checkpoint(path, trained, optimizer, rng, 2, history, extra={"k": [1]})
        files["checkpoint"] = path.read_bytes()
    return files


# --- byte-level mutations ----------------------------------------------------------------


def flip_bits(rnd: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rnd.randint(1, 8)):
        if out:
            out[rnd.randrange(len(out))] ^= 1 << rnd.randrange(8)
    return bytes(out)


def set_bytes(rnd: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        if out:
            value = rnd.choice([0, 0xFF, 0x7F, 0x80, rnd.randrange(256)])
            out[rnd.randrange(len(out))] = value
    return bytes(out)


def truncate(rnd: random.Random, data: bytes) -> bytes:
    return data[: rnd.randrange(len(data) + 1)]


def splice(rnd: random.Random, data: bytes) -> bytes:
    i, j = sorted(rnd.randrange(len(data) + 1) for _ in range(2))
    if rnd.random() < 0.5:
        return data[:i] + data[j:]  # delete a chunk
    return data[:i] + rnd.randbytes(rnd.randint(1, 64)) + data[i:]  # insert one


def random_bytes(rnd: random.Random, data: bytes) -> bytes:
    prefix = rnd.choice([b"", b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY"])
    return prefix + rnd.randbytes(rnd.randint(0, 600))


# --- structure-aware mutations: edit the description or the arrays, then repack ----------


def unpack(data: bytes) -> tuple[Any, dict[str, np.ndarray]]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return json.loads(arrays.pop("__description__").tobytes()), arrays


def pack(description: Any, arrays: dict[str, np.ndarray], compressed: bool = False) -> bytes:
    text = description if isinstance(description, bytes) else json.dumps(description).encode()
    payload = {"__description__": np.frombuffer(text, dtype=np.uint8), **arrays}
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, allow_pickle=True, **payload)
    return buffer.getvalue()


def random_json(rnd: random.Random, depth: int = 0) -> Any:
    choices: list[Callable[[], Any]] = [
        lambda: None,
        lambda: rnd.choice([True, False]),
        lambda: rnd.choice([0, 1, -1, 2, 3, 10**30, -(10**30), 2**63, 7]),
        lambda: rnd.choice([0.0, -0.5, 0.5, 1.5, 1e308, -1e-308, 3.0]),
        lambda: rnd.choice(["", "Dense", "ReLU", "float32", "float16", "int8", "PCG64", "x" * 50]),
    ]
    if depth < 3:
        choices += [
            lambda: [random_json(rnd, depth + 1) for _ in range(rnd.randint(0, 3))],
            lambda: {
                rnd.choice(["type", "config", "shape", "n_in", "a"]): random_json(rnd, depth + 1)
                for _ in range(rnd.randint(0, 3))
            },
        ]
    return rnd.choice(choices)()


def _containers(node: Any) -> list[Any]:
    """Every dict and list inside a JSON value (including itself)."""
    found = []
    if isinstance(node, dict | list):
        found.append(node)
        for child in node.values() if isinstance(node, dict) else node:
            found += _containers(child)
    return found


def edit_json(rnd: random.Random, data: bytes) -> bytes:
    description, arrays = unpack(data)
    for _ in range(rnd.randint(1, 3)):
        node = rnd.choice(_containers(description))
        if isinstance(node, dict):
            keys = list(node)
            action = rnd.choice(["set", "set", "delete", "add"])
            if action == "delete" and keys:
                del node[rnd.choice(keys)]
            elif action == "add" or not keys:
                node[rnd.choice(["extra", "type", "seed", "W"])] = random_json(rnd)
            else:
                node[rnd.choice(keys)] = random_json(rnd)
        elif node:
            i = rnd.randrange(len(node))
            action = rnd.choice(["set", "delete", "duplicate"])
            if action == "set":
                node[i] = random_json(rnd)
            elif action == "delete":
                del node[i]
            else:
                node.insert(i, json.loads(json.dumps(node[i])))
        else:
            node.append(random_json(rnd))
    return pack(description, arrays)


def edit_known_fields(rnd: random.Random, data: bytes) -> bytes:
    """Targeted edits of the fields the loader checks."""
    description, arrays = unpack(data)
    layers = description["model"]["layers"]
    dense = [i for i, layer in enumerate(layers) if layer["type"] == "Dense"]
    i = rnd.choice(dense)
    edit = rnd.randrange(10)
    if edit == 0:
        description["format_version"] = rnd.choice([0, 2, 99, -1, 1.0, "1", True])
    elif edit == 1:
        description["format"] = rnd.choice(["numpynn-model", "numpynn-checkpoint", "x", None])
    elif edit == 2:
        rnd.choice(layers)["type"] = rnd.choice([*nn.layers.LAYER_TYPES, "Lambda", "dense"])
    elif edit == 3:
        layers[i]["params"]["W"]["shape"] = [rnd.randint(0, 6), rnd.randint(0, 6)]
    elif edit == 4:
        layers[i]["config"][rnd.choice(["n_in", "n_out"])] = rnd.choice([0, 1, 5, 10**9, 2.0])
    elif edit == 5:
        layers[i]["params"]["b"]["dtype"] = rnd.choice(["float16", "float64", "int64", "object"])
    elif edit == 6:
        description["model"]["dtype"] = rnd.choice(["float16", "float32", "float64", None])
    elif edit == 7:
        description["model"]["loss"] = rnd.choice(
            [None, {"type": "MeanSquaredError", "config": {}}, {"type": "X", "config": {}}]
        )
    elif edit == 8 and "rng" in description:
        description["rng"]["state"]["state"] = rnd.choice([-1, 2**200, "s", None, 5])
    else:
        layers.insert(rnd.randrange(len(layers) + 1), json.loads(json.dumps(rnd.choice(layers))))
    return pack(description, arrays)


def edit_arrays(rnd: random.Random, data: bytes) -> bytes:
    description, arrays = unpack(data)
    name = rnd.choice(sorted(arrays))
    array = arrays[name]
    edit = rnd.randrange(9)
    if edit == 0:
        array = array.copy()
        array.flat[rnd.randrange(array.size)] = rnd.choice([np.nan, np.inf, -np.inf])
    elif edit == 1:
        array = array.astype(rnd.choice([np.float16, np.float32, np.float64, np.int32, ">f4"]))
    elif edit == 2:
        array = np.zeros(tuple(rnd.randint(0, 5) for _ in range(rnd.randint(0, 3))), array.dtype)
    elif edit == 3:
        del arrays[name]
        array = None
    elif edit == 4:
        arrays[rnd.choice(["extra", "layers.9.W", "optimizer.m.99"])] = np.zeros(2)
    elif edit == 5:
        array = np.array([1, "a", None], dtype=object)  # harmless objects, pickled by savez
    elif edit == 6:
        array = np.asfortranarray(array.reshape(array.shape[::-1]).T) if array.ndim == 2 else array
    elif edit == 7:
        arrays[name.replace(".W", ".b").replace(".0", ".1")] = array
    if array is not None:
        arrays[name] = array
    return pack(description, arrays, compressed=edit == 8)


def replace_description(rnd: random.Random, data: bytes) -> bytes:
    _, arrays = unpack(data)
    description = rnd.choice(
        [
            json.dumps(random_json(rnd)).encode(),
            b"\xff\xfe not utf-8",
            b"{" * rnd.randint(1, 5000),
            b"[" * 50_000,
            b'{"format": NaN}',
            b'{"a": 1e999}',
            b"1" * 5000,
            rnd.randbytes(rnd.randint(0, 100)),
        ]
    )
    return pack(description, arrays)


MUTATORS: dict[str, Mutator] = {
    "flip_bits": flip_bits,
    "set_bytes": set_bytes,
    "truncate": truncate,
    "splice": splice,
    "random_bytes": random_bytes,
    "edit_json": edit_json,
    "edit_known_fields": edit_known_fields,
    "edit_arrays": edit_arrays,
    "replace_description": replace_description,
}


def mutate(rnd: random.Random, data: bytes, names: list[str]) -> bytes:
    """Apply the named mutators in turn (a structure-aware one needs a valid zip: skip it
    when an earlier mutation broke the zip)."""
    for name in names:
        try:
            data = MUTATORS[name](rnd, data)
        except Exception:  # the input of a structure-aware mutator was already broken
            continue
    return data


# --- the property ------------------------------------------------------------------------


def check(data: bytes, path: Path) -> str:
    """Write ``data`` to ``path`` and run every loader on it: each must load a working object
    or raise FileFormatError. Returns "loaded" or "rejected"; anything else propagates."""
    path.write_bytes(data)
    outcomes = []
    for loader in (nn.load, nn.load_metadata, load_checkpoint):
        try:
            result = loader(path)
        except FileFormatError:
            outcomes.append("rejected")
            continue
        model = result if isinstance(result, nn.Sequential) else getattr(result, "model", None)
        if model is not None:  # what loads must work
            assert all(np.isfinite(p).all() for p in model.parameters())
            with np.errstate(all="ignore"):
                model.forward(np.zeros((2, model.n_inputs or 3)))
        outcomes.append("loaded")
    return "loaded" if "loaded" in outcomes else "rejected"


def save_failure(data: bytes, name: str) -> Path:
    """Print the current exception and keep the input that raised it in ./fuzz-failures/."""
    traceback.print_exc()
    failures = Path("fuzz-failures")
    failures.mkdir(exist_ok=True)
    (failures / name).write_bytes(data)
    return failures / name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rnd = random.Random(args.seed)
    seeds = valid_files()
    counts: Counter[str] = Counter()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "fuzz.npz"
        n = 0
        while time.monotonic() - started < args.seconds:
            base = rnd.choice(sorted(seeds))
            names = [rnd.choice(sorted(MUTATORS)) for _ in range(rnd.choice([1, 1, 2, 3]))]
            data = mutate(rnd, seeds[base], names)
            try:
                outcome = check(data, path)
            except Exception:
                saved = save_failure(data, f"seed{args.seed}-input{n}.npz")
                print(f"FAILED on input {n} ({base}, {names}); saved to {saved}")
                return 1
            counts[outcome] += 1
            for name in names:
                counts[f"{name}:{outcome}"] += 1
            n += 1
    elapsed = time.monotonic() - started
    print(
        f"{n} inputs in {elapsed:.0f} s (seed {args.seed}): {counts['loaded']} loaded, "
        f"{counts['rejected']} rejected with FileFormatError, 0 other exceptions"
    )
    for name in sorted(MUTATORS):
        loaded, rejected = counts[f"{name}:loaded"], counts[f"{name}:rejected"]
        print(f"  {name:20} {loaded:7} loaded {rejected:7} rejected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
