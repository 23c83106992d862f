"""Train the candidates, choose on dev, test the choice: the selection's steps.

Runs go to OUT/DATASET/CANDIDATE/seedN (`trainings`: resumable, a finished run is kept); the
results go to OUT/selection.json and OUT/selection.md.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ...data.series import Series
from ...data.windows import origins
from ...forecasting.ensemble import combine_paths
from ...forecasting.evaluate import baseline_scores, score_samples
from ...forecasting.forecaster import Forecaster, Paths
from .spec import SelectionSpec
from .trainings import run_dir, train_all, training_minutes


def choices(spec: SelectionSpec) -> list[tuple[str, str, tuple[int, ...], str]]:
    """(label, candidate, seeds, combine) of every choice scored on dev: each candidate's
    first seed alone, then its ensembles of all seeds."""
    out = []
    for cand in spec.candidates:
        out.append((f"{cand.name} seed {spec.seeds[0]}", cand.name, spec.seeds[:1], "median"))
        if len(spec.seeds) > 1:
            for how in spec.combine:
                label = f"{cand.name} {how} of {len(spec.seeds)}"
                out.append((label, cand.name, spec.seeds, how))
    return out


def _forecasts(members: dict, series: Series, at: list[int], samples: int) -> dict:
    """Each member's Paths at origins `at` of one series (the dataset's, which every member
    reads alike), keyed by (candidate, seed)."""
    return {key: fc.forecast(series, at, samples=samples) for key, fc in members.items()}


def _choose(paths: dict, choice) -> Paths:
    _, cand, seeds, how = choice
    return combine_paths([paths[(cand, s)] for s in seeds], how)


def select_dataset(spec: SelectionSpec, ds: str, out: Path, log=print) -> dict:
    """Per series of the dataset: every choice's dev scores, the pick, and its test scores
    beside the baselines' (computed on the same test origins)."""
    members = {
        (c.name, s): Forecaster.load(run_dir(out, ds, c.name, s), device="cpu")
        for c in spec.candidates
        for s in spec.seeds
    }
    first = next(iter(members.values()))
    cfg = first.cfg.data.series
    results = {}
    for series in first.read(cfg.csv):
        at = origins(len(series.values), cfg, series.name, cfg.csv)
        dev_paths = _forecasts(members, series, at["dev"], spec.dev_samples)
        for d, column in enumerate(series.columns):
            y = series.values[:, d]
            dev = {}
            for choice in choices(spec):
                p = _choose(dev_paths, choice)
                dev[choice[0]] = score_samples(
                    y, at["dev"], cfg.horizon, cfg.season, p.point[..., d], p.samples[..., d]
                )
            pick = min(choices(spec), key=lambda c: dev[c[0]]["mase"])  # first of equals
            log(f"{ds}: {column}: picked {pick[0]} (dev MASE {dev[pick[0]]['mase']:.3f})")
            results[column] = _test(spec, members, series, d, at=at["test"], pick=pick, log=log)
            results[column].update(dev=dev, pick=pick[0])
    return results


def _test(spec, members, series, d: int, *, at: list[int], pick, log) -> dict:
    """The pick's test scores, and the baselines' on the same origins."""
    cfg = next(iter(members.values())).cfg.data.series
    start = time.perf_counter()
    test_paths = _forecasts(
        {(pick[1], s): members[(pick[1], s)] for s in pick[2]},
        series,
        at,
        -(-spec.test_samples // len(pick[2])),
    )
    p = _choose(test_paths, pick)
    seconds = {"seq2seq": round(time.perf_counter() - start, 1)}
    y = series.values[:, d]
    scores = {
        "seq2seq": score_samples(y, at, cfg.horizon, cfg.season, p.point[..., d], p.samples[..., d])
    }
    base, chosen, more = baseline_scores(y, at, cfg.horizon, cfg.season, log)
    scores.update(base)
    seconds.update(more)
    chosen["seq2seq"] = pick[0]
    return {"scores": scores, "models": chosen, "seconds": seconds}


def run_selection(
    spec: SelectionSpec, data: str | Path, out: str | Path, *, machine: dict, log=print
) -> dict:
    """Train, select on dev, test the picks; write OUT/selection.json and OUT/selection.md,
    with `machine` (the record of `bench/machine.py`, `describe()`) in both."""
    from .report import goals, markdown

    data, out = Path(data), Path(out)
    start = time.time()
    train_all(spec, data, out, log)
    trained = time.time()
    results = {ds: {"test": select_dataset(spec, ds, out, log)} for ds in spec.datasets}
    summary = {
        "machine": machine,
        "spec": {
            "datasets": list(spec.datasets),
            "candidates": {c.name: list(c.overrides) for c in spec.candidates},
            "seeds": list(spec.seeds),
            "combine": list(spec.combine),
            "extra": list(spec.extra),
        },
        "minutes": {
            "train": training_minutes(spec, out),
            "train_this_call": round((trained - start) / 60, 1),
            "select_and_test": round((time.time() - trained) / 60, 1),
        },
        "results": results,
        "goals": goals(results),
    }
    (out / "selection.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "selection.md").write_text(markdown(summary), encoding="utf-8")
    return summary
