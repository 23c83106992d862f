"""A tiny model memorises 20 (source, target) pairs exactly, and its run directory holds
everything needed to use it again."""

from __future__ import annotations

import json

import torch

import seq2seq
from seq2seq import Translator


def test_tiny_model_memorises_twenty_pairs(memorised):
    run_dir, pairs, summary = memorised
    assert summary["steps"] == 150
    translator = Translator.load(run_dir, device="cpu")
    sources = [s for s, _ in pairs]
    assert translator.translate(sources, greedy=True) == [t for _, t in pairs]
    assert translator.translate(sources, beam=3) == [t for _, t in pairs]


def test_run_directory_contents(memorised):
    run_dir, _, summary = memorised
    assert (run_dir / "config.yaml").is_file()
    for name in ("best.pt", "last.pt"):
        ckpt = torch.load(run_dir / "checkpoints" / name, weights_only=True)
        assert {"config", "processor", "model"} <= ckpt.keys()
    last = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert last["counters"]["step"] == 150
    best = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=True)
    assert "optimizer" not in best and "optimizer" in last  # best: a model; last: a resume
    entries = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [e["step"] for e in entries] == [50, 100, 150]
    assert entries[-1]["dev_wer"] == 0.0
    assert entries[-1]["dev_loss"] < entries[0]["dev_loss"]
    assert summary["best_dev_wer"] == 0.0


def test_translation_scores_and_nbest(memorised):
    run_dir, pairs, _ = memorised
    model = seq2seq.load(run_dir, device="cpu")
    (nbest,) = model.translate_nbest([pairs[0][0]], beam=3, nbest=3)
    assert len(nbest) == 3
    assert nbest[0].text == pairs[0][1]
    assert nbest[0].tokens == list(pairs[0][1])
    assert [t.norm_score for t in nbest] == sorted((t.norm_score for t in nbest), reverse=True)
    assert all(t.score < 0 for t in nbest)
    assert model.translate([""]) == [""]


def test_evaluate_on_the_training_pairs(memorised):
    run_dir, pairs, _ = memorised
    model = Translator.load(run_dir, device="cpu")
    scores, hyps = model.evaluate(pairs + [(pairs[0][0], "ALTERNATIVE")], "wer")
    assert scores == {"wer": 0.0, "per": 0.0}
    assert len(hyps) == len(pairs)
