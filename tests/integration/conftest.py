"""One tiny model trained to memorise 20 pairs, shared by the integration tests."""

from __future__ import annotations

import pytest
from helpers import make_pairs, tiny_config, write_pairs

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
