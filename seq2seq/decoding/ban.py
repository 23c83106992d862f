"""`decode.ban_unk`: search that never writes <unk>, as a model adapter over the protocol.

A summarization model whose target vocabulary is capped learns <unk> as its most frequent
output word (AESLC's subjects are full of names); banning it at decoding, as OpenNMT-py's
`-ban_unk_token` does, makes every search write words instead. The adapter keeps the
protocol, so greedy and beam search, and ensembles, take it unchanged.
"""

from __future__ import annotations

import math

import torch

from ..vocab import UNK_ID


class BanTokens:
    """`model` whose every step gives the ids in `banned` log-probability -inf."""

    def __init__(self, model, banned: tuple[int, ...] = (UNK_ID,)):
        self.model, self.banned = model, list(banned)

    def encode(self, src: torch.Tensor, src_len: torch.Tensor):
        return self.model.encode(src, src_len)

    def init_state(self, enc):
        return self.model.init_state(enc)

    def step(self, tokens: torch.Tensor, state):
        logp, state, att = self.model.step(tokens, state)  # (N, V), fresh each step
        logp[:, self.banned] = -math.inf
        return logp, state, att
