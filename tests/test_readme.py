"""The README's first example runs as written and gives the numbers it shows."""

import re
from pathlib import Path

import numpy as np

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
