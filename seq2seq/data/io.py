"""Readers for line-aligned text (plain or .gz) and TSV, with errors that name file and line."""

from __future__ import annotations

import gzip
from pathlib import Path

from ..errors import UserError


def read_lines(path: str | Path) -> list[str]:
    """All lines of a UTF-8 text file (plain or gzip), without their newlines."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found; check the path in your config or command")
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
    Path(path).write_text("".join(f"{s}\t{t}\n" for s, t in pairs), encoding="utf-8")


def _nonempty(pairs: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    if not any(s.strip() or t.strip() for s, t in pairs):
        raise UserError(f"{name}: the corpus is empty; point the config at a file with data")
    return pairs
