"""A series run's test: rolling-origin forecasts of the model and of the baselines over the
last part of each series, scored in one run and written to `RUN/metrics.json`.

At each test origin t every method reads the values before t only and forecasts the next
`horizon` values. Per series and method: MASE (scaled by the in-sample seasonal naive error
of the history before t), sMAPE, CRPS on the same scale, and the share of values inside the
central 80 % and 95 % intervals; each the mean over the origins. The model's intervals and
CRPS come from its sampled paths, the baselines' from their Gaussian forecasts.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import numpy as np

from ..config import load_config
from ..data.windows import origins
from ..evaluation import coverage, crps_gaussian, crps_samples, mase, mase_scale, smape
from . import baselines
from .forecaster import Forecaster

Z = {80: 1.2815515655446004, 95: 1.959963984540054}  # central intervals of a Gaussian


def score_samples(y, at, H, m, point, paths) -> dict:
    """Metrics of the model at origins `at` of one dimension: point (O, H), paths (O, S, H)."""
    rows = []
    for k, t in enumerate(at):
        truth, scale = y[t : t + H], mase_scale(y[:t], m)
        row = {
            "mase": mase(truth, point[k], scale),
            "smape": smape(truth, point[k]),
            "crps": crps_samples(paths[k], truth) / scale,
        }
        for level in Z:
            lo, hi = np.quantile(paths[k], [(100 - level) / 200, (100 + level) / 200], axis=0)
            row[f"coverage{level}"] = coverage(lo, hi, truth)
        rows.append(row)
    return _mean(rows)


def score_gaussian(y, at, H, m, forecasts) -> dict:
    rows = []
    for t, f in zip(at, forecasts):
        truth, scale = y[t : t + H], mase_scale(y[:t], m)
        row = {
            "mase": mase(truth, f.mean, scale),
            "smape": smape(truth, f.mean),
            "crps": crps_gaussian(f.mean, f.std, truth) / scale,
        }
        for level, z in Z.items():
            row[f"coverage{level}"] = coverage(f.mean - z * f.std, f.mean + z * f.std, truth)
        rows.append(row)
    return _mean(rows)


def _mean(rows: list[dict]) -> dict:
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def _one_blas_thread():
    """statsmodels' fits multiply small matrices: BLAS threads only fight over the cores (on a
    busy 2-core machine ARIMA's search took 10-100x longer with them). The limit reaches only
    the libraries loaded when it is set, so statsmodels (and scipy's BLAS) is loaded first."""
    try:
        from statsmodels.tsa.arima.model import ARIMA  # noqa: F401
        from threadpoolctl import threadpool_limits
    except ModuleNotFoundError:
        return contextlib.nullcontext()
    return threadpool_limits(1)


def baseline_scores(y, at, H, m, log) -> tuple[dict, dict, dict]:
    """Each baseline's scores, its chosen model, its seconds."""
    with _one_blas_thread():
        return _run_baselines(y, at, H, m, log)


def _run_baselines(y, at, H, m, log) -> tuple[dict, dict, dict]:
    scores, chosen, seconds = {}, {}, {}
    for name, run in (
        ("naive", lambda: (baselines.naive(y, at, H), "")),
        ("seasonal naive", lambda: (baselines.naive(y, at, H, m), f"m={m}")),
        ("ETS", lambda: baselines.ets(y, at, H, m)),
        ("ARIMA", lambda: baselines.arima(y, at, H, m)),
    ):
        start = time.perf_counter()
        forecasts, chosen[name] = run()
        seconds[name] = round(time.perf_counter() - start, 1)
        scores[name] = score_gaussian(y, at, H, m, forecasts)
        log(
            f"  {name} {chosen[name]}".rstrip()
            + f": MASE {scores[name]['mase']:.3f} ({seconds[name]} s)"
        )
    return scores, chosen, seconds


def evaluate_series_run(
    run_dir: str | Path, *, samples: int = 200, with_baselines: bool = True, log=print
) -> dict:
    """Score the run's best model and the baselines on the test origins; writes metrics.json."""
    run_dir = Path(run_dir)
    cfg = load_config(run_dir / "config.yaml")
    s = cfg.data.series
    forecaster = Forecaster.load(run_dir, device="cpu")
    results: dict = {}
    for series in forecaster.read(s.csv):
        at = origins(len(series.values), s, series.name, s.csv)["test"]
        start = time.perf_counter()
        paths = forecaster.forecast(series, at, samples=samples)
        model_seconds = round(time.perf_counter() - start, 1)
        for d, column in enumerate(series.columns):
            y = series.values[:, d]
            log(f"{column}: {len(at)} origins, horizon {s.horizon}")
            model = score_samples(
                y, at, s.horizon, s.season, paths.point[..., d], paths.samples[..., d]
            )
            log(f"  seq2seq: MASE {model['mase']:.3f} ({model_seconds} s)")
            entry = {"seq2seq": model}
            chosen, seconds = {}, {"seq2seq": model_seconds}
            if with_baselines:
                scores, chosen, more = baseline_scores(y, at, s.horizon, s.season, log)
                entry.update(scores)
                seconds.update(more)
            results[column] = {"scores": entry, "models": chosen, "seconds": seconds}
    metrics = {
        "test": results,
        "origins": s.test_origins,
        "origin_step": s.origin_step,
        "horizon": s.horizon,
        "season": s.season,
        "samples": samples,
    }
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics


METHODS = ("seq2seq", "naive", "seasonal naive", "ETS", "ARIMA")


def markdown_table(runs: dict[str, dict]) -> str:
    """A table of MASE / sMAPE per method, and the model's 80 / 95 % coverage, one row per
    series of the runs' metrics (name -> metrics.json's content), labelled `name: column`
    where the two differ."""
    head = "| series | " + " | ".join(METHODS) + " | seq2seq 80 % / 95 % coverage |"
    lines = [head, "|---" * (len(METHODS) + 2) + "|"]
    for name, results in runs.items():
        for column, r in results["test"].items():
            label = column if column == name else f"{name}: {column}"
            sc = r["scores"]
            best = min(sc[m]["mase"] for m in METHODS if m in sc)
            cells = []
            for m in METHODS:
                if m not in sc:
                    cells.append("–")
                    continue
                text = f"{sc[m]['mase']:.3f} / {sc[m]['smape']:.2f}"
                cells.append(f"**{text}**" if sc[m]["mase"] == best else text)
            cov = sc["seq2seq"]
            lines.append(
                f"| {label} | " + " | ".join(cells) + f" | {cov['coverage80']:.0%} / "
                f"{cov['coverage95']:.0%} |"
            )
    return "\n".join(lines) + "\n"
