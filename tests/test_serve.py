"""numpynn serve: the prediction API, its dynamic batching, the command and the page.

The model is a small MLP trained for a second on MNIST rows; the page test drives Debian's
Chromium with Playwright and replays test-set digits as mouse strokes."""

from __future__ import annotations

import asyncio
import io
import json
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import numpy as np
import pytest
import uvicorn
from cli_helpers import assert_one_line_error, run
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import numpynn as nn
from numpynn.imaging import preprocess_item, read_image
from numpynn.serve import create_app, load_served
from numpynn.serve.batching import INLINE_SECONDS, Batcher, QueueFullError

LABELS = [str(k) for k in range(10)]


# ---- a model and inputs ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist():
    (X, y), (X_test, y_test) = nn.datasets.load_mnist()
    return (X[:10_000], y[:10_000]), (X_test[:1000], y_test[:1000])


@pytest.fixture(scope="module")
def model_file(mnist, tmp_path_factory):
    """A [784, 32, 10] ReLU classifier (about 90% on MNIST) saved as a run's model.npz."""
    (X, y), (X_test, y_test) = mnist
    model = nn.mlp([784, 32, 10], activation="relu")
    model.fit(X, y, epochs=2, batch_size=64, seed=0, threads=1)  # small matrices: 1 is faster
    accuracy = float((model.predict(X_test) == y_test).mean())
    path = tmp_path_factory.mktemp("run") / "model.npz"
    metadata = {"class_labels": LABELS, "dataset": "mnist", "test_accuracy": accuracy}
    nn.save(model, path, metadata=metadata)
    return path


@pytest.fixture(scope="module")
def served(model_file):
    return load_served(model_file)


@pytest.fixture
def client(served):
    with TestClient(create_app(served)) as client:
        yield client


def png(grey, side=280):
    """A (h, w) array in [0, 1] as PNG bytes, scaled to side x side: black ink on white paper,
    like a scan."""
    image = Image.fromarray(np.uint8(255 - 255 * grey)).resize((side, side), Image.BILINEAR)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def gif():
    out = io.BytesIO()
    Image.new("L", (28, 28), 255).save(out, format="GIF")
    return out.getvalue()


def post_image(client, data, kind="image/png"):
    return client.post("/api/predict", content=data, headers={"content-type": kind})


def post_json(client, body):
    return client.post("/api/predict", json=body)


