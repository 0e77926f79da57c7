"""A language model's whole training run in numpynn and in PyTorch on the same machine, in
one run: training samples/s and the loss curves of the same network from the same weights
on the same windows.

    python -m benchmarks.language_models gpt  [--steps 2000] [--threads 1 2] [--seed 0]
    python -m benchmarks.language_models lstm [--steps 3000] [--threads 1 2] [--seed 0]
                                   [--eval-every N] [--eval-windows N] [--data-dir DIR]

``gpt`` is ``numpynn train --dataset shakespeare --preset gpt`` (nanoGPT's CPU run: a 4-block
GPT of width 128, 4 heads, block 64, batch 12, 2,000 steps, AdamW 1e-3 with beta2 0.99 and
weight decay 0.1 on the 2-D weights, gradients clipped to norm 1.0, a warm-up of 100 steps
then a cosine down to 1e-4, per step); ``lstm`` is ``--preset char-lstm`` (read from
``TEXT_PRESETS``). The settings, the initial weights (``--seed``), the data and the schedule
come from the command's own code (:mod:`numpynn.cli.train_text`); ``--steps`` shortens the
run (the cosine then ends at the last step, as ``numpynn train --steps`` does).

PyTorch trains the same network (:func:`benchmarks.gpt_step.torch_gpt`, nanoGPT's GPT; or
``nn.Embedding``, ``nn.LSTM(batch_first=True)`` and ``nn.Linear``) holding numpynn's initial
weights, with ``torch.optim.AdamW`` in nanoGPT's two groups and ``clip_grad_norm_``, the
learning rate of each step set from the same schedule object. The windows of every step are
drawn once, before training, from one generator seeded with ``--seed`` (uniform starts in
[0, n_tokens - block), as :class:`numpynn.RandomWindows` draws them) and fed to both.

numpynn trains through ``model.fit`` on a :class:`numpynn.RandomWindows` whose ``batch``
returns those drawn windows (:class:`DrawnWindows`), with the command's callbacks (the
per-step learning rate), ``validation_data`` the fixed validation windows
(``spread_windows(valid, block, 500)``) and ``threads``: the figure is what users get per
step. An epoch of fit is ``eval_every`` steps; after each, the callback :class:`Alternate`
runs PyTorch's same steps and its validation loss on the same windows, so the two libraries
alternate in segments of ``eval_every`` steps and share whatever load the machine has.
Training time excludes the evaluations: numpynn's is the time from the start of each epoch
to the end of its last step (window gathering, forward, loss, backward, clipping, AdamW,
the callbacks), PyTorch's the time of its steps (window gathering, ``zero_grad``, forward,
``cross_entropy``, ``backward``, ``clip_grad_norm_``, ``step``, ``loss.item()``). Each
segment starts after a short pause (see :func:`benchmarks.sequences.seconds`).

Before training, both libraries' validation losses must agree (float32 tolerance): the
same weights and the same model; the first steps' training losses are printed side by side.
For each thread count of ``--threads`` (threadpoolctl for numpynn's BLAS through
``fit(threads=...)``, ``torch.set_num_threads``) it prints training samples/s (windows per
second) of each, the ratio numpynn / PyTorch (above 1: numpynn is faster), the background
load other processes put on the machine, and both loss curves (training loss: the mean over
the steps since the previous evaluation; validation loss: the mean over the validation
windows' tokens). Prints a Markdown report.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .gpt_step import gpt_weights_for_torch, torch_gpt
from .measure import LoadWatch, machine_lines

PRESETS = {"gpt": "gpt", "lstm": "char-lstm"}  # the benchmark's name -> numpynn train's preset
EVAL_CHUNK = 128  # validation windows per forward pass in PyTorch
PAUSE = 0.3  # seconds before each timed segment: the other library's worker threads sleep


def text_config(preset: str, seed: int, **options: int | None) -> Any:
    """The TextConfig ``numpynn train --preset PRESET --seed SEED`` runs, with the ``options``
    given (steps, eval_every, eval_windows; None: the preset's)."""
    from numpynn.cli.text_config import resolve_text

    given = {name: value for name, value in options.items() if value is not None}
    return resolve_text(preset, {"seed": seed, **given})


def draw_starts(n_tokens: int, block: int, steps: int, batch: int, seed: int) -> np.ndarray:
    """(steps, batch) window starts, uniform in [0, n_tokens - block) as RandomWindows draws
    them, from one generator: the windows of every step, for both libraries."""
    return np.random.default_rng(seed).integers(0, n_tokens - block, (steps, batch))


def _drawn_windows() -> type:
    import numpynn as nn

    class DrawnWindows(nn.RandomWindows):
        """RandomWindows whose batches were drawn beforehand: step k's windows start at
        ``starts[k]`` (k counted over the whole run), whatever generator fit passes."""

        def __init__(self, ids: Any, block: int, starts: np.ndarray, steps_per_epoch: int):
            super().__init__(ids, block, steps_per_epoch=steps_per_epoch)
            self.starts = starts
            self.drawn = 0  # the batches handed out so far

        def batch(self, batch_size: int, rng: np.random.Generator) -> tuple[Any, Any]:
            x, t = self.windows(self.drawn)
            self.drawn += 1
            return x, t

        def windows(self, step: int) -> tuple[np.ndarray, np.ndarray]:
            """(x, t), each (batch, block) int64: step ``step``'s windows and targets."""
            positions = self.starts[step][:, None] + np.arange(self.block)
            return self.ids[positions], self.ids[positions + 1]

    return DrawnWindows


# --- the PyTorch side ----------------------------------------------------------------------


def torch_char_rnn(n_tokens: int, dim: int, hidden: int, layers: int) -> Any:
    """The char-lstm preset's network in torch: Embedding, LSTM(batch_first), Linear."""
    import torch
    from torch import nn as tnn
    from torch.nn import functional

    class CharLSTM(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = tnn.Embedding(n_tokens, dim)
            self.lstm = tnn.LSTM(dim, hidden, num_layers=layers, batch_first=True)
            self.head = tnn.Linear(hidden, n_tokens)

        def forward(self, ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            out, _ = self.lstm(self.embedding(ids))
            logits = self.head(out)
            return functional.cross_entropy(logits.reshape(-1, n_tokens), targets.reshape(-1))

    return CharLSTM()


def torch_copy(cfg: Any, model: Any, n_tokens: int) -> Any:
    """A torch module of ``cfg``'s network holding ``model``'s (numpynn's) weights."""
    import torch

    m = model.layers
    if cfg.network == "gpt":
        config = (cfg.batch_size, cfg.block, cfg.dim, cfg.heads, cfg.layers, n_tokens)
        module = torch_gpt(config)
        copies = gpt_weights_for_torch(model, cfg.layers)
    elif cfg.network == "lstm":
        module = torch_char_rnn(n_tokens, cfg.dim, cfg.hidden, cfg.layers)
        copies = {"embedding.weight": m[0].W, "head.weight": m[-2].W.T, "head.bias": m[-2].b}
        for i in range(cfg.layers):
            lstm = m[1 + i]
            copies |= {f"lstm.weight_ih_l{i}": lstm.Wx.T, f"lstm.weight_hh_l{i}": lstm.Wh.T}
            copies |= {f"lstm.bias_ih_l{i}": lstm.b, f"lstm.bias_hh_l{i}": 0 * lstm.b}
            # numpynn's LSTM has one bias b; torch's two (b_ih + b_hh) would both train, moving
            # their sum twice as fast under Adam: b_hh stays 0, untrained (the same network).
            module.get_parameter(f"lstm.bias_hh_l{i}").requires_grad_(False)
    else:
        raise ValueError(f"network must be gpt or lstm, got {cfg.network!r}")
    with torch.no_grad():
        for name, value in copies.items():
            module.get_parameter(name).copy_(torch.from_numpy(np.ascontiguousarray(value)))
    if len(copies) != len(list(module.parameters())):
        raise AssertionError(f"copied {len(copies)} of {len(list(module.parameters()))} tensors")
    return module


class TorchRun:
    """PyTorch's training run: the module, nanoGPT's AdamW groups, the schedule, the drawn
    windows; :meth:`train` runs steps [first, last), :meth:`evaluate` the validation loss."""

    def __init__(
        self, cfg: Any, module: Any, windows: Any, valid: tuple[np.ndarray, np.ndarray]
    ) -> None:
        import torch

        from numpynn.cli.train_text import lr_schedule

        self.cfg, self.module, self.windows = cfg, module, windows
        self.schedule = lr_schedule(cfg)
        params = [p for p in module.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]
        self.params = params
        self.optimizer = torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, cfg.beta2))
        self.valid = tuple(torch.from_numpy(a) for a in valid)
        self.losses: list[float] = []  # every step's training loss

    def train(self, first: int, last: int) -> float:
        """Steps first..last-1 (counted from 0); return their seconds."""
        import torch

        time.sleep(PAUSE)
        start = time.perf_counter()
        for step in range(first, last):
            lr = self.schedule(step, self.cfg.lr)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            x, t = self.windows(step)
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.module(torch.from_numpy(x), torch.from_numpy(t))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.params, self.cfg.clipnorm)
            self.optimizer.step()
            self.losses.append(float(loss.item()))
        return time.perf_counter() - start

    def evaluate(self) -> float:
        """The mean cross-entropy over the validation windows' tokens."""
        import torch

        X, T = self.valid
        with torch.no_grad():  # in chunks of windows, each chunk's mean weighted by its size
            total = sum(
                float(self.module(X[i : i + EVAL_CHUNK], T[i : i + EVAL_CHUNK]).item())
                * len(X[i : i + EVAL_CHUNK])
                for i in range(0, len(X), EVAL_CHUNK)
            )
        return total / len(X)


