"""Training on real-valued series: the same loop as text (`loop.Trainer`: checkpoints written
atomically, exact resume, Ctrl-C / SIGTERM saves `last.pt`, early stopping, progress bar),
with windows of a CSV's series in the place of sentence pairs and the model's distribution
loss (Gaussian NLL or pinball) in the place of cross-entropy.

Teacher forcing feeds the decoder the true previous value; with `train.scheduled_sampling`
a share of the inputs, growing linearly to that value over `scheduled_sampling_steps`, is the
model's own sample instead (Bengio et al., 2015), drawn from torch's random state, which
`last.pt` keeps, so a resumed run equals an uninterrupted one. With the ramp over the whole
budget (`scheduled_sampling_steps: 0`) a resume that raises the budget changes the ramp, as
it changes a `linear` learning-rate schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data.batching import inference_batches
from ..data.series import read_series
from ..data.windows import SeriesBatch, collate_windows, series_state, split_windows
from ..decoding.forecast import point_path
from ..errors import UserError
from .loop import Trainer


@dataclass(frozen=True)
class SeriesProcessor:
    """A series run's stand-in for a text run's Processor: what its checkpoints keep."""

    spec: dict

    def state(self) -> dict:
        return dict(self.spec)


class ForecastTrainer(Trainer):
    """`Trainer` over windows of real-valued series (`data.dataset: series`)."""

    def _build_data(self, start_state: dict | None) -> dict:
        cfg, s = self.cfg, self.cfg.data.series
        if cfg.train.scheduled_sampling and self.dist.enabled:
            raise UserError(
                "train.scheduled_sampling runs on one process; set it to 0 with torchrun"
            )
        self.series = read_series(
            s.csv, time=s.time, columns=s.columns, joint=s.joint, trading_days=s.trading_days
        )
        windows = split_windows(self.series, s, reverse=self.cfg.data.reverse_source, path=s.csv)
        self.train_examples, self.dev_examples = windows["train"], windows["dev"]
        self.processor = SeriesProcessor(series_state(self.series, s))
        return {}  # nothing derived to write into the run

    def model_sizes(self) -> tuple[int, int]:
        """The inputs per step (targets and covariates) and the target dimensions."""
        spec = self.processor.spec
        return spec["targets"] + spec["covariates"], spec["targets"]

    def example_lengths(self) -> list[tuple[int, int]]:
        s = self.cfg.data.series
        return [(s.context, s.horizon)] * len(self.train_examples)

    def batch(self, indices: list[int]) -> SeriesBatch:
        return collate_windows([self.train_examples[i] for i in indices])

    # -- the loss ------------------------------------------------------------------------

    def sampling_share(self) -> float:
        """The share of decoder inputs taken from the model's own samples at this step."""
        train = self.cfg.train
        ramp = train.scheduled_sampling_steps or self.total_steps()  # the budget: see resume
        return train.scheduled_sampling * min(1.0, self.counters["step"] / max(1, ramp))

    def _loss_sum(self, batch, label_smoothing: float = 0.0, net=None, soft=None):
        """Summed distribution loss over every predicted value of the batch."""
        dev = self.device
        src, tgt_in, tgt_out = batch.src.to(dev), batch.tgt_in.to(dev), batch.tgt_out.to(dev)
        share = self.sampling_share() if self.model.training else 0.0
        with self._autocast():
            if share > 0:
                params = self._scheduled(batch, share)
            else:
                params = (net or self.model)(src, batch.src_len, tgt_in)  # (B, H, D, P)
        return self.model.loss(params.float(), tgt_out)

    def _scheduled(self, batch: SeriesBatch, share: float) -> torch.Tensor:
        """Decoder outputs (B, H, D, P) when each input is, with probability `share`, the
        model's own sample of the step before instead of the true value."""
        m, dev = self.model, self.device
        state = m.init_state(m.encode(batch.src.to(dev), batch.src_len))
        prev, cov, truth = batch.last.to(dev), batch.future_cov.to(dev), batch.tgt_out.to(dev)
        out = []
        for t in range(truth.size(1)):
            params, state, _ = m.step(torch.cat([prev, cov[:, t]], -1), state)
            out.append(params)
            own = torch.rand(prev.size(0), 1, device=dev) < share  # (B, 1)
            prev = torch.where(own, m.sample(params.detach()).to(prev.dtype), truth[:, t])
        return torch.stack(out, 1)

    # -- validation ----------------------------------------------------------------------

    def _dev_batches(self):
        n = len(self.dev_examples)
        for idx in inference_batches([0] * n, 256):
            yield collate_windows([self.dev_examples[i] for i in idx])

    @torch.no_grad()
    def dev_loss(self) -> tuple[float, int]:
        self.model.eval()
        total, n = 0.0, 0
        for batch in self._dev_batches():
            total += float(self._loss_sum(batch))
            n += batch.n_tgt_tokens
        return total, n

    @torch.no_grad()
    def dev_scores(self) -> dict:
        """The dev loss per value, and the point forecast's mean absolute error (in each
        window's scaled units: comparable across series)."""
        nll, n = self.dev_loss()
        err = 0.0
        for b in self._dev_batches():
            with self._autocast():
                path = point_path(
                    self.model,
                    b.src.to(self.device),
                    b.src_len,
                    b.last.to(self.device),
                    b.future_cov.to(self.device),
                )
            err += float((path.float().cpu() - b.tgt_out).abs().sum())
        return {"dev_loss": nll / n, "dev_mae_scaled": err / n}
