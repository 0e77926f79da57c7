"""numpynn serve, a language model: POST /api/generate (JSON, or the text streamed), its 400s,
/api/words, /api/model, generations off the event loop under concurrent clients, the command,
and the writing page in headless Chromium.

The models are tiny and untrained (a transformer, an LSTM): what is checked is that the server
gives exactly the text ``TrainedLanguageModel.write`` draws for the same seed."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
import uvicorn
from cli_helpers import run
from fastapi.testclient import TestClient

import numpynn as nn
from numpynn.datasets import CharVocabulary
from numpynn.serve import create_text_app
from numpynn.serve.batching import QueueFullError
from numpynn.serve.text_requests import MAX_PROMPT, Sampling, WriteRequest
from numpynn.serve.writers import Writers
from numpynn.trained import LANGUAGE_MODEL, load_language_model

TEXT = CharVocabulary.from_text("ROMEO:\nBut, soft! what light through yonder window breaks?")
NAMES = CharVocabulary.from_text("abcdefghijklmnopqrstuvwxyz", specials=".")


# ---- models ------------------------------------------------------------------------------------


def gpt(vocabulary, block=16, dim=16):
    V = len(vocabulary)
    return nn.Sequential(
        nn.Embedding(V, dim, seed=0),
        nn.PositionalEmbedding(block, dim, seed=1),
        nn.TransformerBlock(dim, n_heads=2, causal=True, seed=2),
        nn.Dense(dim, V, seed=3),
        nn.Softmax(),
    )


def lstm(vocabulary, hidden=16):
    V = len(vocabulary)
    return nn.Sequential(
        nn.Embedding(V, 8, seed=0),
        nn.LSTM(8, hidden, return_sequences=True, seed=1),
        nn.Dense(hidden, V, seed=2),
        nn.Softmax(),
    )


def save(path, model, vocabulary, **metadata):
    meta = {"task": LANGUAGE_MODEL, "vocabulary": vocabulary.to_json(), **metadata}
    nn.save(model, path, metadata=meta)
    return path


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "text.npz"
    return save(path, gpt(TEXT), TEXT, dataset="shakespeare")


@pytest.fixture(scope="module")
def lstm_file(tmp_path_factory):
    return save(tmp_path_factory.mktemp("models") / "lstm.npz", lstm(TEXT), TEXT)


@pytest.fixture(scope="module")
def names_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "names.npz"
    return save(path, gpt(NAMES), NAMES, dataset="names", boundary=".")


@pytest.fixture(scope="module")
def writer(text_file):
    return load_language_model(text_file)


@pytest.fixture
def client(writer):
    with TestClient(create_text_app(writer, "text.npz")) as client:
        yield client


def expected(writer, prompt, length, temperature=1.0, top_k=None, seed=0):
    return "".join(writer.write(prompt, length, temperature=temperature, top_k=top_k, seed=seed))


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


def assert_error(response, status, *words):
    """A JSON error of ``status``: {"error": one line naming ``words``}."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert "\n" not in body["error"]
    for word in words:
        assert word in body["error"], body["error"]


# ---- the API -----------------------------------------------------------------------------------


def test_the_json_answer_is_the_text_write_draws_for_the_seed(client, writer):
    asked = {"prompt": "ROMEO:\n", "length": 120, "temperature": 0.7, "top_k": 5, "seed": 11}
    answer = client.post("/api/generate", json=asked).json()
    text = expected(writer, "ROMEO:\n", 120, temperature=0.7, top_k=5, seed=11)
    assert answer == {**asked, "text": text, "length": 120, "model": "text.npz"}
    assert client.post("/api/generate", json=asked).json()["text"] == text  # same seed


def test_the_defaults_and_a_seed_drawn_for_a_request_without_one(client, writer):
    answer = client.post("/api/generate", json={"prompt": "But"}).json()
    assert (answer["length"], answer["temperature"], answer["top_k"]) == (200, 1.0, None)
    assert isinstance(answer["seed"], int) and 0 <= answer["seed"] < 2**31
    assert answer["text"] == expected(writer, "But", 200, seed=answer["seed"])  # reproducible


