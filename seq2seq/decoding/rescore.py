"""Forced-decode scores of given targets, and re-ranking of another system's n-best lists.

Scores are computed through `step`, the same function search uses, so a hypothesis's
forced score equals the score beam search gave it, and ensembles score for free.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..data.batching import inference_batches, pad
from ..errors import UserError
from ..vocab import BOS_ID, EOS_ID, PAD_ID


@torch.no_grad()
def forced_scores(
    model,
    sources: list[list[int]],
    targets: list[list[int]],
    *,
    batch_size: int = 64,
    device: str | torch.device = "cpu",
) -> list[float]:
    """log P(target + </s> | source) for each pair, in input order."""
    out = [0.0] * len(sources)
    for idx in inference_batches([len(s) for s in sources], batch_size):
        src, src_len = pad([sources[i] or [PAD_ID] for i in idx])
        tgt, _ = pad([[*targets[i], EOS_ID] for i in idx])  # (B, T)
        tgt = tgt.to(device)
        state = model.init_state(model.encode(src.to(device), src_len))
        last = torch.full((len(idx),), BOS_ID, dtype=torch.long, device=device)
        total = torch.zeros(len(idx), device=device)
        for t in range(tgt.size(1)):
            logp, state, _ = model.step(last, state)  # (B, V)
            gold = tgt[:, t]
            total += logp.gather(1, gold.unsqueeze(1)).squeeze(1).masked_fill(gold == PAD_ID, 0.0)
            last = gold
        for i, v in zip(idx, total.tolist()):
            out[i] = v
    return out


@dataclass
class NBestEntry:
    sent_id: int
    text: str
    features: str
    score: float


def read_nbest(lines: list[str], name: str) -> list[NBestEntry]:
    """Moses format: `id ||| hypothesis ||| features ||| score` (features may be empty)."""
    entries = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|||")]
        if len(parts) == 3:  # `id ||| text ||| score`, as `seq2seq translate --nbest` writes
            parts = [parts[0], parts[1], "", parts[2]]
        try:
            entries.append(NBestEntry(int(parts[0]), parts[1], parts[2], float(parts[3])))
        except (ValueError, IndexError):
            raise UserError(
                f"{name}:{n}: expected `id ||| hypothesis ||| features ||| score` "
                "(or `id ||| hypothesis ||| score`)"
            ) from None
        if not math.isfinite(entries[-1].score):
            raise UserError(f"{name}:{n}: score {parts[3]!r} is not a finite number")
    if not entries:
        raise UserError(f"{name}: the n-best list is empty")
    return entries


def rerank(entries: list[NBestEntry], model_scores: list[float], weight: float) -> dict[int, str]:
    """1-best per sentence by (1 - weight) * existing score + weight * model score.

    The paper took an even average (weight 0.5) of the LSTM's and the SMT system's scores.
    """
    best: dict[int, tuple[float, str]] = {}
    for e, m in zip(entries, model_scores):
        total = (1.0 - weight) * e.score + weight * m
        if e.sent_id not in best or total > best[e.sent_id][0]:
            best[e.sent_id] = (total, e.text)
    return {k: v[1] for k, v in best.items()}


def tune_weight(
    entries: list[NBestEntry],
    model_scores: list[float],
    objective: Callable[[dict[int, str]], float],
    grid: list[float] | None = None,
) -> tuple[float, float]:
    """The weight (from a grid) whose re-ranked 1-best maximises `objective` (e.g. dev BLEU)."""
    grid = grid or [i / 10 for i in range(11)]
    scored = [(objective(rerank(entries, model_scores, w)), w) for w in grid]
    value, weight = max(scored)
    return weight, value
