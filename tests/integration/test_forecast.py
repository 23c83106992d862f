"""Forecasting end to end: a tiny model fits a sine wave, a resumed run equals an
uninterrupted one (also after a SIGTERM), and the CLI trains, scores against the baselines
and forecasts with a plot. Every series is generated here."""

from __future__ import annotations

import json
import math
import signal

import numpy as np
import pytest
import torch
import yaml
from helpers import deep_update, model_params

from seq2seq.cli import main
from seq2seq.config import config_from_dict, config_to_dict
from seq2seq.data.windows import origins
from seq2seq.errors import UserError
from seq2seq.forecasting import Forecaster
from seq2seq.training import ForecastTrainer, train
from seq2seq.training.loop import Interrupted

SINE_MAE = 0.06  # the stated error: mean absolute error of the point forecast, amplitude 1


def quiet(msg):
    pass


def write_csv(path, n: int, period: float = 12.0, noise: float = 0.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.sin(2 * np.pi * np.arange(n) / period) + noise * rng.normal(size=n)
    z = 3 + np.cos(2 * np.pi * np.arange(n) / 7) + 0.01 * np.arange(n)
    months = [f"{2000 + i // 12}-{i % 12 + 1:02d}" for i in range(n)]
    path.write_text(
        "month,sine,other\n" + "".join(f"{m},{a:.6f},{b:.6f}\n" for m, a, b in zip(months, y, z))
    )
    return path


def series_config(csv, **sections) -> dict:
    raw = {
        "data": {
            "dataset": "series",
            "reverse_source": False,
            "series": {
                "csv": str(csv),
                "columns": ["sine"],
                "context": 24,
                "horizon": 6,
                "season": 12,
                "test_origins": 12,
                "dev_origins": 6,
            },
        },
        "model": {
            "type": "forecast",
            "layers": 1,
            "emb_size": 16,
            "hidden_size": 32,
            "dropout": 0.0,
        },
        "train": {
            "optimizer": "adam",
            "lr": 0.01,
            "schedule": "constant",
            "batch_size": 32,
            "epochs": 1000,
            "max_steps": 300,
            "valid_every": 100,
            "metric": "loss",
            "precision": "fp32",
            "threads": 1,
            "seed": 1,
        },
    }
    return deep_update(raw, sections)


def test_a_tiny_model_fits_a_sine_wave(tmp_path):
    csv = write_csv(tmp_path / "sine.csv", 240)
    cfg = config_from_dict(series_config(csv))
    train(cfg, tmp_path / "run", progress=False, log=quiet)
    forecaster = Forecaster.load(tmp_path / "run", device="cpu")
    (series,) = forecaster.read(csv)
    at = origins(240, cfg.data.series)["test"]
    paths = forecaster.forecast(series, at, samples=20)
    truth = np.stack([series.values[t : t + 6] for t in at])  # (12, 6, 1)
    assert np.abs(paths.point - truth).mean() < SINE_MAE


N = 10  # steps of the resume runs; 9 batches per epoch, validation every 3 steps


@pytest.fixture(scope="module")
def resume_csv(tmp_path_factory):
    return write_csv(tmp_path_factory.mktemp("fc") / "s.csv", 80, noise=0.1)


def resume_config(csv, max_steps: int):
    raw = series_config(
        csv,
        data={
            "series": {
                "context": 12,
                "horizon": 4,
                "test_origins": 4,
                "dev_origins": 2,
                "columns": ["sine", "other"],
                "joint": True,  # one 2-dimensional series
                "calendar": True,
            }
        },
        model={"layers": 2, "dropout": 0.3, "head": "quantile"},
        train={
            "batch_size": 12,
            "max_steps": max_steps,
            "valid_every": 3,
            "scheduled_sampling": 0.5,
            "scheduled_sampling_steps": 8,
        },
    )
    return config_from_dict(raw)


@pytest.fixture(scope="module")
def uninterrupted(resume_csv, tmp_path_factory):
    run = tmp_path_factory.mktemp("whole") / "run"
    assert train(resume_config(resume_csv, N), run, progress=False, log=quiet)["steps"] == N
    return model_params(run / "checkpoints" / "last.pt")


def same(a, b) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_equals_uninterrupted(resume_csv, uninterrupted, tmp_path):
    run = tmp_path / "run"
    train(resume_config(resume_csv, 7), run, progress=False, log=quiet)
    logs = []
    train(resume_config(resume_csv, N), run, progress=False, log=logs.append)
    assert any("resumed from" in m and "at step 7" in m for m in logs)
    assert same(model_params(run / "checkpoints" / "last.pt"), uninterrupted)


def test_sigterm_saves_and_resumes_exactly(resume_csv, uninterrupted, tmp_path, monkeypatch):
    original = ForecastTrainer.train_step

    def step_then_sigterm(self, batch, indices=None):
        loss = original(self, batch, indices)
        if self.counters["step"] + 1 == 5:
            signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
        return loss

    monkeypatch.setattr(ForecastTrainer, "train_step", step_then_sigterm)
    run = tmp_path / "run"
    with pytest.raises(Interrupted, match="interrupted at step 5"):
        train(resume_config(resume_csv, N), run, progress=False, log=quiet)
    monkeypatch.setattr(ForecastTrainer, "train_step", original)
    train(resume_config(resume_csv, N), run, progress=False, log=quiet)
    after = model_params(run / "checkpoints" / "last.pt")
    assert same(after, uninterrupted)
    ckpt = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    assert ckpt["processor"]["kind"] == "series" and ckpt["processor"]["targets"] == 2


def test_without_a_dev_set_a_run_trains_its_budget_and_keeps_its_last_weights(resume_csv, tmp_path):
    """dev_origins 0 (a refit on train + dev): nothing to choose by, so best.pt is the weights
    at the end of the step budget; early stopping and the plateau schedule, which act on dev
    scores, are refused before anything is written."""

    def config(**train_keys):
        raw = config_to_dict(resume_config(resume_csv, N))
        return config_from_dict(
            deep_update(raw, {"data": {"series": {"dev_origins": 0}}, "train": train_keys})
        )

    logs = []
    summary = train(config(), tmp_path / "run", progress=False, log=logs.append)
    assert summary["steps"] == N and summary["best_dev_loss"] is None
    best, last = (
        model_params(tmp_path / "run" / "checkpoints" / f) for f in ("best.pt", "last.pt")
    )
    assert same(best, last)
    assert any(m.startswith("no dev set") for m in logs)
    for keys, name in (({"patience": 2}, "patience"), ({"schedule": "plateau"}, "plateau")):
        with pytest.raises(UserError, match=f"{name} acts on dev scores, but this run has no dev"):
            train(config(**keys), tmp_path / name, progress=False, log=quiet)
        assert not (tmp_path / name).exists()


def test_the_cli_trains_scores_against_the_baselines_and_plots(tmp_path, capsys):
    pytest.importorskip("statsmodels")
    csv = write_csv(tmp_path / "s.csv", 96, noise=0.05)
    raw = series_config(
        csv,
        data={"series": {"season": 1, "test_origins": 3, "dev_origins": 2}},
        train={"max_steps": 30, "valid_every": 15},
    )
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    run = tmp_path / "run"
    assert main(["train", str(tmp_path / "c.yaml"), "--out", str(run), "--no-progress"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())["test"]["sine"]
    assert set(metrics["scores"]) == {"seq2seq", "naive", "seasonal naive", "ETS", "ARIMA"}
    assert metrics["models"]["ARIMA"].startswith("ARIMA(")
    for scores in metrics["scores"].values():
        assert 0 <= scores["coverage80"] <= scores["coverage95"] <= 1 and scores["mase"] > 0
    capsys.readouterr()
    out, png = tmp_path / "f.csv", tmp_path / "f.png"
    args = ["forecast", "--model", str(run), "--csv", str(csv), "--plot", str(png), "-o", str(out)]
    assert main([*args, "--samples", "50"]) == 0
    rows = out.read_text().splitlines()
    assert rows[0].startswith("series,time,step,forecast,q2.5") and len(rows) == 1 + 6
    assert rows[1].startswith(f"sine,{2000 + 96 // 12}-01,1,")  # the month after the data
    q = [float(x) for x in rows[1].split(",")[4:]]
    assert q == sorted(q)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert math.isfinite(float(rows[-1].split(",")[3]))
