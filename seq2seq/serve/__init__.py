"""`seq2seq serve`: an HTTP API and a web page over trained models, with dynamic batching.

    app.py        the routes (FastAPI): /v1/translate, /v1/transcribe (an audio file's bytes,
                  for a speech run), /v1/models, /healthz, /metrics, the page
    batcher.py    one queue and worker thread per model; concurrent requests joined into one search
    guard.py      the limits (`Limits`) and the middleware for body size and answer counts
    metrics.py    counters and histograms in Prometheus' text format
    registry.py   the served models: `--model [NAME=]PATH` (a Translator, or a Transcriber for a
                  speech run), their descriptions
    schemas.py    request and response bodies (the OpenAPI schema)
    server.py     `run`: bind, load, serve with uvicorn, stop gracefully on SIGTERM
    static/       the web page (plain HTML, JS and CSS; nothing from a CDN)

A face, like cli/: it imports the library and nothing imports it. It needs the `serve` extra
(fastapi, uvicorn); `seq2seq.cli` imports it only inside `cmd_serve`.
"""

from __future__ import annotations

from .app import create_app
from .guard import Limits
from .registry import ServedModel, load_models
from .server import run

__all__ = ["Limits", "ServedModel", "create_app", "load_models", "run"]
