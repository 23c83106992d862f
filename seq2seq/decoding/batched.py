"""Decode many sources: sort by length, cut into batches, search, restore the order."""

from __future__ import annotations

import torch

from ..config import DecodeConfig
from ..data.batching import inference_batches, pad
from .ban import BanTokens
from .constraints import Constraints
from .sampling import make_generator, sample_search
from .search import Hypothesis, beam_search, greedy_search


def decode_all(
    model,
    sources: list[list[int]],
    cfg: DecodeConfig,
    *,
    device: torch.device | str = "cpu",
    greedy: bool = False,
    sample: bool = False,
    constraints: list[Constraints] | None = None,
    progress=None,
) -> list[list[Hypothesis]]:
    """n-best lists for id sequences, in input order; `greedy` uses greedy search and
    `sample` sampling (1-best; seeded by `cfg.seed` once per call); `constraints`: one per
    source (`constraints.source_constraints`), or None; with `cfg.ban_unk` no hypothesis
    holds <unk>."""
    model = BanTokens(model) if cfg.ban_unk else model
    results: list[list[Hypothesis]] = [[] for _ in sources]
    todo = [i for i, s in enumerate(sources) if s]
    generator = make_generator(cfg.seed, device) if sample else None
    for idx in inference_batches([len(sources[i]) for i in todo], cfg.batch_size):
        ids = [todo[i] for i in idx]
        src, src_len = pad([sources[i] for i in ids])
        src = src.to(device)
        kw = {"max_len_a": cfg.max_len_a, "max_len_b": cfg.max_len_b}
        kw["constraints"] = None if constraints is None else [constraints[i] for i in ids]
        if sample:
            spec = {"top_k": cfg.top_k, "top_p": cfg.top_p, "temperature": cfg.temperature}
            out = [
                [h] for h in sample_search(model, src, src_len, generator=generator, **spec, **kw)
            ]
        elif greedy:
            out = [[h] for h in greedy_search(model, src, src_len, **kw)]
        else:
            out = beam_search(
                model,
                src,
                src_len,
                beam=cfg.beam,
                nbest=cfg.nbest,
                length_penalty=cfg.length_penalty,
                early_stop=cfg.early_stop,
                **kw,
            )
        for i, hyps in zip(ids, out):
            results[i] = hyps
        if progress is not None:
            progress.update(len(ids))
    for i, s in enumerate(sources):
        if not s:  # an empty source gets an empty translation
            results[i] = [Hypothesis([], 0.0, 0.0)]
    return results
