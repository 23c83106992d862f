"""The CPU dropout: nn.Dropout's semantics with a cheaper mask."""

import pytest
import torch

from seq2seq.models.dropout import Dropout


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5])
def test_drops_a_share_p_and_scales_the_rest(p):
    torch.manual_seed(0)
    x = torch.rand(200, 301) + 0.5  # no zeros of its own; odd size: half a random word spare
    y = Dropout(p).train()(x)
    kept = y != 0
    assert abs(1 - kept.float().mean().item() - p) < 0.01
    assert torch.allclose(y[kept], x[kept] / (1 - p))


def test_gradient_is_the_mask_times_the_scale_and_eval_is_identity():
    torch.manual_seed(1)
    x = torch.randn(64, 33, requires_grad=True)
    d = Dropout(0.3).train()
    y = d(x)
    y.sum().backward()
    assert torch.allclose(x.grad, (y != 0).float() / 0.7)
    d.eval()
    assert d(x) is x
    assert Dropout(0.0).train()(x) is x


def test_masks_differ_between_calls_and_follow_the_seed():
    x = torch.ones(1000)
    d = Dropout(0.5).train()
    torch.manual_seed(3)
    a, b = d(x), d(x)
    torch.manual_seed(3)
    assert not torch.equal(a, b)
    assert torch.equal(d(x), a)
