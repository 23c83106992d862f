"""Forecasting with series models: the Forecaster over a run, the statistical baselines, the
rolling-origin test of a run against them, and forecast plots."""

from .ensemble import EnsembleForecaster, combine_paths
from .evaluate import evaluate_series_run, markdown_table
from .forecaster import Forecaster, Paths

__all__ = [
    "EnsembleForecaster",
    "combine_paths",
    "Forecaster",
    "Paths",
    "evaluate_series_run",
    "markdown_table",
]
