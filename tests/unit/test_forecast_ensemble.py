"""Ensembles of forecasts: an ensemble of one is its member, an ensemble of identical members
forecasts as each of them, the point is the members' median (or mean) and the samples are
pooled; the selection study's spec refuses what it cannot run."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.errors import UserError
from seq2seq.experiments.forecast_select import Candidate, SelectionSpec
from seq2seq.experiments.forecast_select.run import choices
from seq2seq.forecasting.ensemble import combine_paths
from seq2seq.forecasting.forecaster import Paths


def paths(seed: int, origins=(10, 11, 12)) -> Paths:
    rng = np.random.default_rng(seed)
    n = len(origins)
    return Paths(list(origins), rng.normal(size=(n, 4, 2)), rng.normal(size=(n, 30, 4, 2)))


@pytest.mark.parametrize("how", ["median", "mean"])
def test_an_ensemble_of_one_is_the_member(how):
    p = paths(0)
    e = combine_paths([p], how)
    assert e.origins == p.origins
    assert np.array_equal(e.point, p.point) and np.array_equal(e.samples, p.samples)


@pytest.mark.parametrize("how", ["median", "mean"])
def test_identical_members_forecast_as_each_of_them(how):
    p = paths(0)
    e = combine_paths([p, p, p], how)
    assert np.allclose(e.point, p.point)
    # the same empirical distribution (each path K times): the same step-function quantiles
    for level in (0.025, 0.1, 0.5, 0.9, 0.975):
        q = [np.quantile(x.samples, level, axis=1, method="inverted_cdf") for x in (e, p)]
        assert np.array_equal(*q)


def test_the_point_is_the_members_median_or_mean_and_samples_are_pooled():
    a, b, c = paths(0), paths(1), paths(2)
    stacked = np.stack([a.point, b.point, c.point])
    assert np.array_equal(combine_paths([a, b, c], "median").point, np.median(stacked, 0))
    assert np.allclose(combine_paths([a, b, c], "mean").point, stacked.mean(0))
    pooled = combine_paths([a, b, c]).samples
    assert pooled.shape == (3, 90, 4, 2)
    assert np.array_equal(pooled[:, 30:60], b.samples)


def test_members_of_other_origins_or_an_unknown_combination_are_refused():
    with pytest.raises(UserError, match="same origins"):
        combine_paths([paths(0), paths(1, origins=(1, 2, 3))])
    with pytest.raises(UserError, match="median or mean"):
        combine_paths([paths(0)], "mode")


def test_the_selection_spec_validates_and_lists_its_choices():
    spec = SelectionSpec(candidates=(Candidate("a"), Candidate("b", ("model.layers=1",))))
    labels = [c[0] for c in choices(spec)]
    assert labels == [
        "a seed 1",
        "a median of 3",
        "a mean of 3",
        "b seed 1",
        "b median of 3",
        "b mean of 3",
    ]
    assert [c[0] for c in choices(SelectionSpec(seeds=(4,)))] == ["base seed 4", "small seed 4"]
    for bad in (
        {"datasets": ("nope",)},
        {"candidates": (Candidate("a"), Candidate("a"))},
        {"seeds": ()},
        {"seeds": (1, 1)},
        {"combine": ("mode",)},
        {"dev_samples": 1},
    ):
        with pytest.raises(UserError):
            SelectionSpec(**bad)
