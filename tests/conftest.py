"""Test-session settings."""

import os
import subprocess
import sys

import pytest
from hypothesis import settings

# scikit-learn's estimator checks test array-API input only when SciPy's array-API support is
# on, and SciPy reads this once, at import: set it before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")


def small_classifier(X, y, path, metadata=None, **fit_options):
    """A 784-128-10 ReLU classifier trained 3 epochs on (X, y), saved to ``path``: its path."""
    import numpynn as nn

    model = nn.Sequential(
        nn.Dense(784, 128, seed=0), nn.ReLU(), nn.Dense(128, 10, seed=1), nn.Softmax()
    )
    model.fit(X, y, epochs=3, seed=0, **fit_options)
    nn.save(model, path, metadata=metadata)
    return path


@pytest.fixture(scope="session")
def digit_model_file(tmp_path_factory):
    """A small MNIST classifier (784-128-10, 3 epochs on 12,000 training images), saved: its
    path. About 96% test accuracy, trained once per test session for the image tests."""
    import numpynn as nn

    (X, y), _ = nn.datasets.load_mnist()
    path = tmp_path_factory.mktemp("models") / "mnist.npz"
    return small_classifier(
        X[:12000],
        y[:12000],
        path,
        loss=nn.CrossEntropy(),
        optimizer=nn.Adam(lr=0.002),
        batch_size=128,
    )


@pytest.fixture(scope="session")
def fashion_model_file(tmp_path_factory):
    """A small Fashion-MNIST classifier (784-128-10, 3 epochs on 20,000 training images), saved
    with its dataset and class names in the metadata: its path. About 84% test accuracy."""
    import numpynn as nn

    (X, y), _ = nn.datasets.load_fashion_mnist()
    path = tmp_path_factory.mktemp("models") / "fashion.npz"
    metadata = {"dataset": "fashion-mnist", "class_labels": list(nn.datasets.FASHION_MNIST_CLASSES)}
    return small_classifier(
        X[:20000], y[:20000], path, metadata, optimizer=nn.Adam(lr=1e-3), batch_size=64
    )


# Hypothesis: local runs explore new random examples and replay the failures they found from
# .hypothesis/; CI runs the same derandomized examples every time and keeps no database, so a
# result depends only on the commit. `.ci/run` sets HYPOTHESIS_PROFILE=ci; so does any CI env.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# ---- numpynn serve, and its pages in headless Chromium (test_serve, test_serve_text) ---------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [  # the closed network refuses Chromium's background connections
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def serve_command():
    """Start ``numpynn serve MODEL --port 0 ...``; yield its URL; stop it."""
    processes = []

    def start(model, *options):
        process = subprocess.Popen(
            [sys.executable, "-m", "numpynn", "serve", str(model), "--port", "0", *options],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        processes.append(process)
        line = process.stdout.readline()  # "serving NAME at http://127.0.0.1:PORT (...)"
        assert " at http://" in line, line
        return line.split(" at ")[1].split()[0]

    yield start
    for process in processes:
        process.terminate()
        process.wait(10)


@pytest.fixture
def browser():
    """Headless Chromium (Playwright, the serve tests' extra), closed after the test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def chapter_numbers():
    """``chapter_numbers(name)``: the learning-path chapter's default run (``CHAPTERS[name]
    .run()``, as ``numpynn lab NAME`` runs it: one BLAS thread, the shared text data), computed
    once per session. The runs are seeded, so every test that checks a chapter's default
    numbers, and the test of ``numpynn lab all``, can share one run instead of repeating it.
    Do not change the returned numbers."""
    from test_text_datasets import SHARED_DATA

    from numpynn.cli.lab import one_blas_thread
    from numpynn.lab import CHAPTERS

    chapters = dict(CHAPTERS)  # as registered (the test of lab all replaces their runs)
    cache = {}

    def numbers(name):
        if name not in cache:
            with pytest.MonkeyPatch.context() as patch, one_blas_thread():
                patch.setenv("NUMPYNN_DATA_DIR", str(SHARED_DATA))
                cache[name] = chapters[name].run()
        return cache[name]

    return numbers
