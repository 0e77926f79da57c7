"""numpynn against PyTorch, scikit-learn and a per-sample loop, interleaved in one process.

    python -m benchmarks.run                  # the full suite (about 8 minutes, 2 cores)
    python -m benchmarks.run --smoke          # tiny sizes, seconds: keeps the suite alive in CI
    python -m benchmarks.run --only headline  # the training ratios and matmul figures only

Prints a Markdown report (``--output FILE`` writes it too; ``--json FILE`` the raw figures).
Each figure is the median of ``--reps`` runs (min-max beside it); the runs of the contenders
alternate, and a run during which other processes used more than a quarter of a core is
repeated and, if still contended, flagged.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from numpynn.atomic import atomic_write_text

from . import measure
from .data import load_mnist
from .frameworks import Numpynn, NumpynnThreads, PerSample, PlainNumpy, Sklearn, Torch, Workload


@dataclass
class Config:
    n_train: int | None  # None: all 60,000
    n_test: int | None
    reps: int
    epochs: int  # for the 784-100-10 workloads
    wide: tuple[int, ...]
    peak_size: int
    latency_calls: int
    memory_epochs: int
    retries: int  # extra runs when a run was contended
    pause: float  # seconds of rest before each run
    ceiling_seconds: float


FULL = Config(None, None, 3, 3, (784, 1024, 1024, 10), 2048, 2000, 1, 2, 0.3, 0.5)
SMOKE = Config(2000, 500, 1, 1, (784, 64, 64, 10), 256, 50, 1, 0, 0.0, 0.02)
THREADS = os.cpu_count() or 1  # BLAS and PyTorch threads; --threads changes it


@dataclass
class Result:
    """One workload: a Series of samples/s per contender, accuracies, and extra figures."""

    work: Workload | None
    title: str
    series: dict[str, measure.Series] = field(default_factory=dict)
    accuracy: dict[str, float] = field(default_factory=dict)
    extra: dict[str, float] = field(default_factory=dict)

    def ratio(self, a: str, b: str) -> float:
        return self.series[a].median / self.series[b].median


def train_workload(
    work: Workload, contenders: list[Any], data: tuple[np.ndarray, ...], cfg: Config
) -> Result:
    X, y, X_test, y_test = data
    init = work.initial_weights()
    result = Result(work, work.name)
    inputs = {c.name: (c.prepare(X), _labels(c, y), c.prepare(X_test)) for c in contenders}
    accuracies: dict[str, list[float]] = {c.name: [] for c in contenders}
    warm_up = replace(work, epochs=1)
    for contender in contenders:  # untimed: one-time set-up costs (PyTorch's first call)
        X_c, y_c, _ = inputs[contender.name]
        with np.errstate(over="ignore"):
            contender.fit(
                contender.build(warm_up, init),
                warm_up,
                X_c[: 4 * work.batch],
                y_c[: 4 * work.batch],
                0,
            )
    for rep in range(cfg.reps):
        for contender in contenders:  # interleaved: each rep runs every contender once
            X_c, y_c, X_test_c = inputs[contender.name]
            with np.errstate(over="ignore"):  # the per-sample loop's exp(-z) on large z
                sample = measure.timed(
                    lambda m, c=contender, Xc=X_c, yc=y_c, r=rep: c.fit(m, work, Xc, yc, r),
                    units=len(X) * work.epochs,
                    setup=lambda c=contender: c.build(work, init),  # a new model per run
                    retries=cfg.retries,
                    pause=cfg.pause,
                )
            result.series.setdefault(contender.name, measure.Series()).samples.append(sample)
            _progress(contender.name, sample)
            accuracies[contender.name].append(
                float(np.mean(contender.predict(sample.result, X_test_c) == y_test))
            )
    result.accuracy = {name: float(np.mean(acc)) for name, acc in accuracies.items()}
    return result


def inference_workload(
    title: str, batch: int, contenders: list[Any], data: tuple[np.ndarray, ...], cfg: Config
) -> Result:
    """Samples/s of predict (class labels) on batches of ``batch`` test rows."""
    X, y, X_test, _ = data
    work = Workload(title, (784, 100, 10), 128, 1)
    init = work.initial_weights()
    result = Result(work, title)
    models = {}
    for contender in contenders:
        models[contender.name] = model = contender.build(work, init)
        if isinstance(contender, Sklearn):  # it predicts only once fitted: one short epoch
            contender.fit(model, work, X[:1000], y[:1000], seed=0)
    n_calls = cfg.latency_calls if batch == 1 else 1
    rows = [X_test[i * batch : (i + 1) * batch] for i in range(n_calls)]
    for _ in range(cfg.reps):
        for contender in contenders:
            model, batches = models[contender.name], [contender.prepare(r) for r in rows]

            def work_fn(
                _: Any, c: Any = contender, m: Any = model, bs: list[Any] = batches
            ) -> None:
                for b in bs:
                    c.predict(m, b)

            units = sum(len(r) for r in rows)
            sample = measure.timed(work_fn, units, retries=cfg.retries, pause=cfg.pause)
            result.series.setdefault(contender.name, measure.Series()).samples.append(sample)
    return result


def memory_figures(data: tuple[np.ndarray, ...], cfg: Config) -> dict[str, dict[str, float]]:
    """Peak RSS of a 784-100-10 batch-128 training run per framework, each in a new process."""
    X, y = data[0], data[1]
    figures = {}
    with tempfile.TemporaryDirectory() as directory:
        np.save(Path(directory) / "X.npy", X)
        np.save(Path(directory) / "y.npy", y)
        for name in ("numpynn", "torch", "sklearn"):
            command = [
                sys.executable,
                "-m",
                "benchmarks.memory",
                name,
                directory,
                str(cfg.memory_epochs),
                "128",
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            figures[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _progress(name: str, sample: measure.Sample) -> None:
    flag = " (contended)" if sample.contended else ""
    print(
        f"    {name}: {sample.rate:,.0f}/s, background {sample.background:.2f}{flag}",
        file=sys.stderr,
    )


def _labels(contender: Any, y: np.ndarray) -> Any:
    return contender.prepare(y) if isinstance(contender, Torch) else y


def run(cfg: Config, only: str) -> dict[str, Any]:
    X, y, X_test, y_test = load_mnist()
    if cfg.n_train:
        X, y, X_test, y_test = (
            X[: cfg.n_train],
            y[: cfg.n_train],
            X_test[: cfg.n_test],
            y_test[: cfg.n_test],
        )
    data = (X, y, X_test, y_test)
    numpynn_, torch_, sk_sgd, sk_adam = Numpynn(), Torch(THREADS), Sklearn("sgd"), Sklearn("adam")
    one_thread, plain = NumpynnThreads(1), PlainNumpy()
    report: dict[str, Any] = {"machine": measure.machine_info(), "blas": measure.blas_info()}
    report["matmul_peak_gflops"] = measure.matmul_peak(cfg.peak_size)
    report["peak_size"] = cfg.peak_size
    report["n_train"], report["n_test"] = len(X), len(X_test)
    e = cfg.epochs
    mlp = (784, 100, 10)
    sgd_contenders = [numpynn_, torch_, sk_sgd, plain]
    if THREADS > 1:
        sgd_contenders.append(one_thread)
    trainings = [
        (Workload("784-100-10, batch 32, SGD", mlp, 32, e), sgd_contenders),
        (Workload("784-100-10, batch 128, SGD", mlp, 128, e), sgd_contenders),
        (Workload("784-100-10, batch 1024, SGD", mlp, 1024, e), sgd_contenders),
        (
            Workload("wide 784-1024-1024-10, batch 128, SGD", cfg.wide, 128, 1, lr=0.05),
            sgd_contenders,
        ),
    ]
    if only == "all":
        trainings += [
            (
                Workload("784-100-10, batch 128, Adam", mlp, 128, e, "adam", 1e-3),
                [numpynn_, torch_, sk_adam],
            ),
            (
                Workload(
                    "Nielsen [784,30,10] sigmoid+MSE, batch 10",
                    (784, 30, 10),
                    10,
                    1,
                    lr=3.0,
                    activation="sigmoid",
                    cost="mse",
                ),
                [numpynn_, PerSample()],
            ),
            (
                Workload(
                    "Nielsen [784,30,10] sigmoid+MSE, batch 128",
                    (784, 30, 10),
                    128,
                    1,
                    lr=3.0,
                    activation="sigmoid",
                    cost="mse",
                ),
                [numpynn_, PerSample()],
            ),
        ]
    results = []
    for work, contenders in trainings:
        print(f"... {work.name}", file=sys.stderr, flush=True)
        result = train_workload(work, contenders, data, cfg)
        flops = measure.step_flops(list(work.sizes), work.batch) / work.batch  # per sample
        result.extra["ceiling"] = measure.matmul_ceiling(
            list(work.sizes), work.batch, cfg.ceiling_seconds
        )
        result.extra["gflops"] = result.series["numpynn"].median * flops / 1e9
        results.append(result)
    if only == "all":
        for title, batch in (("inference, batch 10,000", len(X_test)), ("inference, batch 1", 1)):
            print(f"... {title}", file=sys.stderr, flush=True)
            results.append(inference_workload(title, batch, [numpynn_, torch_, sk_sgd], data, cfg))
        print("... memory", file=sys.stderr, flush=True)
        report["memory"] = memory_figures(data, cfg)
    report["blas_after"] = measure.blas_info()
    report["results"] = results
    return report


# --- the report ------------------------------------------------------------------------


def _rate(series: measure.Series) -> str:
    flag = " (contended)" if series.flagged else ""
    return f"{series.median:,.0f} ({series.low:,.0f}-{series.high:,.0f}){flag}"


def targets(report: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(what, measured, target, met) for each target of issue 6."""
    by_title = {r.title: r for r in report["results"]}
    peak = report["matmul_peak_gflops"]
    rows = []

    def ratio(title: str, other: str, goal: float, label: str) -> None:
        if title in by_title and other in by_title[title].series:
            value = by_title[title].ratio("numpynn", other)
            rows.append(
                (f"{label}: numpynn / {other}", f"{value:.2f}x", f">= {goal}x", value >= goal)
            )

    b128, b32 = "784-100-10, batch 128, SGD", "784-100-10, batch 32, SGD"
    b1024 = "784-100-10, batch 1024, SGD"
    wide = next((t for t in by_title if t.startswith("wide")), "")
    ratio(b128, "PyTorch", 1.6, "train batch 128")
    ratio(b128, "scikit-learn sgd", 1.6, "train batch 128")
    if b128 in by_title:
        r = by_title[b128]
        share = r.series["numpynn"].median / r.extra["ceiling"]
        rows.append(
            ("train batch 128: share of the matmul ceiling", f"{share:.0%}", ">= 80%", share >= 0.8)
        )
    for title, goal, label in (
        (b128, 1.6, "train batch 128"),
        (b32, 1.6, "train batch 32"),
        (b1024, 1.3, "train batch 1024"),
    ):
        if title in by_title and "numpynn threads=1" in by_title[title].series:
            value = by_title[title].ratio("numpynn threads=1", "PyTorch")
            rows.append(
                (
                    f"{label}: numpynn threads=1 / PyTorch",
                    f"{value:.2f}x",
                    f">= {goal}x",
                    value >= goal,
                )
            )
    ratio(b32, "PyTorch", 1.6, "train batch 32")
    ratio(b1024, "PyTorch", 1.3, "train batch 1024")
    ratio(wide, "PyTorch", 1.2, "train wide batch 128")
    if wide:
        share = by_title[wide].extra["gflops"] / peak
        rows.append(
            (
                "train wide batch 128: share of float32 matmul peak",
                f"{share:.0%}",
                ">= 85%",
                share >= 0.85,
            )
        )
    for title, goal in (
        ("Nielsen [784,30,10] sigmoid+MSE, batch 10", 4),
        ("Nielsen [784,30,10] sigmoid+MSE, batch 128", 20),
    ):
        ratio(title, "per-sample loop", goal, title.replace(" sigmoid+MSE", ""))
    ratio("inference, batch 10,000", "PyTorch", 1.3, "inference batch 10,000")
    ratio("inference, batch 1", "PyTorch", 1.0, "inference batch 1 (rate; >= 1 means latency <=)")
    for r in report["results"]:
        if r.accuracy and "PyTorch" in r.accuracy:
            gap = 100 * abs(r.accuracy["numpynn"] - r.accuracy["PyTorch"])
            rows.append(
                (f"accuracy gap to PyTorch, {r.title}", f"{gap:.2f} points", "<= 0.3", gap <= 0.3)
            )
    if "memory" in report:
        m = report["memory"]["numpynn"]
        limit = m["data_mb"] + 150
        peak = m["peak_mb"]
        goal = f"<= {limit:.0f} MB (data + 150)"
        rows.append(("numpynn training peak RSS", f"{peak:.0f} MB", goal, peak <= limit))
    return rows


