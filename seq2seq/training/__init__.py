"""Training: the loop, checkpoints, optimizers and schedules; `train` picks the trainer of
the run's data (text pairs, real-valued series, or speech)."""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from .forecast import ForecastTrainer
from .loop import Trainer, _log
from .speech import SpeechTrainer


def train(cfg: Config, run_dir: str | Path, *, progress: bool = True, log=_log) -> dict:
    """Train (or resume) a model in `run_dir`; returns a summary of the run."""
    cls = {"series": ForecastTrainer, "speech": SpeechTrainer}.get(cfg.data.dataset, Trainer)
    trainer = cls(cfg, run_dir, progress=progress, log=log)
    try:
        summary = trainer.run()
    except BaseException:
        trainer.close(clean=False)
        raise
    trainer.close()
    return summary


__all__ = ["train", "Trainer", "ForecastTrainer", "SpeechTrainer"]
