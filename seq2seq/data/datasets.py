"""Built-in translation corpora: download from the public URL, or read a local copy.

`prepare(name, pair, out, from_dir=None)` writes plain line-aligned files
OUT/{train,dev,test}.{src,tgt} (splits the source does not ship are skipped) that a config
points at with `data.train: {src: OUT/train.de, tgt: OUT/train.en}`.
"""

from __future__ import annotations

import io
import random
import urllib.request
import zipfile
from pathlib import Path

from ..errors import UserError
from .io import read_lines

MULTI30K_URL = (
    "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw/{split}.{lang}.gz"
)
TATOEBA_URL = "https://www.manythings.org/anki/fra-eng.zip"

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
    out = Path(out)
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


def download(name: str, dest: Path) -> Path:
    """Fetch a corpus from its public URL into `dest` (for users who are online)."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if name == "multi30k":
            for split in CORPORA[name][1].values():
                for lang in CORPORA[name][0]:
                    urllib.request.urlretrieve(
                        MULTI30K_URL.format(split=split, lang=lang), dest / f"{split}.{lang}.gz"
                    )
        elif name == "tatoeba-en-fr":
            with (
                urllib.request.urlopen(TATOEBA_URL) as r,
                zipfile.ZipFile(io.BytesIO(r.read())) as z,
            ):
                lines = z.read("fra.txt").decode("utf-8").splitlines()
            split_tatoeba([ln.split("\t")[:2] for ln in lines if "\t" in ln], dest)
        else:
            raise UserError(
                f"{name} has no single public file to download (it is exported from SWORD modules with "
                "diatheke); pass --from DIR with train/dev/test.{en,es} files"
            )
    except OSError as e:
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