def test_a_streamed_answer_is_the_same_text_in_several_chunks(writer):
    text = expected(writer, "ROMEO:", 300, seed=5)
    body = {"prompt": "ROMEO:", "length": 300, "seed": 5, "stream": True}
    with (
        Server(create_text_app(writer, "text.npz")) as server,
        httpx2.Client(base_url=server.url, timeout=60) as http,
        http.stream("POST", "/api/generate", json=body) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.headers["x-seed"] == "5"
        chunks = list(response.iter_text())
    assert "".join(chunks) == text
    assert len(chunks) >= 300 // 16  # at most 16 characters a chunk


def test_a_client_that_goes_away_stops_its_generation(writer):
    app = create_text_app(writer, "text.npz")
    writers = app.state.writers
    with Server(app) as server, httpx2.Client(base_url=server.url, timeout=60) as http:
        body = {"prompt": "ROMEO:", "length": 2000, "seed": 0, "stream": True}
        with http.stream("POST", "/api/generate", json=body) as response:
            next(response.iter_text())  # the first chunk, then hang up
        deadline = time.monotonic() + 20
        while writers.busy and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writers.busy == 0
        assert writers.stats.characters < 2000
        # the copy of the model is back, and writes the same text as before
        answer = http.post("/api/generate", json={**body, "length": 50, "stream": False})
    assert answer.json()["text"] == expected(writer, "ROMEO:", 50, seed=0)


BAD_REQUESTS = {
    "not JSON": ({"content": b"{prompt"}, "not valid JSON"),
    "empty body": ({"content": b""}, "empty"),
    "a list": ({"json": ["ROMEO"]}, "must be a JSON object"),
    "no prompt": ({"json": {"length": 10}}, 'no "prompt"'),
    "empty prompt": ({"json": {"prompt": ""}}, "the prompt is empty"),
    "null prompt": ({"json": {"prompt": None}}, "prompt must be a string, got null"),
    "a number as prompt": ({"json": {"prompt": 7}}, "prompt must be a string"),
    "characters outside": ({"json": {"prompt": "Zoë ~"}}, "3 character(s)", "'Z'", "'~'", "'ë'"),
    "a prompt too long": ({"json": {"prompt": "R" * (MAX_PROMPT + 1)}}, "the limit is 10000"),
    "length 0": ({"json": {"prompt": "R", "length": 0}}, "length must be in 1..2000, got 0"),
    "negative length": ({"json": {"prompt": "R", "length": -5}}, "length must be in 1..2000"),
    "absurd length": ({"json": {"prompt": "R", "length": 10**9}}, "1..2000, got 1000000000"),
    "huge length": ({"content": b'{"prompt": "R", "length": 1' + b"0" * 40 + b"}"}, "integer"),
    "fractional length": ({"json": {"prompt": "R", "length": 2.5}}, "length must be an integer"),
    "length as text": ({"json": {"prompt": "R", "length": "10"}}, 'a string ("10")'),
    "length true": ({"json": {"prompt": "R", "length": True}}, "integer, got true"),
    "temperature 0": ({"json": {"prompt": "R", "temperature": 0}}, "temperature", "> 0"),
    "negative temperature": ({"json": {"prompt": "R", "temperature": -1}}, "temperature"),
    "infinite temperature": ({"content": b'{"prompt": "R", "temperature": 1e999}'}, "JSON"),
    "NaN temperature": ({"content": b'{"prompt": "R", "temperature": NaN}'}, "JSON"),
    "temperature as text": ({"json": {"prompt": "R", "temperature": "hot"}}, "a number"),
    "top_k 0": ({"json": {"prompt": "R", "top_k": 0}}, "top_k must be in 1..", "vocabulary"),
    "top_k too large": ({"json": {"prompt": "R", "top_k": 1000}}, "top_k must be in 1.."),
    "fractional top_k": ({"json": {"prompt": "R", "top_k": 1.5}}, "top_k must be an integer"),
    "negative seed": ({"json": {"prompt": "R", "seed": -1}}, "seed must be in 0.."),
    "seed as text": ({"json": {"prompt": "R", "seed": "1"}}, "seed must be an integer"),
    "stream as text": ({"json": {"prompt": "R", "stream": "yes"}}, "stream must be true or false"),
    "unknown field": ({"json": {"prompt": "R", "temprature": 1}}, "unknown", "'temprature'"),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_input_gets_a_400_naming_the_reason(client, name):
    request, *words = BAD_REQUESTS[name]
    assert_error(client.post("/api/generate", **request), 400, *words)
    streamed = request.get("json")
    if isinstance(streamed, dict) and "stream" not in streamed:  # refused before streaming
        response = client.post("/api/generate", json={**streamed, "stream": True})
        assert_error(response, 400, *words)
    assert client.get("/api/health").json()["requests"] == 0  # nothing was written


def test_the_length_bound_is_the_apps(writer):
    with TestClient(create_text_app(writer, "text.npz", max_length=50)) as client:
        assert_error(client.post("/api/generate", json={"prompt": "R", "length": 51}), 400, "1..50")
        assert client.post("/api/generate", json={"prompt": "R", "length": 50}).status_code == 200


def test_a_body_over_the_limit_is_refused_with_413(writer):
    with TestClient(create_text_app(writer, "text.npz", max_body=1000)) as client:
        response = client.post("/api/generate", json={"prompt": "R" * 2000})
        assert_error(response, 413, "the limit is 1000")


def test_unknown_routes_and_methods_are_json_errors(client):
    assert_error(client.get("/api/generate"), 405, "method not allowed")
    assert_error(client.post("/api/predict", json={}), 404, "not found")


def test_the_model_endpoint_describes_the_model(client, writer):
    info = client.get("/api/model").json()
    assert info["name"] == "text.npz"
    assert info["task"] == "language-model"
    assert info["dataset"] == "shakespeare"
    assert info["vocabulary"] == "".join(TEXT.chars)
    assert info["vocabulary_size"] == len(TEXT)
    assert info["block"] == 16
    assert info["boundary"] is None
    assert [layer["type"] for layer in info["layers"]] == [
        "Embedding",
        "PositionalEmbedding",
        "TransformerBlock",
        "Dense",
        "Softmax",
    ]
    assert info["layers"][2] == {
        "type": "TransformerBlock",
        **writer.model.layers[2].config(),
    }
    assert info["n_parameters"] == sum(p.size for p in writer.model.parameters())
    assert info["limits"]["max_length"] == 2000
    assert info["limits"]["generations"] == 2


def test_a_recurrent_model_has_no_block(lstm_file):
    with TestClient(create_text_app(load_language_model(lstm_file), "lstm.npz")) as client:
        assert client.get("/api/model").json()["block"] is None


def test_a_names_model_draws_new_words(names_file):
    names = load_language_model(names_file)
    with TestClient(create_text_app(names, "names.npz")) as client:
        assert client.get("/api/model").json()["boundary"] == "."
        answer = client.post("/api/words", json={"count": 7, "prefix": "em", "seed": 4}).json()
        assert answer["words"] == names.words(7, prefix="em", seed=4)
        assert all(word.startswith("em") for word in answer["words"])
        assert len(client.post("/api/words", json={}).json()["words"]) == 20
        for body, *words in [
            ({"count": 0}, "count must be in 1..100"),
            ({"count": 101}, "count must be in 1..100"),
            ({"prefix": "Em"}, "prefix has 1 character(s) outside", "'E'"),
            ({"prefix": "a.b"}, "boundary '.'"),
            ({"prefix": 3}, "prefix must be a string"),
            ({"prompt": "a"}, "unknown field(s) 'prompt'"),
        ]:
            assert_error(client.post("/api/words", json=body), 400, *words)


def test_a_model_of_running_text_has_no_words(client):
    assert_error(client.post("/api/words", json={}), 400, "running text, not words")


def test_the_openapi_page_documents_the_api(client):
    schema = client.get("/openapi.json").json()
    assert {"/api/generate", "/api/words", "/api/model", "/api/health"} <= set(schema["paths"])
    body = schema["paths"]["/api/generate"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["required"] == ["prompt"]
    assert client.get("/docs").status_code == 200


# ---- concurrency -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["transformer", "lstm"])
def test_eight_concurrent_clients_all_get_200_and_their_own_text(kind, writer, lstm_file):
    """8 clients at once, half streaming, on 2 copies of the model: every answer a 200 with
    exactly the text of its seed (no copy writes for two requests at once: a recurrent
    layer's state would mix them), never more than 2 written at a time."""
    served = writer if kind == "transformer" else load_language_model(lstm_file)
    app = create_text_app(served, "model.npz", generations=2, max_queue=64)
    writers = app.state.writers

    def ask(k):
        body = {"prompt": "ROMEO:", "length": 400, "seed": k, "temperature": 0.9}
        with httpx2.Client(base_url=server.url, timeout=120) as http:
            if k % 2:
                with http.stream("POST", "/api/generate", json={**body, "stream": True}) as r:
                    return r.status_code, "".join(r.iter_text())
            response = http.post("/api/generate", json=body)
            return response.status_code, response.json()["text"]

    with Server(app) as server, ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert [status for status, _ in answers] == [200] * 8
    for k, (_, text) in enumerate(answers):
        assert text == expected(served, "ROMEO:", 400, temperature=0.9, seed=k), k
    assert writers.stats.requests == 8
    assert 1 <= writers.stats.most_at_once <= 2
    assert writers.stats.rejected == 0


def request(seed=0, length=5):
    return WriteRequest("ROMEO", length, Sampling(1.0, None, seed), stream=False)


def test_requests_wait_their_turn_and_a_full_line_is_refused(writer):
    """Generations 1, max_queue 2: one writes, two wait in order, the fourth is refused."""

    async def main():
        writers = Writers(writer, 1, 2)
        order = []
        async with writers.lend():
            waiting = [asyncio.ensure_future(collect(writers, k, order)) for k in range(2)]
            await asyncio.sleep(0.01)
            assert (writers.busy, writers.waiting) == (1, 2)
            with pytest.raises(QueueFullError, match="1 writing, 2 waiting"):
                writers.check_room()
            with pytest.raises(QueueFullError):
                async with writers.lend():
                    pass
        texts = await asyncio.gather(*waiting)
        assert order == [0, 1]  # first come, first served
        assert texts == [expected(writer, "ROMEO", 5, seed=k) for k in range(2)]
        assert writers.stats.rejected == 2
        assert (writers.busy, writers.waiting) == (0, 0)

    async def collect(writers, k, order):
        chunks = [chunk async for chunk in writers.write(request(k))]
        order.append(k)
        return "".join(chunks)

    asyncio.run(main())


def test_a_busy_server_answers_503_with_retry_after(writer):
    app = create_text_app(writer, "text.npz", generations=1, max_queue=0)

    async def hold():
        async with app.state.writers.lend():
            await asyncio.sleep(60)

    with TestClient(app) as client:
        held = client.portal.start_task_soon(hold)
        while not app.state.writers.busy:
            time.sleep(0.01)
        for stream in (False, True):
            body = {"prompt": "R", "stream": stream}
            response = client.post("/api/generate", json=body)
            assert_error(response, 503, "busy", "retry after 1 s")
            assert response.headers["retry-after"] == "1"
        held.cancel()


def test_generation_runs_off_the_event_loop(writer, monkeypatch):
    """While a generation is drawing, the server answers other requests."""
    import numpynn.serve.writers as writers_module

    started, release = threading.Event(), threading.Event()
    next_chunk = writers_module._next_chunk

    def slow_chunk(draws):
        started.set()
        release.wait(30)
        return next_chunk(draws)

    monkeypatch.setattr(writers_module, "_next_chunk", slow_chunk)
    app = create_text_app(writer, "text.npz")
    body = {"prompt": "R", "length": 10, "seed": 1}
    with (
        Server(app) as server,
        httpx2.Client(base_url=server.url, timeout=60) as http,
        ThreadPoolExecutor(1) as pool,
    ):
        writing = pool.submit(http.post, "/api/generate", json=body)
        assert started.wait(30)
        health = http.get("/api/health").json()  # answered while the chunk is drawn
        assert health["generating"] == 1
        release.set()
        assert writing.result().json()["text"] == expected(writer, "R", 10, seed=1)


# ---- the command -------------------------------------------------------------------------------


def test_serve_has_the_language_model_options(capsys):
    code, out, _ = run(capsys, "serve", "--help")
    assert code == 0
    assert "--generations" in out and "language model" in out


def test_serve_command_serves_a_language_model_and_its_options(serve_command, text_file):
    url = serve_command(text_file, "--generations", "3", "--max-queue", "5")
    info = httpx2.get(f"{url}/api/model", timeout=30).json()
    assert info["task"] == "language-model"
    assert (info["limits"]["generations"], info["limits"]["max_queue"]) == (3, 5)
    page = httpx2.get(url, timeout=30).text
    assert 'id="prompt"' in page and "<canvas" not in page


# ---- the page, in headless Chromium ------------------------------------------------------------


def written(page, n):
    page.wait_for_function(f"Number(document.body.dataset.written || 0) >= {n}", timeout=60_000)


@pytest.mark.slow
def test_the_page_streams_the_continuation_of_a_typed_prompt(
    serve_command, browser, text_file, writer, tmp_path
):
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    page.goto(serve_command(text_file))
    page.wait_for_selector("body[data-ready=true]")
    assert "shakespeare" in page.locator("#model-line").text_content()
    facts = page.locator("#facts").text_content()
    assert f"{len(TEXT)} characters" in facts and "16 characters" in facts  # vocabulary, block
    assert page.locator("#layers li").count() == 5
    assert page.locator("#names-panel").is_hidden()

    page.fill("#prompt", "ROMEO:\n")
    page.fill("#length", "400")
    page.fill("#seed", "7")
    page.locator("#temperature").fill("0.5")
    page.click("#write")
    written(page, 1)
    text = expected(writer, "ROMEO:\n", 400, temperature=0.5, seed=7)
    assert page.locator("#output-text").text_content() == text
    assert page.locator("#output-prompt").text_content() == "ROMEO:\n"
    assert int(page.evaluate("document.body.dataset.chunks")) > 1  # it came in pieces
    assert "seed 7" in page.locator("#status").text_content()
    page.screenshot(path=tmp_path / "written.png")

    # a prompt outside the vocabulary: the server's reason, and no text
    page.fill("#prompt", "Zebra")
    page.click("#write")
    written(page, 2)
    status = page.locator("#status")
    assert "outside the vocabulary" in status.text_content() and "'Z'" in status.text_content()
    assert "error" in status.get_attribute("class")
    assert page.locator("#output-text").text_content() == ""


@pytest.mark.slow
def test_the_stop_button_ends_the_writing(browser, writer, monkeypatch):
    """Stop, while the chunks come (slowly: 20 ms each), ends the text on the page and on the
    server, which gets its copy of the model back."""
    import numpynn.serve.writers as writers_module

    next_chunk = writers_module._next_chunk

    def slow_chunk(draws):
        time.sleep(0.02)
        return next_chunk(draws)

    monkeypatch.setattr(writers_module, "_next_chunk", slow_chunk)
    app = create_text_app(writer, "text.npz")
    writers = app.state.writers
    with Server(app) as server:
        page = browser.new_page()
        page.goto(server.url)
        page.wait_for_selector("body[data-ready=true]")
        page.fill("#prompt", "But")
        page.fill("#length", "2000")  # 125 chunks: 2.5 s
        page.click("#write")
        page.wait_for_function("Number(document.body.dataset.chunks || 0) >= 2")
        page.click("#stop")
        written(page, 1)
        assert "stopped after" in page.locator("#status").text_content()
        assert len(page.locator("#output-text").text_content()) < 2000
        assert page.locator("#write").is_enabled() and page.locator("#stop").is_disabled()
        deadline = time.monotonic() + 20
        while writers.busy and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writers.busy == 0 and writers.stats.characters < 2000


@pytest.mark.slow
def test_the_page_of_a_names_model_lists_new_names(serve_command, browser, names_file):
    names = load_language_model(names_file)
    page = browser.new_page(viewport={"width": 390, "height": 800})  # a phone's width
    page.goto(serve_command(names_file))
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#names-panel").is_visible()
    page.fill("#seed", "3")
    page.locator("#temperature").fill("1")
    page.fill("#prefix", "an")
    page.click("#new-names")
    page.wait_for_function("document.querySelectorAll('#names li').length === 20")
    shown = page.locator("#names li").all_text_contents()
    assert shown == [w or "(empty)" for w in names.words(20, prefix="an", seed=3)]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing wider than the phone


@pytest.mark.parametrize("limit", ["max_length", "max_body"])
def test_the_text_apps_limits_must_be_positive(writer, limit):
    with pytest.raises(ValueError, match=rf"{limit} must be a positive integer, got -1"):
        create_text_app(writer, "text.npz", **{limit: -1})
