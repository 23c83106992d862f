"""Dropout with a cheaper mask on CPU.

`nn.Dropout` draws its mask with `bernoulli_`, one Mersenne-Twister call and a float
comparison per element: about 3x slower on CPU than drawing 32 random bits per two
elements and comparing 16-bit integers. Same semantics as `nn.Dropout` (kept elements
scaled by 1 / (1 - p); identity in eval mode); the drop probability is exact to 1/65536.
GPUs keep torch's fused kernel.
"""

from __future__ import annotations

import torch
from torch import nn


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


class Dropout(nn.Module):
    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fast_dropout(x, self.p) if self.training else x

    def extra_repr(self) -> str:
        return f"p={self.p}"
