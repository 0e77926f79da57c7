"""A hyper-parameter search over NumpyNNClassifier on a Dask cluster, on an MNIST subset.

Nothing here schedules anything: scikit-learn's GridSearchCV hands its fits to joblib, and
joblib's Dask backend runs them on the cluster's workers.

    python examples/dask_search.py                                # a local 2-worker cluster
    python examples/dask_search.py --scheduler tcp://10.0.0.5:8786  # an existing cluster

Without ``--scheduler`` the script starts a LocalCluster on 127.0.0.1 (2 worker processes)
and stops it at the end. For a real cluster see docs/ecosystem.md: every worker needs numpynn
installed; the data travels with the tasks.
"""

from __future__ import annotations

import argparse
import contextlib
import time
import warnings
from collections import Counter
from collections.abc import Iterator

import joblib
import numpy as np
from dask.distributed import Client, LocalCluster, get_task_stream
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

import numpynn as nn
from numpynn.sklearn import NumpyNNClassifier

GRID = {
    "hidden_layer_sizes": [(64,), (256,)],
    "learning_rate": [1e-3, 1e-2],
    "dropout": [0.0, 0.2],
}


@contextlib.contextmanager
def connect(scheduler: str | None, n_workers: int) -> Iterator[Client]:
    """A client of the cluster at ``scheduler``, or of a new loopback LocalCluster."""
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",  # a free port: the HTTP server starts even with None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheduler", help="address of a running scheduler, tcp://host:8786")
    parser.add_argument("--workers", type=int, default=2, help="local workers (no --scheduler)")
    parser.add_argument("--train", type=int, default=5000, help="MNIST training samples")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--cv", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed small number of epochs

    (X_train, y_train), (X_test, y_test) = nn.datasets.load_mnist()
    X, y = X_train[: args.train], y_train[: args.train]  # float32: the models train in float32
    search = GridSearchCV(
        NumpyNNClassifier(max_iter=args.epochs, batch_size=64, random_state=0),
        GRID,
        cv=args.cv,
        n_jobs=-1,
    )
    with connect(args.scheduler, args.workers) as client:
        workers = client.scheduler_info()["workers"]
        print(f"cluster: {client.scheduler.address} with {len(workers)} workers")
        started = time.perf_counter()
        with get_task_stream(client) as stream, joblib.parallel_config(backend="dask"):
            search.fit(X, y)
        elapsed = time.perf_counter() - started
        per_worker = Counter(task["worker"] for task in stream.data)

    n_fits = len(search.cv_results_["params"]) * args.cv
    print(f"{n_fits} fits on {args.train} MNIST samples in {elapsed:.1f} s; tasks per worker:")
    for worker, count in sorted(per_worker.items()):
        print(f"  {worker}: {count}")
    print_results(search)
    accuracy = search.score(X_test, y_test)
    print(f"\nbest: {search.best_params_}")
    print(f"test accuracy of the refitted best model: {accuracy:.4f}")


def print_results(search: GridSearchCV) -> None:
    results = search.cv_results_
    print(f"\n{'rank':>4}  {'hidden':<8} {'lr':>7} {'dropout':>7}  {'cv accuracy':<16}", end="")
    print(f" {'fit s':>6}")
    for i in np.argsort(results["rank_test_score"]):
        p = results["params"][i]
        score = f"{results['mean_test_score'][i]:.4f} ± {results['std_test_score'][i]:.4f}"
        print(
            f"{results['rank_test_score'][i]:>4}  {p['hidden_layer_sizes']!s:<8} "
            f"{p['learning_rate']:>7g} {p['dropout']:>7g}  {score:<16} "
            f"{results['mean_fit_time'][i]:>6.2f}"
        )


if __name__ == "__main__":
    main()
