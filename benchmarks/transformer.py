"""Forward + backward of numpynn's TransformerBlock against the same block in PyTorch (nanoGPT's
Block: ln_1, CausalSelfAttention with scaled_dot_product_attention, ln_2, MLP with the tanh
GELU), in one run.

    python -m benchmarks.transformer [--batch 12] [--steps 64] [--dim 128] [--heads 4]
                                     [--repeats 15] [--threads 1 2]

The default is nanoGPT's CPU configuration (batch 12, block size 64, n_embd 128, 4 heads),
causal, float32. Both blocks hold the same weights (numpynn's copied into torch's, Linear
weights transposed); each step runs the forward in training mode and backpropagates a fixed
dL/d(output) to every parameter and to x, and the outputs and dx are compared. Runs alternate
between the libraries (each after a short pause: see :func:`benchmarks.sequences.seconds`);
the median of ``--repeats`` is reported in samples (sequences) per second and as the ratio
numpynn / PyTorch (above 1: numpynn is faster), for each thread count of ``--threads``, with
the load other processes put on the machine. Peak memory as in :mod:`benchmarks.sequences`:
the peak RSS growth over two steps, each library in a fresh process, and NumPy's peak
allocation (tracemalloc). Prints a Markdown report.
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
from .sequences import numpynn_step, seconds

Shape = tuple[int, int, int, int]  # batch, steps, dim, heads

TORCH_NAMES = {
    "ln1.gamma": "ln_1.weight", "ln1.beta": "ln_1.bias",
    "attn.W_qkv": "attn.c_attn.weight", "attn.b_qkv": "attn.c_attn.bias",
    "attn.W_out": "attn.c_proj.weight", "attn.b_out": "attn.c_proj.bias",
    "ln2.gamma": "ln_2.weight", "ln2.beta": "ln_2.bias",
    "fc.W": "mlp.c_fc.weight", "fc.b": "mlp.c_fc.bias",
    "proj.W": "mlp.c_proj.weight", "proj.b": "mlp.c_proj.bias",
}  # fmt: skip


def torch_block(dim: int, heads: int) -> Any:
    """nanoGPT's Block (bias=True, no dropout) in torch, float32."""
    import torch
    from torch import nn as tnn
    from torch.nn import functional

    class CausalSelfAttention(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_attn, self.c_proj = tnn.Linear(dim, 3 * dim), tnn.Linear(dim, dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            n, T, _ = x.shape
            q, k, v = self.c_attn(x).split(dim, dim=2)
            q, k, v = (t.view(n, T, heads, dim // heads).transpose(1, 2) for t in (q, k, v))
            y = functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).contiguous().view(n, T, dim))

    class MLP(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_fc, self.c_proj = tnn.Linear(dim, 4 * dim), tnn.Linear(4 * dim, dim)
            self.gelu = tnn.GELU(approximate="tanh")

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_1, self.attn = tnn.LayerNorm(dim), CausalSelfAttention()
            self.ln_2, self.mlp = tnn.LayerNorm(dim), MLP()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    return Block()


def make_pair(shape: Shape) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    """numpynn's block, torch's with the same weights, x and dL/d(output)."""
    import torch

    import numpynn as nn
    from numpynn.layers.base import get_array

    batch, steps, dim, heads = shape
    block = nn.TransformerBlock(dim, heads, causal=True, seed=0)
    module = torch_block(dim, heads)
    with torch.no_grad():
        for ours, theirs in TORCH_NAMES.items():
            value = get_array(block, ours)
            module.get_parameter(theirs).copy_(torch.from_numpy(value.T.copy()))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, steps, dim)).astype(np.float32)
    dout = rng.standard_normal((batch, steps, dim)).astype(np.float32)
    return block, module, x, dout


def torch_step(module: Any, x: np.ndarray, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import torch

    x_t = torch.from_numpy(x).requires_grad_()
    module.zero_grad(set_to_none=False)
    out = module(x_t)
    out.backward(torch.from_numpy(dout))
    return out.detach().numpy(), x_t.grad.numpy()  # type: ignore[union-attr]


def compare(shape: Shape, repeats: int) -> dict[str, Any]:
    block, module, x, dout = make_pair(shape)
    ours = numpynn_step(block, x, dout)
    theirs = torch_step(module, x, dout)
    gap = max(float(np.abs(a - b).max()) for a, b in zip(ours, theirs, strict=True))
    times: dict[str, list[float]] = {"numpynn": [], "torch": []}
    with LoadWatch() as watch:
        for _ in range(repeats):
            times["numpynn"].append(seconds(lambda: numpynn_step(block, x, dout)))
            times["torch"].append(seconds(lambda: torch_step(module, x, dout)))
    medians = {lib: statistics.median(t) for lib, t in times.items()}
    return {"medians": medians, "gap": gap, "background": watch.background}


def _peak_memory(library: str, shape: Shape, threads: int) -> int:
    """In a fresh process: the peak RSS growth over two steps (bytes), as in
    :func:`benchmarks.sequences._peak_memory`."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    block, module, x, dout = make_pair(shape)
    with threadpool_limits(limits=threads, user_api="blas"):
        if library == "numpynn":
            return rss_growth(lambda: numpynn_step(block, x, dout))
        return rss_growth(lambda: torch_step(module, x, dout))


def peak_memory(library: str, shape: Shape, threads: int) -> int:
    return in_fresh_process(_peak_memory, library, shape, threads)


def numpy_peak(shape: Shape) -> int:
    """NumPy's peak allocation (tracemalloc) over two numpynn steps."""
    block, _, x, dout = make_pair(shape)
    return traced_peak(lambda: numpynn_step(block, x, dout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    import torch
    from threadpoolctl import threadpool_limits

    shape = (args.batch, args.steps, args.dim, args.heads)
    print("# A transformer block against PyTorch CPU\n")
    print(
        f"TransformerBlock({args.dim}, n_heads={args.heads}, causal=True) forward (training) + "
        f"backward (to every parameter and to x), batch {args.batch}, {args.steps} steps, "
        f"float32; PyTorch: nanoGPT's Block (scaled_dot_product_attention) with the same "
        f"weights; median of {args.repeats} alternating runs.\n"
    )
    print("\n".join(machine_lines()))
    print()
    print(
        "| threads | numpynn ms | PyTorch ms | numpynn samples/s | PyTorch samples/s | "
        "numpynn / PyTorch | background cores | max gap (out, dx) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for threads in args.threads:
        torch.set_num_threads(threads)
        with threadpool_limits(limits=threads, user_api="blas"):
            row = compare(shape, args.repeats)
        ours, theirs = row["medians"]["numpynn"], row["medians"]["torch"]
        print(
            f"| {threads} | {ours * 1e3:.2f} | {theirs * 1e3:.2f} | {args.batch / ours:.0f} | "
            f"{args.batch / theirs:.0f} | {theirs / ours:.2f}x | {row['background']:.2f} | "
            f"{row['gap']:.1e} |"
        )
    print()
    threads = args.threads[0]
    rss = {lib: peak_memory(lib, shape, threads) / 2**20 for lib in ("numpynn", "torch")}
    print(
        f"Peak memory over two steps ({threads} thread(s)): numpynn's peak RSS growth "
        f"{rss['numpynn']:.1f} MB, PyTorch's {rss['torch']:.1f} MB; NumPy's peak allocation "
        f"{numpy_peak(shape) / 2**20:.1f} MB."
    )


if __name__ == "__main__":
    main()
