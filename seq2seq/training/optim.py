"""Optimizers and learning-rate schedules.

`halving` is the paper's: constant lr, then halved every `halving_every` epochs from epoch
`halving_start_epoch` on (0.7 for 5 epochs, then 0.35, 0.175, ... every half epoch).
`plateau` halves when the validation metric stops improving. Any schedule can be preceded
by a linear warm-up. `noam` is the Transformer's inverse-square-root decay after warm-up.
`linear` decays to `final_lr_factor` x lr over the run's budget, whichever of the step budget
(epochs / max_steps) or the time budget (max_minutes) is spent first: the schedule that
budgeted training favours (Li, Yumer & Ramanan, ICLR 2020), so a run cut short by its time
limit still ends at a small learning rate. On a step budget it is deterministic; on a time
budget it follows the clock, as the run's length does.
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
    """lr as a function of (step, steps per epoch, plateau halvings, share of the time budget
    spent); its state is those counters."""

    def __init__(
        self,
        cfg: TrainConfig,
        optimizer: torch.optim.Optimizer,
        steps_per_epoch: int,
    ):
        self.cfg, self.optimizer = cfg, optimizer
        self.steps_per_epoch = max(1, steps_per_epoch)
        steps = math.ceil(cfg.epochs * self.steps_per_epoch)
        self.total_steps = min(steps, cfg.max_steps) if cfg.max_steps else steps  # the step budget
        self.step_count = 0
        self.time_spent = 0.0  # share of train.max_minutes used so far (0 without a limit)
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
        elif cfg.schedule == "linear":
            f *= 1.0 - (1.0 - cfg.final_lr_factor) * self.progress()
        return f

    def progress(self) -> float:
        """The share of the run's budget spent: steps or time, whichever is further along."""
        return min(1.0, max(self.step_count / max(1, self.total_steps), self.time_spent))

    def _apply(self) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = self.cfg.lr * self.factor()

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def step(self) -> None:
        self.step_count += 1
        self._apply()

    def spent_time(self, share: float) -> None:
        """Told after each step: the share of `train.max_minutes` used (the same on every rank)."""
        self.time_spent = share
        if self.cfg.schedule == "linear":  # the only schedule that follows the clock
            self._apply()

    def validated(self, improved: bool) -> None:
        """Told after each validation; the plateau schedule halves after `plateau_patience` misses."""
        self.bad_validations = 0 if improved else self.bad_validations + 1
        if self.cfg.schedule == "plateau" and self.bad_validations >= self.cfg.plateau_patience:
            self.plateau_halvings, self.bad_validations = self.plateau_halvings + 1, 0
            self._apply()

    def state_dict(self) -> dict:
        keys = ("step_count", "plateau_halvings", "bad_validations", "time_spent")
        return {k: getattr(self, k) for k in keys}

    def load_state_dict(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, v)
        self._apply()
