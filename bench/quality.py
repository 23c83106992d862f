"""Quality after equal training time, and decoding speed at equal quality, of seq2seq and
OpenNMT-py side by side.

Both train the peers' benchmark model (no attention, reversed source; `bench/peers/`).
OpenNMT-py gets the number of steps its measured speed (`--onmt-tok-s`, from `bench/compare.py`
in the same run) allows in `--budget` seconds; its own log's training seconds are reported
beside it. seq2seq trains twice: for the same seconds on its own clock (`train.max_minutes`),
which gives the dev BLEU after equal wall-clock, and for the same number of steps as OpenNMT-py,
which gives about the same BLEU, so decoding speeds compare at equal quality. Each model then
decodes test_2016_flickr greedily and with beam 5 (batches of 64 sentences, 2 threads) in fp32
and INT8 (both toolkits: PyTorch dynamic quantisation) and, for seq2seq, bf16. BLEU is
sacreBLEU on the lower-cased word tokens every system sees (`tokenize none`), so the systems
are scored alike. Decoding time is each toolkit's own in-process figure (model loading
excluded). Results: `bench/results/quality.json`.

    .venv/bin/python bench/quality.py [--budget 450] [--onmt-tok-s 1672] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sacrebleu
import torch
from machine import results, rows_of
from train_speed import bench_config

from seq2seq.config import config_from_dict
from seq2seq.training import train
from seq2seq.translator import Translator

HERE = Path(__file__).resolve().parent
VENVS = HERE.parent / ".bench-venv"
THREADS = {"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}
BEAMS = (1, 5)


def read(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def score(hyps: list[str], refs: list[str]) -> float:
    return round(sacrebleu.corpus_bleu(hyps, [refs], tokenize="none", force=True).score, 2)


# -- OpenNMT-py ----------------------------------------------------------------------------------


def onmt_train(work: Path, steps: int) -> tuple[Path, float]:
    """Train for `steps`; returns the final checkpoint and the training seconds by its own log."""
    sys.path.insert(0, str(HERE / "peers"))
    from run_peer import onmt_config

    run = work / "runs" / "onmt_quality"
    done = run / "trained.json"
    if done.is_file() and json.loads(done.read_text())["steps"] == steps:
        return run / f"model_step_{steps}.pt", json.loads(done.read_text())["seconds"]
    run.mkdir(parents=True, exist_ok=True)
    args = argparse.Namespace(work=work, attention=False, steps=steps, log_every=25, venvs=VENVS)
    cfg, cmd = onmt_config(args, run)
    (run / "config.yaml").write_text(cfg)
    log = run / "train.log"
    with open(log, "w") as f:
        subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env={**os.environ, **THREADS})
    model = run / f"model_step_{steps}.pt"
    if not model.is_file():
        sys.exit(f"OpenNMT-py wrote no {model}; see {log}")
    # its log gives seconds since start (data loading included) at every 25th step: the
    # training time is the rate between the first and the last report, times the steps
    marks = [
        (int(a), float(b))
        for a, b in re.findall(r"Step (\d+)/.*?tok/s;\s+(\d+) sec", log.read_text())
    ]
    if len(marks) < 2:
        return model, float("nan")
    (s0, t0), (s1, t1) = marks[0], marks[-1]
    seconds = round((t1 - t0) / (s1 - s0) * s1, 1)
    done.write_text(json.dumps({"steps": steps, "seconds": seconds}))
    return model, seconds


def onmt_decode(
    model: Path, src: Path, beam: int, out: Path, precision: str = "fp32"
) -> tuple[list[str], float]:
    """Translate `src`; returns the hypotheses and OpenNMT-py's own translation time."""
    cmd = [str(VENVS / "onmt/bin/onmt_translate"), "-model", str(model), "-src", str(src)]
    cmd += ["-output", str(out), "-beam_size", str(beam), "-batch_size", "64", "-report_time"]
    cmd += ["-max_length", "100", "-precision", precision]
    r = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, **THREADS}, check=False
    )
    m = re.search(r"Total translation time \(s\): ([\d.]+)", r.stdout + r.stderr)
    if r.returncode or not m:
        sys.exit(f"onmt_translate failed:\n{(r.stdout + r.stderr)[-2000:]}")
    return read(out), float(m[1])


