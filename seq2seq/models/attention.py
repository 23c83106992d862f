"""Attention over the encoder's outputs: Bahdanau (additive) and Luong (dot, general).

`keys(memory)` is computed once per sentence (it lives in the decoder state), and
`forward` scores any number of queries at once, so the same module serves the fused
training path (all target positions) and single decoding steps.
"""

from __future__ import annotations

import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self, kind: str, query_size: int, memory_size: int):
        super().__init__()
        self.kind = kind
        if kind == "bahdanau":
            self.w_memory = nn.Linear(memory_size, query_size, bias=False)
            self.w_query = nn.Linear(query_size, query_size)
            self.v = nn.Linear(query_size, 1, bias=False)
        elif kind == "general":
            self.w_memory = nn.Linear(memory_size, query_size, bias=False)
        elif kind == "dot":
            if memory_size != query_size:
                raise ValueError("dot attention needs memory size == decoder hidden size")
        else:
            raise ValueError(f"unknown attention {kind!r}")

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        """(B, S, Hm) -> (B, S, Hq): the query-independent part of the scores."""
        return memory if self.kind == "dot" else self.w_memory(memory)

    def forward(
        self, query: torch.Tensor, keys: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor
    ):
        """query (B, T, Hq), keys (B, S, Hq), memory (B, S, Hm), mask (B, S) True = real.

        Returns context (B, T, Hm) and weights (B, T, S), zero on padding, rows summing to 1.
        """
        if self.kind == "bahdanau":
            hidden = torch.tanh(
                keys.unsqueeze(1) + self.w_query(query).unsqueeze(2)
            )  # (B, T, S, Hq)
            scores = self.v(hidden).squeeze(-1)  # (B, T, S)
        else:
            scores = torch.bmm(query, keys.transpose(1, 2))  # (B, T, S)
        scores = scores.float().masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        context = torch.bmm(weights.to(memory.dtype), memory)  # (B, T, Hm)
        return context, weights
