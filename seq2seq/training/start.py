"""Where a run starts: its own `last.pt` (resume), `train.init_from` (fine-tuning) or
`train.vocab_from` (shared vocabularies), each refused when it does not fit this run.

A resume may change only the `train` keys in `MAY_CHANGE` and the `decode` section: the
state in `last.pt` stays valid under a new value. The change is logged and appended to the
run's `config-history.jsonl`, so the run keeps what it was trained with. Any other change
(the rest of `train`, all of `data` and `model`) is refused before anything is written,
naming the key, both values and the fix: `last.pt`'s state was made with the old value.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .. import checkpoints
from ..config import PREPROCESSING, Config, config_to_dict
from ..errors import UserError

METRICS = "metrics.jsonl"  # in the run: one line per validation
HISTORY = "config-history.jsonl"  # in the run: one line per resume that changed the config

# The `train` keys a resume may change, and why the state in last.pt stays valid.
MAY_CHANGE = {
    "epochs": "the step budget: raising it is how a run is extended",
    "max_steps": "the step budget",
    "max_minutes": "the time budget",
    "valid_every": "when validation happens",
    "valid_max_sentences": "how much of the dev set validation decodes",
    "patience": "when to stop early (the count of misses so far is kept)",
    "keep_checkpoints": "how many step-N.pt files are kept",
    "threads": "the machine: torch's threads",
    "precision": "the number format: no state of it is saved (and `auto` decides per machine)",
    "tensorboard": "whether event files are written: a log, not training state",
    # the one knob on the updates: lowering the peak lr to train on is the common remedy;
    # the schedule scales the new value from the next step on, and the optimizer's moments
    # (Adam's averages, SGD's momentum buffer) hold gradients, valid under any lr
    "lr": "the peak learning rate, which the schedule scales from the next step on",
}

# Why every other key is refused: what in last.pt was made with the old value.
_OPTIMIZER = "the optimizer state in last.pt was built with it (torch restores its settings)"
_SCHEDULE = "the learning-rate schedule's position in last.pt follows it"
_SAMPLER = "the order and position of the batches in last.pt come from it"
_OBJECTIVE = "the updates so far were made with it; a run is one objective"
REFUSED_BECAUSE = {
    **dict.fromkeys(("optimizer", "momentum", "weight_decay", "adam_betas"), _OPTIMIZER),
    **dict.fromkeys(
        (
            "schedule",
            "halving_start_epoch",
            "halving_every",
            "plateau_factor",
            "plateau_patience",
            "warmup_steps",
            "final_lr_factor",
        ),
        _SCHEDULE,
    ),
    **dict.fromkeys(("batch_tokens", "batch_size", "seed"), _SAMPLER),
    **dict.fromkeys(
        ("clip_norm", "label_smoothing", "scheduled_sampling", "scheduled_sampling_steps"),
        _OBJECTIVE,
    ),
    **dict.fromkeys(
        ("distill_from", "distill_weight", "distill_topk"),
        "the objective and the teachers' targets the run was trained on",
    ),
    "metric": "the best score and the count of misses in last.pt are in its units",
    "bleu_tokenize": "the best BLEU in last.pt was counted on its tokens",
    "init_from": "the run started from it; a resume continues from its own last.pt",
    "vocab_from": "the run's vocabularies came from it",
}
_SECTION_BECAUSE = {
    "data": "the vocabularies and batches in last.pt were made with it",
    "model": "the weights in last.pt have its shape and meaning",
}


@dataclass(frozen=True)
class Resume:
    """A run's own last.pt and the config changes it resumes with (key -> (old, new))."""

    path: Path
    state: dict
    changes: dict[str, tuple]


def resume_state(cfg: Config, run_dir: Path) -> Resume | None:
    """The run's `last.pt` if it has one; a change of a key not in `MAY_CHANGE` (nor in
    `decode`) is refused in one line. Reads only: the caller logs and records the changes
    once the run has started (`record_changes`)."""
    path = run_dir / "checkpoints" / "last.pt"
    if not path.is_file():
        return None
    state = checkpoints.load(path)
    old = config_to_dict(checkpoints.saved_config(state, path))
    changes = config_changes(old, config_to_dict(cfg))
    refused = [key for key in changes if not may_change(key)]
    if refused:
        raise UserError(_refusal(path, run_dir, refused, changes))
    return Resume(path, state, changes)


def may_change(key: str) -> bool:
    section, _, name = key.partition(".")
    return section == "decode" or (section == "train" and name in MAY_CHANGE)


