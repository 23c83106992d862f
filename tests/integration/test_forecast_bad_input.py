"""The bad-input catalogue of forecasting, in the style of test_bad_input.py: bad series CSVs,
bad series configs and bad `seq2seq forecast` / `seq2seq data` arguments each end with exit
code 2, exactly one line on stderr that names the file (and line) and the fix, no traceback,
and no file left behind. Everything is built in code."""

from __future__ import annotations

import os
import re

import pytest
import yaml
from helpers import deep_update

from seq2seq.cli import main
from seq2seq.config import config_from_dict
from seq2seq.training import train


def months(n: int, start: int = 0) -> list[str]:
    return [f"{2000 + (start + i) // 12}-{(start + i) % 12 + 1:02d}" for i in range(n)]


GOOD = "month,y,z\n" + "".join(f"{m},{i % 7},{i}\n" for i, m in enumerate(months(60)))
ROWS = GOOD.splitlines()
CSVS = {  # name -> (CSV text, what the one line must hold)
    "empty": ("", "an empty file"),
    "header-only": ("month,y,z\n", "a header but no rows"),
    "short-row": ("\n".join(ROWS[:5] + ["2000-05,1"] + ROWS[6:]) + "\n", ":6: 2 fields"),
    "gap-cell": (
        GOOD.replace("2000-03,2,2", "2000-03,,2"),
        ":4: no value in column 'y' at 2000-03",
    ),
    "na-cell": (GOOD.replace("2000-03,2,2", "2000-03,NA,2"), "(a gap)"),
    "text-cell": (GOOD.replace("2000-03,2,2", "2000-03,two,2"), ":4: 'two' in column 'y'"),
    "inf-cell": (GOOD.replace("2000-03,2,2", "2000-03,inf,2"), "not a finite number"),
    "bad-time": (GOOD.replace("2000-03,", "March 2000,"), ":4: time 'March 2000'"),
    "out-of-order": (
        "\n".join(ROWS[:3] + [ROWS[4], ROWS[3]] + ROWS[5:]) + "\n",
        "does not come after",
    ),
    "repeated-time": ("\n".join(ROWS[:4] + [ROWS[3]] + ROWS[4:]) + "\n", "drop repeated times"),
    "missing-month": ("\n".join(ROWS[:10] + ROWS[11:]) + "\n", ":11: time 2000-11 follows 2000-09"),
    "daily-gap": (
        "day,y,z\n" + "".join(f"2024-01-{d:02d},{d},{d}\n" for d in range(1, 29) if d != 9),
        "trading_days: true",
    ),
    "too-short": ("\n".join(ROWS[:20]) + "\n", "has 19 values"),
    "bad-utf8": (None, "not valid UTF-8"),
}
CONFIGS = {  # name -> (overrides of the good config, what the line must hold)
    "missing-column": ({"data": {"series": {"columns": ["y", "w"]}}}, "no column 'w'"),
    "missing-time-column": ({"data": {"series": {"time": "date"}}}, "no column 'date'"),
    "calendar-on-numbers": (
        {"data": {"series": {"csv": "{numbers}", "calendar": True}}},
        "calendar",
    ),
    "no-csv": ({"data": {"series": {"csv": ""}}}, "data.series.csv` is required"),
    "text-model": ({"model": {"type": "rnn"}}, "model.type: forecast"),
    "text-metric": ({"train": {"metric": "bleu"}}, "train.metric: loss"),
    "no-median": ({"model": {"quantiles": [0.1, 0.9]}}, "include 0.5"),
    "sampling-over-1": ({"train": {"scheduled_sampling": 2}}, "scheduled_sampling"),
    "context-0": ({"data": {"series": {"context": 0}}}, "context` must be >= 1"),
    "unknown-key": ({"data": {"series": {"horizn": 3}}}, "did you mean `data.series.horizon`"),
    "vocab-from": ({"train": {"vocab_from": "{run}"}}, "train.vocab_from` is for text"),
}


def base_config(csv: str) -> dict:
    return {
        "data": {
            "dataset": "series",
            "series": {
                "csv": csv,
                "context": 12,
                "horizon": 4,
                "test_origins": 4,
                "dev_origins": 2,
            },
        },
        "model": {"type": "forecast", "layers": 1, "emb_size": 8, "hidden_size": 8},
        "train": {
            "optimizer": "adam",
            "lr": 0.01,
            "batch_size": 16,
            "max_steps": 4,
            "valid_every": 4,
            "metric": "loss",
            "threads": 1,
        },
    }


