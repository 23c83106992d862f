"""Constrained decoding: a sentence's exact output length, and tokens forced at given positions.

A general feature of the search, for every model: greedy, beam and sampling search mask each
step's log-probabilities (what `step` returns) before they choose, so no model knows about
it. The allowed tokens keep the model's own log-probabilities (nothing is renormalised), so
a constrained hypothesis's score is still its forced-decode score.

- `length`: exactly this many tokens before </s> (</s> is refused until then, and is the
  only choice there). It replaces the `max_len_a`/`max_len_b` cap for that sentence.
- `forced`: (position, token) pairs; at that position only that token may come.
- `reserved`: tokens that may come only where forced (a couplet's punctuation: where the
  first line has `，` the second has it too, and nowhere else).

`source_constraints` builds them from the config (`decode.length: source`,
`decode.copy_tokens`), each sentence's from its source tokens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..config import DecodeConfig
from ..errors import InputValueError
from ..vocab import EOS_ID, PAD_ID


@dataclass(frozen=True)
class Constraints:
    """What one sentence's output must be; the default constrains nothing."""

    length: int | None = None  # tokens before </s>
    forced: tuple[tuple[int, int], ...] = ()  # (position, token id)
    reserved: frozenset[int] = frozenset()  # token ids allowed only where forced

    def holds(self, tokens: Sequence[int]) -> bool:
        """Whether an output (without </s>) keeps these constraints."""
        if self.length is not None and len(tokens) != self.length:
            return False
        forced = dict(self.forced)
        for i, tok in enumerate(tokens):
            if forced.get(i, tok) != tok or (tok in self.reserved and i not in forced):
                return False
        return all(p >= len(tokens) or tokens[p] == tok for p, tok in self.forced)


class ConstraintMask:
    """A batch's constraints as tensors; `apply_` masks one step's log-probabilities in place.

    Rows of the step are mapped to their sentence by `sentence` (the original index of each
    row: the search's active sentences, repeated per beam)."""

    def __init__(self, constraints: Sequence[Constraints | None], device: torch.device):
        cs = [c or Constraints() for c in constraints]
        B = len(cs)
        self.lengths = [c.length for c in cs]
        self.length = torch.tensor([-1 if n is None else n for n in self.lengths], device=device)
        T = max((p + 1 for c in cs for p, _ in c.forced), default=0)
        forced = torch.full((B, T), -1, dtype=torch.long)  # (B, T): -1 = free
        for i, c in enumerate(cs):
            for p, tok in c.forced:
                forced[i, p] = tok
        self.forced = forced.to(device) if T else None
        R = max((len(c.reserved) for c in cs), default=0)
        reserved = torch.full((B, R), PAD_ID, dtype=torch.long)  # (B, R): <pad> is never output
        for i, c in enumerate(cs):
            reserved[i, : len(c.reserved)] = torch.tensor(sorted(c.reserved), dtype=torch.long)
        self.reserved = reserved.to(device) if R else None

    def caps(self, caps: list[int]) -> list[int]:
        """Each sentence's cap on its length: its constrained length where it has one."""
        return [c if n is None else n for c, n in zip(caps, self.lengths)]

    def apply_(self, logp: torch.Tensor, t: int, sentence: torch.Tensor) -> torch.Tensor:
        """Mask position t's log-probabilities `logp` (n, V), row r of sentence[r], in place."""
        length = self.length[sentence]  # (n,)
        forced = None
        if self.forced is not None and t < self.forced.size(1):
            forced = self.forced[sentence, t]  # (n,)
            forced = forced.masked_fill((length >= 0) & (length <= t), -1)  # past the end
            keep = logp.gather(1, forced.clamp(min=0).unsqueeze(1))  # (n, 1) before masking
        if self.reserved is not None:
            logp.scatter_(1, self.reserved[sentence], -math.inf)
        if forced is not None and bool((forced >= 0).any()):
            rows = (forced >= 0).nonzero().squeeze(1)
            logp[rows] = -math.inf
            logp[rows, forced[rows]] = keep[rows, 0]
        short = (length > t).nonzero().squeeze(1)  # </s> would end them early
        if short.numel():
            logp[short, EOS_ID] = -math.inf
        return logp


def build_mask(constraints, device) -> ConstraintMask | None:
    """None (no masking at all) when there are no constraints."""
    return None if constraints is None else ConstraintMask(constraints, device)


def source_constraints(
    cfg: DecodeConfig, processor, sources: Sequence[Sequence[int]]
) -> list[Constraints] | None:
    """Each source's constraints from `decode.length` and `decode.copy_tokens` (None if
    neither is set). `sources` are the encoder's ids (reversed when the model reverses its
    source); positions count the source tokens as written. `length: source` asks for as many
    target tokens as the source has: meaningful when both sides use one tokenizer, as
    character-level couplets and poems do."""
    if cfg.length == "free" and not cfg.copy_tokens:
        return None
    tgt = processor.tgt_vocab.stoi
    missing = [t for t in cfg.copy_tokens if t not in tgt]
    if missing:
        raise InputValueError(
            f"decode.copy_tokens: {', '.join(map(repr, missing))} not in the model's target "
            "vocabulary; give tokens the model can write (one token each, e.g. '，')"
        )
    copy = set(cfg.copy_tokens)
    reserved = frozenset(tgt[t] for t in copy)
    itos = processor.src_vocab.itos
    out = []
    for ids in sources:
        toks = [itos[i] for i in (reversed(ids) if processor.cfg.reverse_source else ids)]
        forced = tuple((p, tgt[tok]) for p, tok in enumerate(toks) if tok in copy)
        length = len(toks) if cfg.length == "source" else None
        out.append(Constraints(length, forced, reserved))
    return out
