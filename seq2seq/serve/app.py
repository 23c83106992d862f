"""The HTTP routes: thin over the models' Translators and Transcribers and their batchers.

`create_app(models, limits)` builds the FastAPI app; the batchers' worker threads start and
stop with it (its lifespan: stopping decodes what is queued first). Every error is JSON with a
one-line `detail`: 404 unknown model, 413 body too large, 422 bad input (the field named, the
library's `UserError` message, text sent to a speech model or audio to a text model), 503
queue full (with Retry-After), 504 timeout, 500 a decoding failure (logged; the server goes
on). POST /v1/translate takes JSON; POST /v1/transcribe takes an audio file's bytes as its
body, with its options as query parameters (no multipart form: no extra dependency).
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..errors import UserError
from .batcher import Batcher, QueueFull
from .guard import Guard, Limits
from .metrics import Metrics
from .registry import ServedModel
from .schemas import (
    Error,
    Hypothesis,
    Result,
    SpeechHypothesis,
    TranscribeQuery,
    TranscribeResponse,
    TranslateRequest,
    TranslateResponse,
)

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("seq2seq.serve")
router = APIRouter()
ERRORS = {
    code: {"model": Error, "description": what}
    for code, what in (
        (404, "unknown model"),
        (413, "request body too large (--max-body)"),
        (422, "bad input: wrong types, over a limit, bad audio, or refused by the model"),
        (503, "queue full (--max-queue); retry after Retry-After seconds"),
        (504, "no answer within --timeout seconds"),
    )
}


def create_app(models: list[ServedModel], limits: Limits | None = None) -> FastAPI:
    """The app serving `models` (each by its name) under `limits`."""
    limits = limits or Limits()
    batchers: dict[str, Batcher] = {}
    metrics = Metrics(
        [m.name for m in models],
        limits.max_batch,
        lambda: {n: b.waiting for n, b in batchers.items()},
    )
    for m in models:
        batchers[m.name] = Batcher(
            m.name,
            m.decode,
            metrics,
            # one search for a joined batch, even when the model's decode.batch_size is smaller
            decode_batch=max(limits.max_batch, m.cfg.decode.batch_size),
            max_batch=limits.max_batch,
            max_wait=limits.max_wait_ms / 1000,
            max_queue=limits.max_queue,
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        for b in batchers.values():
            b.start()
        yield
        await asyncio.to_thread(lambda: [b.close() for b in batchers.values()])

    app = FastAPI(
        title="seq2seq",
        version=__version__,
        description="Translations (n-best, scores, alignments) and transcripts of uploaded "
        "audio from trained seq2seq models, with concurrent requests batched into one search.",
        lifespan=lifespan,
    )
    app.state.models = {m.name: m for m in models}
    app.state.descriptions = [m.describe() for m in models]
    app.state.batchers, app.state.metrics, app.state.limits = batchers, metrics, limits
    app.add_middleware(Guard, max_body=limits.max_body, metrics=metrics)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _failed)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


@router.post("/v1/translate", response_model=TranslateResponse, responses=ERRORS)
async def translate(body: TranslateRequest, request: Request) -> TranslateResponse:
    """Translate `inputs` (n-best with scores; alignments on request) with one text model."""
    start = time.monotonic()
    state = request.app.state
    served = _model(state.models, body.model)
    if served.translator is None:
        raise HTTPException(
            422,
            f"model {served.name}: a speech model, it reads audio; send the file's bytes to "
            "POST /v1/transcribe",
        )
    _check_inputs(body, state.limits)
    options = _options(served, body)
    if not body.inputs:  # nothing to decode: no place in a queue
        return _response(served, body, options, [])
    results = await _decoded(state, served, body.inputs, options, start)
    return _response(served, body, options, results)


AUDIO_BODY = {
    "requestBody": {
        "required": True,
        "description": "one audio file's bytes (WAV, FLAC, OGG, ... as libsndfile reads it; "
        "mono; any sample rate, resampled to the model's)",
        "content": {"audio/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/v1/transcribe", response_model=TranscribeResponse, responses=ERRORS, openapi_extra=AUDIO_BODY
)
async def transcribe(
    query: Annotated[TranscribeQuery, Query()], request: Request
) -> TranscribeResponse:
    """Transcribe the body, one audio file, with a speech model (n-best with scores). The file
    is read and checked in a worker thread (a bad one is a 422 naming the problem), then its
    waveform joins the model's queue: concurrent uploads with the same options are decoded in
    one batch, as translate's sentences are."""
    start = time.monotonic()
    state = request.app.state
    served = _model(state.models, query.model)
    if served.transcriber is None:
        raise HTTPException(
            422,
            f"model {served.name}: a {served.task} model, it reads text; send it to "
            "POST /v1/translate, or pick a speech model",
        )
    options = _speech_options(served, query, state.limits)
    audio = await request.body()
    try:
        wave = await asyncio.to_thread(served.transcriber.waveform, audio)  # (N,)
    except UserError as e:
        raise HTTPException(422, str(e)) from None
    (nbest,) = await _decoded(state, served, [wave], options, start)
    rate = served.cfg.data.speech.sample_rate
    return TranscribeResponse(
        model=served.name,
        seconds=round(len(wave) / rate, 3),
        text=nbest[0].text if nbest else "",
        hypotheses=[SpeechHypothesis(text=t.text, score=t.score) for t in nbest],
        **options,
    )


