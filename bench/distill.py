"""A teacher and its students side by side, in one run on one machine: the task metric with
beam search and greedily, parameters, and decoding sentences/s of each (the figures of a
`seq2seq distill` report, measured again here one model at a time with a warm-up, so that
runs trained apart compare on equal terms). Results: `bench/results/distill-NAME.json`.

    .venv/bin/python bench/distill.py --name g2p --metric wer --threads 1 \
        --pairs runs/g2p-seqkd-1x256/distill/dev.tsv \
        --run teacher=runs/g2p-teacher seq-KD=runs/g2p-seqkd-1x256 references=runs/g2p-ref-1x256
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from machine import one_line, results

from seq2seq.data import references
from seq2seq.data.io import read_tsv
from seq2seq.distillation import measure
from seq2seq.translator import Translator

HERE = Path(__file__).resolve().parent


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--name", required=True, help="results file: bench/results/distill-NAME.json")
    p.add_argument("--pairs", required=True, help="source<TAB>reference TSV to decode")
    p.add_argument("--metric", default="bleu", help="bleu, wer, ... (as seq2seq evaluate)")
    p.add_argument("--run", nargs="+", required=True, metavar="LABEL=RUN")
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args()


def main() -> None:
    args = parse()
    torch.set_num_threads(args.threads)
    pairs = read_tsv(args.pairs)
    sources = references(pairs)[0]
    rows = []
    for item in args.run:
        label, _, run = item.partition("=")
        translator = Translator.load(run, device="cpu", precision="fp32")
        translator.translate(sources[:64], beam=args.beam)  # warm-up: allocator, thread pool
        row = {"model": label, "run": run, **measure(translator, pairs, args.metric, args.beam)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = HERE / "results" / f"distill-{args.name}.json"
    extra = {"pairs": args.pairs, "metric": args.metric, "beam": args.beam}
    out.write_text(json.dumps(results(rows, **extra), indent=2) + "\n", encoding="utf-8")
    print(f"{one_line()}\nwrote {out}")


if __name__ == "__main__":
    main()
