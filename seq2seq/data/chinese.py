"""Chinese character-level corpora: couplets (对联) and Tang-poem next lines.

`prepare_chinese(name, out, from_dir=None, script=...)` writes OUT/{train,dev[,test]}.{src,tgt}
with the characters of a line joined (no spaces), the way a reader writes them, for the
`char` tokenizer. A local copy (`--from`) is either the prepared folder of
`../shared/data/` (characters separated by spaces) or the upstream files; without one the
upstream files are downloaded from their public URLs (checksums pinned) and the published
selection is rebuilt exactly: the same pairs, in the same order, as the shared copy.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
from pathlib import Path

from ..errors import UserError
from .io import read_lines

COUPLET_COMMIT = "134405411ec64a985fb031fcbfa2276bfa322441"  # ZiJianZhao/Couplet-Machine
COUPLET_URL = (
    f"https://raw.githubusercontent.com/ZiJianZhao/Couplet-Machine/{COUPLET_COMMIT}"
    "/data/final/{file}"
)
# the per-source files the repo's data/final/final.py joins, in the order that rebuilds its
# training set line for line (their train.txt is over 4 MiB and not in the repository)
COUPLET_SOURCES = (
    "cldldq+zgdl+zgdldq+zgdlw.txt",
    "mannual.txt",
    "lwdy+slqm+xmpj.txt",
    "long.txt",
    "qts_for_duilian.txt",
)
COUPLET_SHA256 = {
    "cldldq+zgdl+zgdldq+zgdlw.txt": "9497ff095f4699aa7b1d88375e244a03c986cfa1a1e36a3cc5428b71154ccbf1",
    "mannual.txt": "26a1c6930b0fb77c44e99049ae2e27ebd1ea8d2650c625d708807cf68497b342",
    "lwdy+slqm+xmpj.txt": "f00be669fea2301c3ae6edc83205f53ce1594e1c31c38eef603bc64e84d066a2",
    "long.txt": "974d793241a17f232b319d8a1fc1e6c4af3b289d82f7efaa31cee7ad606bae7b",
    "qts_for_duilian.txt": "f7c3a767feb5481c98360b38e93892737f564f5cce7d95bf837b9d3687d4c89e",
    "valid.txt": "7f6f8540005d9798ebd04a94d934837fe903cfa35a37d2d69969abfdd07c5ace",
    "test.txt": "1cc1bca1d8adb93c6eb3391739d89b4490e625d6ff428b16e4ef7a923c07d13c",
}
TANG_COMMIT = "99ebbef7e1345c0985c44b9fd96a3f9e776f117b"  # chinese-poetry/chinese-poetry
TANG_URL = (
    f"https://raw.githubusercontent.com/chinese-poetry/chinese-poetry/{TANG_COMMIT}"
    "/%E5%85%A8%E5%94%90%E8%AF%97/{file}"  # 全唐诗/
)
TANG_FILES = tuple(f"poet.tang.{i}.json" for i in range(0, 58000, 1000))
TANG_SHA256 = "3f7d2ecd229e8f4cca51255f6cc584509e2ad481f7c13cab8b02e1c656a065a0"  # all 58, joined
TANG_PAIRS = {"test": 2000, "dev": 1000, "train": 100000}  # filled in this order, whole poems
CORPORA = ("couplet-zh", "tang-poems")


def is_cjk(c: str) -> bool:
    """A CJK Unified Ideograph of the basic block (the test both upstream selections use)."""
    return "\u4e00" <= c <= "\u9fff"


def joined(line: str) -> str:
    """`床 前 明 月 光` -> `床前明月光`: the shared copies separate characters by spaces."""
    return "".join(line.split())


# -- couplets: a port of Couplet-Machine's data/final/final.py (normal_text) ---------------


def normal_line(line: str) -> str:
    """final.py's `normal_line`: whitespace dropped, every non-CJK character becomes `，`, a
    final `，` becomes `。` and a final `。` is added after a character; space-separated."""
    chars = [c if is_cjk(c) else "，" for c in line if c.strip()]
    if not chars:
        return ""
    if chars[-1] == "，":
        chars[-1] = "。"
    if is_cjk(chars[-1]):
        chars.append("。")
    return " ".join(chars)


def repetitions(tokens: list[str]) -> list[int]:
    """Each token's first position: the pattern of repeated characters (`get_repetations`)."""
    first: dict[str, int] = {}
    for i, t in enumerate(tokens):
        first.setdefault(t, i)
    return [first[t] for t in tokens]