def assert_error(response, status, *words):
    """A JSON error of ``status``: {"error": one line naming ``words``}."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert "\n" not in body["error"]
    assert "0x" not in body["error"], body["error"]  # no memory address of ours
    for word in words:
        assert word in body["error"], body["error"]


# ---- the API -----------------------------------------------------------------------------------


def test_model_endpoint_describes_the_model(client, served):
    info = client.get("/api/model").json()
    assert info["name"] == "model.npz"
    assert info["classes"] == LABELS
    assert info["input_shape"] == [28, 28]
    assert info["input_mode"] == "draw"
    assert info["dataset"] == "mnist"
    assert info["test_accuracy"] == served.test_accuracy > 0.8
    assert [layer["type"] for layer in info["layers"]] == ["Dense", "ReLU", "Dense", "Softmax"]
    assert info["architecture"] == "Dense(784, 32) -> ReLU -> Dense(32, 10) -> Softmax"
    assert info["n_parameters"] == 784 * 32 + 32 + 32 * 10 + 10


def test_a_run_directory_names_the_model_and_its_report_gives_the_accuracy(served, tmp_path):
    run_dir = tmp_path / "20261201-mnist"
    run_dir.mkdir()
    nn.save(served.model, run_dir / "model.npz", metadata={"class_labels": LABELS})
    (run_dir / "metrics.json").write_text(json.dumps({"test": {"accuracy": 0.9123}}))
    from_report = load_served(run_dir / "model.npz")
    assert from_report.name == "20261201-mnist/model.npz"
    assert from_report.test_accuracy == 0.9123


def test_health_reports_ok_and_the_counters(client):
    health = client.get("/api/health").json()
    assert health["status"] == "ok"
    assert health["queued"] == 0
    assert health["forward_passes"] == 0


def test_json_pixels_get_the_models_probabilities(client, served, mnist):
    _, (X_test, _) = mnist
    answer = post_json(client, {"pixels": X_test[0].tolist()}).json()
    expected = served.model.predict_proba(X_test[:1])[0]
    np.testing.assert_allclose(answer["probabilities"], expected, rtol=1e-6, atol=1e-7)
    assert answer["class"] == int(expected.argmax())
    assert answer["label"] == LABELS[answer["class"]]
    assert answer["probability"] == answer["probabilities"][answer["class"]]
    assert answer["model"] == served.name
    assert "input" not in answer  # JSON pixels are the input already


def test_a_json_list_gets_one_answer_per_item_in_order(client, served, mnist):
    _, (X_test, _) = mnist
    answer = post_json(client, [{"pixels": row.tolist()} for row in X_test[:5]]).json()
    P = np.array([p["probabilities"] for p in answer["predictions"]])
    np.testing.assert_allclose(P, served.model.predict_proba(X_test[:5]), rtol=1e-6, atol=1e-7)
    assert answer["model"] == served.name


def test_a_png_of_a_test_digit_is_read_as_its_label(client, served, mnist):
    _, (X_test, y_test) = mnist
    k = next(k for k in range(100) if served.model.predict(X_test[k : k + 1])[0] == y_test[k])
    answer = post_image(client, png(X_test[k].reshape(28, 28))).json()
    assert answer["class"] == y_test[k]


def test_a_fashion_mnist_model_frames_an_uploaded_photo_as_fashion_mnist(fashion_model_file):
    """Not as a digit: the item trimmed, its longer side filling the frame, no strokes."""
    _, (X_test, y_test) = nn.datasets.load_fashion_mnist()
    served = load_served(fashion_model_file)
    k = next(k for k in range(100) if served.model.predict(X_test[k : k + 1])[0] == y_test[k])
    data = png(X_test[k].reshape(28, 28))  # dark on white, 280 x 280
    with TestClient(create_app(served)) as client:
        answer = post_image(client, data).json()
    expected = preprocess_item(read_image(data))
    np.testing.assert_allclose(np.array(answer["input"]), expected, atol=1e-6)
    assert answer["label"] == nn.datasets.FASHION_MNIST_CLASSES[y_test[k]]


def test_a_jpeg_is_read_too(client, mnist):
    _, (X_test, _) = mnist
    out = io.BytesIO()
    Image.open(io.BytesIO(png(X_test[0].reshape(28, 28)))).save(out, format="JPEG")
    assert post_image(client, out.getvalue(), "image/jpeg").status_code == 200


def test_an_image_answer_holds_the_input_the_model_received(client, served, mnist):
    _, (X_test, _) = mnist
    answer = post_image(client, png(X_test[1].reshape(28, 28))).json()
    received = np.array(answer["input"], dtype=np.float32)
    assert received.shape == (28, 28)
    assert received.min() >= 0 and received.max() == 1
    expected = served.model.predict_proba(received.reshape(1, 784))[0]
    np.testing.assert_allclose(answer["probabilities"], expected, rtol=1e-6, atol=1e-7)


def test_a_transparent_canvas_png_counts_as_white_paper(client, mnist):
    _, (X_test, _) = mnist
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = np.uint8(255 * X_test[0].reshape(28, 28))  # black ink, alpha = ink
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").resize((200, 200)).save(out, format="PNG")
    answer = post_image(client, out.getvalue()).json()
    assert np.array(answer["input"]).sum() > 20  # the digit, not an inverted blank


def test_a_blank_image_answers_no_digit_found(client):
    response = post_image(client, png(np.zeros((28, 28))))
    assert_error(response, 422, "no digit found")


BAD_REQUESTS = {
    "text/plain": ({"content": b"7", "headers": {"content-type": "text/plain"}}, 415, "text/plain"),
    "no content type": ({"content": b"7"}, 415, "(none)"),
    "not an image": (
        {"content": b"GIF89a not really", "headers": {"content-type": "image/png"}},
        400,
        "not a PNG or JPEG",
    ),
    "empty image": ({"content": b"", "headers": {"content-type": "image/png"}}, 400, "empty"),
    "bad JSON": (
        {"content": b"{pixels", "headers": {"content-type": "application/json"}},
        400,
        "JSON",
    ),
    "bad UTF-8": (
        {"content": b"\xff\xfe", "headers": {"content-type": "application/json"}},
        400,
        "JSON",
    ),
    "deeply nested JSON": (
        {"content": b"[" * 100_000, "headers": {"content-type": "application/json"}},
        400,
        "not valid JSON",
    ),
    "a GIF sent as PNG": (
        {"content": gif(), "headers": {"content-type": "image/png"}},
        400,
        "not a PNG or JPEG",
    ),
    "wrong length": ({"json": {"pixels": [0.5] * 783}}, 422, "784 numbers, got 783"),
    "NaN": (  # not JSON: json.dumps writes it, JSON parsers refuse it
        {
            "content": b'{"pixels": [NaN' + b", 0" * 783 + b"]}",
            "headers": {"content-type": "application/json"},
        },
        400,
        "not valid JSON",
    ),
    "Infinity": (
        {"content": b'{"pixels": [1e999]}', "headers": {"content-type": "application/json"}},
        400,
        "not valid JSON",
    ),
    "out of range": ({"json": {"pixels": [0.0] * 783 + [1.5]}}, 422, "pixel 783 is 1.5"),
    "a huge integer": ({"json": {"pixels": [0] * 783 + [10**30]}}, 422, "pixel 783 is 1e+30"),
    "negative": ({"json": {"pixels": [-0.1] + [0.0] * 783}}, 422, "in 0..1"),
    "a string": ({"json": {"pixels": ["0.5"] * 784}}, 422, "not a number"),
    "a boolean": ({"json": {"pixels": [True] * 784}}, 422, "not a number"),
    "nested": ({"json": {"pixels": [[0.0] * 28] * 28}}, 422, "784 numbers, got 28 values"),
    "no pixels key": ({"json": {"image": [0.0] * 784}}, 422, '"pixels"'),
    "extra key": ({"json": {"pixels": [0.0] * 784, "x": 1}}, 422, '"pixels"'),
    "a number": ({"json": 7}, 422, '"pixels"'),
    "empty list": ({"json": []}, 422, "empty"),
    "a bad item": ({"json": [{"pixels": [0.0] * 784}, {"pixels": []}]}, 422, "item 1"),
    "too many items": ({"json": [{"pixels": [0.0] * 784}] * 257}, 413, "257 items"),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_input_gets_a_one_line_4xx_json_error(client, name):
    request, status, words = BAD_REQUESTS[name]
    assert_error(client.post("/api/predict", **request), status, words)
    assert client.get("/api/health").json()["status"] == "ok"


def test_a_body_over_the_limit_is_refused_with_413(served):
    with TestClient(create_app(served, max_body=10_000)) as client:
        big = {"content": b"x" * 10_001, "headers": {"content-type": "image/png"}}
        assert_error(client.post("/api/predict", **big), 413, "10001 bytes")

        def chunks():  # no content-length: counted while reading
            for _ in range(20):
                yield b"x" * 1000

        chunked = client.post(
            "/api/predict", content=chunks(), headers={"content-type": "image/png"}
        )
        assert_error(chunked, 413, "limit of 10000 bytes")


def test_the_predict_shortcut_answers_as_the_fastapi_route(served, mnist):
    # POST /api/predict is answered by a middleware in front of FastAPI's router; under a
    # root_path it leaves the request to the router, whose route runs the same endpoint
    _, (X_test, _) = mnist
    requests = [
        {"json": {"pixels": X_test[0].tolist()}},
        {"json": [{"pixels": X_test[1].tolist()}] * 2},
        {"content": png(X_test[2].reshape(28, 28)), "headers": {"content-type": "image/png"}},
        *(request for request, _, _ in BAD_REQUESTS.values()),
        {"content": b"x" * 10_001, "headers": {"content-type": "application/json"}},
    ]
    short = TestClient(create_app(served, max_body=10_000))
    via_router = TestClient(create_app(served, max_body=10_000), root_path="/r")
    with short, via_router:
        for request in requests:
            a = short.post("/api/predict", **request)
            b = via_router.post("/api/predict", **request)
            assert (a.status_code, a.headers) == (b.status_code, b.headers)
            address = re.compile(rb"0x[0-9a-f]+")  # Pillow's message names a BytesIO object
            assert address.sub(b"0x", a.content) == address.sub(b"0x", b.content)


def test_an_image_of_too_many_pixels_is_refused_with_413(client):
    out = io.BytesIO()
    Image.new("1", (5000, 5000)).save(out, format="PNG")  # 3 kB of PNG, 25 megapixels
    assert_error(post_image(client, out.getvalue()), 413, "5000 x 5000")


def test_unknown_routes_and_methods_are_json_errors(client):
    assert_error(client.get("/api/nothing"), 404, "not found")
    assert_error(client.get("/api/predict"), 405, "method not allowed")


def test_the_openapi_page_documents_the_api(client):
    schema = client.get("/openapi.json").json()
    assert {"/api/predict", "/api/model", "/api/health"} <= set(schema["paths"])
    body = schema["paths"]["/api/predict"]["post"]["requestBody"]["content"]
    assert {"image/png", "image/jpeg", "application/json"} == set(body)
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text  # Swagger UI comes from the server: the page works offline
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200


def test_the_page_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text
    for name in ("app.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200


CONTENT_TYPES = ["image/png", "image/jpeg", "application/json", "text/plain", "", "image/gif"]
json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=20,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.binary(max_size=3000) | json_values.map(lambda v: json.dumps(v).encode()),
    kind=st.sampled_from(CONTENT_TYPES),
)
def test_fuzz_random_bodies_never_get_a_5xx(client, body, kind):
    response = client.post("/api/predict", content=body, headers={"content-type": kind})
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert set(response.json()) == {"error"}


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), kind=st.sampled_from(["PNG", "JPEG"]))
def test_fuzz_corrupted_images_never_get_a_5xx(client, mnist, data, kind):
    _, (X_test, _) = mnist
    out = io.BytesIO()
    Image.open(io.BytesIO(png(X_test[0].reshape(28, 28), side=56))).save(out, format=kind)
    body = bytearray(out.getvalue())
    for _ in range(data.draw(st.integers(1, 8))):
        body[data.draw(st.integers(0, len(body) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(body)))
    response = post_image(client, bytes(body[:cut]), f"image/{kind.lower()}")
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert set(response.json()) == {"error"}


# ---- dynamic batching ------------------------------------------------------------------------


class Server:
    """The app served by uvicorn on a free loopback port, in a thread."""

    def __init__(self, app):
        self.app = app
        self.server = uvicorn.Server(uvicorn.Config(app, port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


def test_concurrent_requests_share_forward_passes_and_each_gets_its_own_answer(served, mnist):
    # The first request's forward pass is held until the 23 others have arrived: those then
    # go through one forward pass together, whatever the machine's load.
    _, (X_test, _) = mnist
    n = 24
    app = create_app(served, window=0.05)
    batcher = app.state.batcher
    entered, release = threading.Event(), threading.Event()

    def held_forward(X):
        entered.set()
        release.wait(30)
        return served.probabilities(X)

    batcher.forward = held_forward
    with Server(app) as server:

        def ask(k):
            with httpx2.Client(base_url=server.url, timeout=60) as http:
                return http.post("/api/predict", json={"pixels": X_test[k].tolist()}).json()

        with ThreadPoolExecutor(n) as pool:
            first = pool.submit(ask, 0)
            assert entered.wait(30)
            rest = [pool.submit(ask, k) for k in range(1, n)]
            deadline = time.monotonic() + 30
            while batcher.queued < n - 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            release.set()
            answers = [first.result(), *(f.result() for f in rest)]
        stats = batcher.stats

    P = np.array([a["probabilities"] for a in answers])
    np.testing.assert_allclose(P, served.model.predict_proba(X_test[:n]), rtol=1e-5, atol=1e-6)
    assert stats.requests == n
    assert stats.forward_passes == 2, stats  # the first alone, then the 23 others together
    assert stats.largest_batch == n - 1


def test_a_full_queue_answers_503_with_retry_after(served, mnist):
    _, (X_test, _) = mnist
    app = create_app(served, max_batch=1, max_queue=2)
    batcher = app.state.batcher
    entered, release = threading.Event(), threading.Event()

    def slow_forward(X):
        entered.set()
        release.wait(10)
        return served.probabilities(X)

    batcher.forward = slow_forward
    body = {"pixels": X_test[0].tolist()}
    with Server(app) as server, ThreadPoolExecutor(3) as pool:
        post = lambda: httpx2.post(f"{server.url}/api/predict", json=body, timeout=30)  # noqa: E731
        first = pool.submit(post)
        assert entered.wait(10)  # the first request is in its forward pass
        waiting = [pool.submit(post), pool.submit(post)]
        while batcher.queued < 2:
            time.sleep(0.01)
        refused = post()
        release.set()
        answered = [f.result() for f in [first, *waiting]]

    assert_error(refused, 503, "busy")
    assert refused.headers["retry-after"] == "1"
    assert [r.status_code for r in answered] == [200, 200, 200]
    assert batcher.stats.rejected == 1


def run_batcher(batcher, inputs):
    """The batcher's answers to ``inputs`` submitted at once, and its stats."""

    async def main():
        batcher.start()
        try:
            return await asyncio.gather(*(batcher.predict(X) for X in inputs))
        finally:
            await batcher.stop()

    return asyncio.run(main())


