"""`seq2seq serve` over a speech run: POST /v1/transcribe answers an uploaded file's bytes with
what the Transcriber gives for the same file, bad audio and the wrong kind of model are
one-line 422s, the body cap holds for uploads, /v1/models describes the speech model, and
concurrent uploads join one batch and still get their one-at-a-time answers. The page's
upload: test_serve_page.py."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install -e '.[serve]'")
httpx2 = pytest.importorskip("httpx2")
sf = pytest.importorskip("soundfile", reason="the speech extra is not installed")

from fastapi.testclient import TestClient  # noqa: E402
from helpers import chirps  # noqa: E402

from seq2seq.serve import Limits, create_app, load_models  # noqa: E402
from seq2seq.transcriber import Transcriber  # noqa: E402


@pytest.fixture(scope="module")
def models(speech_run, memorised):
    return load_models(
        [f"asr={speech_run[0]}", f"tiny={memorised[0]}"], device="cpu", precision="auto"
    )


@pytest.fixture(scope="module")
def client(models):
    with TestClient(create_app(models)) as c:
        yield c


@pytest.fixture(scope="module")
def library(speech_run):
    return Transcriber.load(speech_run[0], device="cpu")


def upload(client, data: bytes, **query):
    headers = {"content-type": "audio/wav"}
    return client.post("/v1/transcribe", params=query, content=data, headers=headers)


def wav_bytes(wave: np.ndarray, rate: int = 16000, fmt: str = "WAV") -> bytes:
    out = io.BytesIO()
    sf.write(out, wave, rate, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    "options",
    [{}, {"beam": 1}, {"beam": 3, "nbest": 3}, {"beam": 2, "nbest": 2, "ctc_weight": 0.0}],
)
def test_transcribe_gives_what_the_transcriber_gives(client, library, speech_run, options):
    corpus = speech_run[1]
    for i in range(3):
        path = corpus / "wav" / f"u{i}.wav"
        answer = upload(client, path.read_bytes(), model="asr", **options)
        assert answer.status_code == 200, answer.text
        got = answer.json()
        expected = library.transcribe([path], **options)[0]
        assert [h["text"] for h in got["hypotheses"]] == [t.text for t in expected]
        assert [h["score"] for h in got["hypotheses"]] == pytest.approx(
            [t.score for t in expected], abs=1e-4
        )
        assert got["text"] == expected[0].text and got["text"]  # the tiny model says something
        assert got["seconds"] == pytest.approx(len(sf.read(path)[0]) / 16000, abs=1e-3)
        assert got["nbest"] == options.get("nbest", 1) == len(expected)
        assert got["ctc_weight"] == options.get("ctc_weight", 0.5)  # the model's by default


def test_another_format_and_rate_is_read_as_the_transcriber_reads_it(client, library, tmp_path):
    """FLAC at 22.05 kHz: resampled to the model's 16 kHz on the way in, as for a file."""
    path = tmp_path / "abc.flac"
    sf.write(path, chirps("abc", rate=22050), 22050)
    answer = upload(client, path.read_bytes(), beam=3, model="asr")
    assert answer.status_code == 200, answer.text
    assert answer.json()["text"] == library.transcribe([path], beam=3)[0][0].text


BAD_AUDIO = {
    "empty": (b"", "audio: empty (0 bytes); send a WAV, FLAC or OGG"),
    "zero-length": (wav_bytes(np.zeros(0, np.float32)), "audio: no samples (zero-length"),
    "garbage": (b"RIFF but not a wave file at all", "audio: not readable audio (Format not"),
    "stereo": (wav_bytes(np.zeros((8000, 2), np.float32)), "audio: 2 channels, speech input"),
    "10 ms": (wav_bytes(np.zeros(160, np.float32)), "audio: 10.0 ms of audio, shorter than"),
    "4 kHz": (wav_bytes(np.zeros(4000, np.float32), 4000), "audio: sample rate 4000 Hz"),
}
FIXES = ("send", "convert it", "downmix it, e.g. sox", "use a recording at 16000 Hz")


@pytest.mark.parametrize("case", list(BAD_AUDIO))
def test_bad_audio_is_a_422_naming_the_problem_and_the_fix(client, case):
    data, start = BAD_AUDIO[case]
    answer = upload(client, data, model="asr")
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail.startswith(start) and "\n" not in detail, detail
    assert any(fix in detail for fix in FIXES), detail


