"""Fuzz the IDX reader: random bytes and mutations of valid files (raw and gzip) must either
read into an array or raise FileFormatError; never another exception.

    PYTHONPATH=src python tests/fuzz/fuzz_idx.py --seconds 300 [--seed 1]

Any other exception stops the run, saves the input under ./fuzz-failures/ and exits 1.
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_modelfile import (
    flip_bits,
    random_bytes,
    save_failure,
    set_bytes,
    splice,
    truncate,
)

from numpynn.datasets import read_idx
from numpynn.errors import FileFormatError


def idx_file(array: np.ndarray, code: int) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


VALID = [
    idx_file(np.arange(24, dtype=np.uint8).reshape(2, 3, 4), 0x08),
    idx_file(np.arange(10, dtype=np.uint8), 0x08),
    idx_file(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), 0x0D),
    idx_file(np.arange(6, dtype=np.int16).reshape(2, 3), 0x0B),
]


def edit_header(rnd: random.Random, data: bytes) -> bytes:
    """Set one header field (type code, number of dimensions, a dimension) to an odd value."""
    out = bytearray(data)
    if len(out) < 4:
        return data
    field = rnd.choice(["code", "ndim", "dim"])
    if field == "code":
        out[2] = rnd.choice([0x00, 0x07, 0x08, 0x0A, 0x0D, 0x0F, 0xFF])
    elif field == "ndim":
        out[3] = rnd.choice([0, 1, 2, 3, 4, 200, 255])
    elif len(out) >= 8:
        offset = 4 + 4 * rnd.randrange(max(1, min(out[3], (len(out) - 4) // 4)))
        value = rnd.choice([0, 1, 2**31, 2**32 - 1, rnd.randrange(2**32)])
        out[offset : offset + 4] = value.to_bytes(4, "big")
    return bytes(out)


MUTATORS = [flip_bits, set_bytes, truncate, splice, edit_header, random_bytes]


def one_input(rnd: random.Random) -> bytes:
    data = rnd.choice(VALID)
    for _ in range(rnd.randint(0, 3)):
        data = rnd.choice(MUTATORS)(rnd, data)
    if rnd.random() < 0.3:
        data = gzip.compress(data)
        if rnd.random() < 0.5:
            data = rnd.choice([flip_bits, truncate, splice])(rnd, data)
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    while time.monotonic() - started < args.seconds:
        data = one_input(rnd)
        try:
            read_idx(data)
            outcomes["read"] += 1
        except FileFormatError:
            outcomes["FileFormatError"] += 1
        except Exception:
            path = save_failure(data, f"idx-seed{args.seed}-{sum(outcomes.values())}.bin")
            print(f"unexpected exception; input saved to {path}", file=sys.stderr)
            return 1
    total = sum(outcomes.values())
    print(f"{total} inputs in {time.monotonic() - started:.0f} s: {dict(outcomes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
