"""An ensemble of forecasting runs (the same data settings, different seeds or configs): the
point forecast is the median (or mean) of the members' point forecasts, and the sampled paths
are the members' paths pooled, so the intervals carry the members' disagreement as well as
each one's own uncertainty (the DeepAR / N-BEATS practice of ensembling a few trainings).

An ensemble of one is its member; an ensemble of identical members forecasts as each of them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..data.series import Series
from ..errors import UserError
from .forecaster import Forecaster, Paths

COMBINE = ("median", "mean")  # how the members' point forecasts are combined


def combine_paths(members: list[Paths], how: str = "median") -> Paths:
    """One forecast from the members' forecasts of the same origins: the median or mean of
    their points (O, H, D), and their sampled paths pooled (O, sum of S, H, D)."""
    if how not in COMBINE:
        raise UserError(f"unknown ensemble combination {how!r}; use {' or '.join(COMBINE)}")
    if not members or any(m.origins != members[0].origins for m in members):
        raise UserError("an ensemble needs at least one member, all forecasting the same origins")
    points = np.stack([m.point for m in members])  # (K, O, H, D)
    point = np.median(points, axis=0) if how == "median" else points.mean(axis=0)
    samples = np.concatenate([m.samples for m in members], axis=1)  # (O, K * S, H, D)
    return Paths(list(members[0].origins), point, samples)


class EnsembleForecaster:
    """Forecasters of runs that read a series alike (context, horizon, columns, scaling may
    differ in the model but the horizon and the columns must agree)."""

    def __init__(self, members: list[Forecaster], combine: str = "median"):
        if combine not in COMBINE:
            raise UserError(f"unknown ensemble combination {combine!r}; use {' or '.join(COMBINE)}")
        if not members:
            raise UserError("an ensemble needs at least one run")
        first = members[0].cfg.data.series
        for m in members[1:]:
            s = m.cfg.data.series
            if (s.horizon, s.columns, s.joint) != (first.horizon, first.columns, first.joint):
                raise UserError(
                    f"{m.source}: horizon, columns or joint differ from {members[0].source}'s; "
                    "ensemble runs that forecast the same thing"
                )
        self.members, self.combine = members, combine
        self.cfg = members[0].cfg

    @classmethod
    def load(cls, runs: list[str | Path], device: str | None = None, combine: str = "median"):
        return cls([Forecaster.load(r, device) for r in runs], combine)

    def read(self, path: str | Path) -> list[Series]:
        return self.members[0].read(path)

    def forecast(
        self, series: Series, origins: list[int], *, samples: int = 200, seed: int = 0
    ) -> Paths:
        """Each member draws ceil(samples / K) paths; one member forecasts as the model."""
        each = math.ceil(samples / len(self.members))
        paths = [m.forecast(series, origins, samples=each, seed=seed) for m in self.members]
        return combine_paths(paths, self.combine)