def test_batches_hold_whole_requests_up_to_max_batch_rows():
    sizes = []

    def forward(X):
        sizes.append(len(X))
        return X * 2

    inputs = [np.full((n, 3), k, dtype=float) for k, n in enumerate([1, 2, 3, 1, 6, 1])]
    answers = run_batcher(Batcher(forward, window=0.05, max_batch=4), inputs)
    for X, Y in zip(inputs, answers, strict=True):
        np.testing.assert_array_equal(Y, X * 2)  # each caller gets its own rows
    assert sizes == [3, 4, 6, 1]  # [1, 2], [3, 1], [6] alone (> max_batch), [1]


def test_a_lone_request_on_an_idle_batcher_does_not_wait_for_the_window():
    # One client, one request at a time: each runs at once. With a window of an hour, waiting
    # it would never answer (wait_for's 30 s is only a guard against hanging the suite).
    sizes = []

    def forward(X):
        sizes.append(len(X))
        return X

    batcher = Batcher(forward, window=3600, max_batch=64)

    async def main():
        batcher.start()
        try:
            for _ in range(3):
                await asyncio.wait_for(batcher.predict(np.zeros((1, 2))), 30)
        finally:
            await batcher.stop()

    asyncio.run(main())
    assert sizes == [1, 1, 1]


