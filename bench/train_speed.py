"""Training throughput of seq2seq on the peers' benchmark model, fp32 and bf16.

The model and data match ../shared/peers-reference (Multi30k de-en, lower-cased
`\\w+|[^\\w\\s]` tokens, 10k vocab per side, reversed source, 2x512 LSTM encoder and decoder,
emb 256, dropout 0.2, batches of 64 sentences, Adam 1e-3, clip 5, no attention). It prints
the median target tokens/s over 25-step intervals (the wall time of the whole loop, as the
peers log theirs) and the ratio to the peers' figures that ../shared/peers-reference/RESULTS.md
recorded on this kind of machine.

    .venv/bin/python bench/train_speed.py [--steps 300] [--precision fp32 bf16]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gzip
import json
import multiprocessing
import re
import resource
import statistics
import tempfile
import time
import unicodedata
from pathlib import Path

from machine import one_line
from machine import results as machine_results

from seq2seq.config import config_from_dict
from seq2seq.data import collate
from seq2seq.training.loop import Trainer

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "multi30k"
PEERS = {"OpenNMT-py 3.5.1": 2398, "fairseq 0.12.2": 1430}  # tgt tok/s, RESULTS.md (no attention)
TOK = re.compile(r"\w+|[^\w\s]")
INTERVAL = 25  # steps per logged interval, as bench/compare.py asks of the peers (--log-every)


def tokenized(path: Path, out: Path) -> str:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = [
            " ".join(TOK.findall(unicodedata.normalize("NFC", ln.strip()).lower())) for ln in f
        ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(out)


def bench_config(
    src: str, tgt: str, precision: str, attention: bool = False, **train: object
) -> dict:
    """The peers' benchmark model and training settings; `train` adds or overrides keys."""
    word = {"kind": "word", "max_vocab": 10000}
    return {
        "data": {
            "train": {"src": src, "tgt": tgt},
            "src_tokenizer": word,
            "tgt_tokenizer": word,
            "reverse_source": not attention,  # as the peers' runs
        },
        "model": {
            "layers": 2,
            "emb_size": 256,
            "hidden_size": 512,
            "dropout": 0.2,
            # the peers' attention model: Luong general with input feeding
            **({"attention": "general", "input_feeding": True} if attention else {}),
        },
        "train": {
            "optimizer": "adam",
            "lr": 0.001,
            "schedule": "constant",
            "clip_norm": 5,
            "batch_size": 64,
            "precision": precision,
            "metric": "loss",
            **train,
        },
    }


def measure(precision: str, steps: int, warmup: int, work: Path, attention: bool = False) -> dict:
    src = tokenized(DATA / "train.de.gz", work / "train.de")
    tgt = tokenized(DATA / "train.en.gz", work / "train.en")
    cfg = config_from_dict(bench_config(src, tgt, precision, attention))
    run = work / f"run-{precision}{'-attn' if attention else ''}"
    trainer = Trainer(cfg, run, progress=False, log=lambda *_: None)
    rates, intervals, batches = [], [], iter(trainer.sampler)
    tokens, start = 0, time.perf_counter()
    for i in range(warmup + steps):
        batch = collate([trainer.train_examples[j] for j in next(batches)])
        t0 = time.perf_counter()
        trainer.train_step(batch)
        t1 = time.perf_counter()
        if i < warmup:
            start = t1  # the first interval starts when the warm-up ends
            continue
        rates.append(batch.n_tgt_tokens / (t1 - t0))
        tokens += batch.n_tgt_tokens
        if (i + 1 - warmup) % INTERVAL == 0:  # as the peers log it: the wall time of the whole
            intervals.append(round(tokens / (t1 - start)))  # loop, batching included
            tokens, start = 0, t1
    return {
        "system": "seq2seq",
        "attention": attention,
        "precision": precision,
        # the peers' statistic: the median over 25-step intervals of their wall-clock rate
        "median_tgt_tok_s": round(statistics.median(intervals)),
        "interval_tgt_tok_s": intervals,
        "median_step_tgt_tok_s": round(statistics.median(rates)),  # training step alone
        "steps": steps,
    }


def measure_alone(*args, **kwargs) -> dict:
    """`measure` in a fresh process, as each peer runs in its own: no allocator or thread-pool
    state carried over from an earlier run, and the result gets that process's peak RSS."""
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        return pool.submit(_measure_with_rss, *args, **kwargs).result()


def _measure_with_rss(*args, **kwargs) -> dict:
    result = measure(*args, **kwargs)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {**result, "peak_rss_gib": round(peak_kib / 2**20, 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--precision", nargs="+", default=["fp32", "bf16"])
    args = ap.parse_args()
    print(one_line())
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for p in args.precision:
            r = measure_alone(p, args.steps, args.warmup, Path(tmp))
            ratios = {peer: round(r["median_tgt_tok_s"] / v, 2) for peer, v in PEERS.items()}
            results.append({**r, "ratio_to_peer_reference": ratios})
            print(json.dumps(results[-1]))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "train_speed.json").write_text(json.dumps(machine_results(results), indent=2) + "\n")


if __name__ == "__main__":
    main()
