"""Training loop behaviour on tiny runs: when validation happens, early stopping, config
checks on resume, derived splits for a CMUdict-style dataset."""

from __future__ import annotations

import json
import random

import pytest
import torch
from helpers import make_pairs, tiny_config, tiny_config_dict, write_pairs

from seq2seq.config import config_from_dict
from seq2seq.data.io import read_tsv
from seq2seq.errors import UserError
from seq2seq.training import train
from seq2seq.training.loop import Trainer


def quiet(msg):
    pass


def _steps(run_dir):
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [json.loads(x)["step"] for x in lines]


@pytest.fixture(scope="module")
def tsv(tmp_path_factory):
    return write_pairs(tmp_path_factory.mktemp("data") / "train.tsv", make_pairs(20, seed=2))


@pytest.mark.parametrize(
    ("valid_every", "expected"),
    [(4, [4, 8, 10]), (0, [3, 6, 9, 10])],  # 3 batches per epoch (7, 7, 6)
)
def test_validation_schedule(tsv, tmp_path, valid_every, expected):
    cfg = tiny_config(
        tsv, tsv, train={"batch_size": 7, "max_steps": 10, "valid_every": valid_every}
    )
    summary = train(cfg, tmp_path / "run", progress=False, log=quiet)
    assert summary["steps"] == 10
    assert _steps(tmp_path / "run") == expected


def test_early_stopping_after_patience_validations_without_improvement(tsv, tmp_path, monkeypatch):
    monkeypatch.setattr(Trainer, "dev_loss", lambda self: (10.0, 10))  # never improves
    cfg = tiny_config(
        tsv,
        tsv,
        train={"max_steps": 100, "valid_every": 2, "patience": 2, "metric": "loss"},
    )
    summary = train(cfg, tmp_path / "run", progress=False, log=quiet)
    assert summary["steps"] == 6  # best at 2, misses at 4 and 6
    assert _steps(tmp_path / "run") == [2, 4, 6]
    assert summary["best_dev_loss"] == pytest.approx(1.0)


def test_resume_refuses_a_different_model_config(tsv, tmp_path):
    run = tmp_path / "run"
    train(tiny_config(tsv, train={"max_steps": 2}), run, progress=False, log=quiet)
    other = tiny_config(tsv, model={"hidden_size": 48}, train={"max_steps": 4})
    with pytest.raises(UserError) as e:
        train(other, run, progress=False, log=quiet)
    assert str(run / "checkpoints" / "last.pt") in str(e.value)
    assert "model.hidden_size = 64, not 48" in str(e.value)
    # a changed `train` section (more steps) is fine: that is how a run is extended
    more = tiny_config(tsv, train={"max_steps": 4})
    assert train(more, run, progress=False, log=quiet)["steps"] == 4


def test_every_pair_too_long_is_a_user_error(tsv, tmp_path):
    cfg = tiny_config(tsv, data={"max_src_len": 2})
    with pytest.raises(UserError, match="no training pairs left"):
        train(cfg, tmp_path / "run", progress=False, log=quiet)


def test_cmudict_dataset_with_derived_splits(tmp_path):
    rng = random.Random(0)
    lines = ["# generated entries"]
    for i in range(40):
        word = "".join(rng.choice("abcdef") for _ in range(rng.randint(2, 5))) + str(i % 10)
        phones = " ".join(c.upper() + "H1" for c in word if c.isalpha())
        lines.append(f"{word} {phones}")
        if i % 4 == 0:
            lines.append(f"{word}(2) {phones} Z0")
    dict_path = tmp_path / "mini.dict"
    dict_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = tiny_config(
        "unused.tsv",
        data={
            "dataset": "cmudict",
            "cmudict": {"path": str(dict_path), "strip_stress": True},
            "dev_fraction": 0.2,
            "test_fraction": 0.2,
            "tgt_tokenizer": {"kind": "word"},
        },
        train={"max_steps": 3},
    )
    run = tmp_path / "run"
    train(cfg, run, progress=False, log=quiet)
    parts = {name: read_tsv(run / f"{name}.tsv") for name in ("train", "dev", "test")}
    words = {name: {w for w, _ in pairs} for name, pairs in parts.items()}
    assert not (words["train"] & words["dev"] or words["train"] & words["test"])
    assert not words["dev"] & words["test"]
    assert sum(len(p) for p in parts.values()) == 40 + 10
    assert all(not any(ch.isdigit() for ch in p) for pairs in parts.values() for _, p in pairs)


def test_init_from_starts_with_the_checkpoint_weights_and_a_fresh_optimizer(tsv, tmp_path):
    base = tmp_path / "base"
    train(tiny_config(tsv, train={"max_steps": 3}), base, progress=False, log=quiet)
    cfg = tiny_config(
        tsv, model={"dropout": 0.2}, train={"max_steps": 2, "init_from": str(base), "lr": 0.1}
    )
    tuned = Trainer(cfg, tmp_path / "tuned", log=quiet)
    start = torch.load(base / "checkpoints" / "best.pt", weights_only=True)["model"]
    for k, v in tuned.model.state_dict().items():
        assert torch.equal(v, start[k]), k
    assert tuned.counters["step"] == 0 and not tuned.optimizer.state


def test_init_from_refuses_a_different_model_shape(tsv, tmp_path):
    base = tmp_path / "base"
    train(tiny_config(tsv, train={"max_steps": 1}), base, progress=False, log=quiet)
    cfg = tiny_config(tsv, model={"hidden_size": 48}, train={"init_from": str(base)})
    with pytest.raises(UserError, match=r"model\.hidden_size"):
        Trainer(cfg, tmp_path / "tuned", log=quiet)


def test_dropped_training_pairs_are_counted_in_one_log_line(tmp_path):
    pairs = make_pairs(20, seed=2)
    extra = [("", ""), ("abc", ""), ("", "XYZ"), ("a" * 30, "Q")]  # Q only in an over-long pair
    (tmp_path / "train.src").write_text("".join(f"{s}\n" for s, _ in pairs + extra))
    (tmp_path / "train.tgt").write_text("".join(f"{t}\n" for _, t in pairs + extra))
    raw = tiny_config_dict("unused", data={"max_src_len": 20}, train={"max_steps": 1})
    raw["data"]["train"] = {"src": str(tmp_path / "train.src"), "tgt": str(tmp_path / "train.tgt")}
    logs = []
    run = tmp_path / "run"
    train(config_from_dict(raw), run, progress=False, log=logs.append)
    (line,) = [m for m in logs if m.startswith("dropped")]
    assert line == (
        "dropped 4 of 24 training pairs: 1 blank, 2 with one side empty, 1 longer than "
        "data.max_src_len 20 / max_tgt_len 100 tokens; training uses the 20 kept, and the "
        "vocabularies are counted on them"
    )
    vocab = torch.load(run / "checkpoints" / "last.pt", weights_only=True)["processor"]
    assert "Q" not in vocab["tgt_vocab"]
