"""The selection's trainings: every (dataset, candidate, seed) run on the training windows,
and the refit of the picks' members on train + dev before the test.

Runs go to OUT/DATASET/CANDIDATE/seedN, refits to OUT/DATASET/CANDIDATE/seedN-refit (both
resumable: a finished run, marked by DONE, is kept; an interrupted one resumes from last.pt).

The refit is the usual last step of a selection: the pick's members are trained again, each
with its candidate config and seed, on every window whose future ends before the first test
origin (`data.series.dev_origins=0`: `windows.origins` then ends the training windows at the
first test origin instead of the first dev one), so they learn from the most recent values, as
the baselines are fitted on all history before each test origin. With the dev period in the
training windows nothing is left to validate on: the refit cannot choose a checkpoint or stop
early (`train.patience=0`; the trainer refuses early stopping and the plateau schedule without
a dev set) and keeps its last weights. Its budget is fixed on the first fit: the steps at which
the dev-fit run's kept checkpoint (best.pt, the best dev loss) was saved, the number of
updates the dev origins chose (Goodfellow, Bengio & Courville, Deep Learning, 2016, sec. 7.8,
the "same number of steps" variant of retraining on all data; not the same number of epochs,
which would let the larger set buy more updates than dev ever checked). The schedule is the
config's, fitted to that budget (a `linear` one decays to its floor at that step, where the
first fit's, if it kept an earlier step than its last, was still on its way); a time limit
(`train.max_minutes`) can still cut a refit short, so the report records each refit's own
steps beside its budget.
"""

from __future__ import annotations

import time
from pathlib import Path

from ... import checkpoints
from ...config import Config, load_config
from ...training import train
from .spec import Candidate, SelectionSpec

DONE = "selection-trained"  # written into a run once its training returned: "SECONDS s"


def run_dir(out: Path, dataset: str, candidate: str, seed: int) -> Path:
    return out / dataset / candidate / f"seed{seed}"


# what a refit changes in a member's config, besides its step budget (the module's docstring)
REFIT = ("data.series.dev_origins=0", "train.patience=0")


def refit_dir(out: Path, dataset: str, candidate: str, seed: int) -> Path:
    return out / dataset / candidate / f"seed{seed}-refit"


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


def marked_seconds(run: Path) -> float:
    """A finished run's training time, from its DONE marker."""
    return float((run / DONE).read_text(encoding="utf-8").split()[0])


def marked_minutes(runs) -> float:
    """The summed training time of `runs` (from their markers: also the runs a call kept
    from an earlier one)."""
    return round(sum(marked_seconds(r) for r in runs) / 60, 1)


def training_minutes(spec: SelectionSpec, out: Path) -> float:
    """The summed training time of the spec's runs."""
    return marked_minutes(
        run_dir(out, ds, c.name, s)
        for ds in spec.datasets
        for c in spec.candidates
        for s in spec.seeds
    )


def kept_step(run: Path) -> int:
    """The step at which the run's kept checkpoint (best.pt) was saved."""
    return int(checkpoints.load(run / "checkpoints" / "best.pt")["metrics"]["step"])


def refit_config(
    spec: SelectionSpec, data: Path, ds: str, cand: Candidate, seed: int, steps: int
) -> Config:
    """A member's config on train + dev for `steps` updates. Its epoch budget never binds
    first: the refit has the windows of the run it repeats and more, so no fewer batches
    per epoch, and `steps` is at most that run's budget."""
    return run_config(spec, data, ds, cand, seed, (*REFIT, f"train.max_steps={steps}"))


def refit(spec: SelectionSpec, data: Path, out: Path, ds: str, members, log=print) -> dict:
    """Each (candidate, seed) of `members` trained again on train + dev for the steps of its
    dev-fit run's kept checkpoint; returns their run folders by (candidate, seed)."""
    cands = {c.name: c for c in spec.candidates}
    runs = {}
    for name, seed in sorted(members):
        steps = kept_step(run_dir(out, ds, name, seed))
        run = refit_dir(out, ds, name, seed)
        cfg = refit_config(spec, data, ds, cands[name], seed, steps)
        train_once(cfg, run, f"{ds} {name} seed {seed} refit on train + dev ({steps} steps)", log)
        runs[(name, seed)] = run
    return runs


def refit_record(out: Path, runs: dict[str, dict]) -> dict:
    """What the report keeps of the refits (by dataset): each member's budget (its dev-fit
    run's kept step), the steps it trained and its seconds; their summed minutes."""
    record = {
        ds: {
            f"{name} seed {seed}": {
                "budget_steps": kept_step(run_dir(out, ds, name, seed)),
                "steps": kept_step(run),
                "seconds": marked_seconds(run),
            }
            for (name, seed), run in sorted(by.items())
        }
        for ds, by in runs.items()
    }
    every = [run for by in runs.values() for run in by.values()]
    return {"minutes": marked_minutes(every), "runs": record}
