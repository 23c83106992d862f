"""The RNN stack's training paths (an LSTM's written-out cells, a GRU's layer-at-a-time
fused calls, both with cheaper dropout between layers) compute what torch's own multi-layer
call computes, values and gradients, for LSTM and GRU, packed or not."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seq2seq.models import stacked


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("packed", [False, True])
def test_layer_at_a_time_equals_the_fused_call(monkeypatch, cell, bidirectional, packed):
    torch.manual_seed(0)
    fast = stacked.make_stack(cell, 6, 5, 3, dropout=0.4, bidirectional=bidirectional)
    ref = (nn.LSTM if cell == "lstm" else nn.GRU)(
        6, 5, 3, batch_first=True, bidirectional=bidirectional
    )
    ref.load_state_dict(fast.state_dict())  # same weight names
    monkeypatch.setattr(stacked, "fast_dropout", lambda x, p: x)  # the recurrences alone
    x = torch.randn(4, 7, 6, requires_grad=True)
    lengths = torch.tensor([7, 3, 5, 1])
    dirs = 2 if bidirectional else 1
    h0 = torch.randn(3 * dirs, 4, 5)
    hx = (h0, torch.randn_like(h0)) if cell == "lstm" else h0
    outs = []
    for module in (fast.train(), ref.train()):
        inp = (
            pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            if packed
            else x
        )
        out, hidden = module(inp, hx)
        out = pad_packed_sequence(out, batch_first=True)[0] if packed else out
        hidden = hidden if cell == "lstm" else (hidden,)
        loss = out.square().sum() + sum((h * torch.arange(5)).sum() for h in hidden)
        grads = torch.autograd.grad(loss, [x, *module.parameters()])
        outs.append((out, hidden, grads))
    (o1, h1, g1), (o2, h2, g2) = outs
    assert torch.allclose(o1, o2, atol=1e-6)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(h1, h2))
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(g1, g2))


def test_dropout_between_layers_is_applied_in_training_only():
    torch.manual_seed(1)
    rnn = stacked.make_stack("lstm", 6, 5, 2, dropout=0.5)
    x = torch.randn(3, 4, 6)
    train_a, train_b = rnn.train()(x)[0], rnn(x)[0]
    assert not torch.allclose(train_a, train_b)  # a new mask each call
    rnn.eval()
    assert torch.equal(rnn(x)[0], rnn(x)[0])
