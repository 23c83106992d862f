"""`seq2seq serve` end to end: the API gives what the library gives, concurrent requests are
batched (and still get one-at-a-time answers), the model list, metrics, page and schema, the
CLI's errors, and a graceful stop on SIGTERM. The limits and their statuses: test_serve_limits.py.
"""

from __future__ import annotations

import asyncio
import re
import signal
import threading
import time

import pytest
import torch

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install -e '.[serve]'")
httpx2 = pytest.importorskip("httpx2")

from fastapi.testclient import TestClient  # noqa: E402
from helpers import running_server  # noqa: E402

from seq2seq.cli import main  # noqa: E402
from seq2seq.cli.args import build_parser  # noqa: E402
from seq2seq.serve import Limits, create_app, load_models  # noqa: E402
from seq2seq.translator import Translator  # noqa: E402


@pytest.fixture(scope="module")
def models(memorised, g2p_attention):
    return load_models(
        [f"tiny={memorised[0]}", f"g2p={g2p_attention[0]}"], device="cpu", precision="fp32"
    )


@pytest.fixture(scope="module")
def client(models):
    with TestClient(create_app(models)) as c:
        yield c


def post(client, **body):
    return client.post("/v1/translate", json=body)


def inputs_of(memorised):
    _, pairs, _ = memorised
    return [s for s, _ in pairs[:6]] + ["hgfedcba", "xyz", ""]  # unseen, unknown, empty


@pytest.mark.parametrize("beam", [1, 3])
def test_translate_gives_what_the_library_gives(client, memorised, beam):
    inputs = inputs_of(memorised)
    library = Translator.load(memorised[0], device="cpu", precision="fp32")
    expected = library.translate_nbest(inputs, beam=beam, nbest=beam)
    answer = post(client, model="tiny", inputs=inputs, beam=beam, nbest=beam)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["hypotheses"][0]["text"] for r in results] == library.translate(inputs, beam=beam)
    for result, nbest in zip(results, expected):
        assert [h["text"] for h in result["hypotheses"]] == [t.text for t in nbest]
        assert [h["score"] for h in result["hypotheses"]] == pytest.approx(
            [t.score for t in nbest], abs=1e-4
        )
        assert result["unknown"] == pytest.approx(nbest[0].unknown)
    assert results[7]["unknown"] == 1.0  # "xyz": no letter of it was in training


def test_one_model_needs_no_name_and_defaults_are_the_models(memorised):
    (served,) = load_models([str(memorised[0])], device="cpu", precision="fp32")
    assert served.name == "run"  # the run folder's name
    with TestClient(create_app([served])) as c:
        answer = post(c, inputs=["abc"]).json()
    assert answer["model"] == "run"
    assert answer["beam"] == served.translator.cfg.decode.beam


def test_no_inputs_no_batch(models):
    app = create_app(models)
    with TestClient(app) as c:
        assert post(c, model="tiny", inputs=[]).json()["results"] == []
    assert app.state.metrics.batch_sentences["tiny"].count == 0


def test_alignments_for_attention_models(client, g2p_attention):
    run, pairs = g2p_attention
    word = pairs[0][0]
    answer = post(client, model="g2p", inputs=[word], nbest=2, alignment=True).json()
    result = answer["results"][0]
    assert result["source_tokens"] == list(word)
    best = result["hypotheses"][0]
    assert best["text"] == pairs[0][1]
    matrix = best["alignment"]
    assert len(matrix) == len(best["tokens"]) + 1 and {len(r) for r in matrix} == {len(word)}
    assert all(sum(row) == pytest.approx(1, abs=1e-2) for row in matrix)
    library = Translator.load(run, device="cpu", precision="fp32")
    expected = library.translate_nbest([word], nbest=2)[0][0].attention
    assert torch.tensor(matrix) == pytest.approx(expected, abs=1e-3)
    plain = post(client, model="tiny", inputs=["abc"], alignment=True).json()["results"][0]
    assert plain["hypotheses"][0]["alignment"] is None  # no attention, no matrix


def test_models_lists_what_a_client_needs(client):
    listed = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
    assert set(listed) == {"tiny", "g2p"}
    tiny, g2p = listed["tiny"], listed["g2p"]
    assert (tiny["type"], tiny["attention"], tiny["task"]) == ("rnn", False, "translation")
    assert (g2p["attention"], g2p["task"]) == (True, "g2p")
    assert tiny["vocab"]["source"] > 4 and tiny["vocab"]["target"] > 4
    assert tiny["decode"] == {"beam": 3, "nbest": 1, "length_penalty": 1.0}
    assert tiny["metrics"]["dev"]["dev_wer"] == 0.0  # the best validation of metrics.jsonl
    assert tiny["metrics"]["test"] is None  # the run has no test split


def test_health_metrics_schema_and_page(client):
    assert client.get("/healthz").json() == {"status": "ok", "models": ["tiny", "g2p"]}
    post(client, model="tiny", inputs=["abc"])
    text = client.get("/metrics").text
    for family in (
        "seq2seq_requests_total",
        "seq2seq_errors_total",
        "seq2seq_queue_sentences",
        "seq2seq_batch_sentences",
        "seq2seq_batch_requests",
        "seq2seq_request_seconds",
    ):
        assert f"# TYPE {family} " in text
    assert re.search(r'seq2seq_requests_total\{path="/v1/translate",status="200"\} [1-9]', text)
    assert 'seq2seq_request_seconds_bucket{model="tiny",le="+Inf"}' in text
    schema = client.get("/openapi.json").json()
    assert "/v1/translate" in schema["paths"] and "/v1/models" in schema["paths"]
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert client.get("/static/app.js").status_code == 200
    assert "http" not in client.get("/static/style.css").text  # nothing from a CDN


