"""Tiny trained runs shared by the integration tests: a model that memorises 20 pairs, a
G2P-like attention model, and a speech model trained a few steps on generated tones."""

from __future__ import annotations

import pytest
from helpers import make_pairs, speech_config, speech_corpus, tiny_config, write_pairs

from seq2seq.training import train

MEMORISE_STEPS = 150  # every seed we tried memorises all 20 pairs by step 60


@pytest.fixture(scope="session")
def memorised(tmp_path_factory):
    """(run_dir, pairs, summary) of a tiny char LSTM trained on 20 generated pairs.

    Session-scoped (one training for the whole suite); tests must not write into run_dir.
    """
    root = tmp_path_factory.mktemp("memorise")
    pairs = make_pairs(20, seed=1)
    tsv = write_pairs(root / "train.tsv", pairs)
    cfg = tiny_config(
        tsv,
        dev_tsv=tsv,
        train={"max_steps": MEMORISE_STEPS, "valid_every": 50, "lr": 0.02},
    )
    summary = train(cfg, root / "run", progress=False, log=lambda msg: None)
    return root / "run", pairs, summary


@pytest.fixture(scope="session")
def g2p_attention(tmp_path_factory):
    """(run_dir, pairs) of a tiny G2P-like attention model: letters -> space-separated
    upper-case letters, reversed (char source, word target), trained to memorise 20 pairs."""
    root = tmp_path_factory.mktemp("g2p")
    pairs = [(s, " ".join(t)) for s, t in make_pairs(20, seed=1)]
    tsv = write_pairs(root / "train.tsv", pairs)
    cfg = tiny_config(
        tsv,
        dev_tsv=tsv,
        data={"tgt_tokenizer": {"kind": "word"}},
        model={"attention": "general"},
        train={"max_steps": MEMORISE_STEPS, "valid_every": 50, "lr": 0.02},
    )
    train(cfg, root / "run", progress=False, log=lambda msg: None)
    return root / "run", pairs


SPEECH_STEPS = 7  # enough for transcripts that differ by input and are not empty


@pytest.fixture(scope="session")
def speech_run(tmp_path_factory):
    """(run_dir, corpus) of a tiny joint CTC/attention speech model trained SPEECH_STEPS
    steps on `speech_corpus` (corpus/wav/u{i}.wav: tones for SPEECH_TEXTS). Its transcripts
    are wrong but not empty; tests compare them with the Transcriber's, not with the texts."""
    for package in ("soundfile", "soxr", "jiwer"):
        pytest.importorskip(package, reason="the speech extra is not installed")
    corpus = speech_corpus(tmp_path_factory.mktemp("speech-corpus"))
    run = tmp_path_factory.mktemp("speech") / "run"
    train(speech_config(corpus, SPEECH_STEPS), run, progress=False, log=lambda msg: None)
    return run, corpus
