"""Tokenizers round-trip: char (spaces kept), word (lower-casing), sentencepiece."""

from __future__ import annotations

import random

from seq2seq.config import TokenizerConfig
from seq2seq.data.tokenizers import SPACE, Tokenizer


def test_char_round_trip_keeps_spaces():
    tok = Tokenizer(TokenizerConfig(kind="char")).fit([])
    toks = tok.tokenize("ab c")
    assert toks == ["a", "b", SPACE, "c"]
    assert tok.detokenize(toks) == "ab c"
    assert tok.state() is None


def test_char_normalises_whitespace_and_case_when_asked():
    tok = Tokenizer(TokenizerConfig(kind="char", lowercase=True))
    assert tok.detokenize(tok.tokenize("  Hello   World ")) == "hello world"


def test_word_lowercase_round_trip():
    tok = Tokenizer(TokenizerConfig(kind="word", lowercase=True))
    assert tok.tokenize("The  Cat sat") == ["the", "cat", "sat"]
    assert tok.detokenize(tok.tokenize("The  Cat sat")) == "the cat sat"
    cased = Tokenizer(TokenizerConfig(kind="word"))
    assert cased.detokenize(cased.tokenize("The Cat")) == "The Cat"


def _sentences(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = ["river", "stone", "light", "quiet", "garden", "falls", "over", "the", "a", "red"]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(3, 8))) for _ in range(n)]


def test_spm_trains_small_vocab_round_trips_and_restores_from_state():
    texts = _sentences(300)
    cfg = TokenizerConfig(kind="spm", spm_vocab_size=40, spm_model_type="unigram")
    tok = Tokenizer(cfg).fit(texts)
    assert tok.state() is not None
    for text in texts[:50] + ["stone garden over the red light"]:
        pieces = tok.tokenize(text)
        assert tok.detokenize(pieces) == text
    assert len({p for t in texts for p in tok.tokenize(t)}) <= 40
    again = Tokenizer(cfg, tok.state())
    assert again.tokenize(texts[0]) == tok.tokenize(texts[0])


def test_spm_bpe_round_trip():
    texts = _sentences(200, seed=1)
    tok = Tokenizer(TokenizerConfig(kind="spm", spm_vocab_size=50, spm_model_type="bpe"))
    tok.fit(texts)
    assert all(tok.detokenize(tok.tokenize(t)) == t for t in texts)
