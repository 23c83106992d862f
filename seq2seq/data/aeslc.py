"""AESLC (Zhang & Tetreault, ACL 2019): email body -> subject line, with three human subject
lines per dev and test email (`@ann0..2`), the references the paper scores against.

`prepare_aeslc(out, from_dir=None)` reads either the extracted copy
(`train.src[.gz]`, `train.tgt`, `dev.src`, `dev.tgt`, `dev.ann0..2`, ...) or the upstream
repository's files (`enron_subject_line/{train,dev,test}/*.subject`, a clone or the unpacked
archive), or downloads that archive from its public URL. It writes OUT/{split}.src (bodies),
.tgt (original subjects), and for dev and test .ann0..2 and {split}.tsv: one
`body<TAB>annotation` line per annotation, so a config's `data.dev: {tsv: OUT/dev.tsv}`
validates against all three (repeated sources are extra references).

Upstream files are parsed as the shared copy was made: split at the marker lines `@subject`,
`@ann0`, `@ann1`, `@ann2`; the body is the text before `@subject`; every whitespace run
(newlines too) becomes one space; files in name order within a split.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from ..errors import UserError
from .io import read_lines

COMMIT = "7afc087a1cc234d07121f0d4a2d87102ddceabc2"  # upstream HEAD (2023-02-02)
AESLC_URL = f"https://github.com/ryanzhumich/AESLC/archive/{COMMIT}.zip"
SPLITS = ("train", "dev", "test")
ANNOTATIONS = ("ann0", "ann1", "ann2")
MARKERS = {"@subject": "tgt", **{f"@{a}": a for a in ANNOTATIONS}}


def parse_email(text: str) -> dict[str, str]:
    """One upstream `.subject` file -> {'src': body, 'tgt': subject, 'ann0'..: annotations}."""
    parts: dict[str, list[str]] = {"src": []}
    current = "src"
    for line in text.splitlines():
        if line.strip() in MARKERS:
            current = MARKERS[line.strip()]
            parts[current] = []
        else:
            parts[current].append(line)
    return {k: " ".join(" ".join(v).split()) for k, v in parts.items()}


def read_upstream(folder: Path) -> dict[str, dict[str, list[str]]]:
    """`enron_subject_line/` -> {split: {'src': [...], 'tgt': [...], 'ann0': [...], ...}}."""
    out = {}
    for split in SPLITS:
        files = sorted((folder / split).glob("*.subject"))
        if not files:
            continue
        emails = [parse_email(f.read_text(encoding="utf-8")) for f in files]
        for f, e in zip(files, emails):
            if not e["src"] or not e.get("tgt"):
                raise UserError(f"{f}: no body or no @subject line; is this an AESLC file?")
        keys = [k for k in ("src", "tgt", *ANNOTATIONS) if all(k in e for e in emails)]
        out[split] = {k: [e[k] for e in emails] for k in keys}
    return out


def read_extracted(folder: Path) -> dict[str, dict[str, list[str]]]:
    """The extracted copy: {split}.{src,tgt,ann0..2}[.gz] files, line-aligned."""
    out = {}
    for split in SPLITS:
        found = {k: _find(folder, f"{split}.{k}") for k in ("src", "tgt", *ANNOTATIONS)}
        if found["src"] is None or found["tgt"] is None:
            continue
        sides = {k: read_lines(p) for k, p in found.items() if p is not None}
        counts = {len(v) for v in sides.values()}
        if len(counts) != 1:
            sizes = ", ".join(f"{found[k].name} {len(v)}" for k, v in sides.items())
            raise UserError(f"{folder}: {split} files are not line-aligned ({sizes} lines)")
        out[split] = sides
    return out


def _find(folder: Path, stem: str) -> Path | None:
    for path in (folder / f"{stem}.gz", folder / stem):
        if path.is_file():
            return path
    return None


def _locate(from_dir: Path) -> dict[str, dict[str, list[str]]]:
    """Read a local copy of either kind, or say what was expected."""
    if not from_dir.is_dir():
        raise UserError(f"--from {from_dir}: no such folder")
    for upstream in (from_dir / "enron_subject_line", from_dir):
        if (upstream / "train").is_dir():
            return read_upstream(upstream)
    return read_extracted(from_dir)


def download(dest: Path) -> Path:
    """Fetch the upstream archive at the pinned commit and unpack its `enron_subject_line/`.
    GitHub builds archives on request, so there is no checksum to pin: the zip's own CRCs
    are checked instead."""
    from .datasets import fetch  # the shared fetcher: timeout, temp file + rename

    dest.mkdir(parents=True, exist_ok=True)
    try:
        zipped = fetch(AESLC_URL, dest / f"AESLC-{COMMIT}.zip")
        with zipfile.ZipFile(zipped) as z:
            if z.testzip() is not None:
                raise UserError(f"{AESLC_URL}: a corrupt zip; retry, or pass --from DIR")
            z.extractall(dest)
    except (OSError, zipfile.BadZipFile) as e:
        raise UserError(
            f"cannot download AESLC ({e}); offline? pass --from DIR with a local copy"
        ) from None
    return dest / f"AESLC-{COMMIT}"


def prepare_aeslc(out: str | Path, from_dir: str | Path | None = None) -> dict[str, dict]:
    """Write the splits (see the module docstring); returns {split: {kind: path}}. On an
    error, the folders this call created are removed."""
    out = Path(out)
    created = [p for p in (out, *out.parents) if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        source = Path(from_dir) if from_dir is not None else download(out / "raw")
        splits = _locate(source)
        if "train" not in splits:
            raise UserError(
                f"{source}: no AESLC training data (train.src[.gz] + train.tgt, or "
                "enron_subject_line/train/*.subject); is this a copy of AESLC?"
            )
        return {split: _write_split(out, split, sides) for split, sides in splits.items()}
    except BaseException:
        for folder in created:  # what this call created, deepest first; nothing else
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _write_split(out: Path, split: str, sides: dict[str, list[str]]) -> dict[str, Path]:
    written = {}
    for kind, lines in sides.items():
        written[kind] = out / f"{split}.{kind}"
        written[kind].write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    refs = [k for k in ANNOTATIONS if k in sides]
    if not refs:
        return written
    rows = [f"{body}\t{sides[k][i]}\n" for i, body in enumerate(sides["src"]) for k in refs]
    written["tsv"] = out / f"{split}.tsv"
    written["tsv"].write_text("".join(rows), encoding="utf-8")
    return written
