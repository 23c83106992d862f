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
