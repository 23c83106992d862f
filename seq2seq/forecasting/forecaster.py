"""A trained series model, loaded from its run: forecasts from given origins of a series, as
a point path and sampled paths in the series' own units.

`Forecaster.load(RUN)` reads the checkpoint (`weights_only=True`, as every checkpoint);
`read(csv)` reads a CSV with the run's `data.series` settings (the time column, the value
columns, joint or not) and checks it fits the model; `forecast(series, origins)` decodes
every origin's window through the step protocol (`decoding.forecast`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import checkpoints
from ..data.series import Series, read_series
from ..data.windows import collate_windows, covariates, window_at
from ..decoding.forecast import point_path, sample_paths
from ..errors import UserError


@dataclass
class Paths:
    """Forecasts from O origins of one series: the point path (O, H, D) and `samples`
    sampled paths (O, S, H, D), in the series' units."""

    origins: list[int]
    point: np.ndarray
    samples: np.ndarray

    def quantile(self, level: float) -> np.ndarray:
        """(O, H, D): the sampled paths' quantile at `level`, per step."""
        return np.quantile(self.samples, level, axis=1)


class Forecaster:
    def __init__(self, ckpt: checkpoints.Checkpoint, device: str = "cpu"):
        if ckpt.config.data.dataset != "series":
            raise UserError(
                f"{ckpt.source}: a text model, not a forecasting one; pass a run "
                "trained with data.dataset: series"
            )
        self.source, self.cfg, self.spec = ckpt.source, ckpt.config, ckpt.processor
        self.device = torch.device(device)
        self.model = checkpoints.load_model(ckpt, self.device).eval()

    @classmethod
    def load(cls, run: str | Path, device: str | None = None) -> Forecaster:
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        return cls(checkpoints.read(run), device)

    def read(self, path: str | Path) -> list[Series]:
        """The series of a CSV, read as the model's training data was."""
        s = self.cfg.data.series
        series = read_series(
            str(path), time=s.time, columns=s.columns, joint=s.joint, trading_days=s.trading_days
        )
        for one in series:
            if one.values.shape[1] != self.spec["targets"]:
                raise UserError(
                    f"{path}: {one.values.shape[1]} value column(s) per series, but the model "
                    f"forecasts {self.spec['targets']}; give the columns it was trained on"
                )
            if s.calendar and one.clock.unit != self.spec["unit"]:
                raise UserError(
                    f"{path}: its times step by {one.clock.unit}, but the model was trained on "
                    f"times that step by {self.spec['unit']} (its calendar features differ)"
                )
        return series

    @torch.no_grad()
    def forecast(
        self, series: Series, origins: list[int], *, samples: int = 200, seed: int = 0
    ) -> Paths:
        """Forecasts from each origin t (len(series) = past its end): the model reads the
        `context` values before t and nothing after."""
        s, H = self.cfg.data.series, self.cfg.data.series.horizon
        bad = [t for t in origins if not s.context <= t <= len(series.values)]
        if bad:
            raise UserError(
                f"series {series.name!r}: {len(series.values)} values, too few to forecast from "
                f"origin {bad[0]} with a context of {s.context}; give a longer history"
            )
        cov = covariates(series, s, extra=H)
        g = torch.Generator(device=self.device).manual_seed(seed)
        points, paths = [], []
        for i in range(0, len(origins), 64):
            wins = [
                window_at(series, t, s, cov, self.cfg.data.reverse_source)
                for t in origins[i : i + 64]
            ]
            b = collate_windows(wins)
            args = [x.to(self.device) for x in (b.src, b.src_len, b.last, b.future_cov)]
            p = point_path(self.model, *args)  # (B, H, D)
            sp = sample_paths(self.model, *args, samples=samples, generator=g)  # (B, S, H, D)
            loc, scale = b.loc.to(self.device), b.scale.to(self.device)  # (B, D)
            points.append((p * scale[:, None] + loc[:, None]).cpu())
            paths.append((sp * scale[:, None, None] + loc[:, None, None]).cpu())
        return Paths(
            list(origins), torch.cat(points).double().numpy(), torch.cat(paths).double().numpy()
        )
