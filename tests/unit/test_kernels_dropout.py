"""The CPU dropout kernel against its reference `F.dropout`: other random numbers, so the
same statistics rather than the same mask (share dropped, scale, gradient, eval identity)."""

import pytest
import torch
import torch.nn.functional as F

from seq2seq import kernels
from seq2seq.kernels.dropout import Dropout, dropout, fast_dropout

pytestmark = pytest.mark.usefixtures("kernels_on")


@pytest.mark.parametrize("on", [True, False])
@pytest.mark.parametrize("p", [0.1, 0.2, 0.5])
def test_drops_a_share_p_and_scales_the_rest(p, on):
    torch.manual_seed(0)
    x = torch.rand(200, 301) + 0.5  # no zeros of its own; odd size: half a random word spare
    with kernels.use(on):
        y = Dropout(p).train()(x)
    kept = y != 0
    assert abs(1 - kept.float().mean().item() - p) < 0.01
    assert torch.allclose(y[kept], x[kept] / (1 - p))


@pytest.mark.parametrize("on", [True, False])
def test_gradient_is_the_mask_times_the_scale_and_eval_is_identity(on):
    torch.manual_seed(1)
    x = torch.randn(64, 33, requires_grad=True)
    d = Dropout(0.3).train()
    with kernels.use(on):
        y = d(x)
        y.sum().backward()
        assert torch.allclose(x.grad, (y != 0).float() / 0.7)
        d.eval()
        assert d(x) is x
        assert Dropout(0.0).train()(x) is x


def test_the_switch_picks_the_kernel_or_torch_dropout():
    x = torch.randn(40, 50)
    for on, reference in ((True, lambda: fast_dropout(x, 0.4)), (False, lambda: F.dropout(x, 0.4))):
        torch.manual_seed(4)
        with kernels.use(on):
            got = dropout(x, 0.4)
        torch.manual_seed(4)
        assert torch.equal(got, reference()), on


def test_masks_differ_between_calls_and_follow_the_seed():
    x = torch.ones(1000)
    d = Dropout(0.5).train()
    torch.manual_seed(3)
    a, b = d(x), d(x)
    torch.manual_seed(3)
    assert not torch.equal(a, b)
    assert torch.equal(d(x), a)
