"""Where a run starts: its own `last.pt` (resume), `train.init_from` (fine-tuning) or
`train.vocab_from` (shared vocabularies), each refused when it does not fit this run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .. import checkpoints
from ..config import PREPROCESSING, Config, config_from_dict, config_to_dict
from ..errors import UserError


def _saved_config(state: dict, path: Path) -> dict:
    """A checkpoint's config through the config classes: keys added since it was written
    read as their defaults, so comparisons with this run's config see only real changes."""
    return config_to_dict(config_from_dict(state["config"], source=str(path)))


def resume_state(cfg: Config, run_dir: Path) -> dict | None:
    """The run's `last.pt` if it has one, refused if written with other data or model settings."""
    path = run_dir / "checkpoints" / "last.pt"
    if not path.is_file():
        return None
    state = checkpoints.load(path)
    theirs, mine = _saved_config(state, path), config_to_dict(cfg)
    for section in ("data", "model"):
        if theirs[section] != mine[section]:
            raise UserError(
                f"{path}: this run was trained with a different `{section}` config; "
                "use another --out directory, or the run's own config.yaml to resume"
            )
    return state


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
    theirs, mine = _saved_config(state, path), config_to_dict(cfg)
    model_keys = [k for k in mine["model"] if k != "dropout"] if same_model else []
    for section, keys in (("model", model_keys), ("data", PREPROCESSING)):
        for key in keys:
            if theirs[section].get(key) != mine[section][key]:
                raise UserError(
                    f"{path}: `train.{option}` names a model trained with another "
                    f"`{section}.{key}` ({theirs[section].get(key)!r}); use that value here"
                )
    return path, state
