"""CMUdict parsing (comments, alternatives, stress) and splits grouped by source."""

from __future__ import annotations

import pytest

from seq2seq.data import cmudict
from seq2seq.data.splits import group_split, references
from seq2seq.errors import UserError

DICT = """\
# a full-line comment
abbey AE1 B IY0
abbey(2) AE1 B EY2 # an alternative, with a trailing comment

d'artagnan D AH0 R T AE1 NG Y AH0 N # place, france
zoo Z UW1
"""


def test_parse_comments_alternatives_and_spacing(tmp_path):
    path = tmp_path / "mini.dict"
    path.write_text(DICT, encoding="utf-8")
    pairs = cmudict.load(str(path))
    assert pairs == [
        ("abbey", "AE1 B IY0"),
        ("abbey", "AE1 B EY2"),
        ("d'artagnan", "D AH0 R T AE1 NG Y AH0 N"),
        ("zoo", "Z UW1"),
    ]
    sources, refs = references(pairs)
    assert sources == ["abbey", "d'artagnan", "zoo"]
    assert refs[0] == ["AE1 B IY0", "AE1 B EY2"]


def test_parse_strip_stress():
    pairs = cmudict.parse(["abbey(2)  AE1   B EY2", "zoo Z UW1"], strip_stress=True)
    assert pairs == [("abbey", "AE B EY"), ("zoo", "Z UW")]


def test_parse_word_without_phonemes_names_the_line():
    with pytest.raises(UserError, match=r"mini\.dict:2:"):
        cmudict.parse(["zoo Z UW1", "lonely"], name="mini.dict")


def _pairs():
    pairs = []
    for i in range(60):
        pairs.append((f"w{i}", f"p{i}"))
        if i % 3 == 0:
            pairs.append((f"w{i}", f"q{i}"))  # an alternative reference
    return pairs


def test_group_split_keeps_all_pairs_of_a_source_on_one_side():
    pairs = _pairs()
    train, dev, test = group_split(pairs, dev=0.1, test=0.2, seed=7)
    assert sorted(train + dev + test) == sorted(pairs)
    sides = [{s for s, _ in part} for part in (train, dev, test)]
    assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
    assert (len(sides[1]), len(sides[2])) == (6, 12)
    for part in (train, dev, test):  # order within each side is kept
        assert part == [p for p in pairs if p in part]


def test_group_split_is_deterministic_and_seed_dependent():
    pairs = _pairs()
    assert group_split(pairs, dev=0.1, test=0.1, seed=3) == group_split(
        pairs, dev=0.1, test=0.1, seed=3
    )
    assert group_split(pairs, dev=0.1, test=0.1, seed=3) != group_split(
        pairs, dev=0.1, test=0.1, seed=4
    )