@pytest.fixture(scope="module")
def world(memorised, tmp_path_factory):
    root = tmp_path_factory.mktemp("fc-bad")
    w = {"root": root, "out": root / "out", "folder": str(root), "missing": str(root / "nope")}
    w["out"].mkdir()
    (root / "good.csv").write_text(GOOD)
    (root / "numbers.csv").write_text("t,y\n" + "".join(f"{i},{i % 5}\n" for i in range(60)))
    w["good"], w["numbers"] = str(root / "good.csv"), str(root / "numbers.csv")
    w["nodir_out"] = str(root / "missing" / "dir" / "out.png")
    for name, (text, _) in CSVS.items():
        path = root / f"{name}.csv"
        path.write_bytes(b"month,y\n2000-01,1\n\xff\n" if text is None else text.encode())
        _config(root, f"csv-{name}", base_config(str(path)))
    run = root / "run"
    train(config_from_dict(base_config(w["good"])), run, progress=False, log=lambda m: None)
    w["run"], w["textrun"] = str(run), str(memorised[0])
    for name, (extra, _) in CONFIGS.items():
        raw = yaml.safe_load(yaml.safe_dump(deep_update(base_config(w["good"]), extra)))
        text = yaml.safe_dump(raw).replace("'{numbers}'", w["numbers"]).replace("'{run}'", w["run"])
        (root / f"cfg-{name}.yaml").write_text(text)
    return w


def _config(root, name: str, raw: dict) -> None:
    (root / f"cfg-{name}.yaml").write_text(yaml.safe_dump(raw))


def _train(name: str) -> list[str]:
    return ["train", "{root}/cfg-" + name + ".yaml", "--out", "{out}/" + name]


F = ["forecast", "--model", "{run}", "--csv", "{good}"]
CLI_CASES = {
    **{f"train/csv-{name}": (_train(f"csv-{name}"), must) for name, (_, must) in CSVS.items()},
    **{f"train/{name}": (_train(name), must) for name, (_, must) in CONFIGS.items()},
    "forecast/missing-model": (["forecast", "--model", "{missing}", "--csv", "{good}"], "no such"),
    "forecast/text-model": (
        ["forecast", "--model", "{textrun}", "--csv", "{good}"],
        "a text model, not a forecasting one",
    ),
    "forecast/missing-csv": (["forecast", "--model", "{run}", "--csv", "{missing}"], "not found"),
    "forecast/gap-in-csv": (
        ["forecast", "--model", "{run}", "--csv", "{root}/gap-cell.csv"],
        "gap-cell.csv:4: no value",
    ),
    "forecast/plot-in-missing-folder": ([*F, "--plot", "{nodir_out}"], "does not exist"),
    "forecast/plot-is-a-folder": ([*F, "--plot", "{folder}"], "a folder"),
    "forecast/output-is-a-folder": ([*F, "-o", "{folder}"], "a folder"),
    "forecast/one-sample": ([*F, "--samples", "1"], "--samples"),
    "forecast/negative-holdout": ([*F, "--holdout", "-1"], "--holdout"),
    "forecast/holdout-past-the-context": ([*F, "--holdout", "55"], "too few to forecast"),
    "forecast/no-csv": (["forecast", "--model", "{run}"], "--csv"),
    "data/series-with-pair": (["data", "sunspots", "--pair", "de-en"], "no --pair"),
    "data/series-out-is-a-file": (["data", "nile", "--out", "{good}"], "a file, not a folder"),
    "data/unknown-series": (["data", "ftse"], "invalid choice"),
}


@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_cli_refuses_bad_series_input_in_one_line(name, world, capfd):
    case, must = CLI_CASES[name]
    argv = [a.format(**world) for a in case]
    before = sorted(p.name for p in world["out"].rglob("*"))
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own refusals
        code = e.code
    _, err = capfd.readouterr()
    assert code == 2, f"{name}: exit {code}; stderr:\n{err}"
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"{name}: {len(lines)} lines on stderr:\n{err}"
    assert lines[0].startswith("error: ") and must in lines[0], lines[0]
    assert sorted(p.name for p in world["out"].rglob("*")) == before, "files left behind"
    assert not os.path.exists(world["nodir_out"])


def test_csv_errors_name_the_file_and_line(world, capfd):
    assert main(_train_args(world, "csv-gap-cell")) == 2
    line = capfd.readouterr().err.strip()
    assert re.search(r"gap-cell\.csv:4: no value in column 'y' at 2000-03 \(a gap\); fill", line)


def _train_args(world, name: str) -> list[str]:
    return [a.format(**world) for a in _train(name)]
