"""The forecasting selection end to end on a generated series: an ensemble of one run
forecasts as the run, identical members as each of them, and the study picks on dev, tests
only its pick and writes the results with the machine; a refit on train + dev changes only
the runs that forecast the test, and no window it trains on reaches the test."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
import yaml
from test_forecast import quiet, series_config, write_csv

from seq2seq.config import config_from_dict
from seq2seq.data.windows import origins
from seq2seq.experiments.forecast_select import Candidate, SelectionSpec, run_selection
from seq2seq.experiments.forecast_select.run import choices
from seq2seq.experiments.forecast_select.trainings import (
    DONE,
    kept_step,
    refit_config,
    refit_dir,
    run_config,
    run_dir,
)
from seq2seq.forecasting import Forecaster
from seq2seq.forecasting.ensemble import EnsembleForecaster
from seq2seq.training import ForecastTrainer, train

STEPS = {"train": {"max_steps": 30, "valid_every": 10}}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("ens")
    csv = write_csv(root / "s.csv", 120, noise=0.1)
    cfg = config_from_dict(series_config(csv, **STEPS))
    train(cfg, root / "run", progress=False, log=quiet)
    return root / "run", csv, cfg


def test_an_ensemble_of_one_run_forecasts_as_the_run(run):
    path, csv, cfg = run
    single = Forecaster.load(path, device="cpu")
    (series,) = single.read(csv)
    at = origins(120, cfg.data.series)["test"]
    a = single.forecast(series, at, samples=16, seed=3)
    for how in ("median", "mean"):
        b = EnsembleForecaster.load([path], device="cpu", combine=how).forecast(
            series, at, samples=16, seed=3
        )
        assert np.array_equal(a.point, b.point) and np.array_equal(a.samples, b.samples)
    two = EnsembleForecaster.load([path, path], device="cpu").forecast(
        series, at, samples=16, seed=3
    )
    half = single.forecast(series, at, samples=8, seed=3)
    assert np.array_equal(two.point, a.point)
    assert np.array_equal(two.samples, np.concatenate([half.samples, half.samples], 1))


MACHINE = {"when": "now", "cpu": "x", "cpu_family": "y", "flags": ["avx2"], "cpus": 2}
MACHINE.update(threads=1, torch="2.13.0")


def study(root, **series):
    """A data folder with a generated series under a built-in name, a configs folder with
    its config (the test's small model, `series` merged into data.series), and a spec."""
    data, configs = root / "data", root / "configs"
    data.mkdir(), configs.mkdir()
    write_csv(data / "sunspots.csv", 120, noise=0.1)  # a stand-in under a built-in name
    raw = series_config("unused", data={"series": series}, **STEPS)
    (configs / "forecast-sunspots.yaml").write_text(yaml.safe_dump(raw))
    spec = SelectionSpec(
        datasets=("sunspots",),
        candidates=(Candidate("base"), Candidate("wide", ("model.hidden_size=48",))),
        seeds=(1, 2),
        dev_samples=8,
        test_samples=8,
        configs=str(configs),
    )
    return spec, data


@pytest.fixture(scope="module")
def selected(tmp_path_factory):
    """A selection without refit: its spec, data folder, output folder and summary."""
    root = tmp_path_factory.mktemp("select")
    spec, data = study(root)
    summary = run_selection(spec, data, root / "out", machine=MACHINE, log=quiet)
    return spec, data, root / "out", summary


def test_the_selection_picks_on_dev_and_tests_only_the_pick(selected):
    spec, _, out, summary = selected
    r = summary["results"]["sunspots"]["test"]["sine"]
    assert set(r["dev"]) == {
        f"{c} {k}" for c in ("base", "wide") for k in ("seed 1", "median of 2", "mean of 2")
    }
    assert r["pick"] == min(r["dev"], key=lambda k: r["dev"][k]["mase"])
    assert set(r["scores"]) == {"seq2seq", "naive", "seasonal naive", "ETS", "ARIMA"}
    saved = json.loads((out / "selection.json").read_text())
    assert saved["machine"] == MACHINE
    md = (out / "selection.md").read_text()
    assert "Machine: x (y; avx2), 2 CPUs, 1 torch threads" in md
    assert saved["goals"]["series"] == 1 and saved["minutes"]["train"] >= 0
    assert "| sunspots: sine |" in md
    assert saved["spec"]["refit"] is False and saved["refit"] is None
    assert "as chosen on dev (trained on the windows before the first dev origin; no refit)" in md


def without_seconds(results: dict) -> dict:
    """The results less their timings (the one part two calls do not share)."""
    return {
        ds: {
            "test": {
                col: {k: v for k, v in r.items() if k != "seconds"} for col, r in d["test"].items()
            }
        }
        for ds, d in results.items()
    }


def test_a_refit_changes_only_who_forecasts_the_test(selected, tmp_path):
    """The dev scores, the picks and the baselines stay; the pick's members are trained again,
    each for the steps of its dev-fit run's kept checkpoint, and forecast the test. A call
    without refit on the same folder then gives the first call's results again, and a second
    call with refit reuses the refits."""
    spec, data, first, off = selected
    out = shutil.copytree(first, tmp_path / "out")
    logs = []
    on = run_selection(replace(spec, refit=True), data, out, machine=MACHINE, log=logs.append)
    r_off, r_on = (s["results"]["sunspots"]["test"]["sine"] for s in (off, on))
    assert r_on["dev"] == r_off["dev"] and r_on["pick"] == r_off["pick"]
    assert r_on["models"] == r_off["models"]
    baselines = [k for k in r_off["scores"] if k != "seq2seq"]
    assert all(r_on["scores"][k] == r_off["scores"][k] for k in baselines)
    assert r_on["scores"]["seq2seq"] != r_off["scores"]["seq2seq"]
    pick = next(c for c in choices(spec) if c[0] == r_on["pick"])
    members = on["refit"]["runs"]["sunspots"]
    assert set(members) == {f"{pick[1]} seed {s}" for s in pick[2]}
    for label, m in members.items():
        name, _, seed = label.split()
        assert m["budget_steps"] == kept_step(run_dir(out, "sunspots", name, int(seed)))
        assert m["steps"] == m["budget_steps"] and m["seconds"] >= 0
        assert (refit_dir(out, "sunspots", name, int(seed)) / DONE).is_file()
    assert sum("refit on train + dev" in m for m in logs) == len(members)
    saved = json.loads((out / "selection.json").read_text())
    assert saved["spec"]["refit"] is True and saved["refit"]["minutes"] >= 0
    assert f"refitted on train + dev ({len(members)} runs" in (out / "selection.md").read_text()
    again = run_selection(spec, data, out, machine=MACHINE, log=quiet)
    assert without_seconds(again["results"]) == without_seconds(off["results"])
    logs.clear()
    twice = run_selection(replace(spec, refit=True), data, out, machine=MACHINE, log=logs.append)
    assert not any("trained in" in m for m in logs)
    assert without_seconds(twice["results"]) == without_seconds(on["results"])


def test_no_refit_training_window_reaches_the_first_test_origin(tmp_path):
    """The windows the trainer sees: a refit's futures end right before the first test
    origin (the dev period is in), the dev-fit run's before the first dev origin. Each value
    is its own time index, unscaled, so each future names the last step it covers."""
    n = 90
    spec, data = study(
        tmp_path, columns=["v"], scaling="none", origin_step=2, test_origins=5, dev_origins=4
    )
    (data / "sunspots.csv").write_text("t,v\n" + "".join(f"{i},{i}\n" for i in range(n)))
    cand = spec.candidates[0]
    first = run_config(spec, data, "sunspots", cand, 1)
    again = refit_config(spec, data, "sunspots", cand, 1, steps=5)
    at = origins(n, first.data.series)
    assert origins(n, again.data.series)["test"] == at["test"]
    for cfg, end in ((first, at["dev"][0]), (again, at["test"][0])):
        trainer = ForecastTrainer(cfg, tmp_path / f"run-{end}", progress=False, log=quiet)
        assert max(w.future.max() for w in trainer.train_examples) == end - 1
        trainer.close()
    assert trainer.dev_examples == [] and trainer.total_steps() == 5
    assert trainer.cfg.train.patience == 0


def test_the_cli_forecasts_with_an_ensemble_of_runs(run, tmp_path):
    from seq2seq.cli import main

    path, csv, _ = run
    outs = {}
    for name, models in (("one", [str(path)]), ("two", [str(path), str(path)])):
        outs[name] = tmp_path / f"{name}.csv"
        args = ["forecast", "--model", *models, "--csv", str(csv), "-o", str(outs[name])]
        assert main([*args, "--samples", "20", "--combine", "mean"]) == 0
    points = {k: [r.split(",")[3] for r in v.read_text().splitlines()[1:]] for k, v in outs.items()}
    assert points["one"] == points["two"] and len(points["one"]) == 6
