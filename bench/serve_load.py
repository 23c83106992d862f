"""Load on `seq2seq serve`: throughput and latency with dynamic batching on and off.

Starts `seq2seq serve` on 127.0.0.1 (a free port) with one run and sends `--requests`
requests (one sentence each, beam 5) from 1, 8, 32 and 128 concurrent clients, each client
on its own keep-alive connection and sending its next request when the last is answered.
Each row reports sentences/s, p50/p95/p99 latency, errors by status, and the mean batch the
server formed (from its /metrics). It runs once with batching (`--max-batch 64`) and once
without (`--max-batch 1`: each request its own search) and prints the ratio on/off per client
count. A last phase overloads a server with a small queue (`--max-queue 16`, 256 clients) to
show that past the limit requests get 503 at once, not timeouts.

The clients run in this process, on the same machine: a hand-written HTTP/1.1 client over
asyncio streams, so they take little of the CPU the server needs. Sentences: the run's
test.src, else the sources of its test.tsv or dev.tsv, else `--input`. Results:
`bench/results/serve_load-<name>.json`.

    .venv/bin/python bench/serve_load.py runs/demo [--requests 2000] [--clients 1 8 32 128]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from machine import one_line, results

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


# -- the server ------------------------------------------------------------------------------


class Server:
    """`seq2seq serve` in a subprocess; `url` once /healthz answers; `stop()` with SIGTERM."""

    def __init__(self, run: Path, name: str, *flags: str):
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        cmd = [sys.executable, "-m", "seq2seq", "serve", "--model", f"{name}={run}", "--port", "0"]
        self.proc = subprocess.Popen(
            [*cmd, *flags], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True
        )
        self.log: list[str] = []
        threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True).start()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and self.proc.poll() is None:
            found = re.search(r"serving .* at http://([\d.]+):(\d+)/ ", "".join(self.log))
            if found and asyncio.run(_healthy(found.group(1), int(found.group(2)))):
                self.host, self.port = found.group(1), int(found.group(2))
                return
            time.sleep(0.1)
        self.stop()
        raise SystemExit("seq2seq serve did not come up:\n" + "".join(self.log))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- a small HTTP/1.1 client ---------------------------------------------------------------------


class Connection:
    """One keep-alive connection: `request` sends one and reads the answer (status, body)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            key, _, value = line.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        data = await self.reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return int(status_line.split()[1]), data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def _healthy(host: str, port: int) -> bool:
    try:
        conn = Connection(host, port)
        status, _ = await asyncio.wait_for(conn.request("GET", "/healthz"), 5)
        await conn.close()
        return status == 200
    except (OSError, asyncio.TimeoutError, ConnectionError):
        return False


async def _load(
    host, port, bodies: list[bytes], clients: int, path: str = "/v1/translate"
) -> list[tuple[float, str]]:
    """Send every body, `clients` at a time; (seconds, status or error name) per request."""
    todo = iter(range(len(bodies)))
    out: list[tuple[float, str]] = []

    async def client() -> None:
        conn = Connection(host, port)
        for i in todo:
            start = time.perf_counter()
            try:
                status, _ = await conn.request("POST", path, bodies[i])
                outcome = str(status)
            except (OSError, ConnectionError, asyncio.IncompleteReadError) as e:
                outcome = type(e).__name__
                await conn.close()
            out.append((time.perf_counter() - start, outcome))
        await conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return out


async def _batch_totals(host: str, port: int, model: str) -> tuple[float, float]:
    """(sum, count) of the server's seq2seq_batch_sentences histogram for `model`."""
    conn = Connection(host, port)
    _, text = await conn.request("GET", "/metrics")
    await conn.close()
    found = {}
    for kind in ("sum", "count"):
        m = re.search(rf'seq2seq_batch_sentences_{kind}{{model="{model}"}} (\S+)', text.decode())
        found[kind] = float(m.group(1)) if m else 0.0
    return found["sum"], found["count"]


# -- the measurements ----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else float("nan")


def measure(server, name: str, bodies: list[bytes], clients: int, path: str = "") -> dict:
    """One row; `path` set: a peer's endpoint (no /metrics, so no mean batch)."""
    totals = (
        (lambda: (0.0, 0.0))
        if path
        else (lambda: asyncio.run(_batch_totals(server.host, server.port, name)))
    )
    before = totals()
    start = time.perf_counter()
    answers = asyncio.run(_load(server.host, server.port, bodies, clients, path or "/v1/translate"))
    seconds = time.perf_counter() - start
    after = totals()
    ok = [t for t, outcome in answers if outcome == "200"]
    errors: dict[str, int] = {}
    for _, outcome in answers:
        if outcome != "200":
            errors[outcome] = errors.get(outcome, 0) + 1
    batches = after[1] - before[1]
    return {
        "clients": clients,
        "requests": len(bodies),
        "seconds": round(seconds, 2),
        "sent_per_s": round(len(ok) / seconds, 1),
        "p50_ms": round(1000 * percentile(ok, 50), 1),
        "p95_ms": round(1000 * percentile(ok, 95), 1),
        "p99_ms": round(1000 * percentile(ok, 99), 1),
        "mean_batch": round((after[0] - before[0]) / batches, 2) if batches else None,
        "errors": errors,
    }


