"""The selection's trainings: every (dataset, candidate, seed) run on the training windows.

Runs go to OUT/DATASET/CANDIDATE/seedN (resumable: a finished run, marked by DONE, is kept).
"""

from __future__ import annotations

import time
from pathlib import Path

from ...config import Config, load_config
from ...training import train
from .spec import Candidate, SelectionSpec

DONE = "selection-trained"  # written into a run once its training returned: "SECONDS s"


def run_dir(out: Path, dataset: str, candidate: str, seed: int) -> Path:
    return out / dataset / candidate / f"seed{seed}"


def run_config(
    spec: SelectionSpec, data: Path, ds: str, cand: Candidate, seed: int, more: tuple = ()
) -> Config:
    """configs/forecast-DS.yaml with the candidate's overrides, the spec's, the dataset's CSV
    in `data`, the seed, and `more` last."""
    overrides = [
        *cand.overrides,
        *spec.extra,
        f"data.series.csv={data / f'{ds}.csv'}",
        f"train.seed={seed}",
        *more,
    ]
    return load_config(Path(spec.configs) / f"forecast-{ds}.yaml", overrides)


def train_once(cfg: Config, run: Path, what: str, log=print) -> None:
    """Train `cfg` in `run` unless DONE marks it finished; then mark it with the seconds."""
    if (run / DONE).is_file():
        return
    start = time.time()
    train(cfg, run, progress=False, log=lambda *_: None)
    (run / DONE).write_text(f"{time.time() - start:.0f} s\n", encoding="utf-8")
    log(f"{what}: trained in {time.time() - start:.0f} s")


def train_all(spec: SelectionSpec, data: Path, out: Path, log=print) -> None:
    """Every (dataset, candidate, seed) run, one at a time; finished runs are kept."""
    for ds in spec.datasets:
        for cand in spec.candidates:
            for seed in spec.seeds:
                cfg = run_config(spec, data, ds, cand, seed)
                train_once(
                    cfg, run_dir(out, ds, cand.name, seed), f"{ds} {cand.name} seed {seed}", log
                )


def marked_minutes(runs) -> float:
    """The summed training time of `runs` (from their DONE markers: also the runs a call kept
    from an earlier one)."""
    seconds = sum(float((r / DONE).read_text(encoding="utf-8").split()[0]) for r in runs)
    return round(seconds / 60, 1)


def training_minutes(spec: SelectionSpec, out: Path) -> float:
    """The summed training time of the spec's runs."""
    return marked_minutes(
        run_dir(out, ds, c.name, s)
        for ds in spec.datasets
        for c in spec.candidates
        for s in spec.seeds
    )