def markdown(report: dict[str, Any], command: str) -> str:
    m = report["machine"]
    lines = [
        f"Command: `{command}`  ",
        f"Date: {m['date']}; {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; load average "
        f"before the run {m['load_average']}  ",
        f"Python {m['python']}, NumPy {m['numpy']}, numpynn {m['numpynn']}, PyTorch {m['torch']} "
        f"(threads {THREADS}), scikit-learn {m['sklearn']}  ",
        f"OPENBLAS_CORETYPE={m['OPENBLAS_CORETYPE']}, OPENBLAS_L2_SIZE={m['OPENBLAS_L2_SIZE']}; "
        f"MNIST {report['n_train']:,} training rows (float32, in memory), "
        f"{report['n_test']:,} test rows",
        "",
        "BLAS and thread pools (threadpoolctl):",
        "",
        "| user_api | internal_api | prefix | version | architecture | threads | loaded from |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for pool in report["blas_after"]:
        keys = (
            "user_api",
            "internal_api",
            "prefix",
            "version",
            "architecture",
            "num_threads",
            "library",
        )
        lines.append("| " + " | ".join(str(pool[k]) for k in keys) + " |")
    lines += [
        "",
        f"PyTorch's own BLAS: {m['torch_blas']}  ",
        f"float32 matmul peak (NumPy, two {report['peak_size']}x{report['peak_size']} "
        f"matrices): {report['matmul_peak_gflops']:.0f} GFLOP/s",
        "",
        "Samples/s, median of the runs (min-max); background = most CPU (in cores) that other "
        "processes used during a counted run:",
        "",
        "| workload | numpynn | PyTorch | scikit-learn | per-sample loop | numpynn / PyTorch | "
        "numpynn / sklearn | numpynn / loop | test accuracy (numpynn / PyTorch / sklearn / loop) "
        "| matmul-only ceiling | numpynn GFLOP/s | background |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in report["results"]:
        s = r.series
        sk = next((k for k in s if k.startswith("scikit")), None)

        def cell(name: str | None, ser: dict[str, measure.Series] = s) -> str:
            return _rate(ser[name]) if name in ser else "-"

        def rat(name: str | None, res: Result = r) -> str:
            return f"{res.ratio('numpynn', name):.2f}x" if name in res.series else "-"

        acc = (
            " / ".join(
                f"{100 * r.accuracy[k]:.2f}" if k in r.accuracy else "-"
                for k in ("numpynn", "PyTorch", sk, "per-sample loop")
            )
            if r.accuracy
            else "-"
        )
        ceiling = f"{r.extra['ceiling']:,.0f}" if "ceiling" in r.extra else "-"
        gflops = f"{r.extra['gflops']:.0f}" if "gflops" in r.extra else "-"
        background = max(x.background for x in s.values())
        title = r.title + (f" ({sk})" if sk else "")
        lines.append(
            f"| {title} | {cell('numpynn')} | {cell('PyTorch')} | {cell(sk)} | "
            f"{cell('per-sample loop')} | {rat('PyTorch')} | {rat(sk)} | {rat('per-sample loop')} "
            f"| {acc} | {ceiling} | {gflops} | {background:.2f} |"
        )
    extra = [r for r in report["results"] if "plain NumPy" in r.series]
    if extra:
        lines += [
            "",
            "The same runs, two more contenders: the dozen-line plain NumPy MLP (issue 6's "
            "calibration) and numpynn with `fit(threads=1)` (one BLAS thread; PyTorch keeps "
            f"{THREADS}):",
            "",
            "| workload | plain NumPy | plain NumPy / PyTorch | numpynn threads=1 | "
            "numpynn threads=1 / PyTorch | numpynn threads=1 / sklearn |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for r in extra:
            sk = next(k for k in r.series if k.startswith("scikit"))
            one = "numpynn threads=1"
            if one in r.series:
                cells = (
                    f"{_rate(r.series[one])} | {r.ratio(one, 'PyTorch'):.2f}x | "
                    f"{r.ratio(one, sk):.2f}x"
                )
            else:
                cells = "- | - | -"
            lines.append(
                f"| {r.title} | {_rate(r.series['plain NumPy'])} | "
                f"{r.ratio('plain NumPy', 'PyTorch'):.2f}x | {cells} |"
            )
    latency = next((r for r in report["results"] if r.title == "inference, batch 1"), None)
    if latency:
        latencies = [f"{name} {1e6 / ser.median:.1f} us" for name, ser in latency.series.items()]
        lines += ["", "Batch-1 latency (median): " + ", ".join(latencies)]
    if "memory" in report:
        lines += ["", "Peak RSS of a 784-100-10 training run, each in a new process (MB):", ""]
        lines += ["| framework | before data | data | peak |", "| --- | --- | --- | --- |"]
        for name, fig in report["memory"].items():
            figures = (fig["before_data_mb"], fig["data_mb"], fig["peak_mb"])
            lines.append(f"| {name} | " + " | ".join(f"{x:.0f}" for x in figures) + " |")
    lines += [
        "",
        "Targets (issue 6):",
        "",
        "| target | measured | goal | met |",
        "| --- | --- | --- | --- |",
    ]
    for what, value, goal, met in targets(report):
        lines.append(f"| {what} | {value} | {goal} | {'yes' if met else '**no**'} |")
    return "\n".join(lines) + "\n"


def _jsonable(report: dict[str, Any]) -> dict[str, Any]:
    out = dict(report)
    out["results"] = [
        {
            "title": r.title,
            "accuracy": r.accuracy,
            "extra": r.extra,
            "samples": {
                k: [(s.rate, s.background) for s in v.samples] for k, v in r.series.items()
            },
        }
        for r in report["results"]
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    global THREADS
    import sklearn.neural_network  # noqa: F401  (load every BLAS before limiting threads)
    import torch  # noqa: F401

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: runs in seconds")
    parser.add_argument("--only", choices=("all", "headline"), default="all")
    parser.add_argument("--reps", type=int, help="repetitions per measurement (default 3)")
    parser.add_argument("--output", type=Path, help="also write the Markdown report here")
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    parser.add_argument(
        "--threads", type=int, default=THREADS, help=f"BLAS and PyTorch threads (default {THREADS})"
    )
    args = parser.parse_args(argv)
    cfg = SMOKE if args.smoke else FULL
    if args.reps:
        cfg = replace(cfg, reps=args.reps)
    THREADS = args.threads
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=THREADS, user_api="blas"):
        report = run(cfg, args.only)
    command = "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None else argv)
    text = markdown(report, command.strip())
    print(text)
    if args.output:
        atomic_write_text(args.output, text)
    if args.json:
        atomic_write_text(args.json, json.dumps(_jsonable(report), indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
