"""The README's first example runs as written and gives the numbers it shows."""

import re
import subprocess
import sys
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
    namespace: dict = {"__name__": "__main__"}
    for block in BLOCKS:
        exec(compile(block, "README.md", "exec"), namespace)
    assert (tmp_path / "flower.npz").exists()
    assert namespace["search"].best_params_["dropout"] in (0.0, 0.2)


# Each snippet saved as a script and run with python, in the README's order in one directory
# (the ONNX snippet loads the flower.npz the model-file snippet saves): it must run cleanly,
# numpynn's and scikit-learn's warnings (ConvergenceWarning) turned into errors.
RUN_AS_SCRIPT = """
import runpy, sys, warnings
import numpynn
warnings.simplefilter("error", numpynn.ConvergenceWarning)
warnings.simplefilter("error", RuntimeWarning)
try:
    import sklearn.exceptions
    warnings.simplefilter("error", sklearn.exceptions.ConvergenceWarning)
except ImportError:
    pass
runpy.run_path(sys.argv[1], run_name="__main__")
"""
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
NEEDS = {"sklearn": "sklearn", "onnx": "onnx", "dask": "dask.distributed", "load_mnist": None}


def run_as_script(block, directory, name):
    script = directory / f"{name}.py"
    script.write_text(block)
    result = subprocess.run(
        [sys.executable, "-c", RUN_AS_SCRIPT, str(script)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr  # also those a Dask worker relays
    return result.stdout


def skip_without_extras(block):
    for word, module in NEEDS.items():
        if word in block and module is not None:
            pytest.importorskip(module)


def test_every_python_block_runs_as_a_script_without_warnings(tmp_path):
    """The quick snippets; the scikit-learn and Dask ones train many networks: below."""
    for k, block in enumerate(BLOCKS):
        if "sklearn" not in block:
            skip_without_extras(block)
            assert run_as_script(block, tmp_path, f"readme_{k}") == ""
    assert (tmp_path / "flower.npz").exists()


@pytest.mark.slow
def test_the_scikit_learn_blocks_run_as_scripts_without_warnings(tmp_path):
    sklearn_blocks = [block for block in BLOCKS if "sklearn" in block]
    assert len(sklearn_blocks) == 2
    cross_validation, dask = sklearn_blocks
    assert 'if __name__ == "__main__":' in dask  # Dask's worker processes import the script
    skip_without_extras(cross_validation)
    assert 0.9 < float(run_as_script(cross_validation, tmp_path, "readme_sklearn")) < 1
    skip_without_extras(dask)
    out = run_as_script(dask, tmp_path, "readme_dask")
    assert out.strip() in ("{'dropout': 0.0}", "{'dropout': 0.2}")
