"""The RNN stack's CPU training kernel (an LSTM's written-out cells, a GRU's layer-at-a-time
fused calls, both with cheaper dropout between layers) computes what its reference, torch's
own multi-layer call, computes: values and gradients, for LSTM and GRU, packed or not."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seq2seq import kernels
from seq2seq.kernels import stacked
from seq2seq.models.stacked import make_stack

pytestmark = pytest.mark.usefixtures("kernels_on")

LENGTHS = torch.tensor([7, 3, 5, 1])


def run(module, x, hx, packed, cell):
    """Outputs, final states and the gradients of a loss over both, for x and the weights."""
    inp = pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False) if packed else x
    out, hidden = module(inp, hx)
    out = pad_packed_sequence(out, batch_first=True)[0] if packed else out
    hidden = hidden if cell == "lstm" else (hidden,)
    loss = out.square().sum() + sum((h * torch.arange(5)).sum() for h in hidden)
    return out, hidden, torch.autograd.grad(loss, [x, *module.parameters()])


def inputs(cell, bidirectional, layers=3):
    x = torch.randn(4, 7, 6, requires_grad=True)
    h0 = torch.randn(layers * (2 if bidirectional else 1), 4, 5)
    return x, ((h0, torch.randn_like(h0)) if cell == "lstm" else h0)


def assert_same(a, b):
    (o1, h1, g1), (o2, h2, g2) = a, b
    assert torch.allclose(o1, o2, atol=1e-6)
    assert all(torch.allclose(x, y, atol=1e-6) for x, y in zip(h1, h2))
    assert all(torch.allclose(x, y, atol=1e-5) for x, y in zip(g1, g2))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("packed", [False, True])
def test_layer_at_a_time_equals_the_fused_call(monkeypatch, cell, bidirectional, packed):
    torch.manual_seed(0)
    fast = make_stack(cell, 6, 5, 3, dropout=0.4, bidirectional=bidirectional)
    ref = (nn.LSTM if cell == "lstm" else nn.GRU)(
        6, 5, 3, batch_first=True, bidirectional=bidirectional
    )
    ref.load_state_dict(fast.state_dict())  # same weight names
    between = []  # the recurrences alone: the kernel's dropout between layers is left out
    monkeypatch.setattr(stacked, "fast_dropout", lambda x, p: between.append(p) or x)
    x, hx = inputs(cell, bidirectional)
    assert_same(run(fast.train(), x, hx, packed, cell), run(ref.train(), x, hx, packed, cell))
    assert between == [0.4, 0.4]  # the kernel ran, one layer at a time


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
def test_written_out_cells_equal_the_same_module_with_kernels_off(
    monkeypatch, bidirectional, layers
):
    """Without dropout the kernel needs no patching: a packed LSTM with gradients on runs
    the written-out cells, and with kernels off torch's packed call."""
    calls = []
    layer = stacked.lstm_layer
    monkeypatch.setattr(stacked, "lstm_layer", lambda *a, **k: calls.append(1) or layer(*a, **k))
    torch.manual_seed(1)
    lstm = make_stack("lstm", 6, 5, layers, dropout=0.0, bidirectional=bidirectional).train()
    x, hx = inputs("lstm", bidirectional, layers)
    kernel = run(lstm, x, hx, True, "lstm")
    assert len(calls) == layers * (2 if bidirectional else 1)  # the written-out cells ran
    with kernels.use(False):
        reference = run(lstm, x, hx, True, "lstm")
    assert len(calls) == layers * (2 if bidirectional else 1)  # ... and not here
    assert_same(kernel, reference)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("packed", [False, True])
def test_kernels_off_is_torch_forward_dropout_included(cell, packed):
    torch.manual_seed(2)
    module = make_stack(cell, 6, 5, 3, dropout=0.4).train()
    ref = (nn.LSTM if cell == "lstm" else nn.GRU)(6, 5, 3, dropout=0.4, batch_first=True)
    ref.load_state_dict(module.state_dict())
    x, hx = inputs(cell, False)
    results = []
    for m in (module, ref.train()):
        torch.manual_seed(3)  # the same dropout masks
        with kernels.use(False):
            results.append(run(m, x, hx, packed, cell))
    (o1, h1, g1), (o2, h2, g2) = results
    assert torch.equal(o1, o2)
    assert all(torch.equal(a, b) for a, b in zip(h1, h2))
    assert all(torch.equal(a, b) for a, b in zip(g1, g2))


def test_dropout_between_layers_is_applied_in_training_only():
    torch.manual_seed(1)
    rnn = make_stack("lstm", 6, 5, 2, dropout=0.5)
    x = torch.randn(3, 4, 6)
    train_a, train_b = rnn.train()(x)[0], rnn(x)[0]
    assert not torch.allclose(train_a, train_b)  # a new mask each call
    rnn.eval()
    assert torch.equal(rnn(x)[0], rnn(x)[0])