# --- numpynn's run, alternating with PyTorch's ----------------------------------------------


def _alternate(after_epoch: Callable[[int], None]) -> Any:
    from numpynn.callbacks import Callback

    class Alternate(Callback):
        """Times each epoch's training steps (its start to the end of its last step, not the
        validation; each epoch starts after a pause) and keeps every step's loss; after
        each epoch calls ``after_epoch(steps done)``."""

        order = 2  # after the other callbacks (the learning rate of the next step is set)

        def __init__(self) -> None:
            self.seconds: list[float] = []
            self.losses: list[float] = []

        def on_epoch_begin(self, epoch: int) -> None:
            time.sleep(PAUSE)
            self.start = self.end = time.perf_counter()

        def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
            self.losses.append(logs["loss"])
            self.end = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
            self.seconds.append(self.end - self.start)
            after_epoch(self.run.step)

    return Alternate()


def compare(cfg: Any, threads: int, data_dir: str | None) -> dict[str, Any]:
    """Both libraries' runs of ``cfg`` on ``threads`` threads, alternating every
    ``cfg.eval_every`` steps: seconds, loss curves and the background load."""
    import torch

    import numpynn as nn
    from numpynn.callbacks import LearningRateScheduler
    from numpynn.cli.train_text import load_text_splits, lr_schedule, new_language_model

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(threads)
    splits = load_text_splits(cfg, data_dir)
    ids, n_tokens = splits.train.ids, len(splits.vocabulary)
    starts = draw_starts(len(ids), cfg.block, cfg.steps, cfg.batch_size, cfg.seed)
    windows = _drawn_windows()(ids, cfg.block, starts, cfg.eval_every)
    model = new_language_model(cfg, n_tokens)
    theirs = TorchRun(cfg, torch_copy(cfg, model, n_tokens), windows.windows, splits.valid)

    start_losses = (
        model.evaluate(*splits.valid, loss=nn.CrossEntropy())["loss"],
        theirs.evaluate(),
    )
    if abs(start_losses[0] - start_losses[1]) > 1e-4 * max(1.0, start_losses[1]):
        raise AssertionError(f"not the same model: validation losses {start_losses}")

    torch_seconds: list[float] = []
    torch_curve: list[tuple[float, float]] = []  # (training loss, validation loss)

    def torch_segment(done: int) -> None:
        first = len(theirs.losses)
        torch_seconds.append(theirs.train(first, done))
        torch_curve.append((float(np.mean(theirs.losses[first:done])), theirs.evaluate()))

    clock = _alternate(torch_segment)
    optimizer = nn.AdamW(
        cfg.lr, beta2=cfg.beta2, weight_decay=cfg.weight_decay, clipnorm=cfg.clipnorm
    )
    with LoadWatch() as watch:
        history = model.fit(
            windows,
            optimizer=optimizer,
            epochs=-(-cfg.steps // cfg.eval_every),
            batch_size=cfg.batch_size,
            validation_data=splits.valid,
            seed=cfg.seed,  # unused: the windows were drawn, and there is no dropout
            callbacks=[LearningRateScheduler(lr_schedule(cfg), per_step=True), clock],
            threads=threads,
            max_steps=cfg.steps,
        )
    steps = [min((e + 1) * cfg.eval_every, cfg.steps) for e in range(len(history["loss"]))]
    return {
        "steps": steps,
        "seconds": {"numpynn": sum(clock.seconds), "torch": sum(torch_seconds)},
        "curves": {
            "numpynn": list(zip(history["loss"], history["val_loss"], strict=True)),
            "torch": torch_curve,
        },
        "first_losses": list(zip(clock.losses[:3], theirs.losses[:3], strict=True)),
        "start_losses": start_losses,
        "background": watch.background,
        "wall": watch.seconds,
    }


# --- the report -----------------------------------------------------------------------------


def describe(cfg: Any, n_tokens: int = 65) -> str:
    if cfg.network == "gpt":
        net = (
            f"GPT: Embedding({n_tokens}, {cfg.dim}), PositionalEmbedding({cfg.block}, "
            f"{cfg.dim}), {cfg.layers} x TransformerBlock({cfg.dim}, n_heads={cfg.heads}, "
            f"causal), LayerNorm, Dense({cfg.dim}, {n_tokens})"
        )
    else:
        net = (
            f"Embedding({n_tokens}, {cfg.dim}), {cfg.layers} x LSTM({cfg.hidden}), "
            f"Dense({cfg.hidden}, {n_tokens})"
        )
    return (
        f"{net}, float32; batch {cfg.batch_size} windows of {cfg.block} characters, "
        f"{cfg.steps} steps; AdamW lr {cfg.lr:g} (warm-up {cfg.warmup}, cosine to "
        f"{cfg.min_lr:g} per step), betas (0.9, {cfg.beta2:g}), weight decay "
        f"{cfg.weight_decay:g} on 2-D weights, clip {cfg.clipnorm:g}; validation loss on "
        f"{cfg.eval_windows} fixed windows every {cfg.eval_every} steps; seed {cfg.seed} "
        "(initial weights as `numpynn train --seed`, and the windows)."
    )


def report(cfg: Any, rows: dict[int, dict[str, Any]]) -> list[str]:
    out = [
        "| threads | numpynn samples/s | PyTorch samples/s | numpynn / PyTorch | "
        "numpynn training s | PyTorch training s | numpynn final val loss | "
        "PyTorch final val loss | difference | background cores | run wall s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    samples = cfg.steps * cfg.batch_size
    for threads, row in rows.items():
        ours, theirs = row["seconds"]["numpynn"], row["seconds"]["torch"]
        val_ours, val_theirs = row["curves"]["numpynn"][-1][1], row["curves"]["torch"][-1][1]
        out.append(
            f"| {threads} | {samples / ours:.1f} | {samples / theirs:.1f} | "
            f"{theirs / ours:.2f}x | {ours:.1f} | {theirs:.1f} | {val_ours:.4f} | "
            f"{val_theirs:.4f} | {val_ours - val_theirs:+.4f} | {row['background']:.2f} | "
            f"{row['wall']:.0f} |"
        )
    out += ["", *targets(cfg, rows)]
    for threads, row in rows.items():
        start = row["start_losses"]
        first = ", ".join(f"{a:.5f} / {b:.5f}" for a, b in row["first_losses"])
        out += [
            "",
            f"Loss curves, {threads} thread(s) (training: the mean over the steps since the "
            "previous evaluation). Validation loss before training: numpynn "
            f"{start[0]:.5f}, PyTorch {start[1]:.5f}; training losses of the first steps "
            f"(numpynn / PyTorch): {first}.",
            "",
            "| step | numpynn training | PyTorch training | numpynn validation | "
            "PyTorch validation |",
            "|---:|---:|---:|---:|---:|",
        ]
        for step, (a, b) in zip(
            row["steps"],
            zip(row["curves"]["numpynn"], row["curves"]["torch"], strict=True),
            strict=True,
        ):
            out.append(f"| {step} | {a[0]:.4f} | {b[0]:.4f} | {a[1]:.4f} | {b[1]:.4f} |")
    return out


def targets(cfg: Any, rows: dict[int, dict[str, Any]]) -> list[str]:
    """Issue 23's targets for this network, met or not, at each thread count."""
    out = []
    for threads, row in rows.items():
        ratio = row["seconds"]["torch"] / row["seconds"]["numpynn"]
        ours, theirs = row["curves"]["numpynn"][-1][1], row["curves"]["torch"][-1][1]
        if cfg.network == "gpt":
            goals = [
                (f"samples/s >= 1.0x PyTorch's: {ratio:.2f}x", ratio >= 1.0),
                (f"validation loss <= 1.88 after the run: {ours:.4f}", ours <= 1.88),
            ]
        else:
            goals = [
                (f"validation loss within 0.02 of PyTorch's: {ours - theirs:+.4f}",
                 abs(ours - theirs) <= 0.02),
                (f"samples/s >= 0.8x PyTorch's: {ratio:.2f}x", ratio >= 0.8),
            ]  # fmt: skip
        verdicts = "; ".join(f"{goal} ({'met' if met else '**missed**'})" for goal, met in goals)
        out.append(f"- Targets, {threads} thread(s), {cfg.steps} steps: {verdicts}.")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(PRESETS), help="gpt or lstm (char-lstm preset)")
    parser.add_argument("--steps", type=int, default=None, help="default: the preset's")
    parser.add_argument("--eval-every", type=int, default=None, help="default: the preset's")
    parser.add_argument("--eval-windows", type=int, default=None, help="default: the preset's")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="where tinyshakespeare.txt is")
    args = parser.parse_args(argv)

    cfg = text_config(
        PRESETS[args.model],
        args.seed,
        steps=args.steps,
        eval_every=args.eval_every,
        eval_windows=args.eval_windows,
    )
    print(f"# `{PRESETS[args.model]}` trained in numpynn and in PyTorch CPU\n")
    print(describe(cfg) + "\n")
    print("\n".join(machine_lines()) + "\n")
    rows = {threads: compare(cfg, threads, args.data_dir) for threads in args.threads}
    print("\n".join(report(cfg, rows)))
    print(f"\nLoad average at the end: {tuple(round(x, 2) for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
