"""The forecasting results: for each real series, write its CSV (`seq2seq data NAME`), train
`configs/forecast-NAME.yaml` (which scores the model and the baselines on the same rolling
origins), then print the README's table and the details for docs/results.md.

    python bench/forecast.py                        # all series, data/ and runs/forecast-*
    python bench/forecast.py --only sunspots co2    # some of them
    python bench/forecast.py --table-only           # just the tables, from existing runs

Runs one training at a time (each config sets train.threads); a finished run is not redone
(delete RUN/metrics.json to redo its test). This scores the documented configs as they are;
the README's table is chosen on dev among configs and seed ensembles: bench/forecast_select.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from seq2seq.forecasting.evaluate import METHODS, markdown_table  # noqa: E402

SERIES = ["sunspots", "co2", "elnino", "macrodata", "msft"]


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def run_one(name: str, data: Path, runs: Path) -> None:
    csv, run = data / f"{name}.csv", runs / f"forecast-{name}"
    if not csv.is_file():
        subprocess.run(
            [sys.executable, "-m", "seq2seq", "data", name, "--out", str(data)], check=True
        )
    if (run / "metrics.json").is_file():
        print(f"{name}: {run}/metrics.json exists; kept", file=sys.stderr)
        return
    start = time.time()
    print(f"{name}: training from {now()}", file=sys.stderr)
    cmd = [
        sys.executable,
        "-m",
        "seq2seq",
        "train",
        str(REPO / "configs" / f"forecast-{name}.yaml"),
        "--out",
        str(run),
        "--no-progress",
        "--set",
        f"data.series.csv={csv}",
    ]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    print(f"{name}: done at {now()} ({time.time() - start:.0f} s)", file=sys.stderr)


def details(metrics: dict[str, dict]) -> str:
    """Every method's MASE, sMAPE, CRPS and coverage, the chosen models and the seconds."""
    lines = [
        "| series | method | MASE | sMAPE | CRPS | 80 % | 95 % | model | seconds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in metrics.items():
        for column, r in m["test"].items():
            label = column if column == name else f"{name}: {column}"
            for method in METHODS:
                s = r["scores"].get(method)
                if s is None:
                    continue
                lines.append(
                    f"| {label} | {method} | {s['mase']:.3f} | {s['smape']:.2f} | {s['crps']:.3f}"
                    f" | {s['coverage80']:.0%} | {s['coverage95']:.0%} | "
                    f"{r['models'].get(method, '')} | {r['seconds'].get(method, '')} |"
                )
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", choices=SERIES, default=SERIES)
    p.add_argument("--data", default="data", help="where the CSVs go (default data/)")
    p.add_argument("--runs", default="runs", help="where the runs go (default runs/)")
    p.add_argument("--table-only", action="store_true")
    args = p.parse_args()
    data, runs = Path(args.data), Path(args.runs)
    if not args.table_only:
        for name in args.only:
            run_one(name, data, runs)
    metrics = {}
    for name in args.only:
        path = runs / f"forecast-{name}" / "metrics.json"
        if path.is_file():
            metrics[name] = json.loads(path.read_text())
    print(markdown_table(metrics))
    print(details(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