def test_max_batch_one_is_one_forward_pass_per_request():
    batcher = Batcher(lambda X: X, window=0.05, max_batch=1)
    run_batcher(batcher, [np.zeros((1, 2))] * 5)
    assert batcher.stats.forward_passes == 5


def test_short_forward_passes_run_in_the_event_loop_and_long_ones_in_the_thread():
    def threads_of(seconds):
        names = []

        def forward(X):
            names.append(threading.current_thread().name)
            time.sleep(seconds)
            return X

        batcher = Batcher(forward, window=0, max_batch=1)

        async def main():
            batcher.start()
            try:
                for _ in range(3):  # one after the other: each pass is timed before the next
                    await batcher.predict(np.zeros((1, 2)))
            finally:
                await batcher.stop()

        asyncio.run(main())
        return names

    main = threading.current_thread().name
    first, *quick = threads_of(0)
    assert first.startswith("forward") and quick == [main, main]  # the first is not timed yet
    assert all(name.startswith("forward") for name in threads_of(2 * INLINE_SECONDS))


def test_a_failing_forward_fails_its_requests_and_the_batcher_goes_on():
    calls = []

    def forward(X):
        calls.append(len(X))
        if len(calls) == 1:
            raise RuntimeError("boom")
        return X

    batcher = Batcher(forward, window=0, max_batch=1)

    async def main():
        batcher.start()
        try:
            with pytest.raises(RuntimeError, match="boom"):
                await batcher.predict(np.zeros((1, 2)))
            return await batcher.predict(np.ones((1, 2)))
        finally:
            await batcher.stop()

    np.testing.assert_array_equal(asyncio.run(main()), np.ones((1, 2)))


