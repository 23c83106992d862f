"""The models the paper's tables need: the presets, the grid (source order x seed x depth), each
model's training config, and training the grid several models at a time."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from ...config import config_from_dict
from ...errors import UserError
from ...training import train

PRESETS = {
    # a 2-core CPU: a few hours for the grid, in resumable sittings (times: docs/results.md).
    # 24 epochs: the reversed model's dev BLEU was 18.2 after 12 and still rising; it levels
    # off near 22 after ~20 (dev perplexity bottoms out at epoch 16)
    "cpu": {
        "layers": 2,
        "emb": 256,
        "hidden": 512,
        "spm": 8000,
        "epochs": 24,
        "batch_tokens": 2000,
        "optimizer": "adam",
        "lr": 0.001,
        "schedule": "plateau",
        "depths": (1, 2, 4),
        "max_train": 0,
    },
    # the paper's size: 4 x 1000, embeddings 1000, SGD 0.7 halved every half epoch after 5, 7.5 epochs
    "paper": {
        "layers": 4,
        "emb": 1000,
        "hidden": 1000,
        "spm": 16000,
        "epochs": 7.5,
        "batch_tokens": 6000,
        "optimizer": "sgd",
        "lr": 0.7,
        "schedule": "halving",
        "depths": (1, 2, 4),
        "max_train": 0,
    },
    # a smoke test of the whole pipeline in about a minute
    "tiny": {
        "layers": 1,
        "emb": 16,
        "hidden": 32,
        "spm": 120,
        "epochs": 1,
        "batch_tokens": 600,
        "optimizer": "adam",
        "lr": 0.01,
        "schedule": "constant",
        "depths": (1, 2),
        "max_train": 0,
    },
}
SEEDS = (1, 2, 3, 4, 5)


def models(p: dict) -> list[tuple[str, dict]]:
    """The grid's models: 5 reversed seeds, 2 forward seeds, the other depths."""
    L = p["layers"]
    return [
        *[(f"rev-s{s}", {"reverse": True, "layers": L, "seed": s}) for s in SEEDS],
        *[(f"fwd-s{s}", {"reverse": False, "layers": L, "seed": s}) for s in SEEDS[:2]],
        *[(f"rev-L{d}", {"reverse": True, "layers": d, "seed": 1}) for d in p["depths"] if d != L],
    ]


def model_config(
    p: dict, files: dict[str, tuple[str, str]], *, reverse: bool, layers: int, seed: int
) -> dict:
    """One model's training config under preset `p`, as a dict (the YAML a user would write)."""
    spm = {"kind": "spm", "spm_vocab_size": p["spm"]}
    split = lambda name: {"src": files[name][0], "tgt": files[name][1]}  # noqa: E731
    return {
        "data": {
            "train": split("train"),
            "dev": split("dev"),
            "test": split("test"),
            "src_tokenizer": spm,
            "tgt_tokenizer": spm,
            "reverse_source": reverse,
        },
        "model": {
            "layers": layers,
            "emb_size": p["emb"],
            "hidden_size": p["hidden"],
            "dropout": 0.2,
        },
        "train": {
            "optimizer": p["optimizer"],
            "lr": p["lr"],
            "schedule": p["schedule"],
            "batch_tokens": p["batch_tokens"],
            "epochs": p["epochs"],
            "metric": "bleu",
            "valid_max_sentences": 500,
            "seed": seed,
        },
        "decode": {"beam": 12, "max_len_a": 1.5, "max_len_b": 10},
    }


def train_parallel(
    grid: list[tuple[str, dict]],
    config_of: Callable[..., dict],
    work: Path,
    jobs: int,
    *,
    tick: Callable[[], None],
) -> None:
    """Train the grid's models `jobs` at a time, each in a process of its own with an equal
    share of the cores (on 2 cores, two 1-thread runs out-train one 2-thread run: see
    docs/results.md). The deepest models start first, so that the longest run does not
    train alone at the end with the other cores idle. Ctrl-C (or SIGINT to this process)
    stops every run after its current step, with last.pt saved, as a single run stops.
    `config_of(**kw)` builds a model's config; `tick()` runs at least once a minute."""
    threads = max(1, (os.cpu_count() or 1) // jobs)
    todo = sorted(grid, key=lambda model: -model[1]["layers"])  # stable
    ctx = multiprocessing.get_context("spawn")
    running: dict[int, tuple[str, multiprocessing.Process]] = {}
    bar = tqdm(total=len(todo), unit="model", desc=f"grid, {jobs} at a time", mininterval=1.0)
    try:
        while todo or running:
            while todo and len(running) < jobs:
                name, kw = todo.pop(0)
                cfg = config_of(**kw)
                cfg["train"]["threads"] = threads
                proc = ctx.Process(target=_train_one, args=(cfg, str(work / name), name))
                proc.start()
                running[proc.sentinel] = (name, proc)
            done = multiprocessing.connection.wait(list(running), timeout=60)
            tick()
            for sentinel in done:
                name, proc = running.pop(sentinel)
                proc.join()
                if proc.exitcode:
                    raise UserError(
                        f"{work / name}: training stopped (exit code {proc.exitcode}, "
                        "its log is above); run the same command to resume"
                    )
                bar.update(1)
    except BaseException:
        # let each run finish its step and save last.pt: SIGTERM, which the trainer handles
        # as Ctrl-C, and which ends a worker still starting up quietly (a SIGINT there is a
        # KeyboardInterrupt traceback from the middle of its imports)
        for _, proc in running.values():
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGTERM)
        for _, proc in running.values():
            proc.join()
        raise
    finally:
        bar.close()


def _train_one(cfg: dict, out: str, name: str) -> None:
    """A worker process of `train_parallel`: one model, its log lines prefixed with its name."""
    from ...training.loop import Interrupted

    # a process group of its own: a terminal's Ctrl-C reaches only the parent, which passes it
    # on once (a second SIGINT would make the trainer abort without saving)
    if hasattr(os, "setpgrp"):  # POSIX
        os.setpgrp()
    try:
        train(
            config_from_dict(cfg, source=name),
            Path(out),
            progress=False,
            log=lambda msg: print(f"[{name}] {msg}", flush=True),
        )
    except UserError as e:  # one line, as the command line gives it, not a traceback
        print(f"[{name}] error: {e}", file=sys.stderr, flush=True)
        sys.exit(2)
    except (Interrupted, KeyboardInterrupt) as e:
        print(f"[{name}] {str(e) or 'interrupted'}", file=sys.stderr, flush=True)
        sys.exit(130)
