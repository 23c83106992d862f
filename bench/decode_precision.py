"""Decoding speed and quality of one trained run in fp32, INT8 and bf16, on this machine: the
measurements behind `translate --precision auto` (seq2seq/precision.py).

Each precision decodes the run's dev split (or `--split test`) with its decoding settings, in a
fresh Translator, after a warm-up batch; sentences/s and the task metric (WER for G2P, BLEU
otherwise) are printed with the machine. Where bf16 is emulated it runs on the first
`--emulated-limit` sentences only (on an AVX2 CPU it ran at 0.3 GFLOP/s) and its quality is
not compared; where nothing runs bf16 (AVX2 without AVX-512) it is left out. Results: `bench/results/decode_precision.json`.

    .venv/bin/python bench/decode_precision.py runs/demo [--beam 5] [--split dev]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from machine import one_line, results

from seq2seq.config import load_config
from seq2seq.data import references
from seq2seq.data.io import read_tsv
from seq2seq.evaluation import score
from seq2seq.precision import bf16_runs, decoding_precision, native_bf16
from seq2seq.translator import Translator

HERE = Path(__file__).resolve().parent


def measure(run: Path, precision: str, sources, refs, metric: str, beam: int) -> dict:
    t = Translator.load(run, device="cpu", precision=precision)
    t.translate(sources[:64], beam=beam)  # warm-up: allocator, thread pool, oneDNN primitives
    start = time.perf_counter()
    hyps = t.translate(sources, beam=beam)
    seconds = time.perf_counter() - start
    return {
        "precision": precision,
        "sentences": len(sources),
        "sent_per_s": round(len(sources) / seconds, 1),
        metric: round(score(metric, hyps, refs)[metric], 5),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a run directory with dev.tsv / test.tsv")
    ap.add_argument("--split", default="dev", choices=["dev", "test"])
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--emulated-limit", type=int, default=200)
    ap.add_argument("--out", default="decode_precision.json", help="file under bench/results/")
    args = ap.parse_args()
    cfg = load_config(args.run / "config.yaml")
    metric = "wer" if cfg.train.metric in ("wer", "per") else "bleu"
    sources, refs = references(read_tsv(args.run / f"{args.split}.tsv"))
    cpu = torch.device("cpu")
    native, why = native_bf16(cpu)
    print(one_line())
    print(f"auto picks: {decoding_precision('auto', cpu).reason}")
    rows = []
    kinds = ("fp32", "int8", "bf16") if bf16_runs(cpu) else ("fp32", "int8")
    if len(kinds) == 2:
        print(f"bf16: not measured, nothing runs it on this CPU ({why})")
    for precision in kinds:
        n = len(sources) if precision != "bf16" or native else args.emulated_limit
        row = measure(args.run, precision, sources[:n], refs[:n], metric, args.beam)
        row["emulated"] = precision == "bf16" and not native
        rows.append(row)
        print(json.dumps(row), flush=True)
    base = rows[0]
    for r in rows[1:]:
        r["speed_vs_fp32"] = round(r["sent_per_s"] / base["sent_per_s"], 2)
        if not r["emulated"]:
            r[f"{metric}_change"] = round(r[metric] - base[metric], 5)
    print(f"\n{'precision':9s} {'sent/s':>8s} {'x fp32':>6s} {metric:>8s}")
    for r in rows:
        shown = f"{100 * r[metric]:.2f}" if metric == "wer" else f"{r[metric]:.2f}"
        note = f"(first {r['sentences']}, emulated: {why})" if r["emulated"] else ""
        print(
            f"{r['precision']:9s} {r['sent_per_s']:8.1f} {r.get('speed_vs_fp32', 1):6.2f} "
            f"{shown:>8s} {note}"
        )
    (HERE / "results").mkdir(exist_ok=True)
    data = results(rows, run=args.run.name, split=args.split, beam=args.beam, metric=metric)
    (HERE / "results" / args.out).write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    main()
