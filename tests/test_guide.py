"""docs/guide.md's Python examples run as written."""

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide.md"


def test_every_python_block_of_the_guide_runs_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the run directory the example writes
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert blocks
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(GUIDE), "exec"), namespace)
    history = namespace["history"]
    assert len(history["loss"]) < 40  # early stopping ended it
    assert max(history["val_accuracy"]) > 0.9
    assert (tmp_path / "digits-run" / "checkpoint.npz").exists()
    assert max(namespace["convnet_history"]["val_accuracy"]) > 0.9  # the convnet learned
