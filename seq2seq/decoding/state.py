"""Decoder state with a declared batch dimension per tensor.

Search reorders any model's state through `select` and `repeat` alone, so it never needs
to know what is inside (LSTM (h, c), attention memory, a Transformer's key/value cache).
"""

from __future__ import annotations

from dataclasses import dataclass

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
