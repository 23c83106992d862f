"""Pure transforms and the vocabulary: source reversal, specials, ids, size cap."""

from __future__ import annotations

import pytest

from seq2seq.data.transforms import reverse_source, within_length
from seq2seq.vocab import BOS_ID, EOS_ID, PAD_ID, SPECIALS, UNK_ID, Vocabulary


def test_reverse_source_reverses_and_does_not_mutate():
    toks = ["a", "b", "c"]
    assert reverse_source(toks) == ["c", "b", "a"]
    assert toks == ["a", "b", "c"]
    assert reverse_source([]) == []
    assert reverse_source(("x",)) == ["x"]


def test_within_length_drops_empty_and_long_pairs():
    assert within_length([1, 2], [3], 2, 2)
    assert not within_length([], [3], 2, 2)
    assert not within_length([1], [], 2, 2)
    assert not within_length([1, 2, 3], [3], 2, 2)
    assert not within_length([1], [3, 4, 5], 2, 2)


def test_specials_have_fixed_ids():
    v = Vocabulary.build([["x", "y"]])
    assert v.itos[:4] == list(SPECIALS)
    assert (v.stoi["<pad>"], v.stoi["<unk>"], v.stoi["<s>"], v.stoi["</s>"]) == (
        PAD_ID,
        UNK_ID,
        BOS_ID,
        EOS_ID,
    )
    assert (PAD_ID, UNK_ID, BOS_ID, EOS_ID) == (0, 1, 2, 3)


def test_build_orders_by_frequency_then_first_appearance():
    v = Vocabulary.build([["b", "a", "c"], ["a", "c", "d"], ["c"]])
    assert v.itos[4:] == ["c", "a", "b", "d"]
    assert v.encode(["a", "zzz", "d"]) == [v.stoi["a"], UNK_ID, v.stoi["d"]]


def test_build_max_size_and_min_freq():
    sents = [["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d"] * 2 + ["e"]]
    capped = Vocabulary.build(sents, max_size=6)
    assert len(capped) == 6
    assert capped.itos[4:] == ["a", "b"]
    assert capped.encode(["c"]) == [UNK_ID]
    assert Vocabulary.build(sents, min_freq=3).itos[4:] == ["a", "b", "c"]
    assert len(Vocabulary.build(sents)) == 4 + 5


def test_specials_in_text_are_not_duplicated():
    v = Vocabulary.build([["<unk>", "x", "</s>"]])
    assert v.itos == [*SPECIALS, "x"]


def test_decode_stops_at_eos_and_drops_pad_and_bos():
    v = Vocabulary.build([["x", "y"]])
    x, y = v.stoi["x"], v.stoi["y"]
    assert v.decode([BOS_ID, x, PAD_ID, y, EOS_ID, x]) == ["x", "y"]


def test_vocabulary_must_start_with_specials():
    with pytest.raises(ValueError):
        Vocabulary(["a", "b", "c", "d"])
    assert Vocabulary([*SPECIALS, "q"]) == Vocabulary.build([["q"]])
