"""Timing with a watch on the rest of the machine, BLAS facts, and matrix-product ceilings."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psutil

CONTENDED_CORES = 0.25  # background CPU use (in cores) above which a measurement is flagged


class LoadWatch:
    """Measures, over a ``with`` block, the CPU time that other processes used, in cores."""

    def __enter__(self) -> LoadWatch:
        self._process = psutil.Process()
        self._busy, self._own, self._wall = self._readings()
        return self

    def __exit__(self, *exc: object) -> None:
        busy, own, wall = self._readings()
        self.seconds = wall - self._wall
        self.background = max(0.0, (busy - self._busy) - (own - self._own)) / self.seconds

    def _readings(self) -> tuple[float, float, float]:
        cpu = psutil.cpu_times()
        busy = sum(cpu) - cpu.idle - getattr(cpu, "iowait", 0.0)
        own = self._process.cpu_times()
        return busy, own.user + own.system, time.perf_counter()


@dataclass
class Sample:
    """One timed run: its rate, the background load during it, and what it returned."""

    rate: float
    background: float
    result: Any = None

    @property
    def contended(self) -> bool:
        return self.background > CONTENDED_CORES


@dataclass
class Series:
    """Repeated runs of one measurement; contended runs are kept but counted apart."""

    samples: list[Sample] = field(default_factory=list)

    def clean(self) -> list[Sample]:
        quiet = [s for s in self.samples if not s.contended]
        return quiet or self.samples

    @property
    def median(self) -> float:
        return statistics.median(s.rate for s in self.clean())

    @property
    def low(self) -> float:
        return min(s.rate for s in self.clean())

    @property
    def high(self) -> float:
        return max(s.rate for s in self.clean())

    @property
    def flagged(self) -> bool:
        """True when no quiet run was had: every figure comes from a contended run."""
        return all(s.contended for s in self.samples)

    @property
    def background(self) -> float:
        return max(s.background for s in self.clean())

    @property
    def last(self) -> Any:
        return self.samples[-1].result


def timed(
    work: Callable[[Any], Any],
    units: float,
    setup: Callable[[], Any] = lambda: None,
    retries: int = 2,
    pause: float = 0.3,
) -> Sample:
    """Time ``work(setup())`` (``setup`` untimed); rate = units / seconds; the Sample's result
    is what ``setup`` made (e.g. the trained model). A run during which other processes used
    more than CONTENDED_CORES is repeated from a new ``setup()`` (up to ``retries`` times)."""
    for attempt in range(retries + 1):
        state = setup()
        time.sleep(pause)  # let other libraries' spinning worker threads go to sleep
        with LoadWatch() as watch:
            work(state)
        sample = Sample(units / watch.seconds, watch.background, state)
        if not sample.contended or attempt == retries:
            return sample
        time.sleep(10 * pause)
    raise AssertionError("unreachable")


def blas_info() -> list[dict[str, Any]]:
    """threadpoolctl's view of every BLAS and OpenMP pool loaded in this process."""
    from threadpoolctl import threadpool_info

    keys = ("user_api", "internal_api", "prefix", "version", "architecture", "num_threads")
    pools = []
    for pool in threadpool_info():
        entry = {k: pool.get(k) for k in keys}
        entry["library"] = os.path.basename(
            os.path.dirname(pool.get("filepath", ""))
        )  # e.g. numpy.libs
        pools.append(entry)
    return pools


def torch_blas() -> str:
    """The BLAS PyTorch was built with (linked statically: threadpoolctl cannot see it)."""
    try:
        import torch
    except ImportError:
        return "not installed"
    for line in torch.__config__.show().splitlines():
        if "Math Kernel Library" in line or "OpenBLAS" in line:
            return line.strip(" -")
    return "unknown"


