"""Model files and checkpoints: save a model, or a whole training state, to one file and load
it back exactly (bit for bit) and safely.

A file is one ``.npz``: the arrays (``layers.{i}.{W,b}``; in a checkpoint also the optimiser's
``optimizer.{slot}.{k}`` and the callbacks' ``callbacks.{k}``) plus a JSON description (the
format is in docs/model-files.md). Writes are atomic. Loading never unpickles and validates
everything before it builds anything; any problem raises
:class:`~numpynn.errors.FileFormatError` naming the file and what is wrong.

=====================  ===============================================================
module                 job
=====================  ===============================================================
``archive``            the container: an ``.npz`` read without unpickling, written atomically
``schema``             the model's description, shared by both kinds of file
``model_file``         ``save``, ``load``, ``load_metadata``
``checkpoint_file``    ``save_checkpoint``, ``load_checkpoint``, ``Checkpoint``
=====================  ===============================================================
"""

from .checkpoint_file import CHECKPOINT_VERSION, Checkpoint, load_checkpoint, save_checkpoint
from .model_file import load, load_metadata, load_with_metadata, save
from .schema import CHECKPOINT_FORMAT, FORMAT_VERSION, MODEL_FORMAT

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "FORMAT_VERSION",
    "MODEL_FORMAT",
    "Checkpoint",
    "load",
    "load_checkpoint",
    "load_metadata",
    "load_with_metadata",
    "save",
    "save_checkpoint",
]
