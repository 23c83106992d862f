"""Training speed of seq2seq and its peers, side by side, in one run on one machine.

Runs OpenNMT-py 3.5.1, Eole 0.6.4 and fairseq 0.12 (ve-fairseq 0.12.3) (each without
attention, and with Luong general + input feeding; fairseq's no-attention decoder still feeds
its output back in) and Joey NMT 2.3.0 (attention only: it cannot turn attention off) through
`bench/peers/`, then seq2seq on the same model, batch and data (`bench/train_speed.py`),
and prints target tokens/s and seq2seq's ratio to each peer. Results:
`bench/results/compare.json`.

    bench/peers/setup.sh && .venv/bin/python bench/compare.py [--steps 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from machine import one_line, results
from train_speed import measure_alone

HERE = Path(__file__).resolve().parent
PEER_RUNS = [("onmt", False), ("onmt", True), ("joey", True), ("eole", False), ("eole", True)]
PEER_RUNS += [("fairseq", False), ("fairseq", True)]  # fairseq's no-attention decoder input-feeds


def peer(name: str, attention: bool, steps: int, warmup: int, work: Path) -> dict:
    out = work / "results"
    cmd = [sys.executable, str(HERE / "peers" / "run_peer.py"), "--peer", name, "--work", str(work)]
    cmd += ["--steps", str(steps + warmup), "--warmup", str(warmup), "--log-every", "25"]
    cmd += ["--timeout", "1500", "--out", str(out)] + (["--attention"] if attention else [])
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / f"peers_{name}{'_attn' if attention else ''}.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300, help="timed steps after the warm-up")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--precision", default="bf16", help="seq2seq's precision (fp32 | bf16)")
    ap.add_argument(
        "--attention", choices=["both", "off", "on"], default="both", help="which models to run"
    )
    ap.add_argument("--out", default="compare.json", help="file name under bench/results/")
    args = ap.parse_args()
    print(f"{one_line()}, {os.cpu_count()} cpus")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run([sys.executable, str(HERE / "peers" / "prepare.py"), str(work)], check=True)
        wanted = {"both": (False, True), "off": (False,), "on": (True,)}[args.attention]
        for name, attention in [r for r in PEER_RUNS if r[1] in wanted]:
            rows.append(peer(name, attention, args.steps, args.warmup, work))
            print(json.dumps(rows[-1]), flush=True)
        for attention in wanted:
            for precision in dict.fromkeys(["fp32", args.precision]):
                rows.append(measure_alone(precision, args.steps, args.warmup, work, attention))
                print(json.dumps(rows[-1]), flush=True)
    ours = {(r["attention"], r["precision"]): r["median_tgt_tok_s"] for r in rows if "system" in r}
    print(f"\n{'system':34s} {'attention':9s} tgt tok/s  peak RSS   seq2seq {args.precision} / it")
    for r in rows:
        name = r.get("system") or f"{r['peer']} {r.get('version', '')}"
        label = f"{name} {r.get('precision', 'fp32')}"
        mine = ours[(r["attention"], args.precision)]
        ratio = f"{mine / r['median_tgt_tok_s']:.2f}x" if "system" not in r else ""
        rss = f"{r['peak_rss_gib']:.2f} GiB"
        print(
            f"{label:34s} {str(r['attention']):9s} {r['median_tgt_tok_s']:9,.0f}  {rss:>8s}   {ratio}"
        )
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / args.out).write_text(json.dumps(results(rows), indent=2) + "\n")


if __name__ == "__main__":
    main()
