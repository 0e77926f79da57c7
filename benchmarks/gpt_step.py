"""One training step of a whole 4-block GPT (nanoGPT's CPU configuration) in numpynn against
the same model in PyTorch: forward, cross-entropy over the tokens, backward, AdamW step with
the gradients clipped to global norm 1.0, in one run.

    python -m benchmarks.gpt_step [--batch 12] [--steps 64] [--dim 128] [--heads 4]
                                  [--layers 4] [--vocab 65] [--repeats 15] [--threads 1 2]

The model (float32, no dropout)::

    nn.Sequential(nn.Embedding(65, 128), nn.PositionalEmbedding(64, 128),
                  *[nn.TransformerBlock(128, n_heads=4, causal=True) for _ in range(4)],
                  nn.LayerNorm(128), nn.Dense(128, 65), nn.Softmax())

and in PyTorch nanoGPT's GPT (wte, wpe, the blocks of :func:`benchmarks.transformer.torch_block`,
ln_f, lm_head with a bias) holding the same weights, trained with ``torch.optim.AdamW`` in
nanoGPT's two groups (2-D weights decayed, biases and LayerNorms not; the default for-loop
implementation, as nanoGPT on a CPU) and ``clip_grad_norm_(1.0)``; numpynn with
``nn.AdamW(clipnorm=1.0)`` (which decays the same parameters). Both: lr 1e-3, betas
(0.9, 0.99), weight decay 0.1 (nanoGPT's shakespeare_char settings).

numpynn's step is the one :func:`numpynn.training.train` runs per batch of ``fit``: the layers
and loss of :func:`numpynn.losses.fuse` (the Softmax fused into CrossEntropy, on logits), then
``training.forward``, ``loss.forward``, ``training.backward(order, loss.backward())`` and
``optimizer.step(params, grads)`` -- timed directly, without fit's per-call set-up (checks,
target preparation, the run object), which fit pays once per call, not per batch. PyTorch's:
``zero_grad(set_to_none=True)``, forward, ``cross_entropy``, ``backward``, ``clip_grad_norm_``,
``optimizer.step()``. Both train on one fixed batch of random token ids. As a check that the
timed step is what fit costs per batch, the report adds numpynn's ``model.fit`` time
(``epochs=1, batch_size=12, shuffle=False``, the same optimiser) on the batch repeated
``FIT_BATCHES`` times, divided by ``FIT_BATCHES`` (median of a few calls, after the
alternating runs).

Before timing, two steps from the same weights must give the same losses in both (float32
tolerance): the first checks forward and loss, the second the gradients and the AdamW step.
Runs alternate between the libraries (each after a short pause: see
:func:`benchmarks.sequences.seconds`); the median of ``--repeats`` is reported in ms per
step and steps per second, and as the ratio numpynn / PyTorch (above 1: numpynn is faster),
for each thread count of ``--threads`` (threadpoolctl for numpynn's BLAS,
``torch.set_num_threads``), with the load other processes put on the machine. Peak memory as
in :mod:`benchmarks.transformer`: the peak RSS growth over two steps, each library in a fresh
process, and NumPy's peak allocation (tracemalloc). Prints a Markdown report.
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

import numpy as np

from .measure import (
    LoadWatch,
    in_fresh_process,
    machine_lines,
    rss_growth,
    traced_peak,
)
from .sequences import seconds
from .transformer import TORCH_NAMES, torch_block

Config = tuple[int, int, int, int, int, int]  # batch, steps, dim, heads, layers, vocab
LR, BETAS, WEIGHT_DECAY, CLIPNORM = 1e-3, (0.9, 0.99), 0.1, 1.0


def numpynn_model(config: Config) -> Any:
    import numpynn as nn

    _, steps, dim, heads, layers, vocab = config
    return nn.Sequential(
        nn.Embedding(vocab, dim, seed=0),
        nn.PositionalEmbedding(steps, dim, seed=1),
        *[nn.TransformerBlock(dim, n_heads=heads, causal=True, seed=2 + i) for i in range(layers)],
        nn.LayerNorm(dim),
        nn.Dense(dim, vocab, seed=100),
        nn.Softmax(),
    )


def torch_gpt(config: Config) -> Any:
    """nanoGPT's GPT (bias=True, no dropout, lm_head with a bias and not tied) in torch."""
    import torch
    from torch import nn as tnn
    from torch.nn import functional

    _, steps, dim, heads, layers, vocab = config

    class GPT(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte, self.wpe = tnn.Embedding(vocab, dim), tnn.Embedding(steps, dim)
            self.h = tnn.ModuleList([torch_block(dim, heads) for _ in range(layers)])
            self.ln_f, self.lm_head = tnn.LayerNorm(dim), tnn.Linear(dim, vocab)

        def forward(self, ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            positions = torch.arange(ids.shape[1], dtype=torch.long)
            x = self.wte(ids) + self.wpe(positions)
            for block in self.h:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            return functional.cross_entropy(logits.view(-1, vocab), targets.view(-1))

    return GPT()


def gpt_weights_for_torch(model: Any, n_layers: int) -> dict[str, np.ndarray]:
    """numpynn's GPT's arrays under the names of nanoGPT's parameters (``torch_gpt``),
    transposed where torch's Linear holds (out, in)."""
    from numpynn.layers.base import get_array

    m = model.layers
    copies = {"wte.weight": m[0].W, "wpe.weight": m[1].W}
    for i in range(n_layers):
        for ours, theirs in TORCH_NAMES.items():
            copies[f"h.{i}.{theirs}"] = get_array(m[2 + i], ours).T
    copies |= {"ln_f.weight": m[-3].gamma, "ln_f.bias": m[-3].beta}
    return copies | {"lm_head.weight": m[-2].W.T, "lm_head.bias": m[-2].b}


class Pair:
    """numpynn's model, loss and optimiser, and torch's with the same weights, on one batch."""

    def __init__(self, config: Config) -> None:
        import torch

        import numpynn as nn
        from numpynn import losses, training

        batch, steps, _, _, layers, vocab = config
        rng = np.random.default_rng(2)
        self.ids = rng.integers(0, vocab, (batch, steps)).astype(np.int64)
        self.targets = rng.integers(0, vocab, (batch, steps)).astype(np.int64)

        self.model = numpynn_model(config)
        self.layers, self.loss = losses.fuse(list(self.model.layers), nn.CrossEntropy())
        self.order = training._backward_order(self.layers)
        self.params, self.grads = self.model.parameters(), self.model.gradients()
        self.optimizer = nn.AdamW(
            lr=LR, beta1=BETAS[0], beta2=BETAS[1], weight_decay=WEIGHT_DECAY, clipnorm=CLIPNORM
        )
        self.T = self.model._prepare_targets(self.loss, self.targets, vocab, self.ids.dtype)

        self.module = torch_gpt(config)
        copies = gpt_weights_for_torch(self.model, layers)
        with torch.no_grad():
            for name, value in copies.items():
                self.module.get_parameter(name).copy_(torch.from_numpy(np.ascontiguousarray(value)))
        named = list(self.module.parameters())
        assert len(named) == len(copies) == len(self.params)
        groups = [
            {"params": [p for p in named if p.dim() >= 2], "weight_decay": WEIGHT_DECAY},
            {"params": [p for p in named if p.dim() < 2], "weight_decay": 0.0},
        ]
        self.torch_optimizer = torch.optim.AdamW(groups, lr=LR, betas=BETAS)
        self.ids_t = torch.from_numpy(self.ids)
        self.targets_t = torch.from_numpy(self.targets)

    def numpynn_step(self) -> float:
        """What numpynn.training.train does per batch (without the bookkeeping of the logs)."""
        from numpynn import training

        with np.errstate(over="ignore", invalid="ignore"):  # as fit
            output = training.forward(self.layers, self.ids, training=True)
            batch_loss = self.loss.forward(output, self.T)
            training.backward(self.order, self.loss.backward())
            self.optimizer.step(self.params, self.grads)
        return float(batch_loss)

    def fit_batches(self, k: int) -> None:
        """``model.fit`` for one epoch of k batches: the batch repeated k times, in order."""
        import numpynn as nn

        self.model.fit(
            np.tile(self.ids, (k, 1)), np.tile(self.targets, (k, 1)), epochs=1,
            batch_size=len(self.ids), shuffle=False, optimizer=self.optimizer,
            loss=nn.CrossEntropy(),
        )  # fmt: skip

    def torch_step(self) -> float:
        import torch

        self.torch_optimizer.zero_grad(set_to_none=True)
        loss = self.module(self.ids_t, self.targets_t)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.module.parameters(), CLIPNORM)
        self.torch_optimizer.step()
        return float(loss.item())


FIT_BATCHES = 8  # the batches of each timed fit call, whose time is divided by them


def compare(config: Config, repeats: int) -> dict[str, Any]:
    pair = Pair(config)
    losses = [(pair.numpynn_step(), pair.torch_step()) for _ in range(2)]
    gap = max(abs(ours - theirs) for ours, theirs in losses)
    if gap > 1e-4 * max(1.0, abs(losses[0][1])):
        raise AssertionError(f"not the same computation: losses (numpynn, torch) {losses}")
    times: dict[str, list[float]] = {"numpynn": [], "torch": [], "fit": []}
    with LoadWatch() as watch:
        for _ in range(repeats):
            times["numpynn"].append(seconds(pair.numpynn_step))
            times["torch"].append(seconds(pair.torch_step))
    for _ in range(max(3, repeats // 3)):  # fit's per-batch time, to check the step above
        times["fit"].append(seconds(lambda: pair.fit_batches(FIT_BATCHES)) / FIT_BATCHES)
    medians = {lib: statistics.median(t) for lib, t in times.items()}
    return {"medians": medians, "losses": losses, "gap": gap, "background": watch.background}


def _peak_memory(library: str, config: Config, threads: int) -> int:
    """In a fresh process: the peak RSS growth over two steps (bytes), as in
    :func:`benchmarks.sequences._peak_memory`."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    pair = Pair(config)
    with threadpool_limits(limits=threads, user_api="blas"):
        return rss_growth(pair.numpynn_step if library == "numpynn" else pair.torch_step)


def peak_memory(library: str, config: Config, threads: int) -> int:
    return in_fresh_process(_peak_memory, library, config, threads)


def numpy_peak(config: Config) -> int:
    """NumPy's peak allocation (tracemalloc) over two numpynn steps."""
    return traced_peak(Pair(config).numpynn_step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--vocab", type=int, default=65)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    import torch
    from threadpoolctl import threadpool_limits

    config = (args.batch, args.steps, args.dim, args.heads, args.layers, args.vocab)
    print("# A whole GPT training step against PyTorch CPU\n")
    print(
        f"Embedding({args.vocab}, {args.dim}), PositionalEmbedding({args.steps}, {args.dim}), "
        f"{args.layers} x TransformerBlock({args.dim}, n_heads={args.heads}, causal=True), "
        f"LayerNorm, Dense({args.dim}, {args.vocab}), Softmax; batch {args.batch} x "
        f"{args.steps} tokens, float32. One step: forward, cross-entropy over the tokens, "
        f"backward, AdamW (lr {LR:g}, betas {BETAS}, weight decay {WEIGHT_DECAY:g} on 2-D "
        f"weights) after clipping to global norm {CLIPNORM:g}. PyTorch: nanoGPT's GPT with the "
        f"same weights; median of {args.repeats} alternating runs.\n"
    )
    print("\n".join(machine_lines()))
    print()
    print(
        "| threads | numpynn ms/step | PyTorch ms/step | numpynn steps/s | PyTorch steps/s | "
        "numpynn / PyTorch | background cores | numpynn fit ms/batch | "
        "losses of steps 1, 2 (numpynn / PyTorch) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for threads in args.threads:
        torch.set_num_threads(threads)
        with threadpool_limits(limits=threads, user_api="blas"):
            row = compare(config, args.repeats)
        ours, theirs = row["medians"]["numpynn"], row["medians"]["torch"]
        losses = ", ".join(f"{a:.6f} / {b:.6f}" for a, b in row["losses"])
        print(
            f"| {threads} | {ours * 1e3:.2f} | {theirs * 1e3:.2f} | {1 / ours:.1f} | "
            f"{1 / theirs:.1f} | {theirs / ours:.2f}x | {row['background']:.2f} | "
            f"{row['medians']['fit'] * 1e3:.2f} | {losses} |"
        )
    print()
    threads = args.threads[0]
    rss = {lib: peak_memory(lib, config, threads) / 2**20 for lib in ("numpynn", "torch")}
    print(
        f"Peak memory over two steps ({threads} thread(s)): numpynn's peak RSS growth "
        f"{rss['numpynn']:.1f} MB, PyTorch's {rss['torch']:.1f} MB; NumPy's peak allocation "
        f"{numpy_peak(config) / 2**20:.1f} MB."
    )


if __name__ == "__main__":
    main()