def test_a_form_encoded_body_is_read_as_json(client):
    """`curl -d '{...}'` declares application/x-www-form-urlencoded."""
    answer = client.post(
        "/v1/translate",
        content=b'{"model": "tiny", "inputs": ["abc"]}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text


# -- dynamic batching ------------------------------------------------------------------------


async def _burst(app, bodies: list[dict]) -> list:
    """All `bodies` posted at once, through the app's lifespan (its batchers run)."""
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://serve") as c:
            return await asyncio.gather(*(c.post("/v1/translate", json=b) for b in bodies))


def test_concurrent_requests_are_batched_and_answer_as_one_at_a_time(models, memorised):
    """12 requests at once join batches (max_wait 300 ms gives them time to), each answer is
    the one that request gets alone, and options only share a batch with equal options."""
    inputs = inputs_of(memorised)[:6] * 2
    bodies = [
        {"model": "tiny", "inputs": [s], **({"beam": 3, "nbest": 2} if i % 2 else {"beam": 1})}
        for i, s in enumerate(inputs)
    ]
    app = create_app(models, Limits(max_wait_ms=300, max_batch=64))
    answers = asyncio.run(_burst(app, bodies))
    with TestClient(create_app(models, Limits(max_batch=1))) as alone:
        expected = [post(alone, **b).json()["results"] for b in bodies]
    assert [a.status_code for a in answers] == [200] * len(bodies)
    for answer, body, one in zip(answers, bodies, expected):
        results = answer.json()["results"]
        assert len(results[0]["hypotheses"]) == body.get("nbest", 1)
        assert [h["text"] for h in results[0]["hypotheses"]] == [
            h["text"] for h in one[0]["hypotheses"]
        ]
        assert results[0]["hypotheses"][0]["score"] == pytest.approx(
            one[0]["hypotheses"][0]["score"], abs=1e-4
        )
    metrics = app.state.metrics
    assert metrics.most_requests["tiny"] > 1, "no batch joined two requests"
    assert metrics.batch_requests["tiny"].count < len(bodies)
    assert metrics.batch_requests["tiny"].count >= 2  # two option groups: never one batch


def test_a_failing_request_fails_alone(models, memorised, monkeypatch):
    """A batch that fails is decoded request by request: the others still get answers, the
    bad one a 500, and the server goes on."""
    served = models[0]
    real = served.translator.translate_nbest

    def fragile(sentences, **kw):
        if "boom" in sentences:
            raise RuntimeError("the decoder fell over")
        return real(sentences, **kw)

    monkeypatch.setattr(served.translator, "translate_nbest", fragile)
    app = create_app(models, Limits(max_wait_ms=300))
    bodies = [{"model": "tiny", "inputs": [s]} for s in ("abc", "boom", "bca")]
    answers = asyncio.run(_burst(app, bodies))
    assert [a.status_code for a in answers] == [200, 500, 200]
    assert "the decoder fell over" in answers[1].json()["detail"]
    assert app.state.metrics.most_requests["tiny"] == 3  # they were one batch first
    monkeypatch.undo()
    assert [a.status_code for a in asyncio.run(_burst(app, bodies[:1]))] == [200]


# -- the command -----------------------------------------------------------------------------


def test_cli_defaults_are_the_limits_defaults():
    args = build_parser().parse_args(["serve", "--model", "x"])
    default = Limits()
    for name in default.__dataclass_fields__:
        assert getattr(args, name) == getattr(default, name), name
    assert args.host == "127.0.0.1"


def test_cli_errors_are_one_line(memorised, tmp_path, capsys):
    assert main(["serve", "--model", str(tmp_path / "nope"), "--port", "0"]) == 2
    assert main(["serve", "--model", f"a={memorised[0]}", "--model", f"a={memorised[0]}"]) == 2
    assert main(["serve", "--model", f"bad name={memorised[0]}"]) == 2
    assert main(["serve", "--model", str(memorised[0]), "--max-batch", "0"]) == 2
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert main(["serve", "--model", str(memorised[0]), "--port", port]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith("error: ") for line in lines), err
    assert "cannot listen there" in lines[-1] and "--max-batch 0" in lines[-2]


def test_connections_send_without_delay():
    """The server's socket says TCP, so asyncio sets TCP_NODELAY on each connection: without
    it every answer's body waited ~40 ms for the ACK of its headers (Nagle's algorithm)."""
    import socket

    from seq2seq.serve.server import bind

    async def check() -> int:
        found = asyncio.get_running_loop().create_future()

        async def accepted(reader, writer):
            sock = writer.get_extra_info("socket")
            found.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=bind("127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        value = await asyncio.wait_for(found, 10)
        writer.close()
        server.close()
        return value

    assert asyncio.run(check()) != 0


def test_sigterm_answers_what_is_queued_then_exits(memorised):
    """Requests waiting in the queue when SIGTERM comes still get their answers; then the
    server stops accepting and ends by the signal (a shell reports 143)."""
    run = str(memorised[0])
    with running_server("--model", f"tiny={run}", "--max-wait-ms", "1500") as (proc, url):
        answers: list = []

        def ask(word):
            answers.append(httpx2.post(url + "v1/translate", json={"inputs": [word]}, timeout=30))

        threads = [threading.Thread(target=ask, args=(w,)) for w in ("abc", "bcd", "cde")]
        for t in threads:
            t.start()
        time.sleep(0.5)  # queued: the batch waits 1.5 s for more
        proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(timeout=30)
        assert proc.wait(timeout=30) == -signal.SIGTERM
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.json()["results"][0]["input"] for a in answers} == {"abc", "bcd", "cde"}
    with pytest.raises(httpx2.TransportError):
        httpx2.get(url + "healthz", timeout=2)
    assert "Traceback" not in "".join(proc.log)
