"""Processor: text <-> ids with source reversal, saved and restored with the model."""

from __future__ import annotations

from seq2seq.config import DataConfig, SplitConfig, TokenizerConfig
from seq2seq.data import Processor
from seq2seq.data.tokenizers import SPACE
from seq2seq.vocab import EOS_ID, UNK_ID


def _cfg(**kw):
    base = {
        "train": SplitConfig(tsv="unused.tsv"),
        "src_tokenizer": TokenizerConfig(kind="char"),
        "tgt_tokenizer": TokenizerConfig(kind="word", lowercase=True),
    }
    return DataConfig(**{**base, **kw})


PAIRS = [("ab c", "X Y"), ("ca", "y z"), ("bbb", "X")]


def test_source_is_reversed_only_when_configured():
    rev = Processor.fit(_cfg(), PAIRS)
    assert rev.src_tokens("ab c") == ["c", SPACE, "b", "a"]
    assert rev.encode_src("ab c") == rev.src_vocab.encode(["c", SPACE, "b", "a"])
    plain = Processor.fit(_cfg(reverse_source=False), PAIRS)
    assert plain.src_tokens("ab c") == ["a", "b", SPACE, "c"]


def test_targets_round_trip_and_unknowns():
    proc = Processor.fit(_cfg(), PAIRS)
    ids = proc.encode_tgt("X z")
    assert proc.decode_tgt([*ids, EOS_ID, ids[0]]) == "x z"
    assert proc.encode_tgt("never") == [UNK_ID]


def test_state_round_trip_with_sentencepiece():
    cfg = _cfg(tgt_tokenizer=TokenizerConfig(kind="spm", spm_vocab_size=30))
    pairs = [(f"w{i}", f"the red stone {i} falls over the river") for i in range(60)]
    proc = Processor.fit(cfg, pairs)
    again = Processor.from_state(cfg, proc.state())
    text = pairs[7][1]
    assert again.encode_tgt(text) == proc.encode_tgt(text)
    assert again.decode_tgt(again.encode_tgt(text)) == text
    assert again.src_vocab == proc.src_vocab and again.tgt_vocab == proc.tgt_vocab


def test_examples_filter_by_length():
    proc = Processor.fit(_cfg(max_src_len=3), PAIRS + [("", "X")])
    kept = proc.examples(PAIRS + [("", "X")])
    assert len(kept) == 2  # "ab c" is 4 characters; "" is empty
    assert len(proc.examples(PAIRS + [("", "X")], filter_length=False)) == 4


def test_the_vocabularies_count_only_the_pairs_training_keeps():
    """Blank, one-sided and over-long pairs were dropped from training while their tokens
    still got ids; now a token seen only in a dropped pair is unknown."""
    cfg = _cfg(
        src_tokenizer=TokenizerConfig(kind="word"),
        tgt_tokenizer=TokenizerConfig(kind="word"),
        max_src_len=3,
        max_tgt_len=3,
    )
    kept = [("a b", "x y"), ("b c", "y z")]
    dropped = [
        ("  ", ""),  # blank
        ("lonely", ""),  # one-sided: the source has words
        ("", "orphan"),
        ("a b c toolong", "x"),  # 4 source words
        ("a", "x y z wordy"),  # 4 target words
    ]
    proc = Processor.fit(cfg, kept + dropped)
    assert proc.src_vocab.itos[4:] == ["b", "a", "c"]
    assert proc.tgt_vocab.itos[4:] == ["y", "x", "z"]
    examples, why = proc.training_examples(kept + dropped)
    assert examples == proc.examples(kept)
    assert len(examples) == 2
    assert why == {"blank": 1, "one-sided": 2, "too long": 2}
