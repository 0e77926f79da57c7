"""Research for the ``names`` preset (issue 23): a small causal transformer on makemore's names.

Each name is one sequence: X = "." + name padded with "." to 16 ids (the longest name has 15
letters), targets = name + "." padded with -1 (ignored by CrossEntropy), so the loss is
makemore's: the mean over every predicted character of every name, its final "." included.
Model: Embedding(27, dim) + PositionalEmbedding(16, dim) + TransformerBlock(dim, heads,
causal) x layers + LayerNorm + Dense(dim, 27) + Softmax, AdamW with clipnorm 1, the learning
rate warmed up linearly then cosine-decayed per step (a callback on each batch's end, until
fit has per-step schedules). Prints the dev (valid) loss per epoch, the training time, the
load, 20 generated names and the fraction of 1,000 generated names not in the training set.

    PYTHONPATH=src python -m benchmarks.research.names_preset --dim 64 --layers 4 --epochs 8
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np

import numpynn as nn
from benchmarks.measure import LoadWatch
from numpynn.callbacks import Callback

BLOCK = 16  # "." + the longest name (15 letters)


def user_time() -> float:
    """This process's user CPU seconds: with one thread, the wall time the work would take
    on an idle core (kernel time is left out: on this shared machine it jumped by ~50 s in
    some runs while other processes reclaimed memory)."""
    return os.times().user


def encode_names(words: tuple[str, ...], vocab: nn.datasets.CharVocabulary) -> tuple:
    """X (n, 16) ids of "." + name, padded with "." (id 0); Y (n, 16) ids of name + ".",
    padded with -1."""
    X = np.zeros((len(words), BLOCK), np.int64)
    Y = np.full((len(words), BLOCK), -1, np.int64)
    for i, w in enumerate(words):
        ids = vocab.encode(w)
        X[i, 1 : 1 + len(ids)] = ids
        Y[i, : len(ids)] = ids
        Y[i, len(ids)] = 0
    return X, Y


class StepSchedule(Callback):
    """lr of step s (from 0): linear warm-up over ``warmup`` steps to lr0, then a cosine to
    lr0 * min_frac at ``total`` steps (nanoGPT's get_lr)."""

    def __init__(self, lr0: float, total: int, warmup: int, min_frac: float) -> None:
        self.lr0, self.total, self.warmup, self.min_frac = lr0, total, warmup, min_frac
        self.step = 0

    def lr(self, s: int) -> float:
        if s < self.warmup:
            return self.lr0 * (s + 1) / self.warmup
        ratio = min(1.0, (s - self.warmup) / max(1, self.total - self.warmup))
        low = self.lr0 * self.min_frac
        return low + 0.5 * (1 + math.cos(math.pi * ratio)) * (self.lr0 - low)

    def on_epoch_begin(self, epoch: int) -> None:
        self.run.optimizer.lr = self.lr(self.step)

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        self.step += 1
        self.run.optimizer.lr = self.lr(self.step)


class DevLoss(Callback):
    """The dev loss and the elapsed training time after each epoch."""

    def __init__(self, X: np.ndarray, Y: np.ndarray, every: int, epochs: int) -> None:
        self.X, self.Y, self.every, self.epochs = X, Y, every, epochs
        self.started, self.cpu_started = time.perf_counter(), user_time()
        self.curve: list[tuple[int, float, float, float, float]] = []
        self.eval_seconds = self.eval_cpu = 0.0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if (epoch + 1) % self.every and epoch + 1 != self.epochs:
            return
        t0, c0 = time.perf_counter(), user_time()
        dev = self.model.evaluate(self.X, self.Y)["loss"]
        self.eval_seconds += time.perf_counter() - t0
        self.eval_cpu += user_time() - c0
        train_s = time.perf_counter() - self.started - self.eval_seconds
        train_cpu = user_time() - self.cpu_started - self.eval_cpu
        self.curve.append((epoch + 1, logs["loss"], dev, train_s, train_cpu))
        print(
            f"epoch {epoch + 1:3d}  train {logs['loss']:.4f}  dev {dev:.4f}  "
            f"train time {train_s:6.1f} s (cpu {train_cpu:6.1f} s)  "
            f"load {os.getloadavg()[0]:.2f}",
            flush=True,
        )


def build(args: argparse.Namespace, vocab_size: int) -> nn.Sequential:
    seeds = np.random.default_rng(args.seed).integers(2**31, size=args.layers + 3)
    layers = [
        nn.Embedding(vocab_size, args.dim, seed=int(seeds[0])),
        nn.PositionalEmbedding(BLOCK, args.dim, seed=int(seeds[1])),
    ]
    layers += [
        nn.TransformerBlock(
            args.dim, n_heads=args.heads, causal=True, dropout=args.dropout, seed=int(s)
        )
        for s in seeds[2 : 2 + args.layers]
    ]
    layers += [
        nn.LayerNorm(args.dim),
        nn.Dense(args.dim, vocab_size, seed=int(seeds[-1])),
        nn.Softmax(),
    ]
    if args.embed_std:  # Embedding starts N(0, 1); nanoGPT's wte is N(0, 0.02^2)
        layers[0].W *= args.embed_std
    if args.head_std:
        layers[-2].W = (
            np.random.default_rng(int(seeds[-1])).standard_normal(layers[-2].W.shape)
            * args.head_std
        ).astype(np.float32)
    return nn.Sequential(*layers)


def sample_names(model: nn.Sequential, count: int, seed: int, temperature: float) -> list[str]:
    ids = model.generate(
        np.zeros((count, 1), np.int64), BLOCK - 1, temperature=temperature, seed=seed
    )
    names = []
    letters = "abcdefghijklmnopqrstuvwxyz"
    for row in ids[:, 1:]:
        end = np.flatnonzero(row == 0)
        row = row[: end[0]] if len(end) else row
        names.append("".join(letters[i - 1] for i in row))
    return names


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-frac", type=float, default=0.1, help="final lr / lr")
    p.add_argument("--warmup", type=int, default=200, help="warm-up steps")
    p.add_argument("--wd", type=float, default=0.1, help="AdamW weight decay")
    p.add_argument("--beta2", type=float, default=0.99)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--eval-every", type=int, default=1, help="dev loss every k epochs")
    p.add_argument("--embed-std", type=float, default=0.0, help="scale Embedding's N(0, 1)")
    p.add_argument("--head-std", type=float, default=0.0, help="Dense head weights N(0, s^2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--json", help="append the result as one JSON line to this file")
    args = p.parse_args()

    data = nn.datasets.load_names(data_dir="/work/shared/data")
    vocab = data.vocabulary
    X, Y = encode_names(data.train, vocab)
    Xd, Yd = encode_names(data.valid, vocab)
    model = build(args, len(vocab))
    n_params = sum(p.size for p in model.parameters())
    steps = args.epochs * math.ceil(len(X) / args.batch)
    print(f"{vars(args)}  params {n_params}  steps {steps}  load {os.getloadavg()}", flush=True)
    optimizer = nn.AdamW(lr=args.lr, beta2=args.beta2, weight_decay=args.wd, clipnorm=1.0)
    dev = DevLoss(Xd, Yd, args.eval_every, args.epochs)
    with LoadWatch() as watch:
        model.fit(
            X,
            Y,
            optimizer=optimizer,
            epochs=args.epochs,
            batch_size=args.batch,
            seed=args.seed,
            threads=args.threads,
            callbacks=[StepSchedule(args.lr, steps, args.warmup, args.min_frac), dev],
        )
    train_s, train_cpu = dev.curve[-1][3], dev.curve[-1][4]
    final_dev = dev.curve[-1][2]
    print(
        f"final dev {final_dev:.4f}  train {train_s:.1f} s, cpu {train_cpu:.1f} s "
        f"(+{dev.eval_seconds:.1f} s dev evals)"
        f"  {steps / train_s:.1f} steps/s  background cores {watch.background:.2f}  "
        f"load {os.getloadavg()}"
    )
    names = sample_names(model, 1000, seed=args.seed, temperature=args.temperature)
    train_set = set(data.train)
    new = [n for n in names if n not in train_set]
    print("20 names:", " ".join(n + ("" if n not in train_set else "*") for n in names[:20]))
    print(f"not in the training set: {len(new)}/{len(names)} = {len(new) / len(names):.3f}")
    if args.json:
        with open(args.json, "a") as f:
            row = {
                **vars(args),
                "params": n_params,
                "steps": steps,
                "dev": final_dev,
                "train_s": train_s,
                "train_cpu": train_cpu,
                "background_cores": watch.background,
                "load_end": os.getloadavg(),
                "curve": dev.curve,
                "new_fraction": len(new) / len(names),
                "names": names[:20],
            }
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
