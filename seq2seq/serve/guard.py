"""The server's limits, and the ASGI middleware that enforces the body size and counts answers.

Every limit is a `seq2seq serve` option of the same name (`max_wait_ms` is `--max-wait-ms`).
The middleware reads a request's body before the app sees it: over `max_body` bytes, declared
or streamed, the answer is 413 and the app is never called (an uploaded audio file included).
A translate body is read as JSON whatever its content-type says; a transcribe body is the
audio file's bytes, whatever it says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

from ..errors import UserError
from .metrics import Metrics

PATHS = (
    "/",
    "/v1/translate",
    "/v1/transcribe",
    "/v1/models",
    "/healthz",
    "/metrics",
    "/docs",
    "/openapi.json",
)


@dataclass(frozen=True)
class Limits:
    max_batch: int = 64  # sentences (or audio files) in one batched search (1: each alone)
    max_wait_ms: float = 5.0  # how long the oldest request waits for others to join it
    max_queue: int = 1024  # sentences (or audio files) waiting per model; past it: 503
    max_inputs: int = 64  # inputs per request (422)
    max_chars: int = 1000  # characters per input (422)
    max_beam: int = 64  # the largest beam a request may ask for (422)
    max_body: int = 1 << 20  # bytes in a request body, an audio file's too (413)
    timeout: float = 30.0  # seconds from arrival to answer (504)

    def __post_init__(self):
        for f in fields(self):
            value, wait = getattr(self, f.name), f.name == "max_wait_ms"
            if not (value >= 0 if wait else value > 0):
                flag = "--" + f.name.replace("_", "-")
                raise UserError(
                    f"{flag} {value}: give a {'number >= 0' if wait else 'positive number'}"
                )
        if self.max_queue < self.max_inputs:
            raise UserError(
                f"--max-queue {self.max_queue} is below --max-inputs {self.max_inputs}: a full "
                "request could never be queued; raise --max-queue"
            )


def path_label(path: str) -> str:
    """The path as a metric label: the API's own paths, /static, or other (bounded labels)."""
    if path in PATHS:
        return path
    return "/static" if path.startswith("/static/") else "other"


def _as_json(scope: dict) -> dict:
    """The request with its body declared JSON: the API reads nothing else, and `curl -d`
    declares application/x-www-form-urlencoded. An upload (/v1/transcribe) keeps its own."""
    if scope["method"] not in ("POST", "PUT", "PATCH") or scope["path"] == "/v1/transcribe":
        return scope
    headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
    return {**scope, "headers": [*headers, (b"content-type", b"application/json")]}


class Guard:
    """ASGI middleware: 413 past `max_body` bytes; every answer counted by path and status."""

    def __init__(self, app, *, max_body: int, metrics: Metrics):
        self.app, self.max_body, self.metrics = app, max_body, metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what an exception that escapes the app becomes

        async def counted(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            replay = await self._read_body(scope, receive)
            if replay is None:
                await self._too_large(counted)
            else:
                await self.app(_as_json(scope), replay, counted)
        finally:
            self.metrics.answered(path_label(scope["path"]), status)

    async def _read_body(self, scope, receive):
        """A `receive` that replays the whole body, or None when it is over the limit."""
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            return None
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                chunks, more = [message], False
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:
                return None
            more = message.get("more_body", False)
        first = (
            chunks[0]
            if chunks and isinstance(chunks[0], dict)
            else {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        )
        given = False

        async def replay():
            nonlocal given
            if not given:
                given = True
                return first
            return await receive()

        return replay

    async def _too_large(self, send) -> None:
        body = json.dumps(
            {"detail": f"request body over {self.max_body:,} bytes (--max-body); send less"}
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