def sentences_of(run: Path, given: Path | None) -> list[str]:
    """`given` (lines, or a TSV's first column), else the run's test or dev sources."""
    found = [given] if given else [run / f for f in ("test.src", "test.tsv", "dev.tsv")]
    path = next((p for p in found if p.is_file()), None)
    if path is None:
        raise SystemExit(f"{run}: no test.src, test.tsv or dev.tsv; give --input FILE")
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix == ".tsv":
        lines = [line.split("\t")[0] for line in lines]
    lines = [s for s in lines if s.strip()]
    if not lines:
        raise SystemExit("no sentences to send")
    return lines


def bodies_of(sentences: list[str], n: int, name: str, beam: int) -> list[bytes]:
    return [
        json.dumps(
            {"model": name, "inputs": [sentences[i % len(sentences)]], "beam": beam}
        ).encode()
        for i in range(n)
    ]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a run directory (or checkpoint) to serve")
    ap.add_argument("--name", help="model and results name (default: the run folder's name)")
    ap.add_argument("--requests", type=int, default=2000, help="requests per row (default 2000)")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32, 128])
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--max-batch", type=int, default=64, help="the server's batch with batching on")
    ap.add_argument("--max-wait-ms", type=float, default=5.0)
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "int8"])
    ap.add_argument(
        "--threads", type=int, default=0, help="the server's torch threads (0: default)"
    )
    ap.add_argument("--input", type=Path, help="sentences, one per line (default: the run's)")
    ap.add_argument("--overload-clients", type=int, default=256)
    ap.add_argument("--overload-queue", type=int, default=16)
    ap.add_argument("--no-overload", action="store_true", help="skip the past-the-queue phase")
    return ap.parse_args()


def print_row(mode: str, r: dict) -> None:
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items())) or "-"
    print(
        f"{mode:8s} {r['clients']:7d} {r['sent_per_s']:9.1f} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} "
        f"{r['p99_ms']:8.1f} {r['mean_batch'] or 0:10.2f}  {errors}",
        flush=True,
    )


def run_modes(args, name: str, bodies: list[bytes], common: list[str]) -> list[dict]:
    rows = []
    print(
        f"{'batching':8s} {'clients':>7s} {'sent/s':>9s} {'p50 ms':>8s} {'p95 ms':>8s} "
        f"{'p99 ms':>8s} {'mean batch':>10s}  errors"
    )
    for mode, max_batch in (("on", args.max_batch), ("off", 1)):
        server = Server(args.run, name, "--max-batch", str(max_batch), *common)
        try:
            asyncio.run(_load(server.host, server.port, bodies[:20], 1))  # warm-up
            for clients in args.clients:
                row = {"phase": "load", "batching": mode, "max_batch": max_batch}
                row.update(measure(server, name, bodies, clients))
                rows.append(row)
                print_row(mode, row)
        finally:
            server.stop()
    return rows


def overload(args, name: str, bodies: list[bytes], common: list[str]) -> dict:
    q = args.overload_queue
    flags = ["--max-queue", str(q), "--max-inputs", str(min(q, 64)), *common]
    server = Server(args.run, name, "--max-batch", str(args.max_batch), *flags)
    try:
        row = measure(server, name, bodies, args.overload_clients)
    finally:
        server.stop()
    row.update(batching="on", max_batch=args.max_batch, phase="overload", max_queue=q)
    refused = row["errors"].get("503", 0)
    other = {k: v for k, v in row["errors"].items() if k != "503"}
    print(
        f"\npast the queue (--max-queue {q}, {args.overload_clients} clients, {len(bodies)} "
        f"requests): {len(bodies) - sum(row['errors'].values())} answered, {refused} refused "
        f"with 503 at once, other errors: {other or 'none'} (p99 of the answered: "
        f"{row['p99_ms']} ms)"
    )
    return row


def main() -> None:
    args = parse_args()
    name = args.name or (args.run if args.run.is_dir() else args.run.parent.parent).resolve().name
    sentences = sentences_of(args.run, args.input)
    bodies = bodies_of(sentences, args.requests, name, args.beam)
    common = ["--max-wait-ms", str(args.max_wait_ms), "--precision", args.precision]
    common += ["--threads", str(args.threads)]
    print(one_line())
    print(
        f"serving {args.run} as {name!r}: {args.requests} requests per row, one sentence each "
        f"(from {len(sentences)} distinct), beam {args.beam}\n"
    )
    rows = run_modes(args, name, bodies, common)
    ratios = {}
    for clients in args.clients:
        on, off = (
            next(r for r in rows if r["batching"] == m and r["clients"] == clients)
            for m in ("on", "off")
        )
        ratios[str(clients)] = (
            round(on["sent_per_s"] / off["sent_per_s"], 2) if off["sent_per_s"] else None
        )
    print(
        "\nthroughput, batching on / off: "
        + ", ".join(f"{c} clients {x}x" for c, x in ratios.items())
    )
    if not args.no_overload:
        rows.append(overload(args, name, bodies, common))
    out = HERE / "results" / f"serve_load-{name}.json"
    server = {"threads": args.threads or "torch's default", "max_batch": args.max_batch}
    server.update(max_wait_ms=args.max_wait_ms, precision=args.precision)
    data = results(rows, run=str(args.run), beam=args.beam, server=server, ratios=ratios)
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