def test_the_queue_is_bounded_in_inputs_and_a_larger_list_waits_for_an_empty_queue():
    async def main():
        batcher = Batcher(lambda X: X, window=0.1, max_batch=100, max_queue=4)
        batcher.start()
        try:
            big = asyncio.ensure_future(batcher.predict(np.zeros((6, 1))))  # nothing waits
            await asyncio.sleep(0)
            with pytest.raises(QueueFullError):
                await batcher.predict(np.zeros((1, 1)))
            await big
            waiting = asyncio.ensure_future(batcher.predict(np.zeros((3, 1))))
            await asyncio.sleep(0)
            with pytest.raises(QueueFullError):
                await batcher.predict(np.zeros((2, 1)))  # 3 + 2 > 4
            one = asyncio.ensure_future(batcher.predict(np.zeros((1, 1))))  # 3 + 1 fit
            await asyncio.gather(waiting, one)
            assert batcher.stats.rejected == 2
        finally:
            await batcher.stop()

    asyncio.run(main())


# ---- the command -------------------------------------------------------------------------------


def test_serve_is_a_command_with_help(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "serve" in out
    code, out, _ = run(capsys, "serve", "--help")
    assert code == 0
    for option in ("--host", "--port", "--batch-window-ms", "--max-batch", "--max-queue"):
        assert option in out


def test_serve_without_its_extra_says_how_to_install_it(capsys, monkeypatch, model_file):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn raises ImportError
    code, _, err = run(capsys, "serve", model_file)
    assert code == 1
    assert_one_line_error(err, "pip install 'numpynn[serve]'")


def test_serve_names_a_missing_model_file_in_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "serve", tmp_path / "missing.npz")
    assert code == 2
    assert_one_line_error(err, "missing.npz", "does not exist")


