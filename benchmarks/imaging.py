"""How well ``numpynn predict``'s cleaning reads pictures of MNIST test digits: each digit drawn
in every style of tests/test_imaging.py (photos of paper: shaded, noisy, small, off-centre,
thick, thin, on a table; clean canvases), preprocessed and classified by MODEL.

    python -m benchmarks.imaging MODEL [--first 0] [--n 200]

Prints, per style, the share read as the digit drawn (and how many had "no digit found"),
beside the share of the same digits read right as MNIST gives them. The pictures are seeded
(1000 + the style's index), so a run repeats exactly. The figures are in docs/cli.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import numpynn
from numpynn.errors import NoDigitError
from numpynn.imaging import preprocess_digit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_imaging import STYLES  # the pictures the tests make: one generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", metavar="MODEL")
    parser.add_argument("--first", type=int, default=0, help="first test digit (default 0)")
    parser.add_argument("--n", type=int, default=200, help="how many digits (default 200)")
    args = parser.parse_args()
    model = numpynn.load(args.model)
    _, (X, y) = numpynn.datasets.load_mnist()
    X, y = X[args.first : args.first + args.n].reshape(-1, 28, 28), y[args.first :][: args.n]
    print(f"test digits {args.first}-{args.first + len(y) - 1}: as MNIST gives them", end=" ")
    print(f"{np.mean(model.predict(X.reshape(len(y), -1)) == y):.2%}")
    shares = []
    for k, (style, picture) in enumerate(STYLES.items()):
        rng = np.random.default_rng(1000 + k)
        inputs, missed = [], 0
        for digit in X:
            try:
                inputs.append(preprocess_digit(picture(digit, rng)))
            except NoDigitError:
                inputs.append(np.zeros((28, 28), np.float32))  # counts as wrong
                missed += 1
        shares.append(np.mean(model.predict(np.stack(inputs).reshape(len(y), -1)) == y))
        print(f"{style:35s} {shares[-1]:7.2%}  no digit found: {missed}")
    print(f"{'all ' + str(len(shares) * len(y)) + ' pictures':35s} {np.mean(shares):7.2%}")


if __name__ == "__main__":
    main()
