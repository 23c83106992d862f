"""Forecasts over the `encode` / `init_state` / `step` protocol: the point path and sampled
paths of a real-valued model, step by step, each step fed the value chosen before it.

- `point_path`: each step's point forecast (the mean, or the median) is the next input.
- `sample_paths`: `samples` copies of every window's decoder state (`DecoderState.repeat`);
  each step draws a value from its distribution and feeds it on, so the paths carry the
  uncertainty of every step into the next; their quantiles give prediction intervals.

Values are in the model's scaled units; the caller undoes the scaling.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def rollout(
    model,
    state,
    last: torch.Tensor,
    future_cov: torch.Tensor,
    choose: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """Run the decoder for H steps from `state`; `last` (N, D) is the value before the first
    step, `future_cov` (N, H, C) each step's covariates, `choose(params) -> (N, D)` the value
    a step outputs (and feeds to the next). Returns (N, H, D)."""
    out, prev = [], last
    for t in range(future_cov.size(1)):
        params, state, _ = model.step(torch.cat([prev, future_cov[:, t]], -1), state)
        prev = choose(params)  # (N, D)
        out.append(prev)
    return torch.stack(out, 1)


@torch.no_grad()
def point_path(model, src, src_len, last, future_cov) -> torch.Tensor:
    """The point forecast (B, H, D): each step's mean (or median) fed to the next step."""
    state = model.init_state(model.encode(src, src_len))
    return rollout(model, state, last, future_cov, model.point)


@torch.no_grad()
def sample_paths(
    model, src, src_len, last, future_cov, *, samples: int, generator=None
) -> torch.Tensor:
    """`samples` sampled paths per window: (B, samples, H, D)."""
    B = src.size(0)
    state = model.init_state(model.encode(src, src_len)).repeat(samples)  # (B * samples) rows
    last = last.repeat_interleave(samples, 0)  # (B * samples, D)
    cov = future_cov.repeat_interleave(samples, 0)  # (B * samples, H, C)
    paths = rollout(model, state, last, cov, lambda p: model.sample(p, generator))
    return paths.view(B, samples, *paths.shape[1:])  # (B, samples, H, D)
