"""`StepWeight` and the written-out LSTM layer: their buffers go with the graph, and a
retained graph gives the same gradients on a second backward."""

import gc
import weakref

import torch

from seq2seq.models import recurrence


def layer_loss(weights):
    torch.manual_seed(0)
    x, zeros = torch.randn(4 * 3, 5), torch.zeros(4, 6)
    out, (h, c) = recurrence.lstm_layer(x, [4, 3, 3, 2], zeros, zeros, weights)
    return out.square().sum() + c.sum()


def make_weights():
    torch.manual_seed(1)
    shapes = [(24, 5), (24, 6), (24,), (24,)]
    return [(torch.rand(s) - 0.5).requires_grad_() for s in shapes]


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
