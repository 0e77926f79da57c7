"""Would splitting each batch over two Python threads speed up the preset's training step?

    PYTHONPATH=src python -m benchmarks.split_threads [--repeats 5]

An upper bound on throughput, not a training method: one model steps on batches of 128 on one
thread, against two independent models stepping on batches of 64 at the same time, each on
its own Python thread (NumPy releases the GIL in its loops and in BLAS), one BLAS thread in
all. Real data parallelism would also have to share BatchNorm's batch statistics and sum the
gradients before one Adam step; neither is done here.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from threadpoolctl import threadpool_limits

from numpynn.datasets import load_mnist

from . import conv
from .conv_training import NumpynnTrainer, first_batches, preset
from .measure import LoadWatch

STEPS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    (X, y), _ = load_mnist(shape="images")
    with threadpool_limits(1), ThreadPoolExecutor(2) as pool, LoadWatch() as watch:
        one = NumpynnTrainer(preset(), first_batches(X, y, 128, STEPS))
        halves = [
            NumpynnTrainer(preset(), first_batches(X, y, 64, STEPS)),
            NumpynnTrainer(preset(), first_batches(X, y, 64, STEPS, start=64 * STEPS)),
        ]

        def run_one() -> float:
            start = time.perf_counter()
            for i in range(STEPS):
                one.step(i)
            return 128 * STEPS / (time.perf_counter() - start)

        def run_two() -> float:
            start = time.perf_counter()
            for i in range(STEPS):
                for future in [pool.submit(half.step, i) for half in halves]:
                    future.result()
            return 128 * STEPS / (time.perf_counter() - start)

        run_one(), run_two()  # warm up
        one_thread, two_threads = [], []
        for _ in range(args.repeats):
            one_thread.append(run_one())
            two_threads.append(run_two())
    print(conv.machine(1, watch.background))
    a, b = statistics.median(one_thread), statistics.median(two_threads)
    print(f"one thread, batches of 128:         {a:6.0f} samples/s (median of {args.repeats})")
    print(f"two threads, two batches of 64 each: {b:6.0f} samples/s ({b / a:.2f}x)")


if __name__ == "__main__":
    main()
