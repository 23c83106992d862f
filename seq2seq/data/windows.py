"""Series -> (past, future) windows for training and forecasting, with no look-ahead.

A window at origin t reads the `context` values before t and predicts the `horizon` values
from t on. It is scaled by its context alone (mean/std or mean-abs of what the model reads,
per series), so no statistic of the future leaks in. The last part of a series is held out
by rolling origin: `test_origins` origins, the last of which forecasts the series' final
values, and `dev_origins` before them; training windows end before the first dev origin, and
dev windows before the first test origin. Source reversal is a pure transform of the past.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..config import SeriesConfig
from ..errors import UserError
from .series import Series


@dataclass(frozen=True)
class Window:
    """One (past, future) pair, scaled: the encoder's input, the decoder's first input
    (the last past value), the covariates of the future steps, and the future itself (None
    when forecasting past the end of the data)."""

    past: np.ndarray  # (S, D + C) scaled values and their covariates, reversed if asked
    last: np.ndarray  # (D,) the last past value, scaled
    future_cov: np.ndarray  # (H, C)
    future: np.ndarray | None  # (H, D) scaled
    loc: np.ndarray  # (D,)
    scale: np.ndarray  # (D,)


def scaling(past: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(loc, scale) per dimension from the past (S, D) alone; a flat past scales by 1."""
    if kind == "none":
        return np.zeros(past.shape[1]), np.ones(past.shape[1])
    if kind == "meanabs":
        loc, scale = np.zeros(past.shape[1]), np.abs(past).mean(0)
    else:
        loc, scale = past.mean(0), past.std(0)
    return loc, np.where(scale > 1e-8 * (1 + np.abs(loc)), scale, 1.0)


def make_window(
    past: np.ndarray,
    past_cov: np.ndarray,
    future_cov: np.ndarray,
    future: np.ndarray | None,
    *,
    scaling_kind: str,
    reverse: bool,
) -> Window:
    """A window from raw values: past (S, D), covariates (S, C) and (H, C), future (H, D)."""
    loc, scale = scaling(past, scaling_kind)
    scaled = (past - loc) / scale  # (S, D)
    inputs = np.concatenate([scaled, past_cov], axis=1)  # (S, D + C)
    return Window(
        past=inputs[::-1].copy() if reverse else inputs,
        last=scaled[-1],
        future_cov=future_cov,
        future=None if future is None else (future - loc) / scale,
        loc=loc,
        scale=scale,
    )


def origins(n: int, cfg: SeriesConfig, name: str = "", path: str = "") -> dict[str, list[int]]:
    """The origins of a series of `n` values: training windows, dev and test forecasts.

    An origin t forecasts values t .. t + horizon - 1 from values t - context .. t - 1."""
    H, step = cfg.horizon, cfg.origin_step
    test = [n - H - k * step for k in reversed(range(cfg.test_origins))]
    dev_end = test[0]  # dev forecasts end where the test's first forecast starts
    dev = [dev_end - H - k * step for k in reversed(range(cfg.dev_origins))]
    train_end = dev[0] if dev else dev_end  # training futures end before the first dev origin
    if train_end - H < cfg.context:
        need = n - (train_end - H) + cfg.context
        raise UserError(
            f"{path}: series {name!r} has {n} values, but context {cfg.context}, horizon {H}, "
            f"{cfg.dev_origins} dev and {cfg.test_origins} test origins (every {step}) need at "
            f"least {need}; lower data.series.context, horizon, test_origins or dev_origins"
        )
    train = list(range(cfg.context, train_end - H + 1, cfg.window_step))
    return {"train": train, "dev": dev, "test": test}


def window_at(series: Series, t: int, cfg: SeriesConfig, cov: np.ndarray, reverse: bool) -> Window:
    """The window at origin t of a series whose values are known up to its end; `cov`
    (T', C) covers at least t + horizon steps (the calendar of the future is known)."""
    S, H, v = cfg.context, cfg.horizon, series.values
    future = v[t : t + H] if t + H <= len(v) else None
    return make_window(
        v[t - S : t],
        cov[t - S : t],
        cov[t : t + H],
        future,
        scaling_kind=cfg.scaling,
        reverse=reverse,
    )


def covariates(series: Series, cfg: SeriesConfig, extra: int = 0) -> np.ndarray:
    """Calendar covariates (T + extra, C) of the series' times and `extra` steps past its end;
    (T + extra, 0) without `calendar`."""
    times = list(series.times) + (series.clock.after(series.times[-1], extra) if extra else [])
    if not cfg.calendar:
        return np.zeros((len(times), 0))
    if series.clock.unit == "number":
        raise UserError(
            "data.series.calendar needs dates in the time column (YYYY-MM-DD or YYYY-MM), "
            f"but {series.name!r} has numbers; set calendar: false"
        )
    return series.clock.calendar(times)


def split_windows(
    series_list: list[Series], cfg: SeriesConfig, *, reverse: bool, path: str = ""
) -> dict[str, list[Window]]:
    """Training and dev windows of every series (the test is forecast from the series)."""
    out: dict[str, list[Window]] = {"train": [], "dev": []}
    for s in series_list:
        cov = covariates(s, cfg)
        at = origins(len(s.values), cfg, s.name, path)
        for split in out:
            out[split] += [window_at(s, t, cfg, cov, reverse) for t in at[split]]
    return out


@dataclass
class SeriesBatch:
    """Windows stacked as float32 tensors; `n_tgt_tokens` counts the values predicted."""

    src: torch.Tensor  # (B, S, F)
    src_len: torch.Tensor  # (B,)
    tgt_in: torch.Tensor  # (B, H, F): the previous value (scaled) and this step's covariates
    tgt_out: torch.Tensor  # (B, H, D); empty (B, 0, D) when forecasting past the data
    last: torch.Tensor  # (B, D)
    future_cov: torch.Tensor  # (B, H, C)
    loc: torch.Tensor  # (B, D)
    scale: torch.Tensor  # (B, D)
    n_tgt_tokens: int


def collate_windows(windows: list[Window]) -> SeriesBatch:
    def stack(name: str) -> torch.Tensor:
        return torch.as_tensor(np.stack([getattr(w, name) for w in windows]), dtype=torch.float32)

    src, last, cov = stack("past"), stack("last"), stack("future_cov")
    B, D = len(windows), last.size(1)
    if all(w.future is not None for w in windows):
        out = stack("future")  # (B, H, D)
        prev = torch.cat([last.unsqueeze(1), out[:, :-1]], 1)  # (B, H, D)
        tgt_in = torch.cat([prev, cov], -1)  # (B, H, D + C)
    else:
        out, tgt_in = torch.zeros(B, 0, D), torch.zeros(B, 0, src.size(-1))
    src_len = torch.full((B,), src.size(1), dtype=torch.long)
    return SeriesBatch(
        src, src_len, tgt_in, out, last, cov, stack("loc"), stack("scale"), out.numel()
    )


def series_state(series_list: list[Series], cfg: SeriesConfig) -> dict:
    """What a forecasting checkpoint keeps of its data (in the place of a text run's
    tokenizers and vocabularies): the series, the input and target sizes, the clock."""
    first = series_list[0]
    return {
        "kind": "series",
        "series": [s.name for s in series_list],
        "targets": int(first.values.shape[1]),
        "covariates": int(covariates(first, cfg).shape[1]),
        "unit": first.clock.unit,
    }
