"""After bench/gpu_results.sh trains its candidates: choose one model per task on dev, shrink
it to what can come back from a GPU machine, and score exactly those weights on dev and test.

    python bench/gpu_pick.py pick --task m30k --runs runs/a runs/b --out OUT
    python bench/gpu_pick.py unpack OUT/m30k.pt --out gpu/m30k.pt     # here: a normal checkpoint

`pick`, for each candidate run: the average of its last five validations' weights
(`seq2seq average`) and its best checkpoint are decoded on the whole dev set (beam 5; the
validation during training decodes greedily, and Multi30k's only its first 500 sentences);
the better of the two is the candidate's model. The candidate with the best dev score wins
(model selection on dev alone); for Multi30k the length penalty is then chosen on dev too
(0.6, 1.0, 1.4). The winner's weights are rounded to bf16 (files from the GPU machine are
limited in size) and those rounded weights are scored again on dev and on test: the figures
reported are those of the file that comes back. Writes OUT/TASK.pt (config, vocabularies,
bf16 weights) and OUT/TASK.json (every score, the choice, the device).

`unpack` turns a returned file back into an fp32 checkpoint that `seq2seq translate --model`
reads.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from machine import describe

from seq2seq import checkpoints
from seq2seq.config import load_config
from seq2seq.data import Processor
from seq2seq.data.corpus import read_split
from seq2seq.data.io import read_tsv
from seq2seq.translator import Translator

LIMIT = 0  # --limit: score only the first N pairs (a rehearsal on a CPU)
METRIC = {"m30k": "bleu", "g2p": "wer"}  # bleu: higher is better; wer: lower


def splits(run: Path) -> dict[str, list[tuple[str, str]]]:
    """dev and test pairs: the run's derived split files (G2P), else the config's files."""
    cfg = load_config(run / "config.yaml")
    out = {}
    for name in ("dev", "test"):
        derived = run / f"{name}.tsv"
        split = getattr(cfg.data, name)
        pairs = read_tsv(derived) if derived.is_file() else read_split(split) if split else []
        out[name] = pairs[:LIMIT] if LIMIT else pairs
    return out


def score(ckpt: dict, pairs, metric: str, device: str, **decode) -> dict:
    """Beam-5 (the config's decode settings, with `decode` overrides) score of a checkpoint
    dict, in fp32 on `device`."""
    c = checkpoints.Checkpoint("memory", checkpoints.saved_config(ckpt, "memory"),
                               ckpt["processor"], ckpt["model"])  # fmt: skip
    model = checkpoints.load_model(c, device)
    t = Translator(model, Processor.from_state(c.config.data, c.processor), c.config,
                   device=device, precision="fp32")  # fmt: skip
    start = time.perf_counter()
    scores, _ = t.evaluate(pairs, metric, batch_size=256, **decode)
    return {**scores, "seconds": round(time.perf_counter() - start, 1), **decode}


def rank(metric: str, row: dict) -> float:
    """Sort key: smaller is better (BLEU is higher-is-better, WER lower)."""
    return -row[metric] if metric == "bleu" else row[metric]


def candidate(run: Path, task: str, device: str) -> dict:
    """The better of the run's averaged and best checkpoints on the whole dev set."""
    metric, dev = METRIC[task], splits(run)["dev"]
    recent = checkpoints.recent(run / "checkpoints")[-5:]
    options = {"best": checkpoints.load(run / "checkpoints" / "best.pt")}
    if len(recent) > 1:
        options[f"average of last {len(recent)}"] = checkpoints.average(recent)
    rows = {}
    for name, ckpt in options.items():
        rows[name] = score(ckpt, dev, metric, device)
        print(f"{run.name} {name}: dev {rows[name]}", flush=True)
    pick = min(rows, key=lambda k: rank(metric, rows[k]))
    return {"run": str(run), "dev": rows, "pick": pick, "ckpt": options[pick]}


def to_bf16(ckpt: dict) -> dict:
    """Weights rounded to bf16; tied weights (the decoder's embedding and output layer) stay
    one tensor, saved once."""
    seen, weights = {}, {}
    for k, v in ckpt["model"].items():
        key = (v.data_ptr(), v.shape)
        if key not in seen:
            seen[key] = v.to(torch.bfloat16) if v.is_floating_point() else v
        weights[k] = seen[key]
    return {"config": ckpt["config"], "processor": ckpt["processor"], "model": weights}


def pick(args) -> None:
    metric = METRIC[args.task]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    cands = [candidate(Path(r), args.task, device) for r in args.runs]
    win = min(cands, key=lambda c: rank(metric, c["dev"][c["pick"]]))
    data = splits(Path(win["run"]))
    lp = {}
    if args.task == "m30k":  # the length penalty, chosen on dev
        lp = {1.0: win["dev"][win["pick"]]}
        for alpha in (0.6, 1.4):
            lp[alpha] = score(win["ckpt"], data["dev"], metric, device, length_penalty=alpha)
        alpha = max(lp, key=lambda a: lp[a][metric])
        win["ckpt"]["config"]["decode"]["length_penalty"] = alpha
    shipped = to_bf16(win["ckpt"])
    final = {
        name: score(shipped, data[name], metric, device) for name in ("dev", "test") if data[name]
    }
    args.out.mkdir(parents=True, exist_ok=True)
    checkpoints.save(shipped, args.out / f"{args.task}.pt")
    report = {
        "task": args.task,
        "machine": describe(),
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "candidates": [{k: c[k] for k in ("run", "dev", "pick")} for c in cands],
        "chosen": {"run": win["run"], "weights": win["pick"]},
        "length_penalty_on_dev": {str(a): r for a, r in lp.items()},
        "bf16_weights": final,
    }
    (args.out / f"{args.task}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({"task": args.task, "chosen": report["chosen"], **final}, indent=2))


def unpack(args) -> None:
    ckpt = checkpoints.load(args.file)
    ckpt["model"] = {k: v.float() if v.is_floating_point() else v for k, v in ckpt["model"].items()}
    ckpt.pop("format_version", None)
    checkpoints.save(ckpt, args.out)
    print(f"{args.file} -> {args.out} (fp32 weights; use it with --model {args.out})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pick")
    p.add_argument("--task", choices=sorted(METRIC), required=True)
    p.add_argument("--runs", nargs="+", required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--limit", type=int, default=0, help="only the first N pairs (a rehearsal)")
    u = sub.add_parser("unpack")
    u.add_argument("file", type=Path)
    u.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    global LIMIT
    LIMIT = getattr(args, "limit", 0)
    {"pick": pick, "unpack": unpack}[args.cmd](args)


if __name__ == "__main__":
    main()