# -- seq2seq -------------------------------------------------------------------------------------


def ours_train(work: Path, precision: str, *, budget: float = 0, steps: int = 0):
    """Train for `budget` seconds (its own clock) or for `steps`; returns the run and summary."""
    tok = work / "tok"
    limit = {"max_minutes": budget / 60} if budget else {"max_steps": steps}
    cfg = bench_config(
        str(tok / "train.de"),
        str(tok / "train.en"),
        precision,
        epochs=1000,
        valid_every=10**9,
        **limit,
    )
    cfg["decode"] = {"max_len_a": 0, "max_len_b": 100, "batch_size": 64}
    cfg = config_from_dict(cfg, source="bench/quality.py")
    run = work / "runs" / f"seq2seq_{precision}_{f'{budget:g}s' if budget else f'{steps}steps'}"
    done = run / "trained.json"
    if done.is_file():
        return run, json.loads(done.read_text())
    summary = train(cfg, run, progress=False, log=lambda *_: None)
    done.write_text(json.dumps(summary))
    return run, summary


def ours_decode(
    run: Path, src: list[str], beam: int, precision: str, early_stop: bool = False
) -> tuple[list[str], float]:
    t = Translator.load(run, precision=precision)
    t0 = time.perf_counter()
    hyps = t.translate(src, beam=beam, greedy=beam == 1, early_stop=early_stop)
    return hyps, time.perf_counter() - t0


