"""Decoding speed and quality of one trained run in each engine, on this machine: ours (fp32,
INT8, bf16 where it runs), CTranslate2 (float32, int8, bfloat16 where it has them; Transformer
runs only) and ONNX Runtime (fp32, under our search). Sentences/s at beam 5 (or --greedy) with
the task metric beside each (WER for G2P, BLEU otherwise), and the machine.

Named engines.py, not ctranslate2.py or onnx.py: run as a script, its folder comes first on the
import path, and a file of the package's name would shadow the package.

    .venv/bin/python bench/engines.py runs/multi30k-transformer [--split test] [--beam 5]
    .venv/bin/python bench/engines.py RUN --data pairs.tsv --limit 200   # a smoke run

Each engine gets the same threads (torch's count); each measurement decodes every sentence after
a warm-up batch. Emulated bf16 (no native bf16 on the CPU) runs on the first --emulated-limit
sentences, and its quality is not compared. Results: bench/results/engines.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from machine import one_line, results

from seq2seq import export
from seq2seq.config import load_config
from seq2seq.data import references
from seq2seq.data.io import read_tsv
from seq2seq.errors import UserError
from seq2seq.evaluation import score
from seq2seq.precision import bf16_runs, native_bf16
from seq2seq.translator import Translator

HERE = Path(__file__).resolve().parent


def measure(make, engine: str, precision: str, data, metric: str, opts: dict) -> dict:
    sources, refs = data
    translator = make()
    translator.translate(sources[:64], **opts)  # warm-up: allocator, threads, kernels
    start = time.perf_counter()
    hyps = translator.translate(sources, **opts)
    seconds = time.perf_counter() - start
    return {
        "engine": engine,
        "precision": precision,
        "sentences": len(sources),
        "sent_per_s": round(len(sources) / seconds, 1),
        metric: round(score(metric, hyps, refs)[metric], 5),
    }


def candidates(run: Path, folder: Path, transformer: bool):
    """(engine, precision, how to build its translator, emulated) for every engine here."""
    cpu = torch.device("cpu")
    ours = ["fp32", "int8"] + (["bf16"] if bf16_runs(cpu) else [])
    for p in ours:
        emulated = p == "bf16" and not native_bf16(cpu)[0]
        yield "seq2seq", p, lambda p=p: Translator.load(run, device="cpu", precision=p), emulated
    if transformer:
        import ctranslate2

        have = ctranslate2.get_supported_compute_types("cpu")
        for p, name in (("fp32", "float32"), ("int8", "int8"), ("bf16", "bfloat16")):
            if name in have:
                ct2 = folder / "ctranslate2"
                yield (
                    "ctranslate2",
                    name,
                    lambda p=p, f=ct2: export.load(f, "ctranslate2", device="cpu", precision=p),
                    False,
                )
    onnx = folder / "onnx"
    yield "onnxruntime", "fp32", lambda: export.load(onnx, "onnx", device="cpu"), False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a run directory")
    ap.add_argument("--split", default="dev", choices=["dev", "test"], help="RUN/SPLIT.tsv")
    ap.add_argument("--data", type=Path, help="a TSV of (source, reference) instead of --split")
    ap.add_argument("--limit", type=int, default=0, help="only the first N sources (0 = all)")
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--greedy", action="store_true")
    ap.add_argument("--emulated-limit", type=int, default=200)
    ap.add_argument("--out", default="engines.json", help="file under bench/results/")
    args = ap.parse_args()
    cfg = load_config(args.run / "config.yaml")
    metric = "wer" if cfg.train.metric in ("wer", "per") else "bleu"
    sources, refs = references(read_tsv(args.data or args.run / f"{args.split}.tsv"))
    if args.limit:
        sources, refs = sources[: args.limit], refs[: args.limit]
    opts = {"greedy": True} if args.greedy else {"beam": args.beam}
    transformer = cfg.model.type == "transformer"
    print(one_line())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if transformer:
            export.export(args.run, "ctranslate2", folder / "ctranslate2")
        export.export(args.run, "onnx", folder / "onnx")
        for engine, precision, make, emulated in candidates(args.run, folder, transformer):
            n = args.emulated_limit if emulated else len(sources)
            try:
                row = measure(make, engine, precision, (sources[:n], refs[:n]), metric, opts)
            except UserError as e:
                print(f"{engine} {precision}: not measured ({e})")
                continue
            row["emulated"] = emulated
            rows.append(row)
            print(json.dumps(row), flush=True)
    report(rows, metric)
    (HERE / "results").mkdir(exist_ok=True)
    data = results(
        rows, run=args.run.name, data=str(args.data or args.split), metric=metric, **opts
    )
    (HERE / "results" / args.out).write_text(json.dumps(data, indent=2) + "\n")


def report(rows: list[dict], metric: str) -> None:
    base = rows[0]  # seq2seq fp32
    print(f"\n{'engine':12s} {'precision':9s} {'sent/s':>8s} {'x ours':>6s} {metric:>8s}")
    for r in rows:
        r["speed_vs_ours_fp32"] = round(r["sent_per_s"] / base["sent_per_s"], 2)
        shown = f"{100 * r[metric]:.2f}" if metric == "wer" else f"{r[metric]:.2f}"
        note = f"(first {r['sentences']}, emulated)" if r["emulated"] else ""
        print(
            f"{r['engine']:12s} {r['precision']:9s} {r['sent_per_s']:8.1f} "
            f"{r['speed_vs_ours_fp32']:6.2f} {shown:>8s} {note}"
        )


if __name__ == "__main__":
    main()
