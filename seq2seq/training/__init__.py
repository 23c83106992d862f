"""Training: the loop, checkpoints, optimizers and schedules."""

from .loop import train

__all__ = ["train"]
