"""DDP on 2 CPU processes (gloo, launched by torchrun) == one process on the joined batches."""

import os
import random
import subprocess
import sys

import torch
import yaml

from seq2seq.config import config_from_dict
from seq2seq.data import collate
from seq2seq.training.loop import Trainer


def write_corpus(path, n=48, seed=3):
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        word = "".join(rng.choice("abcdefgh") for _ in range(rng.randint(2, 7)))
        lines.append(f"{word}\t{' '.join(word.upper())}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def config(tsv):
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


def test_two_process_ddp_equals_one_process_on_joined_batches(tmp_path):
    tsv = tmp_path / "train.tsv"
    write_corpus(tsv)
    raw = config(tsv)
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--standalone",
            "-m",
            "seq2seq",
            "train",
            str(tmp_path / "cfg.yaml"),
            "--out",
            str(tmp_path / "ddp"),
            "--no-progress",
        ],
        check=False,  # a rare abort at process exit, after training saved, is a known open issue
        env=env,
        capture_output=True,
        timeout=300,
    )
    ddp = torch.load(
        tmp_path / "ddp" / "checkpoints" / "last.pt", weights_only=True
    )  # rank 0 wrote it
    assert ddp["counters"]["step"] == 5

    trainer = Trainer(
        config_from_dict(raw), tmp_path / "single", progress=False, log=lambda *a: None
    )
    batches = trainer.sampler.epoch_batches(0)  # the list both ranks split as [0::2] and [1::2]
    for i in range(5):
        joined = batches[2 * i] + batches[2 * i + 1]
        trainer.train_step(collate([trainer.train_examples[j] for j in joined]))
    single = trainer.model.state_dict()
    for name, value in ddp["model"].items():
        assert torch.allclose(value, single[name], atol=1e-6, rtol=1e-5), name
    # and the runs did move: not a comparison of two untouched initialisations
    torch.manual_seed(7)
    fresh = Trainer(
        config_from_dict(raw), tmp_path / "fresh", progress=False, log=lambda *a: None
    ).model
    assert any(not torch.allclose(v, fresh.state_dict()[k]) for k, v in single.items())
