"""Hyper-parameter searches over NumpyNNClassifier on a Dask cluster, through joblib.

The test starts a real distributed cluster on the loopback interface (a scheduler and two
worker processes), runs the searches on it and stops it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from dask.distributed import Client, LocalCluster, get_task_stream
from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from numpynn.sklearn import NumpyNNClassifier

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",  # a free port: the HTTP server starts even with None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    return (X[:600] / 16).astype(np.float32), y[:600]


def run_on_cluster(client: Client, search: Any, X: np.ndarray, y: np.ndarray) -> set[str]:
    """Fit ``search`` through joblib's Dask backend; return the workers that ran its tasks."""
    with get_task_stream(client) as stream, joblib.parallel_config(backend="dask"):
        search.fit(X, y)
    return {task["worker"] for task in stream.data}


def test_grid_search_on_the_cluster_matches_a_local_run(client: Client, digits: tuple) -> None:
    X, y = digits
    grid = {"hidden_layer_sizes": [(8,), (32,)], "alpha": [1e-4, 1e-1]}
    estimator = NumpyNNClassifier(max_iter=20, batch_size=32, random_state=0)

    distributed = GridSearchCV(estimator, grid, cv=3, n_jobs=-1)
    workers = run_on_cluster(client, distributed, X, y)
    local = GridSearchCV(estimator, grid, cv=3, n_jobs=1).fit(X, y)

    assert workers == set(client.scheduler_info()["workers"])  # both workers did some fits
    np.testing.assert_allclose(
        distributed.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert distributed.best_params_ == local.best_params_
    assert distributed.best_score_ > 0.75


def test_randomized_search_runs_on_the_cluster(client: Client, digits: tuple) -> None:
    X, y = digits
    distributions = {
        "learning_rate": loguniform(1e-4, 1e-1),
        "hidden_layer_sizes": [(16,), (64,)],
        "dropout": [0.0, 0.2],
    }
    search = RandomizedSearchCV(
        NumpyNNClassifier(max_iter=15, batch_size=32, random_state=0),
        distributions,
        n_iter=6,
        cv=2,
        n_jobs=-1,
        random_state=0,
    )
    workers = run_on_cluster(client, search, X, y)
    assert len(workers) == 2
    assert len(search.cv_results_["params"]) == 6
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.score(X, y) > 0.85


def test_dask_search_example_prints_its_results_table() -> None:
    """The example, run against this test's cluster through --scheduler."""
    example = Path(__file__).resolve().parent.parent / "examples" / "dask_search.py"
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    ) as cluster:
        args = ["--scheduler", cluster.scheduler_address, "--train", "600", "--epochs", "2"]
        result = subprocess.run(
            [sys.executable, str(example), *args], capture_output=True, text=True, timeout=300
        )
    assert result.returncode == 0, result.stderr
    assert f"cluster: {cluster.scheduler_address} with 2 workers" in result.stdout
    assert "24 fits on 600 MNIST samples" in result.stdout
    ranks = [int(line[:4]) for line in result.stdout.splitlines() if line[:4].strip().isdigit()]
    assert len(ranks) == 8 and ranks[0] == 1 and ranks == sorted(ranks)  # best first
    assert "test accuracy of the refitted best model" in result.stdout
