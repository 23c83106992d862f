"""Series data: the CSV reader's clock and calendar, and windowing that never looks ahead.

The look-ahead checks change every value from an origin on, by a lot, and require that what
a forecast from that origin reads (its inputs, its last value, its scaling) stays the same;
`test_the_leak_check_catches_a_leak` holds the check itself to a window that does leak.
"""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.config import SeriesConfig
from seq2seq.data import windows as W
from seq2seq.data.series import Clock, Series, read_series
from seq2seq.errors import UserError

CFG = SeriesConfig(csv="x.csv", context=8, horizon=4, calendar=True, test_origins=5, dev_origins=3)


def monthly(values: np.ndarray) -> Series:
    clock = Clock("month", 1.0, "ym")
    times = tuple(["2000-01"] + clock.after("2000-01", len(values) - 1))
    return Series("y", ("y",), times, values.reshape(len(values), -1), clock)


def changed_from(series: Series, t: int, seed: int = 0) -> Series:
    """The same series with every value from index t on replaced by large random ones."""
    values = series.values.copy()
    values[t:] = np.random.default_rng(seed).normal(1e4, 1e3, values[t:].shape)
    return Series(series.name, series.columns, series.times, values, series.clock)


def reads_the_same(a: W.Window, b: W.Window) -> bool:
    return all(
        np.array_equal(getattr(a, k), getattr(b, k))
        for k in ("past", "last", "future_cov", "loc", "scale")
    )


def leaks(window_at, series: Series, at: list[int]) -> list[int]:
    """The origins whose window changes when the values from the origin on change."""
    cov = W.covariates(series, CFG, extra=CFG.horizon)
    return [
        t
        for t in at
        if not reads_the_same(
            window_at(series, t, CFG, cov, False),
            window_at(changed_from(series, t), t, CFG, cov, False),
        )
    ]


@pytest.fixture
def series() -> Series:
    rng = np.random.default_rng(1)
    return monthly(np.cumsum(rng.normal(size=60)) + 10 * np.sin(np.arange(60) / 2))


def test_no_window_reads_a_value_its_forecast_covers(series):
    at = W.origins(len(series.values), CFG)
    every = at["train"] + at["dev"] + at["test"] + [len(series.values)]
    assert leaks(W.window_at, series, every) == []


@pytest.mark.parametrize("reverse", [False, True])
def test_training_and_dev_windows_end_before_the_parts_after_them(series, reverse):
    at = W.origins(len(series.values), CFG)
    base = W.split_windows([series], CFG, reverse=reverse)
    for split, end in (("train", at["dev"][0]), ("dev", at["test"][0])):
        other = W.split_windows([changed_from(series, end)], CFG, reverse=reverse)
        for a, b in zip(base[split], other[split]):
            assert reads_the_same(a, b) and np.array_equal(a.future, b.future), split
    assert max(at["train"]) + CFG.horizon <= at["dev"][0]
    assert max(at["dev"]) + CFG.horizon <= at["test"][0]
    assert at["test"][-1] + CFG.horizon == len(series.values)  # the last forecast ends the data


def test_the_leak_check_catches_a_leak(series):
    """A window scaled by its past and its future is caught by the same check."""

    def leaky(s, t, cfg, cov, reverse):
        w = W.window_at(s, t, cfg, cov, reverse)
        seen = s.values[t - cfg.context : t + cfg.horizon]
        return W.Window(w.past, w.last, w.future_cov, w.future, seen.mean(0), seen.std(0))

    at = W.origins(len(series.values), CFG)["test"]
    assert leaks(leaky, series, at) == at


def test_scaling_by_the_context():
    past = np.array([[1.0], [3.0], [5.0]])
    assert W.scaling(past, "meanstd")[0].tolist() == [3.0]
    assert np.allclose(W.scaling(past, "meanstd")[1], [np.std([1, 3, 5])])
    assert W.scaling(past, "meanabs")[1].tolist() == [3.0]
    assert W.scaling(np.full((4, 1), 7.0), "meanstd")[1].tolist() == [1.0]  # flat: scale 1
    w = W.make_window(
        past,
        np.zeros((3, 0)),
        np.zeros((2, 0)),
        np.array([[7.0], [9.0]]),
        scaling_kind="meanabs",
        reverse=True,
    )
    assert w.past[:, 0].tolist() == [5 / 3, 1.0, 1 / 3] and w.last.tolist() == [5 / 3]
    assert w.future[:, 0].tolist() == [7 / 3, 3.0]


def test_collated_decoder_inputs_are_the_values_before_each_step(series):
    w = W.split_windows([series], CFG, reverse=False)["train"][:3]
    b = W.collate_windows(w)
    assert b.src.shape == (3, 8, 3) and b.tgt_out.shape == (3, 4, 1) and b.n_tgt_tokens == 12
    assert np.allclose(b.tgt_in[:, 0, 0], b.last[:, 0])
    assert np.allclose(b.tgt_in[:, 1:, 0], b.tgt_out[:, :-1, 0])
    assert np.allclose(b.tgt_in[:, :, 1:], b.future_cov)


def test_too_short_a_series_is_one_line():
    with pytest.raises(UserError, match=r"has 20 values, .* need at least 26; lower"):
        W.origins(20, CFG, "y", "x.csv")


def test_clock_and_calendar(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("day,a,b\n2024-01-04,1,2\n2024-01-05,2,3\n2024-01-08,3,4\n")
    (a, b) = read_series(str(path), trading_days=True)
    assert a.columns == ("a",) and b.values[:, 0].tolist() == [2, 3, 4]
    assert a.clock.after("2024-01-08", 5)[-1] == "2024-01-15"  # weekdays only
    (joint,) = read_series(str(path), columns=("b", "a"), joint=True, trading_days=True)
    assert joint.name == "b+a" and joint.values.shape == (3, 2)
    assert joint.clock.calendar(list(joint.times)).shape == (3, 4)  # month and weekday
    quarterly = Clock("month", 3.0, "ym")
    assert quarterly.after("2009-07", 2) == ["2009-10", "2010-01"]
    assert Clock("number", 1.0, "num").after("1700", 2) == ["1701", "1702"]


@pytest.mark.parametrize("name", ["sunspots", "co2", "elnino", "macrodata", "msft"])
def test_the_documented_configs_dev_forecasts_end_before_the_test(name):
    """Selection on dev is honest only if no dev forecast covers a test value: with each
    documented config's origins (origin_step 5 on msft too) and its series' length."""
    from pathlib import Path

    from seq2seq.config import load_config

    root = Path(__file__).resolve().parents[2]
    cfg = load_config(root / "configs" / f"forecast-{name}.yaml").data.series
    n = {"sunspots": 309, "co2": 526, "elnino": 732, "macrodata": 203, "msft": 7983}[name]
    at = W.origins(n, cfg)
    assert cfg.dev_origins > 0 and len(at["dev"]) == cfg.dev_origins
    assert max(at["dev"]) + cfg.horizon <= min(at["test"])
    assert max(at["train"]) + cfg.horizon <= min(at["dev"])
