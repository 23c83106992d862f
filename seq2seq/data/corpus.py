"""Config -> text splits: read files or a built-in dataset, derive dev/test if asked.

Derived splits are written to the run directory as train.tsv / dev.tsv / test.tsv so a
run can always be re-scored on exactly the data it held out.
"""

from __future__ import annotations

from pathlib import Path

from ..config import DataConfig, SplitConfig
from . import cmudict
from .io import read_parallel, read_tsv, write_tsv
from .splits import group_split

Pairs = list[tuple[str, str]]


def read_split(split: SplitConfig) -> Pairs:
    return read_tsv(split.tsv) if split.tsv else read_parallel(split.src, split.tgt)


def load_splits(cfg: DataConfig) -> dict[str, Pairs]:
    """{'train': pairs, 'dev': pairs, 'test': pairs}; dev/test may be empty."""
    if cfg.dataset == "cmudict":
        train = cmudict.load(cfg.cmudict.path, strip_stress=cfg.cmudict.strip_stress)
    else:
        train = read_split(cfg.train)
    dev = read_split(cfg.dev) if cfg.dev else []
    test = read_split(cfg.test) if cfg.test else []
    if cfg.dev_fraction > 0 or cfg.test_fraction > 0:
        train, dev_part, test_part = group_split(
            train, dev=cfg.dev_fraction, test=cfg.test_fraction, seed=cfg.split_seed
        )
        dev, test = dev or dev_part, test or test_part
    return {"train": train, "dev": dev, "test": test}


def save_derived_splits(cfg: DataConfig, splits: dict[str, Pairs], run_dir: str | Path) -> None:
    """Write the splits as train.tsv / dev.tsv / test.tsv in the run when they were derived
    (held out by a fraction, or from a built-in dataset), so the run keeps its data."""
    if cfg.dev_fraction > 0 or cfg.test_fraction > 0 or cfg.dataset != "files":
        for name, pairs in splits.items():
            if pairs:
                write_tsv(Path(run_dir) / f"{name}.tsv", pairs)
