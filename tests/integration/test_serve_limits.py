"""Every limit of `seq2seq serve` and the status it answers with, one test each: 413 (body
size, declared or streamed), 422 (too many inputs, a long input, a large beam, wrong JSON
types, the library's own refusals), 404 (unknown model), 503 with Retry-After (queue full),
504 (timeout). After each, the server still answers."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install -e '.[serve]'")
httpx2 = pytest.importorskip("httpx2")

from fastapi.testclient import TestClient  # noqa: E402

from seq2seq.serve import Limits, create_app, load_models  # noqa: E402

LIMITS = Limits(max_inputs=4, max_chars=50, max_beam=8, max_body=2000)


@pytest.fixture(scope="module")
def models(memorised):
    return load_models([f"tiny={memorised[0]}"], device="cpu", precision="fp32")


@pytest.fixture(scope="module")
def client(models):
    with TestClient(create_app(models, LIMITS)) as c:
        yield c


def refused(answer, status: int, *words: str) -> str:
    """Assert `answer` is `status` with a one-line JSON detail holding `words`."""
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    for w in words:
        assert w in detail, detail
    return detail


def still_serves(client) -> None:
    assert client.post("/v1/translate", json={"inputs": ["abc"]}).status_code == 200


def test_413_a_declared_body_over_the_limit(client):
    body = json.dumps({"inputs": ["abc"] * 600}).encode()
    assert len(body) > LIMITS.max_body
    refused(client.post("/v1/translate", content=body), 413, "--max-body")
    still_serves(client)


def test_413_a_declared_length_is_refused_before_reading(models):
    """A Content-Length over the limit: 413 without reading a byte of the body."""
    from seq2seq.serve.guard import Guard
    from seq2seq.serve.metrics import Metrics

    async def never_read():
        raise AssertionError("the body was read")

    sent = []

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):
        raise AssertionError("the app was called")

    guard = Guard(app, max_body=100, metrics=Metrics(["tiny"], 64, dict))
    scope = {"type": "http", "method": "POST", "path": "/v1/translate"}
    scope["headers"] = [(b"content-length", b"10000000")]
    asyncio.run(guard(scope, never_read, send))
    assert sent[0]["status"] == 413


def test_413_a_streamed_body_over_the_limit(client):
    """Chunked, with no Content-Length: counted as it arrives."""
    chunks = (b'{"inputs": [' + b'"abc", ' * 100, b'"abc", ' * 300 + b'"abc"]}')
    answer = client.post("/v1/translate", content=iter(chunks))
    refused(answer, 413, "--max-body")
    still_serves(client)


def test_422_too_many_inputs(client):
    refused(client.post("/v1/translate", json={"inputs": ["a"] * 5}), 422, "inputs", "--max-inputs")


def test_422_a_long_input_is_named(client):
    answer = client.post("/v1/translate", json={"inputs": ["abc", "a" * 51]})
    assert refused(answer, 422, "--max-chars").startswith("inputs[1]: 51 characters")


def test_422_a_beam_over_the_limit(client):
    refused(
        client.post("/v1/translate", json={"inputs": ["a"], "beam": 9}), 422, "beam", "--max-beam"
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"inputs": "abc"}, "inputs"),  # one str, not a list
        ({"inputs": ["abc", 7]}, "inputs[1]"),
        ({"inputs": ["abc"], "beam": "5"}, "beam"),
        ({"inputs": ["abc"], "beam": 2.5}, "beam"),
        ({"inputs": ["abc"], "alignment": "yes"}, "alignment"),
        ({"inputs": ["abc"], "length_penalty": "high"}, "length_penalty"),
        ({"inputs": ["abc"], "beams": 5}, "beams"),  # unknown field
        ({"model": 3, "inputs": ["abc"]}, "model"),
        ({}, "inputs"),  # missing
        (["abc"], "body"),  # not an object
    ],
)
def test_422_wrong_json_types_name_the_field(client, body, field):
    detail = refused(client.post("/v1/translate", json=body), 422)
    assert detail.startswith(field + ":"), detail


def test_422_not_json(client):
    refused(client.post("/v1/translate", content=b'{"inputs": ["abc"'), 422, "JSON")
    still_serves(client)


@pytest.mark.parametrize(
    "body, words",
    [
        ({"inputs": ["abc"], "beam": 0}, ["beam=0", "decode.beam"]),
        ({"inputs": ["abc"], "beam": 2, "nbest": 3}, ["nbest=3"]),
    ],
)
def test_422_the_librarys_refusals_carry_its_message(client, body, words):
    refused(client.post("/v1/translate", json=body), 422, *words)


def test_422_a_length_penalty_that_is_no_number(client):
    """1e999 reads as infinity: the library's check refuses it."""
    answer = client.post("/v1/translate", content=b'{"inputs": ["a"], "length_penalty": 1e999}')
    refused(answer, 422, "length_penalty", "finite")


