"""Checkpoints: atomic writes (temp file + rename), safe loading, compatibility, averaging.

A checkpoint is a plain dict of tensors, numbers, strings and lists, so it loads with
`torch.load(weights_only=True)`: loading never runs code from the file. `best.pt` and
`step-N.pt` hold what a model needs (config, tokenizers and vocabularies, weights);
`last.pt` adds the complete training state a resume needs.

Training writes checkpoints; the translator and distillation read them through `read` and
`load_model`, and check that several models read and write tokens alike with
`check_compatible`. Above the models in the layers (it builds them), below decoding.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .config import PREPROCESSING, Config, config_from_dict
from .errors import UserError
from .models import build_model

FORMAT_VERSION = 1


def save(obj: dict, path: str | Path) -> None:
    """Write to a temp file in the same folder, fsync, then rename over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({**obj, "format_version": FORMAT_VERSION}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | Path, map_location="cpu") -> dict:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found; train a model first or check the path")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:
        raise UserError(
            f"{path}: not a seq2seq checkpoint ({str(e).splitlines()[0][:120]})"
        ) from None
    if not isinstance(ckpt, dict) or ckpt.get("format_version") != FORMAT_VERSION:
        raise UserError(
            f"{path}: not a seq2seq checkpoint of format {FORMAT_VERSION}; retrain or convert it"
        )
    return ckpt


@dataclass(frozen=True)
class Checkpoint:
    """A read checkpoint: its config, its tokenizers and vocabularies (`Processor.state()`),
    its weights, and where it came from (a path, or a name such as "this run")."""

    source: str
    config: Config
    processor: dict
    weights: dict | None = None


def read(run_or_file: str | Path, which: str = "best") -> Checkpoint:
    """The checkpoint of a run directory (its `which`, else last) or of a checkpoint file."""
    path = find(run_or_file, which)
    raw = load(path)
    cfg = config_from_dict(raw["config"], source=str(path))
    return Checkpoint(str(path), cfg, raw["processor"], raw["model"])


def load_model(ckpt: Checkpoint, device: str | torch.device = "cpu") -> nn.Module:
    """The model its config describes, with its weights, on `device`."""
    model = build_model(
        ckpt.config.model, len(ckpt.processor["src_vocab"]), len(ckpt.processor["tgt_vocab"])
    )
    try:
        model.load_state_dict(ckpt.weights)
    except RuntimeError:
        raise UserError(
            f"{ckpt.source}: its weights do not fit the model its config describes "
            "(written by another version of seq2seq?); retrain or convert it"
        ) from None
    return model.to(device)


def check_compatible(reference: Checkpoint, other: Checkpoint) -> None:
    """Models combined (an ensemble, teachers and their student) must read and write the
    same tokens, in the same order; a one-line error naming `other` otherwise."""
    for key in PREPROCESSING:
        if getattr(other.config.data, key) != getattr(reference.config.data, key):
            raise UserError(
                f"{other.source}: data.{key} differs from {reference.source}'s; "
                "models used together must preprocess alike"
            )
    for side, name in (("tgt", "target"), ("src", "source")):
        if any(
            other.processor[f"{side}_{part}"] != reference.processor[f"{side}_{part}"]
            for part in ("vocab", "spm")
        ):
            raise UserError(
                f"{other.source}: its {name} vocabulary differs from {reference.source}'s; "
                "models used together must be trained on the same data and vocabulary"
            )


def find(run_or_file: str | Path, which: str = "best") -> Path:
    """A run directory (-> its best, else last, checkpoint) or a checkpoint file."""
    p = Path(run_or_file)
    if p.is_file():
        return p
    if not p.is_dir():
        raise UserError(
            f"{p}: no such model directory or checkpoint file; pass a run directory from `seq2seq train`"
        )
    for name in (which, "last"):
        if (p / "checkpoints" / f"{name}.pt").is_file():
            return p / "checkpoints" / f"{name}.pt"
    raise UserError(
        f"{p}: not a model directory (no checkpoints/best.pt or last.pt); pass the --out of `seq2seq train`"
    )


def keep_recent(model_state: dict, folder: Path, step: int, keep: int) -> None:
    """Write `step-N.pt` (weights only) and delete all but the `keep` most recent."""
    save(model_state, folder / f"step-{step:08d}.pt")
    for old in recent(folder)[:-keep]:
        old.unlink()


def recent(folder: str | Path) -> list[Path]:
    """The run's `step-N.pt` checkpoints, oldest first."""
    return sorted(Path(folder).glob("step-*.pt"))


def average(paths: list[str | Path]) -> dict:
    """Element-wise mean of the model weights of several checkpoints of one run."""
    ckpts = [load(p) for p in paths]
    first = ckpts[0]
    for p, c in zip(paths[1:], ckpts[1:]):
        if c["model"].keys() != first["model"].keys() or c["processor"] != first["processor"]:
            raise UserError(
                f"{p}: different model or vocabulary from {paths[0]}; average checkpoints of one run"
            )
    avg = {
        k: torch.stack([c["model"][k].float() for c in ckpts]).mean(0).to(v.dtype)
        for k, v in first["model"].items()
    }
    return {"config": first["config"], "processor": first["processor"], "model": avg}
