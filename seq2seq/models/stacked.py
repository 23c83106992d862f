"""A stack of recurrent layers: the fused multi-layer LSTM/GRU (`make_stack` returns the
plain torch module, so its weights keep torch's names), or with residual connections one
fused layer at a time with the input added to each layer's output.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from .dropout import Dropout, fast_dropout
from .recurrence import lstm_layer


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


class _LayerDropoutMixin:
    """torch's fused multi-layer RNN (same module, same weight names), except when training
    on CPU. A packed LSTM (the encoder) then runs `lstm_layer`'s written-out cells: torch's
    packed CPU path takes each step's weight gradients in their own small products. On the
    benchmark model (2 threads, A/B) the step is 2 % faster on Multi30k's bucketed batches
    and 11 % when source lengths vary; it also beat running unpadded batches through the
    fused layer unpacked. Unpacked input (the decoder) keeps the fused oneDNN layer, which
    beat written-out cells there. With dropout between layers the fused path runs one layer
    at a time. Both drop out with `fast_dropout`'s cheaper mask."""

    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        x = input.data if packed else input
        is_lstm, dirs = isinstance(self, nn.LSTM), 2 if self.bidirectional else 1
        cpu_training = x.device.type == "cpu" and torch.is_grad_enabled()
        written = cpu_training and is_lstm and self.bias and not self.proj_size and packed
        layered = self.training and self.dropout > 0 and self.num_layers > 1
        if not (written or (cpu_training and layered)):
            return super().forward(input, hx)
        batch = int(input.batch_sizes[0]) if packed else x.size(0 if self.batch_first else 1)
        if hx is None:
            zeros = x.new_zeros(self.num_layers * dirs, batch, self.hidden_size)
            hx = (zeros, zeros) if is_lstm else zeros
        elif packed:
            hx = self.permute_hidden(hx, input.sorted_indices)
        if written:
            x, hidden = self._written_layers(x, input.batch_sizes.tolist(), hx)
        else:
            x, hidden = self._fused_layers(x, input.batch_sizes if packed else None, hx)
        if packed:
            output = PackedSequence(
                x, input.batch_sizes, input.sorted_indices, input.unsorted_indices
            )
            return output, self.permute_hidden(hidden, input.unsorted_indices)
        return x, hidden

    def _written_layers(self, x, sizes: list[int], hx):
        dirs, p = 2 if self.bidirectional else 1, self.dropout if self.training else 0.0
        per_layer = len(self._flat_weights) // (self.num_layers * dirs)
        hs, cs = [], []
        for i in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = i * dirs + d
                weights = self._flat_weights[k * per_layer : (k + 1) * per_layer]
                out, (h, c) = lstm_layer(x, sizes, hx[0][k], hx[1][k], weights, reverse=d == 1)
                outs.append(out)
                hs.append(h)
                cs.append(c.to(hx[1].dtype))
            x = torch.cat(outs, -1) if dirs == 2 else outs[0]
            if i < self.num_layers - 1:
                x = fast_dropout(x, p)
        return x, (torch.stack(hs), torch.stack(cs))

    def _fused_layers(self, x, batch_sizes, hx):
        is_lstm, dirs = isinstance(self, nn.LSTM), 2 if self.bidirectional else 1
        per_layer = len(self._flat_weights) // self.num_layers
        vf = torch._VF.lstm if is_lstm else torch._VF.gru
        finals = []
        for i in range(self.num_layers):
            sl = slice(i * dirs, (i + 1) * dirs)
            h = (hx[0][sl], hx[1][sl]) if is_lstm else hx[sl]
            weights = self._flat_weights[i * per_layer : (i + 1) * per_layer]
            args = (weights, self.bias, 1, 0.0, True, self.bidirectional)
            out = (
                vf(x, batch_sizes, h, *args)
                if batch_sizes is not None
                else vf(x, h, *args, self.batch_first)
            )
            x, finals = out[0], finals + [out[1:]]
            if i < self.num_layers - 1:
                x = fast_dropout(x, self.dropout)
        hidden = (
            (torch.cat([f[0] for f in finals]), torch.cat([f[1] for f in finals]))
            if is_lstm
            else torch.cat([f[0] for f in finals])
        )
        return x, hidden


class LSTM(_LayerDropoutMixin, nn.LSTM):
    pass


class GRU(_LayerDropoutMixin, nn.GRU):
    pass


def _map(x, fn):
    return (
        PackedSequence(fn(x.data), x.batch_sizes, x.sorted_indices, x.unsorted_indices)
        if isinstance(x, PackedSequence)
        else fn(x)
    )


def _add(a, b):
    return _map(a, lambda d: d + b.data) if isinstance(a, PackedSequence) else a + b