def test_the_wrong_kind_of_model_is_a_422(client, speech_run):
    text_model = upload(client, (speech_run[1] / "wav" / "u0.wav").read_bytes(), model="tiny")
    assert text_model.status_code == 422
    assert text_model.json()["detail"] == (
        "model tiny: a translation model, it reads text; send it to POST /v1/translate, or "
        "pick a speech model"
    )
    speech_model = client.post("/v1/translate", json={"model": "asr", "inputs": ["abc"]})
    assert speech_model.status_code == 422
    assert speech_model.json()["detail"] == (
        "model asr: a speech model, it reads audio; send the file's bytes to POST /v1/transcribe"
    )


@pytest.mark.parametrize(
    "query, detail",
    [
        ({"beam": 2, "nbest": 3}, "nbest: 3 is more than beam 2; widen the beam"),
        ({"beam": 65}, "beam: 65, over the limit of 64 (--max-beam)"),
        ({"beam": 0}, "beam: Input should be greater than or equal to 1"),
        ({"ctc_weight": 1.5}, "ctc_weight: Input should be less than or equal to 1"),
        ({"beem": 2}, "beem: Extra inputs are not permitted"),
        ({}, "model: required when serving several (asr, tiny)"),
    ],
)
def test_bad_options_are_one_line_422s(client, speech_run, query, detail):
    data = (speech_run[1] / "wav" / "u0.wav").read_bytes()
    params = {"model": "asr", **query} if query else {}
    answer = upload(client, data, **params)
    assert (answer.status_code, answer.json()["detail"]) == (422, detail)


def test_the_body_cap_holds_for_uploads(models, speech_run):
    data = (speech_run[1] / "wav" / "u2.wav").read_bytes()
    with TestClient(create_app(models, Limits(max_body=len(data) - 1))) as c:
        answer = upload(c, data, model="asr")
    assert answer.status_code == 413
    assert "--max-body" in answer.json()["detail"]


def test_models_describes_the_speech_model(client):
    listed = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
    asr, tiny = listed["asr"], listed["tiny"]
    assert (asr["type"], asr["task"], asr["attention"], asr["precision"]) == (
        "speech",
        "speech",
        False,
        "fp32",
    )
    assert asr["audio"]["sample_rate"] == 16000 and asr["audio"]["channels"] == 1
    assert asr["audio"]["features"].startswith("40 log-mel bins")
    assert asr["decode"] == {"beam": 5, "nbest": 1, "ctc_weight": 0.5}
    assert asr["vocab"]["target"] > 4 and asr["metrics"]["dev"]["dev_asr_cer"] is not None
    assert tiny["task"] == "translation"
    schema = client.get("/openapi.json").json()["paths"]["/v1/transcribe"]["post"]
    assert "audio/*" in schema["requestBody"]["content"]


def test_a_speech_run_refuses_a_reduced_precision(speech_run):
    from seq2seq.errors import UserError

    with pytest.raises(UserError, match="speech run, decoded in fp32 only"):
        load_models([f"asr={speech_run[0]}"], device="cpu", precision="int8")


async def _burst(app, uploads: list[tuple[bytes, dict]]) -> list:
    """All `uploads` posted at once, through the app's lifespan (its batchers run)."""
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://serve") as c:
            return await asyncio.gather(
                *(c.post("/v1/transcribe", params=q, content=d) for d, q in uploads)
            )


def test_concurrent_uploads_are_batched_and_answer_as_one_at_a_time(models, speech_run):
    files = [(speech_run[1] / "wav" / f"u{i}.wav").read_bytes() for i in range(6)]
    uploads = [(d, {"model": "asr", "beam": 3, "nbest": 2}) for d in files]
    app = create_app(models, Limits(max_wait_ms=300, max_batch=64))
    answers = asyncio.run(_burst(app, uploads))
    with TestClient(create_app(models, Limits(max_batch=1))) as alone:
        expected = [upload(alone, d, **q).json()["hypotheses"] for d, q in uploads]
    assert [a.status_code for a in answers] == [200] * len(uploads)
    for answer, one in zip(answers, expected):
        got = answer.json()["hypotheses"]
        assert [h["text"] for h in got] == [h["text"] for h in one]
        assert [h["score"] for h in got] == pytest.approx([h["score"] for h in one], abs=1e-4)
    metrics = app.state.metrics
    assert metrics.most_requests["asr"] > 1, "no batch joined two uploads"
    assert metrics.batch_requests["asr"].count < len(uploads)
