"""What an exported folder carries besides the engine's files: the run's config and its
tokenizers and vocabularies (`seq2seq.json`, `src.spm.model`, `tgt.spm.model`), so text is
tokenized, reversed and detokenized as the run does it. Written into a temporary folder that
is renamed to the output at the end: an export is there whole or not at all.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from ..checkpoints import Checkpoint
from ..config import Config, config_from_dict, config_to_dict
from ..data import Processor
from ..errors import UserError

META = "seq2seq.json"


def engine(module: str, what: str) -> ModuleType:
    """Import an optional engine package, or one line saying how to install it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        raise UserError(
            f"{what} needs the `{module}` package: pip install 'seq2seq[export]'"
        ) from None


def check_out(out: str | Path) -> Path:
    """`out` must not exist yet or be an empty folder (an export never overwrites one)."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"--out {out}: exists and is not an empty folder; choose a new path")
    if not out.parent.is_dir():
        raise UserError(f"--out {out}: folder {out.parent} does not exist; create it first")
    return out


@contextlib.contextmanager
def output_folder(out: str | Path) -> Iterator[Path]:
    """A temporary folder beside `out` (checked by `check_out`), renamed to `out` when the
    block ends without error."""
    out = check_out(out)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".", suffix=".tmp", dir=out.parent))
    try:
        yield tmp
        if out.is_dir():
            out.rmdir()
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write(folder: Path, ckpt: Checkpoint, fmt: str, **extra) -> None:
    """`seq2seq.json` and the sentencepiece models of `ckpt` into `folder`."""
    p = ckpt.processor
    meta = {
        "format": fmt,
        "exported_from": ckpt.source,
        "config": config_to_dict(ckpt.config),
        "src_vocab": list(p["src_vocab"]),
        "tgt_vocab": list(p["tgt_vocab"]),
        **extra,
    }
    (folder / META).write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
    for side in ("src", "tgt"):
        if p[f"{side}_spm"] is not None:
            (folder / f"{side}.spm.model").write_bytes(p[f"{side}_spm"])


def read(folder: str | Path, fmt: str) -> tuple[dict, Config, Processor]:
    """The metadata, config and processor of a folder exported in format `fmt`."""
    folder = Path(folder)
    path = folder / META
    if not path.is_file():
        raise UserError(
            f"--model {folder}: not a folder from `seq2seq export --format {fmt}` (no {META}); "
            f"export the run first"
        )
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        meta = None
    if not isinstance(meta, dict) or not {"config", "src_vocab", "tgt_vocab"} <= meta.keys():
        raise UserError(f"{path}: not a valid {META}; export the run again")
    if meta.get("format") != fmt:
        raise UserError(
            f"--model {folder}: exported as {meta.get('format')!r}, not {fmt!r}; "
            f"use --engine {meta.get('format')}"
        )
    cfg = config_from_dict(meta["config"], source=str(path))
    spm = {
        side: (folder / f"{side}.spm.model").read_bytes()
        if (folder / f"{side}.spm.model").is_file()
        else None
        for side in ("src", "tgt")
    }
    state = {
        "src_vocab": meta["src_vocab"],
        "tgt_vocab": meta["tgt_vocab"],
        "src_spm": spm["src"],
        "tgt_spm": spm["tgt"],
    }
    return meta, cfg, Processor.from_state(cfg.data, state)
