"""torch's multi-layer LSTM and GRU modules with a faster forward for CPU training.

`LSTM` and `GRU` are `nn.LSTM` and `nn.GRU` (same arguments, weights and weight names); the
reference is their own `forward`, which they call unless kernels are on and they are
training on CPU. A packed LSTM (the encoder) then runs `recurrence.lstm_layer`'s written-out
cells, whose weight gradients are one product per batch: torch's packed CPU path takes each
step's in its own small product. Otherwise (a GRU, or the decoder's unpacked input), with
dropout between layers, it runs torch's fused layer one layer at a time (`torch._VF` on the
module's private `_flat_weights`), so that dropout can be `fast_dropout`'s. Gain: +3.5 %
training tokens/s layer at a time, +2-11 % written-out (bench/README.md).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from . import enabled
from .dropout import fast_dropout
from .recurrence import lstm_layer


class _LayerDropoutMixin:
    """The kernel's `forward`; everything else is the torch module's."""

    def forward(self, input: torch.Tensor | PackedSequence, hx=None):
        packed = isinstance(input, PackedSequence)
        x = input.data if packed else input
        is_lstm, dirs = isinstance(self, nn.LSTM), 2 if self.bidirectional else 1
        cpu_training = enabled() and x.device.type == "cpu" and torch.is_grad_enabled()
        written = cpu_training and is_lstm and self.bias and not self.proj_size and packed
        layered = self.training and self.dropout > 0 and self.num_layers > 1
        if not (written or (cpu_training and layered)):
            return super().forward(input, hx)  # the reference: torch's multi-layer call
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
