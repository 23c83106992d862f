"""Statistical baselines, forecast from the same rolling origins as the model, with no
look-ahead: each is fitted on the values before the first test origin, and at an origin t
it forecasts from the values before t alone.

- `naive`: the last value; `seasonal naive`: the value one season before. Their intervals
  are Gaussian with the random-walk widths of Hyndman & Athanasopoulos (FPP3, 5.5), from the
  residuals of the history before t.
- `ETS`: the linear exponential-smoothing state-space models (additive errors; no, additive
  or damped trend; no or additive season), the one of least AICc
  (`statsmodels.tsa.statespace.exponential_smoothing`).
- `ARIMA`: orders chosen as R's `auto.arima` does (Hyndman & Khandakar, 2008): d by
  repeated KPSS tests (5 %), D = 1 when the STL seasonal strength is at least 0.64, then a
  stepwise search over p, q <= 3 and P, Q <= 1 from four starting models by AICc, with a
  constant (d + D = 0) or a drift (d + D = 1) where the data allow one
  (`statsmodels.tsa.arima.model.ARIMA`).

At a later origin ETS and ARIMA keep their fitted parameters and re-run their filter over
the longer history (`results.apply`); that is how a deployed model would be updated.
statsmodels is the `forecast` extra.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import UserError


@dataclass(frozen=True)
class Forecast:
    """One origin's forecast: the mean path (H,) and its Gaussian standard deviations."""

    mean: np.ndarray
    std: np.ndarray


def naive(y: np.ndarray, origins: list[int], horizon: int, season: int = 1) -> list[Forecast]:
    """The value `season` steps before each future step (season 1: the last value)."""
    out = []
    h = np.arange(horizon)
    for t in origins:
        hist = y[:t]
        mean = hist[t - season + h % season]
        resid = hist[season:] - hist[:-season]
        sigma = math.sqrt(float(np.mean(resid**2))) if len(resid) else 0.0
        out.append(Forecast(mean, sigma * np.sqrt(h // season + 1)))
    return out


def _statsmodels():
    try:
        import statsmodels  # noqa: F401
    except ModuleNotFoundError:
        raise UserError(
            "ETS and ARIMA baselines need statsmodels: pip install 'seq2seq[forecast]'"
        ) from None


def _rolling(results, y: np.ndarray, origins: list[int], horizon: int) -> list[Forecast]:
    out = []
    for t in origins:
        f = (results if t == results.nobs else results.apply(y[:t])).get_forecast(horizon)
        out.append(Forecast(np.asarray(f.predicted_mean), np.asarray(f.se_mean)))
    return out


def ets(y: np.ndarray, origins: list[int], horizon: int, season: int) -> tuple[list, str]:
    """ETS forecasts and the model chosen, e.g. `ETS(A,Ad,A) m=12`."""
    _statsmodels()
    from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing

    fit = y[: origins[0]]
    best, name = None, ""
    seasons = (None, season) if season > 1 and len(fit) >= 3 * season else (None,)
    for trend, damped in ((False, False), (True, False), (True, True)):
        for s in seasons:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    res = ExponentialSmoothing(
                        fit, trend=trend, damped_trend=damped, seasonal=s
                    ).fit(disp=False)
                except (ValueError, np.linalg.LinAlgError):
                    continue
            if np.isfinite(res.aicc) and (best is None or res.aicc < best.aicc):
                t = "Ad" if damped else "A" if trend else "N"
                best, name = res, f"ETS(A,{t},{'A' if s else 'N'})"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _rolling(best, y, origins, horizon), name + (f" m={season}" if "A)" in name else "")


def ndiffs(y: np.ndarray, max_d: int = 2) -> int:
    """Differences until a KPSS test (level, 5 %) no longer rejects stationarity."""
    from statsmodels.tsa.stattools import kpss

    d = 0
    while d < max_d and len(y) > 10:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = kpss(y, regression="c", nlags="auto")[1]
        if p >= 0.05:
            break
        y, d = np.diff(y), d + 1
    return d


def nsdiffs(y: np.ndarray, season: int) -> int:
    """1 when the STL seasonal strength (Wang, Smith & Hyndman, 2006) is at least 0.64."""
    if season < 2 or len(y) < 2 * season + 1:
        return 0
    from statsmodels.tsa.seasonal import STL

    r = STL(y, period=season).fit()
    strength = 1 - np.var(r.resid) / max(np.var(r.resid + r.seasonal), 1e-12)
    return int(strength >= 0.64)


def _arima_fit(y, order, seasonal, trend):
    from statsmodels.tsa.arima.model import ARIMA

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = ARIMA(y, order=order, seasonal_order=seasonal, trend=trend).fit()
        except (ValueError, np.linalg.LinAlgError):
            return None
    return res if np.isfinite(res.aicc) else None


def arima(y: np.ndarray, origins: list[int], horizon: int, season: int) -> tuple[list, str]:
    """Auto-ARIMA forecasts and the orders chosen, e.g. `ARIMA(1,1,1)(0,1,1)12`."""
    _statsmodels()
    fit = y[: origins[0]]
    m = season if season > 1 and len(fit) >= 3 * season else 1
    D = nsdiffs(fit, m)
    d = ndiffs(np.diff(fit, m) if D else fit)
    trend = "c" if d + D == 0 else "t" if d + D == 1 else "n"
    tried: dict = {}

    def score(p, q, P, Q):
        key = (p, q, P, Q)
        if key not in tried:
            seasonal = (P, D, Q, m) if m > 1 else (0, 0, 0, 0)
            tried[key] = _arima_fit(fit, (p, d, q), seasonal, trend)
        r = tried[key]
        return math.inf if r is None else r.aicc

    starts = [(2, 2, 1, 1), (0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1)]
    if m == 1:
        starts = [(p, q, 0, 0) for p, q, _, _ in starts]
    best = min(starts, key=lambda k: score(*k))
    improved = True
    while improved:
        improved = False
        for i, delta in ((0, 1), (0, -1), (1, 1), (1, -1), (2, 1), (2, -1), (3, 1), (3, -1)):
            if m == 1 and i >= 2:
                continue
            cand = list(best)
            cand[i] += delta
            if not (0 <= cand[0] <= 3 and 0 <= cand[1] <= 3 and 0 <= cand[2] <= 1 >= cand[3] >= 0):
                continue
            if score(*cand) < score(*best):
                best, improved = tuple(cand), True
    p, q, P, Q = best
    name = f"ARIMA({p},{d},{q})" + (f"({P},{D},{Q}){m}" if m > 1 else "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _rolling(tried[best], y, origins, horizon), name + (" drift" if trend == "t" else "")
