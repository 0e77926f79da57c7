"""numpynn's ``fit`` against the dozen-line plain NumPy MLP, A/B in one process: the two runs
alternate (ABBA order) so that a burst of load from other processes hits both alike.

    python -m benchmarks.ab [--batches 32,128,1024] [--repeats 7] [--epochs 1] [--threads N]

Prints, per batch size, the median samples/s of each (with min-max), the median of the
per-pair ratios fit / plain, and the background load (cores used by other processes).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from typing import Any

from .data import load_mnist
from .frameworks import Numpynn, PlainNumpy, Workload
from .measure import LoadWatch


def ab(batch: int, repeats: int, epochs: int) -> dict[str, Any]:
    """Alternate plain-loop and fit runs of 784-100-10 SGD at ``batch``; rates and loads."""
    X, y, _, _ = load_mnist()
    work = Workload("ab", (784, 100, 10), batch, epochs)
    init = work.initial_weights()
    contenders = {"plain": PlainNumpy(), "fit": Numpynn()}
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    loads: list[float] = []
    for r in range(repeats):
        names = ["plain", "fit"] if r % 2 == 0 else ["fit", "plain"]
        for name in names:
            c = contenders[name]
            model = c.build(work, init)
            time.sleep(0.05)
            with LoadWatch() as watch:
                c.fit(model, work, X, y, seed=r)
            rates[name].append(len(X) * epochs / watch.seconds)
            loads.append(watch.background)
    ratios = [f / p for f, p in zip(rates["fit"], rates["plain"], strict=True)]
    return {"rates": rates, "ratio": statistics.median(ratios), "load": loads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", default="32,128,1024")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads for both")
    args = parser.parse_args()
    limit: Any = contextlib.nullcontext()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(args.threads)
    with limit:
        for batch in (int(b) for b in args.batches.split(",")):
            result = ab(batch, args.repeats, args.epochs)
            cells = []
            for name, rates in result["rates"].items():
                cells.append(
                    f"{name} {statistics.median(rates):,.0f} ({min(rates):,.0f}-{max(rates):,.0f})"
                )
            load = result["load"]
            print(
                f"batch {batch:5d}: {'; '.join(cells)}; fit/plain {result['ratio']:.3f}; "
                f"background median {statistics.median(load):.2f} max {max(load):.2f} cores",
                flush=True,
            )


if __name__ == "__main__":
    main()
