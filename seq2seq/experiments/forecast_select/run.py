"""Train the candidates, choose on dev, test the choice: the selection's steps.

Runs go to OUT/DATASET/CANDIDATE/seedN (`trainings`: resumable, a finished run is kept); the
results go to OUT/selection.json and OUT/selection.md.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from ...data.series import Series
from ...data.windows import origins
from ...forecasting.ensemble import combine_paths
from ...forecasting.evaluate import baseline_scores, score_samples
from ...forecasting.forecaster import Forecaster, Paths
from .spec import SelectionSpec
from .trainings import refit, refit_record, run_dir, train_all, training_minutes


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


@dataclass
class Picked:
    """One series' choice on dev: the series (and its column d), its origins, every choice's
    dev scores and the pick (label, candidate, seeds, combine)."""

    series: Series
    d: int
    at: dict[str, list[int]]
    dev: dict
    pick: tuple

    @property
    def members(self) -> set[tuple[str, int]]:
        return {(self.pick[1], s) for s in self.pick[2]}


def load_members(spec: SelectionSpec, ds: str, out: Path) -> dict:
    """Every (candidate, seed) run of the dataset, as trained for the choice on dev."""
    return {
        (c.name, s): Forecaster.load(run_dir(out, ds, c.name, s), device="cpu")
        for c in spec.candidates
        for s in spec.seeds
    }


def choose_dataset(spec: SelectionSpec, ds: str, members: dict, log=print) -> dict[str, Picked]:
    """Per series of the dataset (by column): every choice's dev scores and the pick."""
    first = next(iter(members.values()))
    cfg = first.cfg.data.series
    picked = {}
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
            picked[column] = Picked(series, d, at, dev, pick)
    return picked


def forecast_test(spec: SelectionSpec, picked: dict[str, Picked], members: dict, log=print) -> dict:
    """Per series: the pick's test scores (forecast by `members`: the runs chosen on dev, or
    their refits) beside the baselines' on the same test origins, its dev scores and label."""
    results = {}
    for column, p in picked.items():
        results[column] = _test(spec, members, p.series, p.d, at=p.at["test"], pick=p.pick, log=log)
        results[column].update(dev=p.dev, pick=p.pick[0])
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
    """Train, select on dev, refit the picks' members on train + dev if `spec.refit`, test
    the picks; write OUT/selection.json and OUT/selection.md, with `machine` (the record of
    `bench/machine.py`, `describe()`) in both."""
    from .report import goals, markdown

    data, out = Path(data), Path(out)
    start = time.time()
    train_all(spec, data, out, log)
    trained = time.time()
    members = {ds: load_members(spec, ds, out) for ds in spec.datasets}
    picked = {ds: choose_dataset(spec, ds, members[ds], log) for ds in spec.datasets}
    chosen = time.time()
    runs = {ds: refit_picks(spec, data, out, ds, picked[ds], log) for ds in spec.datasets}
    refitted = time.time()
    testers = {ds: _load(runs[ds]) if spec.refit else members[ds] for ds in spec.datasets}
    results = {
        ds: {"test": forecast_test(spec, picked[ds], testers[ds], log)} for ds in spec.datasets
    }
    summary = {
        "machine": machine,
        "spec": _spec_record(spec),
        "minutes": {
            "train": training_minutes(spec, out),
            "train_this_call": round((trained - start) / 60, 1),
            "select_and_test": round((time.time() - refitted + chosen - trained) / 60, 1),
        },
        "refit": refit_record(out, runs) if spec.refit else None,
        "results": results,
        "goals": goals(results),
    }
    if spec.refit:
        summary["minutes"]["refit_this_call"] = round((refitted - chosen) / 60, 1)
    (out / "selection.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "selection.md").write_text(markdown(summary), encoding="utf-8")
    return summary


def refit_picks(spec: SelectionSpec, data: Path, out: Path, ds: str, picked: dict, log) -> dict:
    """The refitted runs of every member of the dataset's picks ({} without `spec.refit`)."""
    if not spec.refit:
        return {}
    return refit(spec, data, out, ds, set().union(*(p.members for p in picked.values())), log)


def _load(runs: dict) -> dict:
    return {key: Forecaster.load(run, device="cpu") for key, run in runs.items()}


def _spec_record(spec: SelectionSpec) -> dict:
    return {
        "datasets": list(spec.datasets),
        "candidates": {c.name: list(c.overrides) for c in spec.candidates},
        "seeds": list(spec.seeds),
        "combine": list(spec.combine),
        "extra": list(spec.extra),
        "refit": spec.refit,
    }
