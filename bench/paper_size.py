"""Will the paper's model fit? `reproduce sutskever2014 --preset paper` (4 x 1000 LSTM, embeddings
1000, sentencepiece 16k) on Multi30k: its parameter count and the peak memory of training it,
measured by training a few steps with the preset's batches through the real trainer.

    .venv/bin/python bench/paper_size.py --from ../shared/data/multi30k          # CUDA if present
    .venv/bin/python bench/paper_size.py --from ../shared/data/multi30k --steps 3 --threads 2

On CUDA the peak is `torch.cuda.max_memory_allocated` (the tensors alone); on CPU it is the
process's peak resident memory (Python, data and allocator slack included).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import torch
from flops import Model, matmul_peak
from machine import describe

from seq2seq.config import config_from_dict
from seq2seq.experiments.sutskever2014 import Reproduction
from seq2seq.models import count_parameters
from seq2seq.training import train
from seq2seq.translator import Translator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="data", required=True, help="a local copy of Multi30k")
    ap.add_argument("--pair", default="de-en")
    ap.add_argument("--steps", type=int, default=3, help="training steps to measure")
    ap.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="steps trained first and not timed (a first sitting; the timed one resumes it)",
    )
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        r = Reproduction("paper", Path(args.data), work, work / "report", pair=args.pair)
        cfg = r.config(reverse=True, layers=r.p["layers"], seed=1)
        cfg["train"].update(metric="loss", threads=args.threads)
        cfg["data"].pop("dev")  # no validation pass: the training step is what is measured
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        first = {"steps": 0, "train_seconds": 0.0, "target_tokens": 0}
        for steps in ([args.warmup] if args.warmup else []) + [args.warmup + args.steps]:
            cfg["train"]["max_steps"] = steps  # the second sitting resumes the first
            summary = train(
                config_from_dict(cfg, source="paper preset"), work / "run", progress=False
            )
            first = summary if steps == args.warmup else first
        seconds = time.perf_counter() - start
        timed_seconds = summary["train_seconds"] - first["train_seconds"]
        timed_tokens = summary["target_tokens"] - first["target_tokens"]
        summary["tokens_per_second"] = round(timed_tokens / max(timed_seconds, 1e-9))
        t = Translator.load(work / "run", which="last", device="cpu")
    params = count_parameters(t.model)
    vocab = {"src": len(t.processor.src_vocab), "tgt": len(t.processor.tgt_vocab)}
    p = r.p
    flops = Model(
        layers=p["layers"],
        emb=p["emb"],
        hidden=p["hidden"],
        src_vocab=vocab["src"],
        tgt_vocab=vocab["tgt"],
    ).train_per_tgt_token()
    on_gpu = torch.cuda.is_available()
    peak_dtype = (
        torch.bfloat16 if cfg["train"].get("precision", "auto") != "fp32" else torch.float32
    )
    matmul = matmul_peak(peak_dtype, n=8192 if on_gpu else 1024)
    achieved = summary["tokens_per_second"] * flops / 1e9
    if torch.cuda.is_available():
        device, peak = torch.cuda.get_device_name(), torch.cuda.max_memory_allocated()
    else:
        device, peak = "cpu", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "machine": describe(),
                "preset": "paper",
                "pair": args.pair,
                "vocab_sizes": vocab,
                "parameters": params,
                "weights_gib_fp32": round(params * 4 / 2**30, 2),
                "batch_tokens": cfg["train"]["batch_tokens"],
                "device": device,
                "peak_memory_gib": round(peak / 2**30, 2),
                "warmup_steps_not_timed": args.warmup,
                "steps_timed": summary["steps"] - first["steps"],
                "seconds_incl_setup": round(seconds, 1),
                "train_seconds_timed": round(timed_seconds, 2),
                "tgt_tokens_per_second": summary["tokens_per_second"],
                "train_mflop_per_tgt_token": round(flops / 1e6, 1),
                "matmul_peak_gflops": round(matmul),
                "matmul_peak_dtype": str(peak_dtype).removeprefix("torch."),
                "share_of_matmul_peak": round(achieved / matmul, 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
