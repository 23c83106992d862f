"""Checkpoints: atomic writes (temp file + rename), safe loading, and averaging.

A checkpoint is a plain dict of tensors, numbers, strings and lists, so it loads with
`torch.load(weights_only=True)`: loading never runs code from the file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from ..errors import UserError

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
