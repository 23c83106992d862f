"""The protocol every model keeps, so every decoder, ensemble and analysis works with it.

- `forward(src, src_len, tgt_in, keep=None) -> logits (B, T, V)`: teacher forcing, whole
  sequence; with a (B, T) bool `keep`, logits (N, V) at those positions only (training
  passes the non-padding ones, so the output layer does no work on padding). A copying
  model (`models.copy`) returns the log of its distribution over V + S extended ids: logits
  whose softmax is that distribution.
- `encode(src, src_len) -> EncoderOutput`: includes the sentence vector.
- `init_state(enc) -> DecoderState`.
- `step(tokens (N,), state) -> (log_probs (N, V), state, attention (N, S) or None)`.

State is returned, never mutated inside modules. A `DecoderState` declares the batch
dimension of each tensor, so search reorders any model's state through `select` and
`repeat` alone, never knowing what is inside (LSTM (h, c), attention memory, a
Transformer's key/value cache).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch


@dataclass(frozen=True)
class DecoderState:
    tensors: dict[str, torch.Tensor]
    batch_dims: dict[str, int]

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.tensors[name]

    def replace(self, **tensors: torch.Tensor) -> DecoderState:
        return DecoderState({**self.tensors, **tensors}, self.batch_dims)

    def select(self, index: torch.Tensor) -> DecoderState:
        """Keep / reorder batch rows: row i of the result is row index[i] of this state."""
        return DecoderState(
            {k: v.index_select(self.batch_dims[k], index) for k, v in self.tensors.items()},
            self.batch_dims,
        )

    def repeat(self, k: int) -> DecoderState:
        """Each batch row repeated k times in place: rows (0,0..,0,1,1..) for a beam of k."""
        return DecoderState(
            {n: v.repeat_interleave(k, dim=self.batch_dims[n]) for n, v in self.tensors.items()},
            self.batch_dims,
        )


@dataclass(frozen=True)
class EncoderOutput:
    final: tuple[torch.Tensor, ...]  # last state of every layer: (h,) or (h, c), each (L, B, H)
    sentence_vector: torch.Tensor  # (B, D): the fixed vector the decoder starts from
    memory: torch.Tensor | None = None  # (B, S, H) per-position outputs, for attention
    src_mask: torch.Tensor | None = None  # (B, S) True at real (non-padding) positions
    parts: tuple[EncoderOutput, ...] = ()  # an ensemble's: each member's own encoding
    src_ids: torch.Tensor | None = None  # (B, S) a copying model's source ids, extended ones too


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
