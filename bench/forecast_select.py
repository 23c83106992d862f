"""Honest selection for the forecasting table (issue 28): train each dataset's candidate
configs with several seeds, choose per series on the dev origins, then test only the choice
against the baselines (`seq2seq.experiments.forecast_select`). Writes OUT/selection.json (with
the machine) and OUT/selection.md (the tables).

    OMP_NUM_THREADS=1 nice -n 10 python bench/forecast_select.py --data data --out runs/forecast-select
    python bench/forecast_select.py --train-only ...      # just the trainings (resumable)
    python bench/forecast_select.py --refit ...           # test with the picks refitted on train + dev

`--refit` adds the usual last step of a selection: after the pick is made on dev (unchanged),
its members are trained again on every window before the first test origin, for the steps of
their dev-fit runs' kept checkpoints, into OUT/DATASET/CANDIDATE/seedN-refit (resumable), and
those refits forecast the test; selection.json / .md say which runs forecast it and record the
refits' steps and minutes. It is off by default for now: the documented tables were measured
without it, and the commands beside them must still reproduce them; once a refit table is
measured and documented, it should be the default, since only then are seq2seq and the
baselines (fitted on all history before each test origin) tested on equal terms.

Writes the CSVs first if they are missing (`seq2seq data NAME`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from machine import describe  # noqa: E402

from seq2seq.data.series_datasets import write_series  # noqa: E402
from seq2seq.experiments.forecast_select import SelectionSpec, run_selection  # noqa: E402
from seq2seq.experiments.forecast_select.trainings import train_all  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=list(SelectionSpec.datasets))
    p.add_argument("--seeds", nargs="+", type=int, default=list(SelectionSpec.seeds))
    p.add_argument("--data", default="data")
    p.add_argument("--out", default="runs/forecast-select")
    p.add_argument("--configs", default=str(REPO / "configs"))
    p.add_argument("--set", nargs="*", default=["train.threads=1"], help="overrides for every run")
    p.add_argument("--train-only", action="store_true")
    p.add_argument("--refit", action="store_true", help="test the picks refitted on train + dev")
    args = p.parse_args()
    spec = SelectionSpec(
        datasets=tuple(args.datasets),
        seeds=tuple(args.seeds),
        configs=args.configs,
        extra=tuple(args.set),
        refit=args.refit,
    )
    data = Path(args.data)
    for ds in spec.datasets:
        if not (data / f"{ds}.csv").is_file():
            write_series(ds, data)
    if args.train_only:
        train_all(spec, data, Path(args.out), log=lambda m: print(m, file=sys.stderr))
        return 0
    summary = run_selection(
        spec, data, args.out, machine=describe(), log=lambda m: print(m, file=sys.stderr)
    )
    print((Path(args.out) / "selection.md").read_text(encoding="utf-8"))
    print(summary["goals"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
