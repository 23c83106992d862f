"""`run`: bind, load the models, serve with uvicorn until SIGTERM or Ctrl-C.

The port is bound before any model loads, so a taken port is one line at once. On SIGTERM
(or the first Ctrl-C) uvicorn stops accepting connections and waits for the requests in
flight; then the app's lifespan closes the batchers, which decode what is still queued. The
process then ends by the signal, as uvicorn does (a shell reports 143 after SIGTERM, 130
after Ctrl-C); a second Ctrl-C stops at once.
"""

from __future__ import annotations

import socket
import sys

from ..errors import UserError
from .app import create_app
from .guard import Limits
from .registry import load_models


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on host:port (port 0: any free one), or a one-line error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on sockets that say TCP, and
    # without it each answer's body waits ~40 ms for the ACK of its headers (Nagle)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as e:
        sock.close()
        why = getattr(e, "strerror", None) or str(e)
        raise UserError(
            f"--host {host} --port {port}: cannot listen there ({why}); pick another --port "
            "(0: any free one) or --host"
        ) from None
    return sock


def run(
    specs: list[str],
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    device: str | None = None,
    precision: str = "auto",
    limits: Limits | None = None,
    threads: int = 0,
) -> None:
    """Serve `specs` (`[NAME=]PATH` each) on host:port until stopped; `threads` > 0 sets
    torch's intra-op threads, once, before the models load."""
    import torch
    import uvicorn

    limits = limits or Limits()
    if threads < 0:
        raise UserError(f"--threads {threads}: give 0 (torch's default) or more")
    if threads:
        torch.set_num_threads(threads)
    sock = bind(host, port)
    try:
        models = load_models(specs, device=device, precision=precision)
        app = create_app(models, limits)
        config = uvicorn.Config(
            app,
            log_level="info",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=int(limits.timeout) + 5,
        )
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{sock.getsockname()[1]}/"
        print(
            f"serving {', '.join(m.name for m in models)} at {url} (the page; the API's schema: "
            f"{url}openapi.json); batches of up to {limits.max_batch} sentences, "
            f"{limits.max_wait_ms:g} ms wait",
            file=sys.stderr,
            flush=True,
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
