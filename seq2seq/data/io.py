"""Readers for line-aligned text (plain or .gz) and TSV, with errors that name file and line;
output paths checked before the work starts and written whole or not at all."""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

from ..errors import UserError


def read_lines(path: str | Path) -> list[str]:
    """All lines of a UTF-8 text file (plain or gzip), without their newlines."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: file not found; check the path in your config or command")
    if path.is_dir():
        raise UserError(f"{path}: a folder, not a file; give the path of a text file")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise UserError(f"{path}: cannot read ({e}); is it a valid (gzip) text file?") from None
    return decode_lines(raw, str(path))


def decode_lines(raw: bytes, name: str) -> list[str]:
    """UTF-8 bytes -> lines; a decoding error names the line (`name` is a path or <stdin>)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise UserError(
            f"{name}:{line}: not valid UTF-8 (byte {raw[e.start]:#x}); re-encode the input as UTF-8"
        ) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln.rstrip("\r") for ln in lines]


def read_parallel(src: str | Path, tgt: str | Path) -> list[tuple[str, str]]:
    """Two line-aligned files -> pairs; they must have the same number of lines."""
    a, b = read_lines(src), read_lines(tgt)
    if len(a) != len(b):
        raise UserError(
            f"{src} has {len(a)} lines but {tgt} has {len(b)}; parallel files must be line-aligned"
        )
    return _nonempty(list(zip(a, b)), f"{src} / {tgt}")


def read_tsv(path: str | Path) -> list[tuple[str, str]]:
    """`source<TAB>target` per line; a source may repeat (alternative references)."""
    pairs = []
    for n, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2:
            raise UserError(
                f"{path}:{n}: expected 2 tab-separated fields (source, target), found {len(parts)}"
            )
        pairs.append((parts[0].strip(), parts[1].strip()))
    return _nonempty(pairs, str(path))


def write_tsv(path: str | Path, pairs: list[tuple[str, str]]) -> None:
    """`source<TAB>target` per line, as `read_tsv` reads it back. TSV has no escape, so a tab
    inside a sentence (Multi30k's training German has one) is written as a space."""
    rows = (f"{s.replace(chr(9), ' ')}\t{t.replace(chr(9), ' ')}\n" for s, t in pairs)
    Path(path).write_text("".join(rows), encoding="utf-8")


def _nonempty(pairs: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    if not any(s.strip() or t.strip() for s, t in pairs):
        raise UserError(f"{name}: the corpus is empty; point the config at a file with data")
    return pairs


def check_output(path: str | Path, option: str = "--output") -> Path:
    """Refuse, before any work, an output path that cannot be written: a folder, a missing or
    read-only parent folder."""
    path = Path(path)
    parent = path.parent  # Path("out.txt").parent is Path(".")
    if path.is_dir():
        raise UserError(f"{option} {path}: a folder; give a file name inside it")
    if not parent.is_dir():
        raise UserError(f"{option} {path}: folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UserError(f"{option} {path}: not writable; choose another path")
    return path


def check_output_folder(path: str | Path, option: str) -> Path:
    """A folder the command will create (or fill): refused unless it can be."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{option} {path}: a file, not a folder; give a folder path")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not os.access(existing, os.W_OK):
        raise UserError(f"{option} {path}: {existing} is not writable; choose another path")
    return path


def write_text(path: str | Path, text: str, option: str = "--output") -> None:
    """Write the whole text or nothing: a temp file beside `path`, renamed over it. A full or
    read-only disk is one line, and no partial file is left."""
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        raise UserError(f"{option} {path}: cannot write ({e.strerror or e})") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
