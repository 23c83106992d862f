"""Distribution heads for real-valued outputs: a hidden state -> the parameters of a
forecast distribution per target dimension, its loss, point forecast and samples.

- `GaussianHead`: mean and scale (softplus, floored), trained by the negative
  log-likelihood 0.5 log(2 pi sigma^2) + (y - mu)^2 / (2 sigma^2).
- `QuantileHead`: the values at fixed levels, kept in order (the first plus softplus
  increments), trained by the pinball loss max(q (y - x), (q - 1) (y - x)); samples draw a
  level uniformly and interpolate between the learned quantiles (flat beyond the outermost).

Losses are sums over every value, as the trainer normalises by the number of values.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

MIN_SCALE = 1e-3  # in scaled units: a Gaussian's scale never collapses to zero


class GaussianHead(nn.Module):
    def __init__(self, hidden: int, targets: int):
        super().__init__()
        self.targets = targets
        self.proj = nn.Linear(hidden, targets * 2)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(..., H) -> (..., D, 2): mean and scale."""
        raw = self.proj(h).float().unflatten(-1, (self.targets, 2))  # (..., D, 2)
        return torch.stack([raw[..., 0], F.softplus(raw[..., 1]) + MIN_SCALE], -1)

    @staticmethod
    def loss(params: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        mu, sigma = params.unbind(-1)
        nll = 0.5 * math.log(2 * math.pi) + torch.log(sigma) + 0.5 * ((y - mu) / sigma) ** 2
        return nll.sum()

    @staticmethod
    def point(params: torch.Tensor) -> torch.Tensor:
        return params[..., 0]

    @staticmethod
    def sample(params: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        mu, sigma = params.unbind(-1)
        noise = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + sigma * noise


class QuantileHead(nn.Module):
    def __init__(self, hidden: int, targets: int, levels: tuple[float, ...]):
        super().__init__()
        self.targets = targets
        self.register_buffer("levels", torch.tensor(levels), persistent=False)
        self.median = levels.index(0.5)
        self.proj = nn.Linear(hidden, targets * len(levels))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(..., H) -> (..., D, Q): the values at the levels, in increasing order."""
        raw = self.proj(h).float().unflatten(-1, (self.targets, len(self.levels)))
        steps = torch.cat([raw[..., :1], F.softplus(raw[..., 1:])], -1)
        return steps.cumsum(-1)  # (..., D, Q)

    def loss(self, params: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return pinball(params, y.unsqueeze(-1), self.levels).sum()

    def point(self, params: torch.Tensor) -> torch.Tensor:
        return params[..., self.median]

    def sample(
        self, params: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        u = torch.rand(params.shape[:-1], generator=generator, device=params.device)
        return interpolate_quantiles(params, self.levels, u)


def pinball(x: torch.Tensor, y: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """The pinball (quantile) loss of forecasts `x` at levels `q` for values `y`, elementwise."""
    d = y - x
    return torch.maximum(q * d, (q - 1) * d)


def interpolate_quantiles(values: torch.Tensor, levels: torch.Tensor, u: torch.Tensor):
    """The value at level u (...,) of piecewise-linear quantile functions `values` (..., Q)."""
    u = u.clamp(float(levels[0]), float(levels[-1]))
    hi = torch.searchsorted(levels, u.contiguous()).clamp(1, len(levels) - 1)  # (...,)
    lo = hi - 1
    q_lo, q_hi = levels[lo], levels[hi]
    v_lo = values.gather(-1, lo.unsqueeze(-1)).squeeze(-1)
    v_hi = values.gather(-1, hi.unsqueeze(-1)).squeeze(-1)
    return v_lo + (v_hi - v_lo) * (u - q_lo) / (q_hi - q_lo)
