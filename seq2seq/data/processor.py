"""Text <-> ids for one model: tokenizers, vocabularies and source reversal together.

A `Processor` is fitted on the training side, saved inside every checkpoint (`state()`),
and rebuilt by the translator, so training and inference can never disagree.
"""

from __future__ import annotations

from ..config import DataConfig
from ..vocab import Vocabulary
from .tokenizers import Tokenizer
from .transforms import reverse_source, within_length


class Processor:
    def __init__(
        self,
        cfg: DataConfig,
        src_tok: Tokenizer,
        tgt_tok: Tokenizer,
        src_vocab: Vocabulary,
        tgt_vocab: Vocabulary,
    ):
        self.cfg = cfg
        self.src_tok, self.tgt_tok = src_tok, tgt_tok
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab

    @classmethod
    def fit(cls, cfg: DataConfig, pairs: list[tuple[str, str]]) -> Processor:
        src_tok = Tokenizer(cfg.src_tokenizer).fit(s for s, _ in pairs)
        tgt_tok = Tokenizer(cfg.tgt_tokenizer).fit(t for _, t in pairs)
        src_vocab = Vocabulary.build(
            (src_tok.tokenize(s) for s, _ in pairs),
            max_size=cfg.src_tokenizer.max_vocab,
            min_freq=cfg.src_tokenizer.min_freq,
        )
        tgt_vocab = Vocabulary.build(
            (tgt_tok.tokenize(t) for _, t in pairs),
            max_size=cfg.tgt_tokenizer.max_vocab,
            min_freq=cfg.tgt_tokenizer.min_freq,
        )
        return cls(cfg, src_tok, tgt_tok, src_vocab, tgt_vocab)

    def state(self) -> dict:
        return {
            "src_vocab": self.src_vocab.itos,
            "tgt_vocab": self.tgt_vocab.itos,
            "src_spm": self.src_tok.state(),
            "tgt_spm": self.tgt_tok.state(),
        }

    @classmethod
    def from_state(cls, cfg: DataConfig, state: dict) -> Processor:
        return cls(
            cfg,
            Tokenizer(cfg.src_tokenizer, state["src_spm"]),
            Tokenizer(cfg.tgt_tokenizer, state["tgt_spm"]),
            Vocabulary(state["src_vocab"]),
            Vocabulary(state["tgt_vocab"]),
        )

    def src_tokens(self, text: str) -> list[str]:
        """Tokens in the order the encoder reads them (reversed when configured)."""
        toks = self.src_tok.tokenize(text)
        return reverse_source(toks) if self.cfg.reverse_source else toks

    def encode_src(self, text: str) -> list[int]:
        return self.src_vocab.encode(self.src_tokens(text))

    def encode_tgt(self, text: str) -> list[int]:
        return self.tgt_vocab.encode(self.tgt_tok.tokenize(text))

    def decode_tgt(self, ids) -> str:
        return self.tgt_tok.detokenize(self.tgt_vocab.decode(ids))

    def examples(self, pairs, *, filter_length: bool = True) -> list[tuple[list[int], list[int]]]:
        """Pairs of text -> pairs of ids; training drops empty and over-long pairs."""
        out = []
        for s, t in pairs:
            ex = (self.encode_src(s), self.encode_tgt(t))
            if not filter_length or within_length(*ex, self.cfg.max_src_len, self.cfg.max_tgt_len):
                out.append(ex)
        return out
