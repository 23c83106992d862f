"""Deterministic train/dev/test splits grouped by source (all references of a word together)."""

from __future__ import annotations

import random
from collections import defaultdict


def group_split(
    pairs: list[tuple[str, str]], *, dev: float, test: float, seed: int
) -> tuple[list, list, list]:
    """Split so that every source lands on one side only; order within each side is kept."""
    sources = sorted({s for s, _ in pairs})
    random.Random(seed).shuffle(sources)
    n_dev, n_test = round(len(sources) * dev), round(len(sources) * test)
    side = {s: "dev" for s in sources[:n_dev]}
    side.update({s: "test" for s in sources[n_dev : n_dev + n_test]})
    out = defaultdict(list)
    for pair in pairs:
        out[side.get(pair[0], "train")].append(pair)
    return out["train"], out["dev"], out["test"]


def references(pairs: list[tuple[str, str]]) -> tuple[list[str], list[list[str]]]:
    """Unique sources in first-seen order, and each one's list of targets (its references)."""
    refs: dict[str, list[str]] = {}
    for s, t in pairs:
        refs.setdefault(s, []).append(t)
    return list(refs), list(refs.values())