def parallel(a: str, b: str) -> bool:
    """final.py's `judge_two_lines`: same length, same repetition pattern, characters and
    punctuation in the same places."""
    if len(a) != len(b) or repetitions(a.split()) != repetitions(b.split()):
        return False
    return all(is_cjk(x) == is_cjk(y) for x, y in zip(a, b))


def couplet_pairs(texts: list[str], held_out: set[str], max_len: int = 30) -> list[tuple]:
    """The training couplets from the per-source files' `上联\\t=>\\t下联` lines: normalised,
    parallel, first line short enough (final.py's test `len / 2 > 30` as the shared copy was
    built, with true division), duplicates once, first lines of dev/test dropped, the final
    ` 。` stripped."""
    seen, out = set(), []
    for text in texts:
        for line in text.split("\n"):
            parts = line.strip().split("\t=>\t")
            if len(parts) != 2:
                continue
            a, b = normal_line(parts[0]), normal_line(parts[1])
            if not a or len(a) / 2 > max_len or not parallel(a, b) or (a, b) in seen:
                continue
            seen.add((a, b))
            if a not in held_out:
                out.append((a.removesuffix(" 。"), b.removesuffix(" 。")))
    return out


def _couplet_split(text: str) -> list[tuple[str, str]]:
    """valid.txt / test.txt: `上联 。\\t=>\\t下联 。` per line, the final ` 。` stripped."""
    rows = [line.split("\t=>\t") for line in text.split("\n") if "\t=>\t" in line]
    return [(a.strip().removesuffix(" 。"), b.strip().removesuffix(" 。")) for a, b in rows]