def machine_info() -> dict[str, Any]:
    """CPU, cores, memory, load and the library versions."""
    import numpy

    info: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)"),
    }
    info["torch_blas"] = torch_blas()
    for name in ("torch", "sklearn", "numpynn"):
        try:
            info[name] = __import__(name).__version__
        except ImportError:
            info[name] = "not installed"
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def best_seconds(work: Callable[[], Any], repeat: int, number: int) -> float:
    """The best of ``repeat`` timings of ``number`` calls, per call."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            work()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def matmul_peak(n: int = 2048, repeat: int = 5) -> float:
    """GFLOP/s of a large float32 product (n x n) @ (n x n), the best of ``repeat``."""
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    out = np.empty((n, n), np.float32)
    seconds = best_seconds(lambda: np.matmul(a, b, out=out), repeat, 1)
    return 2 * n**3 / seconds / 1e9


def step_products(sizes: list[int], batch: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The matrix products of one training step of an MLP (operands and output), as numpynn
    runs them: per layer z = x W forward; dW = x^T g and, above the first layer, dx = g W^T."""
    rng = np.random.default_rng(0)
    products = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        x = rng.random((batch, n_in), dtype=np.float32)
        W = rng.random((n_in, n_out), dtype=np.float32)
        g = rng.random((batch, n_out), dtype=np.float32)
        products.append((x, W, np.empty((batch, n_out), np.float32)))
        products.append((x.T, g, np.empty((n_in, n_out), np.float32)))
        if i > 0:
            products.append((g, W.T, np.empty((batch, n_in), np.float32)))
    return products


def step_flops(sizes: list[int], batch: int) -> float:
    """Floating-point operations of those products for one step."""
    return (
        sum(2.0 * a.shape[0] * a.shape[1] * b.shape[1] for a, b, _ in step_products(sizes, 1))
        * batch
    )


def matmul_ceiling(sizes: list[int], batch: int, seconds: float = 0.5) -> float:
    """Samples/s if a training step took only its matrix products (timed alone, into
    preallocated outputs): the most any NumPy implementation can reach."""
    products = step_products(sizes, batch)

    def step() -> None:
        for a, b, out in products:
            np.matmul(a, b, out=out)

    number = max(1, int(seconds / max(best_seconds(step, 1, 3), 1e-6)))
    return batch / best_seconds(step, 5, number)


# --- peak memory of a step -----------------------------------------------------------------


def rss_growth(step: Callable[[], Any], calls: int = 2) -> int:
    """How far the resident memory peaks above the current RSS over ``calls`` calls of
    ``step`` (bytes): Linux's VmHWM, reset first through /proc/self/clear_refs. Run it in a
    fresh process (:func:`in_fresh_process`) so nothing else has raised the peak."""
    with open("/proc/self/clear_refs", "w") as file:
        file.write("5")  # the peak RSS (VmHWM) starts again from the RSS now
    before = _status_kb("VmRSS")
    for _ in range(calls):
        step()
    return max(0, _status_kb("VmHWM") - before) * 1024


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as file:
        for line in file:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


def traced_peak(step: Callable[[], Any], calls: int = 2) -> int:
    """NumPy's peak allocation (tracemalloc) over ``calls`` calls of ``step`` (bytes): the
    arrays kept and reused from call to call, and what each call allocates."""
    tracemalloc.start()
    for _ in range(calls):
        step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def in_fresh_process(function: Callable[..., int], *args: Any) -> int:
    """``function(*args)`` run in a new (spawned) process; ``function`` must be a module-level
    function, so that the new process can import it."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_put_result, args=(queue, function, args))
    process.start()
    result = queue.get()
    process.join()
    return int(result)


def _put_result(queue: Any, function: Callable[..., int], args: tuple[Any, ...]) -> None:
    queue.put(function(*args))


def machine_lines(pool_threads: bool = False) -> list[str]:
    """The Markdown lines that name the machine of a report beside PyTorch: the CPU, its cores
    and load average, NumPy's and PyTorch's versions (with PyTorch's BLAS),
    OPENBLAS_CORETYPE and each BLAS pool threadpoolctl finds (and its threads if
    ``pool_threads``)."""
    import torch

    lines = [
        f"- CPU: {_cpu_model()}, {os.cpu_count()} cores; load average "
        f"{tuple(round(x, 2) for x in os.getloadavg())}",
        f"- NumPy {np.__version__}; PyTorch {torch.__version__} ({torch_blas()})",
        f"- OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}",
    ]
    for pool in blas_info():
        threads = f", {pool['num_threads']} threads" if pool_threads else ""
        lines.append(
            f"- threadpoolctl: {pool['internal_api']} {pool['version']} ({pool['library']}), "
            f"architecture {pool['architecture']}{threads}"
        )
    return lines
