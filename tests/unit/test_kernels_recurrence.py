"""`StepWeight` and the written-out LSTM layer against their plain torch references (`x @ W`
per step; one direction of `nn.LSTM` over a packed batch), values and gradients; their
buffers go with the graph, and a retained graph gives the same gradients on a second
backward."""

import gc
import weakref

import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.nn.utils.rnn import pack_padded_sequence

from seq2seq.kernels import recurrence

pytestmark = pytest.mark.usefixtures("kernels_on")

LENGTHS = torch.tensor([4, 4, 3, 1])  # sorted: batch sizes per step [4, 3, 3, 2]


def layer_loss(weights):
    torch.manual_seed(0)
    x, zeros = torch.randn(4 * 3, 5), torch.zeros(4, 6)
    out, (h, c) = recurrence.lstm_layer(x, [4, 3, 3, 2], zeros, zeros, weights)
    return out.square().sum() + c.sum()


def make_weights():
    torch.manual_seed(1)
    shapes = [(24, 5), (24, 6), (24,), (24,)]
    return [(torch.rand(s) - 0.5).requires_grad_() for s in shapes]


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("add", [False, True])
def test_step_weight_equals_the_plain_product_per_step(bias, add):
    """Three steps of a recurrence h <- tanh(add_t + h @ W + b): the same values, and the
    same gradients for W, b, the inputs and the added terms."""
    torch.manual_seed(2)
    w = torch.randn(6, 6, requires_grad=True)
    b = torch.randn(6, requires_grad=True) if bias else None
    h0 = torch.randn(3, 6, requires_grad=True)
    adds = [torch.randn(3, 6, requires_grad=True) if add else None for _ in range(3)]
    leaves = [t for t in [w, b, h0, *adds] if t is not None]

    def run(step):
        h = h0
        for a in adds:
            h = torch.tanh(step(h, a))
        return h, torch.autograd.grad((h * torch.arange(6.0)).sum(), leaves)

    def plain(x, a):  # the reference
        out = x @ w + (b if b is not None else 0)
        return out + a if a is not None else out

    h_kernel, g_kernel = run(recurrence.StepWeight(w, b).step)
    h_ref, g_ref = run(plain)
    assert torch.allclose(h_kernel, h_ref, atol=1e-6)
    assert all(torch.allclose(a, r, atol=1e-5) for a, r in zip(g_kernel, g_ref))
    with torch.no_grad():  # without gradients: the plain product of the weight
        assert torch.allclose(recurrence.StepWeight(w, b).step(h0, adds[0]), plain(h0, adds[0]))


def reference_layer(packed, h0, c0, weights, reverse):
    """One direction of torch's nn.LSTM over the same packed batch, with these weights."""
    lstm = nn.LSTM(5, 6, bidirectional=reverse)
    suffix = "_reverse" if reverse else ""
    names = [f"{n}_l0{suffix}" for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    dirs = 2 if reverse else 1
    hx = (h0.expand(dirs, -1, -1), c0.expand(dirs, -1, -1))
    out, (h, c) = functional_call(lstm, dict(zip(names, weights)), (packed, hx))
    return out.data[:, -6:], (h[-1], c[-1])


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("grad", [True, False])
def test_lstm_layer_equals_one_direction_of_torch_lstm(reverse, grad):
    weights = make_weights()
    torch.manual_seed(3)
    x = torch.randn(4, 4, 5, requires_grad=True)  # (T, B, In), padded
    h0, c0 = torch.randn(4, 6, requires_grad=True), torch.randn(4, 6, requires_grad=True)
    leaves = [x, h0, c0, *weights]
    results = []
    for layer in (recurrence.lstm_layer, None):
        with torch.set_grad_enabled(grad):
            packed = pack_padded_sequence(x, LENGTHS)
            if layer is None:
                out, (h, c) = reference_layer(packed, h0, c0, weights, reverse)
            else:
                out, (h, c) = layer(
                    packed.data, packed.batch_sizes.tolist(), h0, c0, weights, reverse=reverse
                )
        loss = out.square().sum() + (h * torch.arange(6.0)).sum() + c.sum()
        results.append((out, h, c, torch.autograd.grad(loss, leaves) if grad else ()))
    (*kernel, g_kernel), (*ref, g_ref) = results
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(kernel, ref))
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(g_kernel, g_ref))


def test_step_buffers_are_freed_with_the_graph(monkeypatch):
    """A training step must not leave its per-step inputs behind: a reference cycle through
    the autograd graph would keep every batch's buffers alive (memory grows each step)."""
    alive = []
    init = recurrence.StepWeight.__init__

    def tracking(self, *args, **kwargs):
        init(self, *args, **kwargs)
        alive.append(weakref.ref(self.steps))

    monkeypatch.setattr(recurrence.StepWeight, "__init__", tracking)
    gc.disable()  # freed by reference counting alone, as in a training loop between collections
    try:
        weights = make_weights()
        for _ in range(3):
            layer_loss(weights).backward()
        assert len(alive) == 3 and all(ref() is None for ref in alive)
    finally:
        gc.enable()


def test_a_retained_graph_gives_the_same_gradients_twice():
    weights = make_weights()
    loss = layer_loss(weights)
    loss.backward(retain_graph=True)
    first = [w.grad.clone() for w in weights]
    loss.backward()
    assert all(torch.allclose(w.grad, 2 * g, atol=1e-6) for w, g in zip(weights, first))
