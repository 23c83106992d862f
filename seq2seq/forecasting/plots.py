"""Forecast plots: per series, the recent history, the forecast's point path and its 80 %
and 95 % intervals (from the sampled paths), and the actual values where they are known."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..analysis.plots import pyplot
from ..data.series import Series
from .forecaster import Paths


def plot_forecasts(
    items: list[tuple[Series, Paths]], path: str | Path, *, history: int = 0, title: str = ""
) -> Path:
    """One panel per series dimension; each forecast is its paths' first origin. `history`:
    how many values before the origin to show (0: four horizons)."""
    plt = pyplot()
    panels = [(s, p, d) for s, p in items for d in range(s.values.shape[1])]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.6 * len(panels)), dpi=110, squeeze=False)
    for ax, (series, paths, d) in zip(axes[:, 0], panels):
        t, H = paths.origins[0], paths.point.shape[1]
        shown = history or 4 * H
        past = np.arange(max(0, t - shown), t)
        future = np.arange(t, t + H)
        ax.plot(past, series.values[past, d], color="black", lw=1, label="history")
        known = future[future < len(series.values)]
        if len(known):
            ax.plot(known, series.values[known, d], color="black", lw=1, ls=":", label="actual")
        for level, alpha in ((95, 0.2), (80, 0.35)):
            lo = paths.quantile((100 - level) / 200)[0, :, d]
            hi = paths.quantile((100 + level) / 200)[0, :, d]
            ax.fill_between(future, lo, hi, color="tab:blue", alpha=alpha, lw=0, label=f"{level} %")
        joined = np.concatenate([series.values[t - 1 : t, d], paths.point[0, :, d]])
        ax.plot(np.arange(t - 1, t + H), joined, color="tab:blue", lw=1.5, label="forecast")
        ticks = np.linspace(past[0] if len(past) else t, t + H - 1, 5).astype(int)
        times = list(series.times) + series.clock.after(series.times[-1], H)
        ax.set_xticks(ticks, [times[i] for i in ticks], fontsize=8)
        ax.set_title(series.columns[d], fontsize=10)
        ax.legend(fontsize=7, loc="upper left", ncols=5)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
