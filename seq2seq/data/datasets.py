"""Built-in translation corpora: download from the public URL, or read a local copy.

`prepare(name, pair, out, from_dir=None)` writes plain line-aligned files
OUT/{train,dev,test}.{src,tgt} (splits the source does not ship are skipped) that a config
points at with `data.train: {src: OUT/train.de, tgt: OUT/train.en}`.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from ..errors import UserError
from .io import read_lines

MULTI30K_URL = (
    "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw/{split}.{lang}.gz"
)
TATOEBA_URL = "https://www.manythings.org/anki/fra-eng.zip"
TIMEOUT_SECONDS = 60  # per connection attempt and per read, not for the whole file

# SHA-256 of each Multi30k file (github.com/multi30k/dataset, data/task1/raw, commit a3d2e0d).
# The Tatoeba export is rebuilt from the live site every few weeks, so it has none to pin:
# its zip's own CRCs are checked instead.
MULTI30K_SHA256 = {
    "test_2016_flickr.cs.gz": "200a4a74cc9560f051924abb9803be008d1908d77f747e9141aeb86dfd2797f1",
    "test_2016_flickr.de.gz": "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
    "test_2016_flickr.en.gz": "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
    "test_2016_flickr.fr.gz": "6d326e188d259fb1d04ac19eae3af956559b3a0b93d7635e56c90987c40c8b90",
    "train.cs.gz": "a65adb8b32e3bc664f21ecba7a6e7f6950fd1f405e135f7c312faabdb6255077",
    "train.de.gz": "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6",
    "train.en.gz": "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f",
    "train.fr.gz": "622e75069e9f4c577425c4f277116ce66e63a2401c0a2312d90073cb12379a3c",
    "val.cs.gz": "b63226e05c4bd5dd6a42897d74b86a1b9d2c31498252c572b1ea7f7996927fcc",
    "val.de.gz": "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a",
    "val.en.gz": "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28",
    "val.fr.gz": "ca3106f1a72390591d25f6c45cb4cd39dec4cd3f123e099748a3ce5256c160e9",
}

DOWNLOADABLE = ("multi30k", "tatoeba-en-fr")
# name -> (languages, {our split: the corpus's file stem})
CORPORA = {
    "multi30k": (
        ("en", "de", "fr", "cs"),
        {"train": "train", "dev": "val", "test": "test_2016_flickr"},
    ),
    "tatoeba-en-fr": (("en", "fr"), {"train": "train", "dev": "dev", "test": "test"}),
    "bible-en-es": (("en", "es", "en_kjv"), {"train": "train", "dev": "dev", "test": "test"}),
}


def prepare(
    name: str, pair: str, out: str | Path, from_dir: str | Path | None = None
) -> dict[str, tuple[Path, Path]]:
    if name not in CORPORA:
        raise UserError(f"unknown corpus {name!r}; choose one of {', '.join(CORPORA)}")
    langs, stems = CORPORA[name]
    src, _, tgt = pair.partition("-")
    if src not in langs or tgt not in langs or src == tgt:
        raise UserError(
            f"--pair {pair!r}: {name} has languages {', '.join(langs)}; write e.g. {langs[1]}-{langs[0]}"
        )
    if from_dir is None and name not in DOWNLOADABLE:
        raise UserError(
            f"{name} has no single public file to download (it is exported from SWORD modules with "
            "diatheke); pass --from DIR with train/dev/test.{en,es} files"
        )
    if from_dir is not None and _find(Path(from_dir), stems["train"], src) is None:
        raise UserError(
            f"{from_dir}: no {stems['train']}.{src}[.gz] file; is this a copy of {name}?"
        )
    out = Path(out)
    created = [p for p in (out, *out.parents) if not p.exists()]
    try:
        return _write_splits(name, src, tgt, out, from_dir)
    except BaseException:
        for folder in created:  # what this call created, deepest first; nothing else
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _write_splits(
    name: str, src: str, tgt: str, out: Path, from_dir: str | Path | None
) -> dict[str, tuple[Path, Path]]:
    stems = CORPORA[name][1]
    out.mkdir(parents=True, exist_ok=True)
    if from_dir is None:
        from_dir = download(name, out / "raw")
    written = {}
    for split, stem in stems.items():
        sides = [_find(Path(from_dir), stem, lang) for lang in (src, tgt)]
        if None in sides:
            continue  # e.g. a held-out test split that is not shipped
        a, b = (read_lines(p) for p in sides)
        if len(a) != len(b):
            raise UserError(
                f"{sides[0]} has {len(a)} lines but {sides[1]} has {len(b)}; they must be line-aligned"
            )
        paths = (out / f"{split}.{src}", out / f"{split}.{tgt}")
        for path, lines in zip(paths, (a, b)):
            path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
        written[split] = paths
    if "train" not in written:
        raise UserError(
            f"{from_dir}: no {stems['train']}.{src}[.gz] / .{tgt}[.gz] files; is this a copy of {name}?"
        )
    return written


def _find(folder: Path, stem: str, lang: str) -> Path | None:
    for path in (folder / f"{stem}.{lang}.gz", folder / f"{stem}.{lang}"):
        if path.is_file():
            return path
    return None


def fetch(url: str, dest: Path, sha256: str | None = None) -> Path:
    """`url` -> `dest`, written whole or not at all (temp file + rename), with a timeout, and
    refused (nothing written) when `sha256` is given and the bytes do not match it."""
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as r:
            while chunk := r.read(1 << 20):
                digest.update(chunk)
                f.write(chunk)
        if sha256 and digest.hexdigest() != sha256:
            raise UserError(
                f"{url}: checksum mismatch (sha256 {digest.hexdigest()[:12]}..., expected "
                f"{sha256[:12]}...); the download is corrupt or the file changed upstream; "
                "retry, or pass --from DIR with a local copy"
            )
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return dest


def download(name: str, dest: Path) -> Path:
    """Fetch a corpus from its public URL into `dest` (for users who are online)."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if name == "multi30k":
            for split in CORPORA[name][1].values():
                for lang in CORPORA[name][0]:
                    file = f"{split}.{lang}.gz"
                    url = MULTI30K_URL.format(split=split, lang=lang)
                    fetch(url, dest / file, MULTI30K_SHA256[file])
        elif name == "tatoeba-en-fr":
            zipped = fetch(TATOEBA_URL, dest / "fra-eng.zip")
            with zipfile.ZipFile(zipped) as z:
                if z.testzip() is not None:
                    raise UserError(f"{TATOEBA_URL}: a corrupt zip; retry, or pass --from DIR")
                lines = z.read("fra.txt").decode("utf-8").splitlines()
            split_tatoeba([ln.split("\t")[:2] for ln in lines if "\t" in ln], dest)
    except (OSError, zipfile.BadZipFile) as e:
        raise UserError(
            f"cannot download {name} ({e}); offline? pass --from DIR with a local copy"
        ) from None
    return dest


def split_tatoeba(pairs: list[list[str]], dest: Path, seed: int = 1234) -> None:
    """Group by English sentence, shuffle groups, fill test (>= 2000 pairs), then dev (>= 1000)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for en, fr in pairs:
        if en.strip() and fr.strip():
            groups.setdefault(en.strip(), []).append((en.strip(), fr.strip()))
    keys = list(groups)
    random.Random(seed).shuffle(keys)
    side, filled = {}, {"test": 0, "dev": 0}
    for k in keys:
        target = "test" if filled["test"] < 2000 else "dev" if filled["dev"] < 1000 else "train"
        side[k] = target
        if target != "train":
            filled[target] += len(groups[k])
    for split in ("train", "dev", "test"):
        rows = [p for k in groups if side[k] == split for p in groups[k]]
        for i, lang in enumerate(("en", "fr")):
            (dest / f"{split}.{lang}").write_text(
                "".join(r[i] + "\n" for r in rows), encoding="utf-8"
            )
