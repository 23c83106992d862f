"""TensorBoard event files for a training run (`train.tensorboard`, on by default), beside
`metrics.jsonl`: what the trainer measures, as curves.

Written to RUN/tensorboard/ by the main process:
- every 50 steps (where the progress bar reads them): `train/loss` (mean per target token
  since the last validation, as the bar shows it), `train/lr`, `train/tokens_per_s`, and
  `train/grad_norm` (the norm before clipping; only when `train.clip_norm` > 0);
- at every validation (the `metrics.jsonl` entry): `dev/loss`, `dev/ppl`, every dev metric
  (`dev/bleu`, `dev/wer`...), and `dev/train_loss` (the training loss over the steps since
  the previous validation, beside the dev loss).

The `tensorboard` package is the optional extra `tensorboard`; without it the run logs one
line saying so and trains as usual. A resumed run drops the events past its checkpoint's
step (TensorBoard's purge_step), so curves do not double back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


class Logbook:
    """Scalars to TensorBoard, or nowhere when it is off or not installed."""

    def __init__(self, run_dir: Path, enabled: bool, log: Callable[[str], None], step: int = 0):
        self.writer = None
        if not enabled:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            log(
                "tensorboard: not installed, so no event files (pip install 'seq2seq[tensorboard]', "
                "or set train.tensorboard: false to silence this)"
            )
            return
        self.writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=step or None)

    def progress(self, step: int, *, loss: float, lr: float, tokens_per_s: float, grad_norm):
        """The progress bar's numbers; `grad_norm` a tensor or None (no clipping)."""
        if self.writer is None:
            return
        values = {"train/loss": loss, "train/lr": lr, "train/tokens_per_s": tokens_per_s}
        if grad_norm is not None:
            values["train/grad_norm"] = float(grad_norm)
        self._write(step, values)

    def validation(self, entry: dict) -> None:
        """One `metrics.jsonl` entry: its dev numbers and the training loss."""
        if self.writer is None:
            return
        values = {
            f"dev/{k[len('dev_') :]}": v
            for k, v in entry.items()
            if k.startswith("dev_") and isinstance(v, int | float)
        }
        if entry.get("train_loss") is not None:
            values["dev/train_loss"] = entry["train_loss"]
        self._write(entry["step"], values)
        self.writer.flush()

    def _write(self, step: int, values: dict) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag, value, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
