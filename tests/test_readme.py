"""The README's first example runs as written and gives the numbers it shows."""

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_first_example_runs_as_written():
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    np.testing.assert_allclose(
        namespace["net"].forward(np.array([[1.0, 0.5]])), [[0.31682708, 0.69627909]], rtol=1e-7
    )
    X, y = namespace["X"], namespace["y"]
    assert np.mean(namespace["model"].predict(X) == y) >= 0.9


@pytest.mark.slow
def test_every_python_block_runs_in_order(tmp_path, monkeypatch):
    """The README's snippets, run one after another in one namespace as a reader would."""
    monkeypatch.chdir(tmp_path)  # the model-file snippet writes flower.npz
    namespace: dict = {}
    for block in re.findall(r"```python\n(.*?)```", README.read_text(), re.S):
        exec(compile(block, "README.md", "exec"), namespace)
    assert (tmp_path / "flower.npz").exists()
    assert namespace["search"].best_params_["dropout"] in (0.0, 0.2)
    namespace["client"].close()
    namespace["cluster"].close()
