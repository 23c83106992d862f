"""The training loss: summed token cross-entropy with optional label smoothing."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import kernels
from ..kernels.loss import softmax_cross_entropy


def token_loss(
    logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """Summed cross-entropy of (N, V) logits against (N,) targets, all of them real tokens."""
    if kernels.enabled():
        return softmax_cross_entropy(logits, targets, label_smoothing)
    return F.cross_entropy(
        logits.float(), targets, reduction="sum", label_smoothing=label_smoothing
    )
