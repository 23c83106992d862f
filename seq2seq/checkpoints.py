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
import pickle
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .config import PREPROCESSING, Config, config_from_dict
from .errors import UserError
from .models import build_model
from .vocab import SPECIALS

FORMAT_VERSION = 1
PARTS = ("config", "processor", "model")  # in every checkpoint; last.pt adds the training state
PROCESSOR_PARTS = ("src_vocab", "tgt_vocab", "src_spm", "tgt_spm")  # Processor.state()


def save(obj: dict, path: str | Path) -> None:
    """Write to a temp file in the same folder (`NAME.XXXX.tmp`), fsync, then rename over
    `path`. A process killed meanwhile leaves the temp file: see `unfinished`."""
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


def unfinished(folder: str | Path) -> list[Path]:
    """The temp files of checkpoint writes in `folder` that never finished (a killed run's)."""
    return sorted(Path(folder).glob("*.pt.*.tmp"))


def load(path: str | Path, map_location="cpu") -> dict:
    """The one safe checkpoint reader: `torch.load(weights_only=True)`, so loading never runs
    code from the file, and every way a file can fail (missing, a directory, unreadable,
    empty, truncated, not torch's, refused by the safe loader, not ours, another format) is
    a one-line `UserError` naming `path`."""
    path = Path(path)
    if path.is_dir():
        raise UserError(
            f"{path}: a directory, not a checkpoint file; pass a .pt file such as "
            f"{path / 'checkpoints' / 'best.pt'}"
        )
    if not path.exists():
        raise UserError(f"{path}: checkpoint not found; train a model first or check the path")
    return _checked(_torch_load(path, map_location), path)


def _torch_load(path: Path, map_location) -> object:
    retry = "use another checkpoint of the run (best.pt, step-N.pt) or retrain"
    try:
        f = open(path, "rb")
    except PermissionError:
        raise UserError(
            f"{path}: cannot be read (permission denied); make it readable or copy it"
        ) from None
    except OSError as e:
        raise UserError(f"{path}: cannot be read ({_reason(e)}); check the path") from None
    with f:
        if not f.read(1):
            raise UserError(f"{path}: an empty file (0 bytes), not a checkpoint; {retry}")
        f.seek(0)
        try:
            with warnings.catch_warnings():  # torch's notes on foreign pickles: the error says it
                warnings.simplefilter("ignore")
                return torch.load(f, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError:  # torch's safe loader refused it: never quote its advice
            raise UserError(
                f"{path}: not a safe seq2seq checkpoint (damaged, or it holds Python objects "
                "that could run code when loaded); it was not loaded: use one seq2seq wrote"
            ) from None
        except Exception as e:  # what torch's reader met: RuntimeError, EOFError, OSError, ...
            raise UserError(
                f"{path}: truncated, damaged or not a torch checkpoint ({_reason(e)}); {retry}"
            ) from None


def _reason(e: BaseException) -> str:
    """The exception's type and first line, for a one-line message (torch's advice left out)."""
    first = next(iter(str(e).splitlines()), "").strip()
    if not first or "weights_only" in first:
        return type(e).__name__
    return f"{type(e).__name__}: {first[:100]}"


def _checked(ckpt: object, path: Path) -> dict:
    """`ckpt` if it is a seq2seq checkpoint of this format with its three parts."""
    if not isinstance(ckpt, dict) or "format_version" not in ckpt:
        raise UserError(
            f"{path}: a torch file but not a seq2seq checkpoint (no format_version); "
            "pass a checkpoint `seq2seq train` wrote"
        )
    if ckpt["format_version"] != FORMAT_VERSION:
        raise UserError(
            f"{path}: checkpoint format {ckpt['format_version']!r}, but this seq2seq reads "
            f"format {FORMAT_VERSION}; use the seq2seq version that wrote it, or retrain"
        )
    missing = [k for k in PARTS if not isinstance(ckpt.get(k), dict)]
    if missing:
        raise UserError(
            f"{path}: a seq2seq checkpoint without its {', '.join(missing)}; damaged or "
            "written by another program: use another checkpoint or retrain"
        )
    return ckpt


def saved_config(ckpt: dict, path: str | Path) -> Config:
    """A loaded checkpoint's config, through the config classes (keys added since it was
    written read as their defaults); one line naming `path` if it does not load."""
    try:
        return config_from_dict(ckpt["config"], source=str(path))
    except (UserError, TypeError, ValueError) as e:
        detail = str(e).removeprefix(f"{path}: ")
        raise UserError(
            f"{path}: its saved config does not load ({detail}); written by another version "
            "of seq2seq, or damaged: use the version that wrote it, or retrain"
        ) from None


@dataclass(frozen=True)
class Checkpoint:
    """A read checkpoint: its config, its tokenizers and vocabularies (`Processor.state()`),
    its weights, and where it came from (a path, or a name such as "this run")."""

    source: str
    config: Config
    processor: dict
    weights: dict | None = None


def read(run_or_file: str | Path, which: str = "best") -> Checkpoint:
    """The checkpoint of a run directory (its `which`, else last) or of a checkpoint file;
    a broken config or tokenizer part is a one-line error naming the file."""
    path = find(run_or_file, which)
    raw = load(path)
    cfg = saved_config(raw, path)
    processor = raw["processor"]
    if not _processor_ok(processor, series=cfg.data.dataset == "series"):
        raise UserError(
            f"{path}: its tokenizers or vocabularies are missing or damaged; "
            "use another checkpoint or retrain"
        )
    return Checkpoint(str(path), cfg, processor, raw["model"])


def _processor_ok(processor: dict, *, series: bool) -> bool:
    """A text model's tokenizers and vocabularies, or a series model's sizes, are whole."""
    if series:
        return processor.get("kind") == "series" and all(
            isinstance(processor.get(k), int) for k in ("targets", "covariates")
        )
    vocabs = [processor.get(k) for k in ("src_vocab", "tgt_vocab")]
    return all(k in processor for k in PROCESSOR_PARTS) and all(
        isinstance(v, list) and tuple(v[: len(SPECIALS)]) == SPECIALS for v in vocabs
    )


def model_sizes(processor: dict, cfg: Config) -> tuple[int, int]:
    """What `build_model` needs besides the config: the vocabulary sizes (text), the inputs
    per step and the target dimensions (series), or the features per frame and the target
    vocabulary (speech)."""
    if processor.get("kind") == "series":
        return processor["targets"] + processor["covariates"], processor["targets"]
    if cfg.data.dataset == "speech":
        return cfg.data.speech.n_mels, len(processor["tgt_vocab"])
    return len(processor["src_vocab"]), len(processor["tgt_vocab"])


def load_model(ckpt: Checkpoint, device: str | torch.device = "cpu") -> nn.Module:
    """The model its config describes, with its weights, on `device`."""
    model = build_model(ckpt.config.model, *model_sizes(ckpt.processor, ckpt.config))
    try:
        model.load_state_dict(ckpt.weights)
    except (RuntimeError, TypeError, AttributeError):  # wrong shapes or names, or not tensors
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
    if bool(other.processor.get("copy")) != bool(reference.processor.get("copy")):
        raise UserError(
            f"{other.source}: copies from its source (model.copy) where {reference.source} "
            "does not, or the other way round; use models of one kind together"
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
