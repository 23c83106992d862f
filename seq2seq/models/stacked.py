"""A stack of recurrent layers: the fused multi-layer LSTM/GRU (`make_stack` returns torch's
module, with the CPU training kernel of `kernels.stacked`, so its weights keep torch's
names), or with residual connections one fused layer at a time with the input added to each
layer's output.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from ..kernels.dropout import Dropout
from ..kernels.stacked import GRU, LSTM


def make_stack(
    cell: str,
    input_size: int,
    hidden_size: int,
    layers: int,
    *,
    dropout: float,
    residual: bool = False,
    bidirectional: bool = False,
) -> nn.Module:
    """A module called as `(x, state) -> (outputs, final state of every layer)`."""
    if residual:
        return StackedRNN(
            cell, input_size, hidden_size, layers, dropout=dropout, bidirectional=bidirectional
        )
    rnn = LSTM if cell == "lstm" else GRU
    inner_dropout = dropout if layers > 1 else 0.0
    return rnn(
        input_size,
        hidden_size,
        layers,
        dropout=inner_dropout,
        batch_first=True,
        bidirectional=bidirectional,
    )


class StackedRNN(nn.Module):
    """Residual stack: one fused layer at a time, each layer's input added to its output."""

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        layers: int,
        *,
        dropout: float,
        bidirectional: bool = False,
    ):
        super().__init__()
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.layers, self.is_lstm, self.dirs = layers, cell == "lstm", 2 if bidirectional else 1
        out = hidden_size * self.dirs
        self.stack = nn.ModuleList(
            rnn(
                input_size if i == 0 else out,
                hidden_size,
                1,
                batch_first=True,
                bidirectional=bidirectional,
            )
            for i in range(layers)
        )
        self.dropout = Dropout(dropout)

    def forward(self, x, state=None):
        """x: (B, T, I) or a PackedSequence; state: (h, c) or h, each (layers * dirs, B, H).

        Returns the top layer's outputs (same kind as x) and the final state of every layer.
        """
        finals = []
        for i, layer in enumerate(self.stack):
            sl = slice(i * self.dirs, (i + 1) * self.dirs)
            layer_state = (
                None
                if state is None
                else ((state[0][sl], state[1][sl]) if self.is_lstm else state[sl])
            )
            out, final = layer(x, layer_state)
            if i > 0:  # residual connection around every layer but the first
                out = _add(out, x)
            if i < self.layers - 1:
                out = _map(out, self.dropout)
            finals.append(final)
            x = out
        if self.is_lstm:
            return x, (torch.cat([f[0] for f in finals]), torch.cat([f[1] for f in finals]))
        return x, torch.cat(finals)


def _map(x, fn):
    return (
        PackedSequence(fn(x.data), x.batch_sizes, x.sorted_indices, x.unsorted_indices)
        if isinstance(x, PackedSequence)
        else fn(x)
    )


def _add(a, b):
    return _map(a, lambda d: d + b.data) if isinstance(a, PackedSequence) else a + b
