"""The training loss: cross-entropy over real target tokens, optional label smoothing."""

import torch

from seq2seq.training.loop import sequence_loss


def logits_and_targets():
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 9)
    targets = torch.tensor([[5, 6, 3, 0], [7, 3, 0, 0]])  # 0 = <pad>
    return logits, targets


def test_label_smoothing_zero_is_plain_cross_entropy():
    logits, targets = logits_and_targets()
    logp = logits.log_softmax(-1)
    real = targets != 0
    nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)[real].sum()
    assert torch.allclose(sequence_loss(logits, targets, 0.0), nll)


def test_label_smoothing_mixes_in_the_uniform_distribution():
    logits, targets = logits_and_targets()
    eps, logp, real = 0.1, logits.log_softmax(-1), targets != 0
    nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)[real].sum()
    uniform = -logp.mean(-1)[real].sum()
    assert torch.allclose(sequence_loss(logits, targets, eps), (1 - eps) * nll + eps * uniform)
    assert not torch.allclose(sequence_loss(logits, targets, eps), nll)
