"""Peak resident memory of one training run, in a fresh process (so nothing else counts).

``python -m benchmarks.memory FRAMEWORK DATA_DIR EPOCHS BATCH`` loads X.npy / y.npy from
DATA_DIR, trains 784-100-10 and prints JSON: the peak RSS before the data was loaded, after,
and at the end (MB).
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path


def _peak_mb() -> float:
    """This process's peak RSS: VmHWM (Linux; ru_maxrss may carry the parent's figure over
    a fork), else ru_maxrss."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main(framework: str, data_dir: str, epochs: int, batch: int) -> dict[str, float]:
    import numpy as np

    from .frameworks import Numpynn, Sklearn, Torch, Workload

    contender = {"numpynn": Numpynn, "torch": lambda: Torch(2), "sklearn": lambda: Sklearn("sgd")}[
        framework
    ]()
    before = _peak_mb()
    X = np.load(Path(data_dir) / "X.npy")
    y = np.load(Path(data_dir) / "y.npy")
    loaded = _peak_mb()
    work = Workload("memory", (X.shape[1], 100, 10), batch, epochs)
    model = contender.build(work, work.initial_weights())
    labels = contender.prepare(y) if framework == "torch" else y
    contender.fit(model, work, contender.prepare(X), labels, seed=0)
    return {
        "before_data_mb": before,
        "data_mb": X.nbytes / 2**20,
        "after_load_mb": loaded,
        "peak_mb": _peak_mb(),
    }


if __name__ == "__main__":
    name, directory, n_epochs, batch_size = sys.argv[1:5]
    print(json.dumps(main(name, directory, int(n_epochs), int(batch_size))))
