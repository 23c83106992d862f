"""The protocol every model keeps, so every decoder, ensemble and analysis works with it.

- `forward(src, src_len, tgt_in, keep=None) -> logits (B, T, V)`: teacher forcing, whole
  sequence; with a (B, T) bool `keep`, logits (N, V) at those positions only (training
  passes the non-padding ones, so the output layer does no work on padding).
- `encode(src, src_len) -> EncoderOutput`: includes the sentence vector.
- `init_state(enc) -> DecoderState`.
- `step(tokens (N,), state) -> (log_probs (N, V), state, attention (N, S) or None)`.

State is returned, never mutated inside modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from ..decoding.state import DecoderState


@dataclass(frozen=True)
class EncoderOutput:
    final: tuple[torch.Tensor, ...]  # last state of every layer: (h,) or (h, c), each (L, B, H)
    sentence_vector: torch.Tensor  # (B, D): the fixed vector the decoder starts from
    memory: torch.Tensor | None = None  # (B, S, H) per-position outputs, for attention
    src_mask: torch.Tensor | None = None  # (B, S) True at real (non-padding) positions


class Seq2SeqModel(Protocol):
    def forward(
        self,
        src: torch.Tensor,
        src_len: torch.Tensor,
        tgt_in: torch.Tensor,
        keep: torch.Tensor | None = None,
    ) -> torch.Tensor: ...

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> EncoderOutput: ...

    def init_state(self, enc: EncoderOutput) -> DecoderState: ...

    def step(
        self, tokens: torch.Tensor, state: DecoderState
    ) -> tuple[torch.Tensor, DecoderState, torch.Tensor | None]: ...
