"""Text <-> ids for summarization: a shared vocabulary, the extended ids of a copying model
(source tokens outside the vocabulary numbered by their first source position), source
truncation instead of dropping, and the wordpunct tokenizer."""

from __future__ import annotations

import pytest

from seq2seq.config import DataConfig, SplitConfig, TokenizerConfig, config_from_dict
from seq2seq.data import Processor
from seq2seq.errors import UserError
from seq2seq.vocab import UNK, UNK_ID

WORDS = TokenizerConfig(kind="word", min_freq=2)
PAIRS = [
    ("please call bob about the report", "call bob"),
    ("please call ann about the budget", "call ann"),
    ("the report is late", "report late"),
    ("the budget is late", "budget late"),
]


def _data(**kw) -> DataConfig:
    base = {
        "train": SplitConfig(tsv="unused.tsv"),
        "src_tokenizer": WORDS,
        "tgt_tokenizer": WORDS,
        "shared_vocab": True,
        "reverse_source": False,
    }
    return DataConfig(**{**base, **kw})


def test_shared_vocabulary_is_counted_on_both_sides():
    p = Processor.fit(_data(), PAIRS)
    assert p.src_vocab is p.tgt_vocab
    assert {"call", "report", "late", "please", "the"} <= set(p.tgt_vocab.itos)  # 2+ times
    assert "bob" in p.tgt_vocab.stoi  # once in the source, once in the target: twice
    apart = Processor.fit(_data(shared_vocab=False), PAIRS)
    assert "bob" not in apart.src_vocab.stoi and "bob" not in apart.tgt_vocab.stoi


def test_extended_ids_number_out_of_vocabulary_tokens_by_first_source_position():
    p = Processor.fit(_data(), PAIRS, copy=True)
    V = len(p.tgt_vocab)
    src, tgt = p.encode_pair("call zed or zed and quux", "zed quux call nobody")
    assert src[1] == src[3] == V + 1  # `zed` first at position 1
    assert src[5] == V + 5 and src[0] == p.tgt_vocab.stoi["call"]
    assert tgt == [V + 1, V + 5, p.tgt_vocab.stoi["call"], UNK_ID]  # not in the source: <unk>
    assert p.encode_src("call zed or zed and quux") == src
    assert p.decode_tgt(tgt, "call zed or zed and quux") == f"zed quux call {UNK}"
    assert p.decode_tgt(tgt) == f"{UNK} {UNK} call {UNK}"  # without its source


def test_extended_ids_follow_the_order_the_encoder_reads():
    p = Processor.fit(_data(reverse_source=True), PAIRS, copy=True)
    V = len(p.tgt_vocab)
    src, tgt = p.encode_pair("call zed now", "zed")
    assert p.src_tokens("call zed now") == ["now", "zed", "call"]
    assert tgt == [V + 1] and src[1] == V + 1
    assert p.decode_tgt(tgt, "call zed now") == "zed"


def test_without_copy_the_shared_vocabulary_reads_unknown_tokens_as_unk():
    p = Processor.fit(_data(), PAIRS)
    assert p.encode_pair("call zed", "zed") == ([p.src_vocab.stoi["call"], UNK_ID], [UNK_ID])


def test_state_round_trip_keeps_copy_and_the_shared_vocabulary():
    cfg = _data()
    p = Processor.fit(cfg, PAIRS, copy=True)
    q = Processor.from_state(cfg, p.state())
    assert q.copy and q.src_vocab is q.tgt_vocab and q.tgt_vocab == p.tgt_vocab
    assert q.encode_pair("call zed", "zed") == p.encode_pair("call zed", "zed")
    old = {k: v for k, v in p.state().items() if k != "copy"}  # a checkpoint from before
    assert not Processor.from_state(cfg, old).copy


def test_truncate_src_cuts_long_sources_instead_of_dropping_them():
    long = [("a b c d e f g h", "x"), ("a b", "y")]
    dropped, reasons = Processor.fit(_data(max_src_len=4), long).training_examples(long)
    assert len(dropped) == 1 and reasons == {"too long": 1}
    cut = Processor.fit(_data(max_src_len=4, truncate_src=True), long)
    kept, reasons = cut.training_examples(long)
    assert len(kept) == 2 and not reasons and len(kept[0][0]) == 4
    assert cut.src_tokens("a b c d e f g h") == ["a", "b", "c", "d"]  # the start is kept
    rev = Processor.fit(_data(max_src_len=4, truncate_src=True, reverse_source=True), long)
    assert rev.src_tokens("a b c d e f g h") == ["d", "c", "b", "a"]  # cut, then reversed


def test_wordpunct_splits_punctuation_off_words():
    p = Processor.fit(_data(src_tokenizer=_wp(), tgt_tokenizer=_wp()), [("Hi Bob, call me.", "x")])
    assert p.src_tokens("Hi Phillip, meet at 9:00 (EB 3267)!") == [
        "hi", "phillip", ",", "meet", "at", "9", ":", "00", "(", "eb", "3267", ")!",
    ]  # fmt: skip


def _wp() -> TokenizerConfig:
    return TokenizerConfig(kind="wordpunct", lowercase=True)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"model": {"copy": True}}, "model.attention"),
        ({"model": {"copy": True, "attention": "general"}}, "data.shared_vocab"),
        ({"data": {"shared_vocab": True, "tgt_tokenizer": {"kind": "char"}}}, "same settings"),
        (
            {
                "model": {"copy": True, "attention": "general"},
                "data": {"shared_vocab": True},
                "train": {"distill_from": ["t.pt"]},
            },
            "distill_from",
        ),
    ],
)
def test_config_refuses_copy_without_what_it_needs(change, message):
    raw = {"data": {"train": {"tsv": "t.tsv"}}, "model": {"type": "rnn"}, "train": {}}
    for section, values in change.items():
        raw[section] = {**raw[section], **values}
    with pytest.raises(UserError, match=message):
        config_from_dict(raw)
