"""How epochs are counted: from 0 in code and in saved state, from 1 wherever a person reads.

An epoch (or a batch within one) is an index from 0 in the training loop, in the callbacks'
arguments and attributes (``epoch``, ``best_epoch``, ``stopped_epoch``) and in their saved
state. Every message, progress line, report, metrics file and plot shows it from 1, through
:func:`one_based`. A count of completed epochs (``TrainingRun.epoch``, a checkpoint's epoch)
is also the number, from 1, of the last one completed.
"""

from __future__ import annotations


def one_based(index: int) -> int:
    """The number a person reads for the epoch or batch of 0-based ``index``: index + 1."""
    return index + 1


def at_batch(epoch: int, batch: int) -> str:
    """'epoch 3, batch 15' for the 0-based ``epoch`` 2 and ``batch`` 14."""
    return f"epoch {one_based(epoch)}, batch {one_based(batch)}"
