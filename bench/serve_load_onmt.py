"""Load on OpenNMT-py's `onmt_server` next to `seq2seq serve`, same clients, same requests.

The anchor of bench/serve_load.py: OpenNMT-py's REST server (Flask under waitress, 4 threads,
one translation at a time per model, no batching across requests) serving a model of the same
shape, driven by the same hand-written asyncio HTTP/1.1 client with the same request pattern:
one sentence per request, beam 5, `--requests` per row, 1, 8 and 32 clients. In the same run,
our server with batching on (`--max-batch 64`) and off (`--max-batch 1`) on our model; then
`onmt_server` (started with `--onmt-python`, OpenNMT-py's own environment) on `--onmt-model`.
It prints the ratio ours / onmt per client count and writes
`bench/results/serve_load-<name>.json`.

Sentences: the first column of the run's test.tsv (or `--input`); our server gets the word,
its tokenizer splits it into characters and reverses them; `onmt_server` gets the same word
already split into space-separated characters, reversed, lowercased (its model was trained on
that form). OpenNMT-py 3.5.1 under torch >= 2.6 needs TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 to load
its checkpoint (set here for that process only).

    .venv/bin/python bench/serve_load_onmt.py RUN --onmt-model M.pt --onmt-python PY [--requests 500]

The OpenNMT-py model: bench/peers/onmt-g2p-serve.yaml (its config and how its data is made).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from machine import one_line, results
from serve_load import Connection, _load, measure, print_row, run_modes, sentences_of

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ONMT_PATH = "/translator/translate"


class OnmtServer:
    """`python -m onmt.bin.server` on 127.0.0.1 with a one-model config; `stop()` with SIGTERM."""

    def __init__(self, python: Path, model: Path, beam: int, max_length: int):
        self.dir = tempfile.TemporaryDirectory(prefix="onmt-serve-")
        conf = Path(self.dir.name) / "conf.json"
        opt = {"beam_size": beam, "max_length": max_length, "batch_size": 1}
        entry = {"id": 100, "model": model.name, "timeout": -1, "load": True, "opt": opt}
        conf.write_text(json.dumps({"models_root": str(model.parent), "models": [entry]}))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.host, self.port = "127.0.0.1", s.getsockname()[1]
        cmd = [str(python), "-m", "onmt.bin.server", "--ip", self.host, "--port", str(self.port)]
        env = {**os.environ, "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}
        self.proc = subprocess.Popen(
            [*cmd, "--model_config", str(conf)],
            cwd=self.dir.name,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: collections.deque[str] = collections.deque(maxlen=200)
        threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True).start()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and self.proc.poll() is None:
            if asyncio.run(self._healthy()):
                return
            time.sleep(0.2)
        self.stop()
        raise SystemExit("onmt_server did not come up:\n" + "".join(self.log))

    async def _healthy(self) -> bool:
        try:
            conn = Connection(self.host, self.port)
            status, _ = await asyncio.wait_for(conn.request("GET", "/translator/health"), 5)
            await conn.close()
            return status == 200
        except (OSError, asyncio.TimeoutError, ConnectionError):
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.dir.cleanup()


def onmt_source(word: str) -> str:
    """The form the OpenNMT-py model was trained on: lowercased characters, reversed."""
    return " ".join(reversed(word.lower()))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="our run directory to serve")
    ap.add_argument("--onmt-model", type=Path, required=True, help="an OpenNMT-py checkpoint")
    ap.add_argument("--onmt-python", type=Path, required=True, help="OpenNMT-py's python")
    ap.add_argument("--name", default="onmt-g2p", help="results name (default onmt-g2p)")
    ap.add_argument("--requests", type=int, default=500, help="requests per row (default 500)")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--onmt-max-length", type=int, default=40)
    ap.add_argument("--max-batch", type=int, default=64, help="our batch with batching on")
    ap.add_argument("--max-wait-ms", type=float, default=5.0)
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "int8"])
    ap.add_argument("--threads", type=int, default=0, help="our torch threads (0: default)")
    ap.add_argument("--input", type=Path, help="sentences (default: the run's test.tsv)")
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    name = args.run.resolve().name
    given = args.input or (args.run / "test.tsv")
    sentences = sentences_of(args.run, given if given.is_file() else None)
    picked = [sentences[i % len(sentences)] for i in range(args.requests)]
    ours = [json.dumps({"model": name, "inputs": [s], "beam": args.beam}).encode() for s in picked]
    theirs = [json.dumps([{"src": onmt_source(s), "id": 100}]).encode() for s in picked]
    common = ["--max-wait-ms", str(args.max_wait_ms), "--precision", args.precision]
    common += ["--threads", str(args.threads)]
    print(one_line())
    print(
        f"{args.requests} requests per row, one sentence each (from {len(sentences)} distinct), "
        f"beam {args.beam}; ours: {args.run.name}, onmt: {args.onmt_model.name}\n"
    )
    rows = run_modes(args, name, ours, common)
    server = OnmtServer(
        args.onmt_python, args.onmt_model.resolve(), args.beam, args.onmt_max_length
    )
    try:
        asyncio.run(_load(server.host, server.port, theirs[:20], 1, ONMT_PATH))  # warm-up
        for clients in args.clients:
            row = {"phase": "load", "server": "onmt_server", "batching": "none"}
            row.update(measure(server, "onmt", theirs, clients, ONMT_PATH))
            rows.append(row)
            print_row("onmt", row)
    finally:
        server.stop()
    ratios = {}
    for clients in args.clients:
        got = {r["batching"]: r["sent_per_s"] for r in rows if r["clients"] == clients}
        ratios[str(clients)] = {
            f"ours_{m}_over_onmt": round(got[m] / got["none"], 2) if got["none"] else None
            for m in ("on", "off")
        }
    print("\nthroughput, ours / onmt_server:")
    for clients, r in ratios.items():
        print(
            f"  {clients:>3s} clients: batching on {r['ours_on_over_onmt']}x, "
            f"off {r['ours_off_over_onmt']}x"
        )
    out = HERE / "results" / f"serve_load-{args.name}.json"
    ours_server = {"threads": args.threads or "torch's default", "max_batch": args.max_batch}
    ours_server.update(max_wait_ms=args.max_wait_ms, precision=args.precision)
    onmt = {"server": "onmt_server (OpenNMT-py 3.5.1, Flask + waitress)", "model": "onmt"}
    onmt.update(beam_size=args.beam, max_length=args.onmt_max_length)
    data = results(
        rows,
        run=args.run.name,
        onmt_model=args.onmt_model.name,
        beam=args.beam,
        server=ours_server,
        onmt_server=onmt,
        ratios=ratios,
    )
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
