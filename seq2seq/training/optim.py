"""Optimizers and learning-rate schedules.

`halving` is the paper's: constant lr, then halved every `halving_every` epochs from epoch
`halving_start_epoch` on (0.7 for 5 epochs, then 0.35, 0.175, ... every half epoch).
`plateau` halves when the validation metric stops improving. Any schedule can be preceded
by a linear warm-up. `noam` is the Transformer's inverse-square-root decay after warm-up.
"""

from __future__ import annotations

import math

import torch

from ..config import TrainConfig


def build_optimizer(cfg: TrainConfig, params) -> torch.optim.Optimizer:
    params = [p for p in params if p.requires_grad]
    # One fused kernel per step instead of a dozen passes over every parameter tensor.
    fused = all(p.device.type in ("cpu", "cuda") and p.dtype == torch.float32 for p in params)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, fused=fused
        )
    return torch.optim.Adam(
        params, lr=cfg.lr, betas=cfg.adam_betas, weight_decay=cfg.weight_decay, fused=fused
    )


class Schedule:
    """lr as a function of (step, steps per epoch, plateau halvings); state is two ints."""

    def __init__(self, cfg: TrainConfig, optimizer: torch.optim.Optimizer, steps_per_epoch: int):
        self.cfg, self.optimizer = cfg, optimizer
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.step_count = 0
        self.plateau_halvings, self.bad_validations = 0, 0
        self._apply()

    def factor(self) -> float:
        cfg, step = self.cfg, self.step_count
        if cfg.schedule == "noam":  # inverse square root after a linear warm-up; peak = lr
            w = max(1, cfg.warmup_steps)
            return min((step + 1) ** -0.5, (step + 1) * w**-1.5) * w**0.5
        f = min(1.0, (step + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
        if cfg.schedule == "halving":
            epoch = step / self.steps_per_epoch
            if epoch >= cfg.halving_start_epoch:
                f *= 0.5 ** (math.floor((epoch - cfg.halving_start_epoch) / cfg.halving_every) + 1)
        elif cfg.schedule == "plateau":
            f *= cfg.plateau_factor**self.plateau_halvings
        return f

    def _apply(self) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = self.cfg.lr * self.factor()

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def step(self) -> None:
        self.step_count += 1
        self._apply()

    def validated(self, improved: bool) -> None:
        """Told after each validation; the plateau schedule halves after `plateau_patience` misses."""
        self.bad_validations = 0 if improved else self.bad_validations + 1
        if self.cfg.schedule == "plateau" and self.bad_validations >= self.cfg.plateau_patience:
            self.plateau_halvings, self.bad_validations = self.plateau_halvings + 1, 0
            self._apply()

    def state_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("step_count", "plateau_halvings", "bad_validations")}

    def load_state_dict(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, v)
        self._apply()