async def _decoded(state, served: ServedModel, items: list, options: dict, start: float):
    """`items` through the model's batcher: their n-best lists, or the request's error (503
    queue full, 504 timeout, 422 the library's refusal, 500 a failure)."""
    batcher: Batcher = state.batchers[served.name]
    try:
        job = batcher.submit(items, options)
    except QueueFull as e:
        raise HTTPException(503, str(e), headers={"Retry-After": "1"}) from None
    try:
        return await asyncio.wait_for(job.future, state.limits.timeout)
    except asyncio.TimeoutError:
        batcher.cancel(job)
        raise HTTPException(
            504, f"no answer within {state.limits.timeout:g} s (--timeout); retry later"
        ) from None
    except UserError as e:
        raise HTTPException(422, str(e)) from None
    except Exception as e:  # noqa: BLE001 - logged, answered, and the server goes on
        log.exception("model %s: decoding failed", served.name)
        raise HTTPException(500, f"decoding failed: {type(e).__name__}: {e}") from None
    finally:
        state.metrics.took(served.name, time.monotonic() - start)


@router.get("/v1/models")
async def models(request: Request) -> dict:
    """The served models: name, type, vocabulary sizes, decoding defaults, the run's metrics."""
    return {"models": request.app.state.descriptions}


@router.get("/healthz")
async def healthz(request: Request) -> dict:
    return {"status": "ok", "models": list(request.app.state.models)}


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> PlainTextResponse:
    """Prometheus text format: answers, errors, queue length, batch sizes, latency."""
    text = request.app.state.metrics.render()
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")


@router.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(STATIC / "index.html")


# -- the pieces of a translate request ----------------------------------------------------


def _model(models: dict[str, ServedModel], name: str | None) -> ServedModel:
    if name is None:
        if len(models) == 1:
            return next(iter(models.values()))
        raise HTTPException(422, f"model: required when serving several ({', '.join(models)})")
    if name not in models:
        raise HTTPException(
            404, f"model {name!r}: not served here; the models are {', '.join(models)}"
        )
    return models[name]


def _check_inputs(body: TranslateRequest, limits: Limits) -> None:
    if len(body.inputs) > limits.max_inputs:
        raise HTTPException(
            422,
            f"inputs: {len(body.inputs)} inputs, over the limit of {limits.max_inputs} per "
            "request (--max-inputs); send them in several requests",
        )
    for i, text in enumerate(body.inputs):
        if len(text) > limits.max_chars:
            raise HTTPException(
                422,
                f"inputs[{i}]: {len(text):,} characters, over the limit of {limits.max_chars:,} "
                "(--max-chars); split it",
            )
    if body.beam is not None and body.beam > limits.max_beam:
        raise HTTPException(
            422, f"beam: {body.beam}, over the limit of {limits.max_beam} (--max-beam)"
        )


def _options(served: ServedModel, body: TranslateRequest) -> dict:
    """The request's decoding options with the model's defaults filled in (a batch's key);
    the library's checks (beam >= 1, nbest <= beam, input length in tokens) as 422s."""
    t = served.translator
    beam = body.beam
    if body.nbest is not None and beam is None:  # as `translate --nbest N`: beam at least N
        beam = max(body.nbest, t.cfg.decode.beam)
    try:
        cfg = t.decode_config(beam=beam, nbest=body.nbest, length_penalty=body.length_penalty)
        t.encode_sources(body.inputs, cfg)
    except UserError as e:
        raise HTTPException(422, str(e).replace("sentences[", "inputs[", 1)) from None
    return {"beam": cfg.beam, "nbest": cfg.nbest, "length_penalty": cfg.length_penalty}


def _speech_options(served: ServedModel, query: TranscribeQuery, limits: Limits) -> dict:
    """A transcribe request's decoding options with the model's defaults filled in (a batch's
    key), checked: beam within --max-beam, nbest <= beam, a CTC weight the model can use."""
    t = served.transcriber
    beam, nbest = query.beam, query.nbest or 1
    if beam is None:  # as in translate: the beam at least nbest
        beam = max(nbest, t.cfg.decode.beam)
    if beam > limits.max_beam:
        raise HTTPException(422, f"beam: {beam}, over the limit of {limits.max_beam} (--max-beam)")
    if nbest > beam:
        raise HTTPException(422, f"nbest: {nbest} is more than beam {beam}; widen the beam")
    try:
        weight = t.search_weight(query.ctc_weight)
    except UserError as e:
        raise HTTPException(422, str(e).replace("--ctc-weight", "ctc_weight", 1)) from None
    return {"beam": beam, "nbest": nbest, "ctc_weight": weight}


def _response(served: ServedModel, body, options: dict, results) -> TranslateResponse:
    aligned = body.alignment and served.attention
    tokenize = served.translator.processor.src_tok.tokenize
    out = []
    for text, nbest in zip(body.inputs, results):
        hyps = [
            Hypothesis(
                text=t.text,
                score=t.score,
                norm_score=t.norm_score,
                tokens=t.tokens,
                alignment=_rounded(t.attention) if aligned and t.attention is not None else None,
            )
            for t in nbest
        ]
        unknown = nbest[0].unknown if nbest else 0.0
        source = tokenize(text) if aligned else None
        out.append(Result(input=text, unknown=unknown, source_tokens=source, hypotheses=hyps))
    return TranslateResponse(model=served.name, results=out, **options)


def _rounded(attention) -> list[list[float]]:
    return [[round(x, 4) for x in row] for row in attention.tolist()]


# -- errors as one-line JSON ----------------------------------------------------------------


def _where(loc) -> str:
    """("body", "inputs", 3) -> inputs[3]; ("query", "beam") -> beam"""
    out = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query") else loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    detail = "; ".join(f"{_where(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors)
    return JSONResponse({"detail": detail, "errors": jsonable_encoder(errors)}, status_code=422)


async def _failed(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": f"internal error: {type(exc).__name__}"}, status_code=500)