# -- the comparison ------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=450, help="training seconds per system")
    ap.add_argument(
        "--onmt-tok-s",
        type=float,
        help="OpenNMT-py's measured target tokens/s (default: bench/results/compare.json)",
    )
    ap.add_argument("--precision", default="bf16", help="seq2seq's training precision")
    ap.add_argument(
        "--work",
        help="keep files and models here (default: a temporary folder); models "
        "already trained there with the same budget are reused, to re-measure decoding",
    )
    ap.add_argument("--limit", type=int, default=0, help="decode only N sentences (a smoke test)")
    args = ap.parse_args()
    tok_s = args.onmt_tok_s or next(
        r["median_tgt_tok_s"]
        for r in rows_of(json.loads((HERE / "results" / "compare.json").read_text()))
        if r.get("peer") == "OpenNMT-py" and not r["attention"]
    )
    torch.set_num_threads(2)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        subprocess.run([sys.executable, str(HERE / "peers" / "prepare.py"), str(work)], check=True)
        tok, rev = work / "tok", work / "tok_rev"
        if args.limit:
            for d in (tok, rev):
                for f in d.glob("[vt][ae][ls]*.*"):  # val.*, test_2016_flickr.*
                    f.write_text("\n".join(read(f)[: args.limit]) + "\n", encoding="utf-8")
        dev_ref, test_ref = read(tok / "val.en"), read(tok / "test_2016_flickr.en")
        tgt_per_step = 64 * (sum(len(s.split()) + 1 for s in read(tok / "train.en")) / 29000)
        steps = max(1, round(args.budget * tok_s / tgt_per_step))

        model, seconds = onmt_train(work, steps)
        for precision in ("fp32", "int8"):
            dev, _ = onmt_decode(model, rev / "val.de", 1, work / "onmt.dev", precision)
            row = {
                "system": f"OpenNMT-py 3.5.1 fp32 training, {precision} decoding",
                "decoding": precision,
                "train_steps": steps,
                "train_seconds": seconds,
                "dev_bleu_greedy": score(dev, dev_ref),
            }
            for beam in BEAMS:
                test = rev / "test_2016_flickr.de"
                hyps, sec = onmt_decode(model, test, beam, work / "onmt.test", precision)
                row[f"test_bleu_beam{beam}"] = score(hyps, test_ref)
                row[f"sent_s_beam{beam}"] = round(len(hyps) / sec, 1)
            rows.append(row)
            print(json.dumps(row), flush=True)

        src_dev, src_test = read(tok / "val.de"), read(tok / "test_2016_flickr.de")
        # equal seconds: quality after the same training time; equal steps: about the same
        # quality as OpenNMT-py, so decoding speeds compare at equal BLEU
        for what, limit in (
            ("equal seconds", {"budget": args.budget}),
            ("equal steps", {"steps": steps}),
        ):
            run, summary = ours_train(work, args.precision, **limit)
            for precision in dict.fromkeys(["fp32", args.precision, "int8"]):
                row = {
                    "system": f"seq2seq {args.precision} training ({what}), {precision} decoding",
                    "decoding": precision,
                    "train_steps": summary["steps"],
                    "train_seconds": summary["train_seconds"],
                    "dev_bleu_greedy": score(ours_decode(run, src_dev, 1, precision)[0], dev_ref),
                }
                for beam in BEAMS:
                    hyps, sec = ours_decode(run, src_test, beam, precision)
                    row[f"test_bleu_beam{beam}"] = score(hyps, test_ref)
                    row[f"sent_s_beam{beam}"] = round(len(hyps) / sec, 1)
                # OpenNMT-py's stopping rule (a sentence ends when its best hypothesis has),
                # beside ours (when it holds `beam` finished hypotheses)
                hyps, sec = ours_decode(run, src_test, BEAMS[-1], precision, early_stop=True)
                row[f"test_bleu_beam{BEAMS[-1]}_early_stop"] = score(hyps, test_ref)
                row[f"sent_s_beam{BEAMS[-1]}_early_stop"] = round(len(hyps) / sec, 1)
                rows.append(row)
                print(json.dumps(row), flush=True)

    peers = {r["decoding"]: r for r in rows if r["system"].startswith("OpenNMT")}
    print(
        f"\n{'system':62s} steps train s dev BLEU  test BLEU b1 / b5   sent/s b1 / b5"
        "   vs OpenNMT-py (same decoding precision, else fp32)"
    )
    for r in rows:
        peer = peers.get(r["decoding"], peers["fp32"])
        ratio = (
            ""
            if r is peer
            else f"   {r['sent_s_beam1'] / peer['sent_s_beam1']:.2f}x / "
            f"{r['sent_s_beam5'] / peer['sent_s_beam5']:.2f}x"
        )
        print(
            f"{r['system']:62s} {r['train_steps']:5d} {r['train_seconds']:7.0f} {r['dev_bleu_greedy']:8.2f}"
            f"  {r['test_bleu_beam1']:6.2f} / {r['test_bleu_beam5']:5.2f}"
            f"   {r['sent_s_beam1']:6.1f} / {r['sent_s_beam5']:5.1f}{ratio}"
        )
    b = BEAMS[-1]
    print(f"\nseq2seq with OpenNMT-py's stopping rule (decode.early_stop), beam {b}:")
    for r in rows:
        if f"sent_s_beam{b}_early_stop" in r:
            peer = peers.get(r["decoding"], peers["fp32"])
            print(
                f"{r['system']:62s} test BLEU {r[f'test_bleu_beam{b}_early_stop']:5.2f}   "
                f"{r[f'sent_s_beam{b}_early_stop']:6.1f} sent/s   "
                f"{r[f'sent_s_beam{b}_early_stop'] / peer[f'sent_s_beam{b}']:.2f}x"
            )
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "quality.json").write_text(
        json.dumps(results(rows, budget_s=args.budget, onmt_tok_s=tok_s), indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