def config_changes(old: dict, new: dict) -> dict[str, tuple]:
    """Dotted key -> (old value, new value) for every setting that differs, in config order."""
    a, b = _flat(old), _flat(new)
    keys = list(b) + [k for k in a if k not in b]
    return {k: (a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)}


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _refusal(path: Path, run_dir: Path, refused: list[str], changes: dict) -> str:
    key = refused[0]
    (old, new), (section, _, name) = changes[key], key.partition(".")
    why = REFUSED_BECAUSE.get(name, "") if section == "train" else _SECTION_BECAUSE[section]
    more = f" (also changed: {', '.join(refused[1:])})" if refused[1:] else ""
    start_anew = (
        f" with train.init_from={run_dir} to start from its weights with a fresh optimizer"
        if section == "train"
        else ""
    )
    return (
        f"{path}: this run was trained with {key} = {_show(old)}, not {_show(new)}{more}; "
        f"a resume cannot change it ({why}): set it back as in {run_dir / 'config.yaml'}, "
        f"or train in a new --out{start_anew}"
    )


def _show(value) -> str:
    return json.dumps(value)


def record_changes(
    run_dir: Path, step: int, changes: dict[str, tuple], log: Callable[[str], None]
) -> None:
    """Log a resume's allowed changes and append them to the run's `config-history.jsonl`
    (with the step and the UTC time), so the run keeps every value it was trained with."""
    if not changes:
        return
    for key, (old, new) in changes.items():
        log(f"resuming with {key} {_show(old)} -> {_show(new)}")
    entry = {
        "step": step,
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "changes": {key: list(values) for key, values in changes.items()},
    }
    with open(run_dir / HISTORY, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def remove_unfinished(run_dir: Path) -> tuple[int, int]:
    """Delete the temp files of checkpoint writes a killed run left in its `checkpoints/`
    (and of its config.yaml or metrics.jsonl); returns how many and their bytes. Only for
    the one process that writes the run."""
    count = size = 0
    fixed = [run_dir / f"{name}.tmp" for name in ("config.yaml", METRICS)]
    for tmp in checkpoints.unfinished(run_dir / "checkpoints") + fixed:
        if tmp.is_file():
            size += tmp.stat().st_size
            tmp.unlink()
            count += 1
    return count, size


def trim_metrics(run_dir: Path, step: int) -> int:
    """Drop the lines of `metrics.jsonl` past `step` (the step the run starts from), and a
    torn last line: a run killed after validating but before saving last.pt redoes that
    validation, so its line must not stay twice. Returns how many lines were dropped."""
    path = run_dir / METRICS
    if not path.is_file():
        return 0
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if _metrics_step(line) <= step]
    if len(kept) < len(lines):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(kept), encoding="utf-8")
        os.replace(tmp, path)
    return len(lines) - len(kept)


def _metrics_step(line: str) -> float:
    """A metrics line's step; infinite for a line that is not whole (killed mid-write)."""
    try:
        return json.loads(line)["step"] if line.endswith("\n") else math.inf
    except (ValueError, KeyError, TypeError):
        return math.inf


def init_state(cfg: Config, log: Callable[[str], None]) -> dict | None:
    """Weights and vocabulary of `train.init_from`, for fine-tuning; None without it."""
    if not cfg.train.init_from:
        return None
    path, state = matching_checkpoint(cfg, "init_from", same_model=True)
    log(f"initialised from {path} (fresh optimizer and schedule)")
    return state


def vocab_state(cfg: Config, log: Callable[[str], None]) -> dict | None:
    """Tokenizers and vocabularies of `train.vocab_from`; None without it."""
    if not cfg.train.vocab_from:
        return None
    path, state = matching_checkpoint(cfg, "vocab_from", same_model=False)
    log(f"vocabularies from {path}")
    return {"processor": state["processor"]}


def matching_checkpoint(cfg: Config, option: str, *, same_model: bool) -> tuple[Path, dict]:
    """The checkpoint `train.<option>` names, refused unless it preprocesses as this run
    (and, with `same_model`, has this run's model settings but for dropout, which may
    change when fine-tuning; any other would change what the weights mean)."""
    path = checkpoints.find(getattr(cfg.train, option))
    state = checkpoints.load(path)
    theirs = config_to_dict(checkpoints.saved_config(state, path))
    mine = config_to_dict(cfg)
    model_keys = [k for k in mine["model"] if k != "dropout"] if same_model else []
    for section, keys in (("model", model_keys), ("data", PREPROCESSING)):
        for key in keys:
            if theirs[section].get(key) != mine[section][key]:
                raise UserError(
                    f"{path}: `train.{option}` names a model trained with another "
                    f"`{section}.{key}` ({theirs[section].get(key)!r}); use that value here"
                )
    return path, state


def without_dev(cfg: Config, log: Callable[[str], None]) -> None:
    """A run with no dev set (e.g. `data.series.dev_origins: 0`, a refit on train + dev) has
    nothing to choose a checkpoint or stop by: it trains its whole step budget and `best.pt`
    is the last validation's weights. Early stopping and the plateau schedule act on dev
    scores; they are refused here rather than left never to act."""
    t = cfg.train
    if t.patience or t.schedule == "plateau":
        key = "train.patience" if t.patience else "train.schedule: plateau"
        raise UserError(
            f"{key} acts on dev scores, but this run has no dev set; give it a dev set, or "
            "set train.patience=0 and a schedule that does not follow validation"
        )
    log("no dev set: training runs its whole budget; best.pt is the last validation's weights")