def test_422_an_input_over_the_models_token_limit(models):
    """The library's decode.max_input_tokens (4 x max_src_len = 400 here), named as the field."""
    with TestClient(create_app(models, Limits(max_chars=1000))) as c:
        answer = c.post("/v1/translate", json={"inputs": ["abc", "a" * 401]})
    assert refused(answer, 422, "400", "max_input_tokens").startswith(
        "inputs[1]: 401 source tokens"
    )


def test_404_unknown_model(client):
    refused(
        client.post("/v1/translate", json={"model": "nope", "inputs": ["a"]}), 404, "'nope'", "tiny"
    )


def test_422_no_model_named_when_several_are_served(memorised):
    two = load_models([f"a={memorised[0]}", f"b={memorised[0]}"], device="cpu", precision="fp32")
    with TestClient(create_app(two)) as c:
        refused(c.post("/v1/translate", json={"inputs": ["a"]}), 422, "model", "a, b")
        assert c.post("/v1/translate", json={"model": "b", "inputs": ["a"]}).status_code == 200


async def _one_then_another(app, second: list[str], *, after: float):
    """Post one request (one sentence) and, `after` seconds later, `second`."""
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://serve") as c:
            first = asyncio.ensure_future(c.post("/v1/translate", json={"inputs": ["abc"]}))
            await asyncio.sleep(after)
            answer = await c.post("/v1/translate", json={"inputs": second})
            return await first, answer, app.state.batchers["tiny"].waiting


def test_503_when_the_queue_is_full(models):
    """The queue holds one sentence; the first request waits 1 s for company, so the second
    finds the queue full: 503 with Retry-After, and the first is still answered."""
    app = create_app(models, Limits(max_queue=1, max_inputs=1, max_wait_ms=1000))
    first, second, waiting = asyncio.run(_one_then_another(app, ["bcd"], after=0.3))
    refused(second, 503, "--max-queue")
    assert second.headers["retry-after"] == "1"
    assert first.status_code == 200
    assert waiting == 0


def test_504_when_no_answer_comes_in_time(models):
    """The first request waits 600 ms for company, past its 200 ms timeout: 504, and it leaves
    the queue. The worker, left with nobody to batch, goes on: a later full batch (two
    sentences, max_batch 2) needs no wait and is answered."""
    app = create_app(models, Limits(timeout=0.2, max_wait_ms=600, max_batch=2))
    first, second, waiting = asyncio.run(_one_then_another(app, ["abc", "bcd"], after=0.9))
    refused(first, 504, "--timeout")
    assert second.status_code == 200, second.text
    assert waiting == 0
    batches = app.state.metrics.batch_sentences["tiny"]
    assert (batches.count, batches.sum) == (1, 2)  # the second's; none for the one that left


def test_every_answer_is_counted(client):
    client.post("/v1/translate", json={"model": "nope", "inputs": ["a"]})
    client.post("/v1/translate", json={"inputs": ["abc"]})
    text = client.get("/metrics").text
    assert re.search(r'seq2seq_errors_total\{path="/v1/translate",status="404"\} [1-9]', text)
    assert re.search(r'seq2seq_requests_total\{path="/v1/translate",status="200"\} [1-9]', text)
    assert 'status="200"' not in "".join(x for x in text.splitlines() if "errors_total" in x)
