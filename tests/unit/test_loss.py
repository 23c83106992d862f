"""The training loss: cross-entropy over real target tokens, optional label smoothing."""

import torch

from seq2seq.training.loss import token_loss


def sequence_loss(logits, targets, eps):
    """The loss the trainer takes: real (non-padding) positions only."""
    real = targets != 0
    return token_loss(logits[real], targets[real], eps)


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


def test_forward_with_keep_gives_the_logits_of_the_kept_positions():
    from helpers import char_examples, make_pairs, tiny_model

    from seq2seq.data import collate

    examples, V = char_examples(make_pairs(6, seed=3, min_len=1, max_len=7))
    model, batch = tiny_model(V, V), collate(examples)
    keep = batch.tgt_out != 0
    assert not keep.all()  # the batch has padding to leave out
    full = model(batch.src, batch.src_len, batch.tgt_in)
    kept = model(batch.src, batch.src_len, batch.tgt_in, keep)
    assert kept.shape == (int(keep.sum()), V)
    assert torch.allclose(kept, full[keep], atol=1e-6)
