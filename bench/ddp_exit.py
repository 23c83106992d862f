"""Exit codes of consecutive 2-process torchrun trainings (gloo, the DDP test's tiny config).

Runs that trained and saved their checkpoint were reported to end, now and then, in
"terminate called without an active exception" at process exit, so torchrun reported them
failed (seq2seq/training/distributed.py: the state they exited in, and the fix; bench/README.md:
what was measured). This runs K of them one after another and counts the runs that exited 0;
a failed run's stderr tail is kept in its row. Results:
`bench/results/ddp_exit.json`. `--src` runs another checkout (e.g. an older commit, unpacked
with `git archive`) with the same config.

    .venv/bin/python bench/ddp_exit.py [--runs 20] [--src DIR] [--out ddp_exit.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from machine import one_line, results

HERE = Path(__file__).resolve().parent
ABORT = "terminate called"


def write_corpus(path: Path, n: int = 48, seed: int = 3) -> None:
    """Letters to spaced capitals, as the DDP test's corpus."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        word = "".join(rng.choice("abcdefgh") for _ in range(rng.randint(2, 7)))
        lines.append(f"{word}\t{' '.join(word.upper())}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def tiny_config(tsv: Path) -> dict:
    """The DDP test's config: 2x24 LSTM, 5 SGD steps of 4 sentences per rank."""
    return {
        "data": {
            "train": {"tsv": str(tsv)},
            "src_tokenizer": {"kind": "char"},
            "tgt_tokenizer": {"kind": "word"},
        },
        "model": {"layers": 2, "emb_size": 16, "hidden_size": 24, "dropout": 0.0},
        "train": {
            "optimizer": "sgd",
            "lr": 0.7,
            "schedule": "constant",
            "batch_size": 4,
            "max_steps": 5,
            "epochs": 10,
            "metric": "loss",
            "precision": "fp32",
            "threads": 1,
            "seed": 7,
        },
    }


def one_run(i: int, cfg: Path, out: Path, src: Path) -> dict:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--standalone",
        "-m",
        "seq2seq",
        "train",
        str(cfg),
        "--out",
        str(out),
        "--no-progress",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(src)}
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=src, env=env, capture_output=True, text=True, timeout=600)
    row = {
        "run": i,
        "returncode": proc.returncode,
        "wall_s": round(time.perf_counter() - start, 2),
        "abort_message": ABORT in proc.stderr,
        "saved": (out / "checkpoints" / "last.pt").is_file(),
    }
    if proc.returncode:
        row["stderr_tail"] = proc.stderr[-2000:]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20, help="consecutive torchrun runs (default 20)")
    ap.add_argument(
        "--src", type=Path, default=HERE.parent, help="seq2seq checkout to run (default: this one)"
    )
    ap.add_argument("--out", default="ddp_exit.json", help="file under bench/results/")
    args = ap.parse_args()
    src = args.src.resolve()
    print(one_line())
    rows = []
    with tempfile.TemporaryDirectory(prefix="ddp_exit-") as tmp:
        tmp = Path(tmp)
        write_corpus(tmp / "train.tsv")
        cfg = tmp / "cfg.yaml"
        cfg.write_text(yaml.safe_dump(tiny_config(tmp / "train.tsv")), encoding="utf-8")
        for i in range(args.runs):
            row = one_run(i, cfg, tmp / f"run{i}", src)
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "stderr_tail"}), flush=True)
    ok = sum(r["returncode"] == 0 for r in rows)
    print(f"{ok} of {len(rows)} runs exited 0 ({src})")
    (HERE / "results").mkdir(exist_ok=True)
    data = results(rows, src=str(src), runs=len(rows), exited_0=ok)
    (HERE / "results" / args.out).write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    main()
