"""The training loss: summed token cross-entropy with optional label smoothing, fused.

`F.cross_entropy` on bf16 logits makes an fp32 copy, a log-softmax output, a dense one-hot
gradient and a log-softmax backward: several passes over a (tokens x vocabulary) buffer,
the largest tensor of a recurrent training step. Here the forward keeps only the
log-sum-exp of each row, and the backward writes softmax - target into one buffer. Same
values and gradients as `F.cross_entropy(..., reduction="sum", label_smoothing=eps)`.
"""

from __future__ import annotations

import torch

from ..vocab import PAD_ID


class _SoftmaxCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits: torch.Tensor, targets: torch.Tensor, eps: float) -> torch.Tensor:
        x = logits.float()
        lse = torch.logsumexp(x, dim=-1)  # (N,)
        loss = lse - x.gather(1, targets[:, None]).squeeze(1)  # -log p(target)
        if eps:  # smoothing term: -mean_k log p(k) = lse - mean_k x_k
            loss = (1 - eps) * loss + eps * (lse - x.mean(dim=-1))
        ctx.save_for_backward(logits, targets, lse)
        ctx.eps = eps
        return loss.sum()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        logits, targets, lse = ctx.saved_tensors
        eps = ctx.eps
        g = logits.to(torch.float32, copy=True).sub_(lse[:, None]).exp_()  # softmax, (N, V)
        if eps:
            g.sub_(eps / g.size(1))
        g.scatter_add_(1, targets[:, None], g.new_full((g.size(0), 1), eps - 1.0))
        return g.mul_(grad).to(logits.dtype), None, None


def token_loss(
    logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """Summed cross-entropy of (N, V) logits against (N,) targets, all of them real tokens."""
    return _SoftmaxCrossEntropy.apply(logits, targets, float(label_smoothing))


def sequence_loss(
    logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """Summed token cross-entropy of (B, T, V) logits against (B, T) targets; padding ignored."""
    keep = targets != PAD_ID
    return token_loss(logits[keep], targets[keep], label_smoothing)