def couplets_from_upstream(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """Couplet-Machine's data/final files -> {train, dev, test} pairs, as the shared copy."""
    read = {f: (folder / f).read_text(encoding="utf-8") for f in COUPLET_SHA256}
    splits = {"dev": _couplet_split(read["valid.txt"]), "test": _couplet_split(read["test.txt"])}
    held = {
        line.split("\t=>\t")[0].strip()
        for f in ("valid.txt", "test.txt")
        for line in read[f].split("\n")
        if "\t=>\t" in line
    }
    splits["train"] = couplet_pairs([read[f] for f in COUPLET_SOURCES], held)
    return splits


# -- Tang poems: regulated verse from chinese-poetry's 全唐诗, split by poem -----------------


def regulated_lines(paragraphs: list[str]) -> list[str] | None:
    """A poem's lines if it is regulated verse (4 or 8 lines, all of 5 or all of 7 CJK
    characters, the text ending in punctuation), else None."""
    text = "".join(paragraphs or [])
    if not text or text[-1] not in "，。？！；":
        return None
    lines = [x for x in re.split("[，。？！；]", text) if x]
    if len(lines) not in (4, 8) or len(lines[0]) not in (5, 7):
        return None
    if any(len(x) != len(lines[0]) or not all(map(is_cjk, x)) for x in lines):
        return None
    return lines


def tang_splits(poem_files: list[list[dict]], seed: int = 1234) -> dict[str, list[list[str]]]:
    """Regulated poems (identical line sequences once) shuffled by poem; whole poems fill test,
    dev, then train up to their pair counts (`TANG_PAIRS`); each split keeps file order."""
    poems, seen = [], set()
    for entries in poem_files:
        for entry in entries:
            lines = regulated_lines(entry.get("paragraphs"))
            if lines and tuple(lines) not in seen:
                seen.add(tuple(lines))
                poems.append(lines)
    order = list(range(len(poems)))
    random.Random(seed).shuffle(order)
    side, filled = {}, dict.fromkeys(TANG_PAIRS, 0)
    for i in order:
        split = next((s for s, cap in TANG_PAIRS.items() if filled[s] < cap), None)
        if split is None:
            break
        side[i] = split
        filled[split] += len(poems[i]) - 1
    return {s: [p for i, p in enumerate(poems) if side.get(i) == s] for s in TANG_PAIRS}


def poem_pairs(poems: list[list[str]]) -> list[tuple[str, str]]:
    """Each line with the next line of its poem."""
    return [(p[k], p[k + 1]) for p in poems for k in range(len(p) - 1)]


def to_simplified(lines: list[str]) -> list[str]:
    """OpenCC t2s, as the shared `*.simp.*` files were made (the optional `opencc` package)."""
    try:
        import opencc
    except ImportError:
        raise UserError(
            "tang-poems --script simplified from the upstream files needs OpenCC: "
            "pip install 'opencc>=1.4.2'; or use --script traditional"
        ) from None
    convert = opencc.OpenCC("t2s").convert
    return [convert(x) for x in lines]


def poems_from_upstream(folder: Path, script: str) -> dict[str, list[tuple[str, str]]]:
    files = [json.loads((folder / f).read_text(encoding="utf-8")) for f in TANG_FILES]
    splits = {s: poem_pairs(p) for s, p in tang_splits(files).items()}
    if script == "simplified":
        for s, pairs in splits.items():
            src, tgt = to_simplified([a for a, _ in pairs]), to_simplified([b for _, b in pairs])
            splits[s] = list(zip(src, tgt))
    return splits


# -- reading a local copy, downloading, writing ---------------------------------------------


def _shared_copy(folder: Path, stem: str) -> dict[str, list[tuple[str, str]]]:
    """A folder of ../shared/data: {split}{stem}.src[.gz] / .tgt[.gz], characters spaced."""
    splits = {}
    for split in ("train", "dev", "test"):
        paths = [_find(folder, f"{split}{stem}.{side}") for side in ("src", "tgt")]
        if None in paths:
            continue
        src, tgt = (read_lines(p) for p in paths)
        if len(src) != len(tgt):
            raise UserError(f"{paths[0]} has {len(src)} lines but {paths[1]} has {len(tgt)}")
        splits[split] = list(zip(src, tgt))
    return splits


def _find(folder: Path, name: str) -> Path | None:
    return next((p for p in (folder / f"{name}.gz", folder / name) if p.is_file()), None)


def read_corpus(name: str, folder: Path, script: str) -> dict[str, list[tuple[str, str]]]:
    """The splits of a local copy: the shared folder's files, else the upstream files."""
    stem = ".simp" if name == "tang-poems" and script == "simplified" else ""
    splits = _shared_copy(folder, stem)
    if "train" in splits:
        return splits
    upstream = COUPLET_SHA256 if name == "couplet-zh" else dict.fromkeys(TANG_FILES)
    if all((folder / f).is_file() for f in upstream):
        if name == "couplet-zh":
            return couplets_from_upstream(folder)
        return poems_from_upstream(folder, script)
    raise UserError(
        f"{folder}: no train{stem}.src[.gz] / train{stem}.tgt[.gz] files (a copy of "
        f"../shared/data) and not the upstream files ({', '.join(list(upstream)[:2])}, ...); "
        f"is this a copy of {name}?"
    )


def download_chinese(name: str, dest: Path) -> Path:
    """The upstream files of `name` into `dest`, each checked against its pinned checksum."""
    from .datasets import fetch  # the one downloader (atomic, with a timeout)

    dest.mkdir(parents=True, exist_ok=True)
    try:
        if name == "couplet-zh":
            for file, sha in COUPLET_SHA256.items():
                fetch(COUPLET_URL.format(file=file.replace("+", "%2B")), dest / file, sha)
            return dest
        digest = hashlib.sha256()
        for file in TANG_FILES:
            path = dest / file
            if not path.is_file():
                fetch(TANG_URL.format(file=file), path)
            digest.update(path.read_bytes())
    except OSError as e:
        raise UserError(
            f"cannot download {name} ({e}); offline? pass --from DIR with a local copy"
        ) from None
    if digest.hexdigest() != TANG_SHA256:
        raise UserError(
            f"{dest}: the 58 poet.tang.*.json files do not match the pinned checksum (commit "
            f"{TANG_COMMIT[:7]}); delete the folder and retry, or pass --from DIR"
        )
    return dest


def prepare_chinese(
    name: str, out: Path, from_dir: str | Path | None = None, *, script: str = "simplified"
) -> dict[str, tuple[Path, Path]]:
    """Write OUT/{split}.src and .tgt, characters joined; returns the written paths."""
    if name not in CORPORA:
        raise UserError(f"unknown corpus {name!r}; choose one of {', '.join(CORPORA)}")
    if from_dir is not None and not Path(from_dir).is_dir():
        raise UserError(f"--from {from_dir}: not a folder; give the folder of a local copy")
    created = [p for p in (out, *out.parents) if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        folder = Path(from_dir) if from_dir is not None else download_chinese(name, out / "raw")
        written = {}
        for split, pairs in read_corpus(name, folder, script).items():
            paths = (out / f"{split}.src", out / f"{split}.tgt")
            for path, side in zip(paths, zip(*pairs)):
                path.write_text("".join(joined(x) + "\n" for x in side), encoding="utf-8")
            written[split] = paths
        return written
    except BaseException:
        for made in created:  # what this call created, deepest first; nothing else
            shutil.rmtree(made, ignore_errors=True)
        raise
