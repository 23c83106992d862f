"""The forecasting selection end to end on a generated series: an ensemble of one run
forecasts as the run, identical members as each of them, and the study picks on dev, tests
only its pick and writes the results with the machine."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from test_forecast import quiet, series_config, write_csv

from seq2seq.config import config_from_dict
from seq2seq.data.windows import origins
from seq2seq.experiments.forecast_select import Candidate, SelectionSpec, run_selection
from seq2seq.forecasting import Forecaster
from seq2seq.forecasting.ensemble import EnsembleForecaster
from seq2seq.training import train

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


def test_the_selection_picks_on_dev_and_tests_only_the_pick(tmp_path):
    data, configs = tmp_path / "data", tmp_path / "configs"
    data.mkdir(), configs.mkdir()
    write_csv(data / "sunspots.csv", 120, noise=0.1)  # a stand-in under a built-in name
    raw = series_config("unused", **STEPS)
    (configs / "forecast-sunspots.yaml").write_text(yaml.safe_dump(raw))
    spec = SelectionSpec(
        datasets=("sunspots",),
        candidates=(Candidate("base"), Candidate("wide", ("model.hidden_size=48",))),
        seeds=(1, 2),
        dev_samples=8,
        test_samples=8,
        configs=str(configs),
    )
    machine = {"when": "now", "cpu": "x", "cpu_family": "y", "flags": ["avx2"], "cpus": 2}
    machine.update(threads=1, torch="2.13.0")
    summary = run_selection(spec, data, tmp_path / "out", machine=machine, log=quiet)
    r = summary["results"]["sunspots"]["test"]["sine"]
    assert set(r["dev"]) == {
        f"{c} {k}" for c in ("base", "wide") for k in ("seed 1", "median of 2", "mean of 2")
    }
    assert r["pick"] == min(r["dev"], key=lambda k: r["dev"][k]["mase"])
    assert set(r["scores"]) == {"seq2seq", "naive", "seasonal naive", "ETS", "ARIMA"}
    saved = json.loads((tmp_path / "out" / "selection.json").read_text())
    assert saved["machine"] == machine
    assert (
        "Machine: x (y; avx2), 2 CPUs, 1 torch threads"
        in (tmp_path / "out" / "selection.md").read_text()
    )
    assert saved["goals"]["series"] == 1 and saved["minutes"]["train"] >= 0
    assert "| sunspots: sine |" in (tmp_path / "out" / "selection.md").read_text()


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
