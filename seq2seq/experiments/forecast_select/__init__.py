"""Honest selection for the forecasting results (issue 28): for each dataset, train every
candidate config with every seed, score each choice on the dev origins (the rolling origins
just before the test ones; their forecasts end where the test's first begins), pick the best
per series on dev MASE, and only then forecast the test origins with the pick, against the
naive, seasonal naive, ETS and ARIMA baselines of the same origins.

The choices scored on dev, per candidate config: its first seed alone, and the ensembles of
all its seeds (`forecasting.ensemble`: median or mean of the point forecasts, pooled sampled
paths). No test figure of a choice that is not picked is ever computed.

With `SelectionSpec(refit=True)` (`--refit`) the pick is made the same way, then its members
are trained again on train + dev (every window before the first test origin) for the steps of
their dev-fit runs' kept checkpoints, and these refits forecast the test (`trainings`); the
report says which runs forecast it. Off by default, so the documented tables stay reproducible.

    python bench/forecast_select.py --data data --out runs/forecast-select [--refit]
"""

from .run import run_selection
from .spec import CANDIDATES, Candidate, SelectionSpec

__all__ = ["CANDIDATES", "Candidate", "SelectionSpec", "run_selection"]
