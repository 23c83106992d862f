"""Dropout with a cheaper mask on CPU.

Replaces `F.dropout(x, p, training=True)`, which draws its mask with `bernoulli_`: one
Mersenne-Twister call and a float comparison per element. `fast_dropout` draws 32 random
bits per two elements and compares 16-bit integers. Same semantics (kept elements scaled by
1 / (1 - p)); the drop probability is exact to 1/65536; other random numbers, so other masks.
GPUs keep torch's fused kernel. Gain: the mask about 3x faster; with the chunked loss
+3.0-4.6 % training tokens/s (bench/README.md).
"""

from __future__ import annotations

import torch
from torch import nn

from . import enabled


def fast_dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """Training-mode dropout of `x` with probability `p` (0 <= p < 1)."""
    if p == 0.0:
        return x
    if x.device.type != "cpu":
        return nn.functional.dropout(x, p, True)
    n = x.numel()
    bits = torch.randint(-(2**31), 2**31 - 1, ((n + 1) // 2,), dtype=torch.int32)
    keep = bits.view(torch.int16)[:n].view(x.shape) >= -32768 + round(p * 65536)
    return (x * keep).mul_(1.0 / (1.0 - p))


def dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """Training-mode dropout: `fast_dropout` when kernels are on, else `F.dropout`."""
    if enabled():
        return fast_dropout(x, p)
    return nn.functional.dropout(x, p, True) if p else x


class Dropout(nn.Module):
    """`nn.Dropout` through `dropout` above (identity in eval mode)."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p) if self.training else x

    def extra_repr(self) -> str:
        return f"p={self.p}"
