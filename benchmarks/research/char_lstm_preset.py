"""Research for the ``char-lstm`` preset (issue 23): a character LSTM on tiny Shakespeare.

Model: Embedding(65, embed) + LSTM(embed, hidden, return_sequences=True) x layers +
Dense(hidden, 65) + Softmax, trained on random windows of the training stream (block ids ->
the next ids) with AdamW (clipnorm 1), the learning rate warmed up then cosine-decayed per
step. Two commands:

``time``: one training step's time (forward, loss, backward, optimiser; ``fit`` on windows
already drawn) for each size given, numpynn and ``torch.nn.LSTM`` (the same network,
torch.optim.AdamW and clip_grad_norm_), at the thread counts given; median of ``--repeats``
steps after two warm-up steps, with the background load::

    PYTHONPATH=src python -m benchmarks.research.char_lstm_preset time \
        --sizes 256x1x64x32,512x1x64x32 --threads 1 2

(a size is HIDDENxLAYERSxBLOCKxBATCH; the embedding is ``--embed``).

``train``: train one size for ``--steps`` steps (or until ``--cpu-minutes`` of training CPU
time), the validation loss (mean over 500 windows at evenly spaced starts of the validation
stream, in nats per character) every ``--eval-every`` steps::

    PYTHONPATH=src python -m benchmarks.research.char_lstm_preset train \
        --hidden 512 --layers 1 --block 64 --batch 32 --steps 3000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

import numpy as np

import numpynn as nn
from benchmarks.measure import LoadWatch
from benchmarks.research.names_preset import StepSchedule, user_time

DATA_DIR = "/work/shared/data"
VOCAB = 65


def windows(ids: np.ndarray, starts: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """X (k, block) = ids[s : s + block] for each start s, Y the ids one further."""
    idx = starts[:, None] + np.arange(block)
    return ids[idx], ids[idx + 1]


def random_windows(ids: np.ndarray, k: int, block: int, rng: np.random.Generator) -> tuple:
    return windows(ids, rng.integers(0, len(ids) - block - 1, k), block)


def validation_windows(ids: np.ndarray, block: int, count: int = 500) -> tuple:
    """``count`` windows at evenly spaced starts of the validation stream."""
    starts = np.linspace(0, len(ids) - block - 1, count).astype(np.int64)
    return windows(ids, starts, block)


def build(embed: int, hidden: int, layers: int, seed: int) -> nn.Sequential:
    seeds = np.random.default_rng(seed).integers(2**31, size=layers + 2)
    stack: list[Any] = [nn.Embedding(VOCAB, embed, seed=int(seeds[0]))]
    n_in = embed
    for i in range(layers):
        stack.append(nn.LSTM(n_in, hidden, return_sequences=True, seed=int(seeds[1 + i])))
        n_in = hidden
    stack += [nn.Dense(hidden, VOCAB, seed=int(seeds[-1])), nn.Softmax()]
    return nn.Sequential(*stack)


def torch_model(embed: int, hidden: int, layers: int) -> Any:
    import torch

    class CharLSTM(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding(VOCAB, embed)
            self.lstm = torch.nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
            self.head = torch.nn.Linear(hidden, VOCAB)

        def forward(self, x: Any) -> Any:
            return self.head(self.lstm(self.emb(x))[0])

    return CharLSTM()


def parse_size(text: str) -> tuple[int, int, int, int]:
    hidden, layers, block, batch = (int(v) for v in text.split("x"))
    return hidden, layers, block, batch


def time_numpynn(size: tuple, embed: int, threads: int, repeats: int, data: Any) -> tuple:
    """Seconds of one training step through ``fit``, wall and CPU (the mean over ``repeats``
    steps of one fit call, after a fit of two warm-up steps)."""
    hidden, layers, block, batch = size
    model = build(embed, hidden, layers, seed=0)
    optimizer = nn.AdamW(lr=1e-3, beta2=0.99, weight_decay=0.1, clipnorm=1.0)
    rng = np.random.default_rng(0)
    X, Y = random_windows(data.train, batch * (repeats + 2), block, rng)
    # one fit over all the batches: per-batch times from the total after two warm-up steps
    model.fit(
        X[: 2 * batch],
        Y[: 2 * batch],
        optimizer=optimizer,
        epochs=1,
        batch_size=batch,
        shuffle=False,
        threads=threads,
    )
    t0, c0 = time.perf_counter(), user_time()
    model.fit(
        X[2 * batch :],
        Y[2 * batch :],
        optimizer=optimizer,
        epochs=1,
        batch_size=batch,
        shuffle=False,
        threads=threads,
    )
    return (time.perf_counter() - t0) / repeats, (user_time() - c0) / repeats


def time_torch(size: tuple, embed: int, threads: int, repeats: int, data: Any) -> tuple:
    """Seconds of one training step of the same network in PyTorch, wall and CPU (medians
    over ``repeats`` steps after two warm-up steps)."""
    import torch

    hidden, layers, block, batch = size
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torch_model(embed, hidden, layers)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    rng = np.random.default_rng(0)
    X, Y = random_windows(data.train, batch * (repeats + 2), block, rng)
    X, Y = torch.from_numpy(X), torch.from_numpy(Y)
    times, cpu = [], []
    for i in range(repeats + 2):
        x, y = X[i * batch : (i + 1) * batch], Y[i * batch : (i + 1) * batch]
        t0, c0 = time.perf_counter(), user_time()
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
        cpu.append(user_time() - c0)
    return statistics.median(times[2:]), statistics.median(cpu[2:])


def command_time(args: argparse.Namespace) -> None:
    data = nn.datasets.load_shakespeare(data_dir=DATA_DIR)
    print(f"embed {args.embed}, repeats {args.repeats}; load {os.getloadavg()}")
    print(
        "| hidden x layers x block x batch | threads | numpynn ms/step (cpu) "
        "| torch ms/step (cpu) | numpynn / torch samples/s (by cpu) | numpynn tokens/s "
        "| steps in 8 min | background |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for text in args.sizes.split(","):
        size = parse_size(text)
        for threads in args.threads:
            with LoadWatch() as watch:
                ours, ours_cpu = time_numpynn(size, args.embed, threads, args.repeats, data)
                theirs, theirs_cpu = (
                    time_torch(size, args.embed, threads, args.repeats, data)
                    if not args.no_torch
                    else (float("nan"), float("nan"))
                )
            tokens = size[2] * size[3] / ours
            print(
                f"| {text} | {threads} | {ours * 1e3:.1f} ({ours_cpu * 1e3:.1f}) | "
                f"{theirs * 1e3:.1f} ({theirs_cpu * 1e3:.1f}) | {theirs / ours:.2f}x "
                f"({theirs_cpu / ours_cpu:.2f}x) | {tokens:.0f} | {480 / ours:.0f} | "
                f"{watch.background:.2f} |",
                flush=True,
            )


class TorchRun:
    """The same training in PyTorch (torch's default initialisation, torch.optim.AdamW in
    nanoGPT's two groups: decay on the 2-D weights only, clip_grad_norm_ 1.0), one thread
    per ``threads``, for the loss-parity check of the issue's char-lstm target."""

    def __init__(self, args: argparse.Namespace, schedule: StepSchedule) -> None:
        import torch

        torch.manual_seed(args.seed)
        torch.set_num_threads(args.threads)
        self.torch, self.schedule = torch, schedule
        self.model = torch_model(args.embed, args.hidden, args.layers)
        params = list(self.model.parameters())
        groups = [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": args.wd},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]
        self.opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, args.beta2))
        self.batch = args.batch

    def loss(self, x: Any, y: Any) -> Any:
        logits = self.model(x)
        return self.torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))

    def fit(self, X: np.ndarray, Y: np.ndarray) -> float:
        X, Y = self.torch.from_numpy(X), self.torch.from_numpy(Y)
        total = 0.0
        for i in range(0, len(X), self.batch):
            for group in self.opt.param_groups:
                group["lr"] = self.schedule.lr(self.schedule.step)
            loss = self.loss(X[i : i + self.batch], Y[i : i + self.batch])
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.opt.step()
            self.schedule.step += 1
            total += loss.item()
        return total / (len(X) // self.batch)

    def evaluate(self, X: np.ndarray, Y: np.ndarray) -> float:
        with self.torch.no_grad():
            return float(self.loss(self.torch.from_numpy(X), self.torch.from_numpy(Y)))


def command_train(args: argparse.Namespace) -> None:
    data = nn.datasets.load_shakespeare(data_dir=DATA_DIR)
    model = build(args.embed, args.hidden, args.layers, args.seed)
    n_params = sum(p.size for p in model.parameters())
    Xv, Yv = validation_windows(data.valid, args.block)
    optimizer = nn.AdamW(lr=args.lr, beta2=args.beta2, weight_decay=args.wd, clipnorm=1.0)
    schedule = StepSchedule(args.lr, args.steps, args.warmup, args.min_frac)
    rng = np.random.default_rng(args.seed)  # the windows (the same for both libraries)
    torch_run = TorchRun(args, schedule) if args.torch else None
    print(f"{vars(args)}  params {n_params}  load {os.getloadavg()}", flush=True)
    curve = []
    train_s = train_cpu = 0.0
    done = 0
    with LoadWatch() as watch:
        while done < args.steps:
            chunk = min(args.eval_every, args.steps - done)
            X, Y = random_windows(data.train, chunk * args.batch, args.block, rng)
            t0, c0 = time.perf_counter(), user_time()
            if torch_run is None:
                history = model.fit(
                    X,
                    Y,
                    optimizer=optimizer,
                    epochs=1,
                    batch_size=args.batch,
                    shuffle=False,
                    threads=args.threads,
                    seed=args.seed + done,
                    callbacks=[schedule],
                )
                train_loss = history["loss"][-1]
            else:
                train_loss = torch_run.fit(X, Y)
            train_s += time.perf_counter() - t0
            train_cpu += user_time() - c0
            done += chunk
            if torch_run is None:
                val = model.evaluate(Xv, Yv)["loss"]
            else:
                val = torch_run.evaluate(Xv, Yv)
                optimizer.lr = schedule.lr(schedule.step)  # for the progress line
            curve.append((done, train_loss, val, train_s, train_cpu))
            print(
                f"step {done:5d}  train {train_loss:.4f}  val {val:.4f}  "
                f"train time {train_s:6.1f} s (cpu {train_cpu:6.1f} s)  lr {optimizer.lr:.2e}  "
                f"load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
            if args.cpu_minutes and train_cpu > 60 * args.cpu_minutes:
                break
    print(
        f"final val {curve[-1][2]:.4f} after {done} steps, {train_s:.1f} s of training, "
        f"cpu {train_cpu:.1f} s ({done / train_s:.2f} steps/s); "
        f"background cores {watch.background:.2f}; "
        f"load {os.getloadavg()}"
    )
    if torch_run is None:
        prompt = data.vocabulary.encode("ROMEO:")
        text = data.vocabulary.decode(model.generate(prompt, 200, temperature=0.8, seed=0))
        print(text)
    if args.json:
        with open(args.json, "a") as f:
            f.write(
                json.dumps(
                    {
                        **vars(args),
                        "params": n_params,
                        "curve": curve,
                        "background_cores": watch.background,
                        "load_end": os.getloadavg(),
                    }
                )
                + "\n"
            )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("time")
    t.add_argument("--sizes", default="256x1x64x32,512x1x64x32,256x2x64x32")
    t.add_argument("--embed", type=int, default=64)
    t.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    t.add_argument("--repeats", type=int, default=10)
    t.add_argument("--no-torch", action="store_true")
    r = sub.add_parser("train")
    r.add_argument("--embed", type=int, default=64)
    r.add_argument("--hidden", type=int, default=512)
    r.add_argument("--layers", type=int, default=1)
    r.add_argument("--block", type=int, default=64)
    r.add_argument("--batch", type=int, default=32)
    r.add_argument("--lr", type=float, default=2e-3)
    r.add_argument("--min-frac", type=float, default=0.1)
    r.add_argument("--warmup", type=int, default=100)
    r.add_argument("--wd", type=float, default=0.1)
    r.add_argument("--beta2", type=float, default=0.99)
    r.add_argument("--steps", type=int, default=3000)
    r.add_argument(
        "--cpu-minutes",
        type=float,
        default=0.0,
        help="stop after this much training CPU time (threads=1: the wall time of an idle machine)",
    )
    r.add_argument("--eval-every", type=int, default=250)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--torch", action="store_true", help="train the PyTorch version instead")
    r.add_argument("--json", help="append the result as one JSON line to this file")
    args = p.parse_args()
    (command_time if args.command == "time" else command_train)(args)


if __name__ == "__main__":
    main()
