"""How many threads ``numpynn train`` uses: ``--threads N``, or ``auto``, the cores measured
idle now; an MLP's threads go to the BLAS, a convnet's to workers that each train on a share of
every batch (one BLAS thread each)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import time

from . import report
from .config import TrainConfig, parse_setting
from .errors import CLIError
from .text_config import TextConfig


def threads_option(text: str) -> int | str:
    """The argparse type of ``--threads``: a positive integer, or "auto"."""
    if text == "auto":
        return text
    try:
        return parse_setting("blas_threads", text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or auto, got {text!r}"
        ) from None


def apply_thread_policy(
    cfg: TrainConfig | TextConfig, option: int | str, resume: bool, quiet: bool
) -> int | None:
    """Settle the threads of the run ``cfg`` from ``--threads`` (``option``): sets
    ``cfg.blas_threads`` (and ``cfg.workers`` for a convnet), says which and why unless
    ``quiet``, and returns the BLAS threads to limit training to (None: the BLAS default).
    ``--resume`` with ``auto`` keeps the run's own."""
    threads: int | None
    runs_own = option == "auto" and resume and cfg.blas_threads is not None
    if runs_own:
        threads, why = cfg.blas_threads, "the run's own; --threads N to change it"
    elif isinstance(option, int):
        threads, why = option, f"--threads {option}"
    else:
        threads, measured = auto_threads()
        why = f"--threads auto: {measured}"
    if threads is not None and importlib.util.find_spec("threadpoolctl") is None:
        raise CLIError("--threads needs threadpoolctl: pip install 'numpynn[cli]'", 1)
    if isinstance(cfg, TrainConfig) and cfg.network == "cnn" and not runs_own:
        # A convnet's element-wise passes stay on one core whatever the BLAS threads: its
        # threads go to workers that each take a share of every batch, one BLAS thread each.
        cfg.workers, threads = threads or blas_threads() or os.cpu_count() or 1, 1
    if not quiet:
        n = threads or blas_threads()
        count = f"{n} BLAS thread{'s' * (n != 1)}" if n else "the BLAS default threads"
        count += "" if threads else " (the BLAS default)"
        if isinstance(cfg, TrainConfig) and (cfg.workers or 1) > 1:
            count = f"{cfg.workers} workers with {count} each"
        print(f"using {count} ({why})")
    cfg.blas_threads = threads or blas_threads()
    return threads


def auto_threads() -> tuple[int | None, str]:
    """The BLAS threads for the cores other processes leave idle now, and why: (None, why) on
    an idle machine (the BLAS default: every core), else (the idle cores rounded, at least 1,
    why). BLAS threads that share a core with another process wait for each other at every
    matrix product, so on a busy machine fewer threads train faster (measured in docs/cli.md).
    The idle time is measured over 0.2 s (/proc/stat); the 1-minute load average,
    used only where /proc/stat is missing, still counts runs that ended a minute ago."""
    cores = os.cpu_count() or 1
    measured = idle_cores(0.2)
    if measured is not None:
        idle, how = min(measured, cores), "idle over the last 0.2 s"
    else:
        try:
            idle, how = max(0.0, cores - os.getloadavg()[0]), "idle by the 1-minute load average"
        except OSError:  # not available on this platform
            return None, "no measure of the load on this platform: the BLAS default"
    why = f"{idle:.1f} of {cores} cores {how}"
    if idle > cores - 0.5:
        return None, why
    return max(1, round(idle)), why


def idle_cores(seconds: float) -> float | None:
    """How many cores were idle, on average, over the next ``seconds`` (from the kernel's CPU
    time counters in /proc/stat; None where there is none)."""

    def counters() -> tuple[int, int, int]:
        with open("/proc/stat") as f:
            lines = f.read().splitlines()
        # cpu  user nice system idle iowait irq softirq steal ...  (in clock ticks)
        ticks = [int(v) for v in lines[0].split()[1:9]]
        n_cpus = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
        return ticks[3] + ticks[4], sum(ticks), n_cpus

    try:
        idle0, total0, n_cpus = counters()
        time.sleep(seconds)
        idle1, total1, _ = counters()
    except (OSError, ValueError, IndexError):
        return None
    if total1 <= total0:
        return None
    return n_cpus * (idle1 - idle0) / (total1 - total0)


def blas_threads() -> int | None:
    """The number of threads NumPy's BLAS uses by default (None without threadpoolctl)."""
    counts = [pool["num_threads"] for pool in report.thread_pools() if pool["user_api"] == "blas"]
    return max(counts) if counts else None