def test_serve_refuses_a_model_that_does_not_take_images(capsys, tmp_path):
    path = tmp_path / "planar.npz"
    nn.save(nn.mlp([2, 4, 1], activation="tanh", output="sigmoid"), path)
    code, _, err = run(capsys, "serve", path)
    assert code == 2
    assert_one_line_error(err, "not a square image")


def test_serve_refuses_a_bad_batching_setting(capsys, model_file):
    code, _, err = run(capsys, "serve", model_file, "--max-batch", "0")
    assert code == 2
    assert_one_line_error(err, "--max-batch", "must be >= 1")


def test_the_load_test_script_runs_and_reports_every_mode(model_file, tmp_path):
    # benchmarks/serve_load.py against the small model: one client for half a second per mode
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "serve_load.py"
    report = tmp_path / "load.md"
    options = ["--seconds", "0.5", "--clients", "1", "--warmup", "0.1", "--output", report]
    result = subprocess.run(
        [sys.executable, script, model_file, *options], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = report.read_text().splitlines()
    rows = [line.split(" | ") for line in lines if line.startswith("| ")]  # header, modes
    assert [row[0] for row in rows[1:]] == [
        "| batching",
        "| batching, no window",
        "| one request per forward pass",
    ]
    for row in rows[1:]:
        assert int(row[2]) > 0  # requests answered
        assert float(row[7]) > 0 and float(row[8]) > 0  # server and client CPU ms/request
        assert row[9] == "0 |"  # no 5xx


# ---- the page, in headless Chromium ------------------------------------------------------------


def draw_as_strokes(page, image, threshold=0.5):
    """Replay a (28, 28) digit on the canvas with the mouse: one horizontal stroke for each
    run of ink pixels in each row."""
    box = page.locator("#canvas").bounding_box()
    cell = box["width"] / 28
    for i, row in enumerate(image > threshold):
        j = 0
        while j < 28:
            if not row[j]:
                j += 1
                continue
            end = j
            while end < 28 and row[end]:
                end += 1
            y = box["y"] + (i + 0.5) * cell
            page.mouse.move(box["x"] + (j + 0.5) * cell, y)
            page.mouse.down()
            page.mouse.move(box["x"] + (end - 0.5) * cell, y, steps=2)
            page.mouse.up()
            j = end


def bars(page):
    """{label: probability} as the page's bar chart shows it."""
    items = page.locator("#bars li")
    return {
        items.nth(k).get_attribute("data-class"): float(
            items.nth(k).get_attribute("data-probability")
        )
        for k in range(items.count())
    }


def preview_ink(page):
    """The sum of the 28x28 preview canvas's grey levels (0: black)."""
    return page.evaluate(
        """() => {
            const c = document.getElementById("preview");
            const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            let sum = 0;
            for (let k = 0; k < d.length; k += 4) sum += d[k];
            return sum / 255;
        }"""
    )


@pytest.mark.slow
def test_the_page_reads_digits_drawn_with_the_mouse(
    serve_command, browser, model_file, served, mnist, tmp_path
):
    _, (X_test, y_test) = mnist
    P = served.model.predict_proba(X_test)
    confident = [k for k in range(len(y_test)) if P[k].argmax() == y_test[k] and P[k].max() > 0.95]
    digits = [next(k for k in confident if y_test[k] == d) for d in (0, 1, 7)]
    url = serve_command(model_file)
    page = browser.new_page(viewport={"width": 1100, "height": 640})
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    assert "test accuracy" in page.locator("#model-line").text_content()
    assert list(bars(page)) == LABELS

    for n, k in enumerate(digits, start=1):
        page.click("#clear")
        assert preview_ink(page) == 0
        draw_as_strokes(page, X_test[k].reshape(28, 28))
        page.wait_for_function(f"Number(document.body.dataset.predictions || 0) >= {n}")
        page.wait_for_timeout(400)  # the last stroke's prediction
        page.screenshot(path=tmp_path / f"page-{y_test[k]}.png")
        shown = bars(page)
        assert page.locator("#prediction").text_content() == str(y_test[k])
        assert max(shown, key=shown.get) == str(y_test[k])
        assert sum(shown.values()) == pytest.approx(1, abs=1e-4)
        assert preview_ink(page) > 20

    page.click("#clear")
    assert page.locator("#prediction").text_content() == "\u2013"
    assert max(bars(page).values()) == 0

    # live: the page predicts while the pen is still down (debounced, at least every 350 ms)
    count = "Number(document.body.dataset.predictions || 0)"
    before = page.evaluate(count)
    box = page.locator("#canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 40)
    page.mouse.down()
    for k in range(1, 13):
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 40 + 18 * k)
        page.wait_for_timeout(80)
    page.wait_for_function(f"{count} > {before}")
    page.mouse.up()


@pytest.mark.slow
def test_a_fashion_mnist_model_gets_an_upload_and_class_names(
    serve_command, browser, served, mnist, tmp_path
):
    names = nn.datasets.FASHION_MNIST_CLASSES
    path = tmp_path / "fashion.npz"
    nn.save(served.model, path, metadata={"class_labels": list(names), "dataset": "fashion-mnist"})
    _, (X_test, _) = mnist
    photo = (
        1
        - np.asarray(  # a 1500 x 1500 "photo": a digit on grainy paper, over 1 MiB
            Image.fromarray(np.uint8(255 * X_test[0].reshape(28, 28))).resize((1500, 1500))
        )
        / 255
    )
    photo = np.clip(photo + np.random.default_rng(0).normal(0, 0.04, photo.shape), 0, 1)
    image = tmp_path / "upload.png"
    Image.fromarray(np.uint8(255 * photo)).save(image)
    assert image.stat().st_size > 1 << 20  # over the API's body limit: the page scales it down

    page = browser.new_page(viewport={"width": 1100, "height": 640})
    page.goto(serve_command(path))
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#canvas").is_hidden()
    assert list(bars(page)) == list(names)
    assert "test accuracy unknown" in page.locator("#model-line").text_content()
    assert "framed as Fashion-MNIST's items" in page.locator("#preview-note").text_content()
    page.set_input_files("#file", image)
    page.wait_for_function("Number(document.body.dataset.predictions || 0) >= 1")
    assert page.locator("#prediction").text_content() in names
    assert preview_ink(page) > 20
    page.wait_for_timeout(300)  # the bars' 120 ms transition
    page.screenshot(path=tmp_path / "fashion.png")


@pytest.mark.slow
def test_the_preview_note_gives_the_model_s_own_picture_size(serve_command, browser, tmp_path):
    path = tmp_path / "digits.npz"
    nn.save(nn.mlp([64, 16, 10], seed=0), path, metadata={"dataset": "digits"})
    page = browser.new_page()
    page.goto(serve_command(path))
    page.wait_for_selector("body[data-ready=true]")
    note = page.locator("#preview-note").text_content()
    assert note.startswith("The 8\u00d78 input") and "scaled to 8\u00d78" in note, note
    assert "28" not in note


@pytest.mark.slow
def test_the_openapi_page_renders_without_a_network(serve_command, browser, model_file, tmp_path):
    page = browser.new_page()
    page.goto(serve_command(model_file) + "/docs")
    page.get_by_text("/api/predict", exact=True).wait_for(timeout=15_000)
    assert page.get_by_text("/api/model", exact=True).count() == 1
    page.screenshot(path=tmp_path / "docs.png")


def test_images_are_preprocessed_at_most_one_per_core_at_once(served, mnist, monkeypatch):
    """More preprocessing threads than cores only fight over the GIL: 8 image requests at
    once on a '2-core' machine run at most 2 preprocessings at a time, and all are answered."""
    import numpynn.serve.app as serve_app

    running, most = 0, 0
    lock = threading.Lock()
    preprocess = serve_app.image_to_input

    def counting(data, prepare):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.05)
            return preprocess(data, prepare)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(serve_app, "image_to_input", counting)
    monkeypatch.setattr(serve_app.os, "cpu_count", lambda: 2)
    body = png(mnist[1][0][0].reshape(28, 28))
    with TestClient(create_app(served)) as client, ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post_image(client, body), range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert most == 2


@pytest.mark.parametrize("limit", ["max_body", "max_items"])
def test_the_apps_limits_must_be_positive(served, limit):
    with pytest.raises(ValueError, match=rf"{limit} must be a positive integer, got 0"):
        create_app(served, **{limit: 0})
