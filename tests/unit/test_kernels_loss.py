"""The chunked cross-entropy kernel against its reference `F.cross_entropy(...,
reduction="sum", label_smoothing=eps)`: values and gradients, and `token_loss`'s switch."""

import pytest
import torch
import torch.nn.functional as F

from seq2seq import kernels
from seq2seq.kernels.loss import softmax_cross_entropy
from seq2seq.training.loss import token_loss

pytestmark = pytest.mark.usefixtures("kernels_on")


@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("scale", [1.0, 3.0])  # 1.0: the backward skips its scaling
def test_kernel_matches_torch_cross_entropy_value_and_gradient(eps, scale):
    torch.manual_seed(1)
    logits = torch.randn(150, 11, requires_grad=True)  # more rows than one chunk
    targets = torch.randint(0, 11, (150,))
    ours = softmax_cross_entropy(logits, targets, eps)
    (g_ours,) = torch.autograd.grad(ours * scale, logits)
    ref = F.cross_entropy(logits, targets, reduction="sum", label_smoothing=eps)
    (g_ref,) = torch.autograd.grad(ref * scale, logits)
    assert torch.allclose(ours, ref, rtol=1e-6, atol=1e-4)
    assert torch.allclose(g_ours, g_ref, atol=1e-6)


def test_bf16_logits_give_an_fp32_loss_and_a_bf16_gradient_as_the_reference():
    torch.manual_seed(2)
    logits = torch.randn(70, 13).bfloat16().requires_grad_()
    targets = torch.randint(0, 13, (70,))
    losses, grads = [], []
    for on in (True, False):
        with kernels.use(on):
            loss = token_loss(logits, targets, 0.1)
        losses.append(loss)
        grads.append(torch.autograd.grad(loss, logits)[0])
    assert losses[0].dtype == losses[1].dtype == torch.float32
    assert grads[0].dtype == grads[1].dtype == torch.bfloat16
    assert torch.allclose(losses[0], losses[1], rtol=1e-6, atol=1e-4)
    assert torch.allclose(grads[0].float(), grads[1].float(), atol=1e-2)


def test_token_loss_takes_the_kernel_or_torch_cross_entropy():
    torch.manual_seed(3)
    logits, targets = torch.randn(20, 7), torch.randint(0, 7, (20,))
    with kernels.use(True):
        assert torch.equal(
            token_loss(logits, targets, 0.1), softmax_cross_entropy(logits, targets, 0.1)
        )
    with kernels.use(False):
        ref = F.cross_entropy(logits, targets, reduction="sum", label_smoothing=0.1)
        assert torch.equal(token_loss(logits, targets, 0.1), ref)
