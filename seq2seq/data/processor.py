"""Text <-> ids for one model: tokenizers, vocabularies and source reversal together.

A `Processor` is fitted on the training side, saved inside every checkpoint (`state()`),
and rebuilt by the translator, so training and inference can never disagree.
"""

from __future__ import annotations

from collections import Counter

from ..config import DataConfig
from ..vocab import Vocabulary
from .tokenizers import Tokenizer
from .transforms import drop_reason, reverse_source

Example = tuple[list[int], list[int]]  # (source ids, target ids)


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
        """Tokenizers and vocabularies counted on the pairs training keeps
        (`training_examples`): a token found only in a blank, one-sided or over-long pair
        gets no id. Sentencepiece learns from the two-sided pairs, as a pair's length in its
        pieces is known only once it is trained."""
        two_sided = [(s, t) for s, t in pairs if s.split() and t.split()]
        src_tok = Tokenizer(cfg.src_tokenizer).fit(s for s, _ in two_sided)
        tgt_tok = Tokenizer(cfg.tgt_tokenizer).fit(t for _, t in two_sided)
        tokens = [(src_tok.tokenize(s), tgt_tok.tokenize(t)) for s, t in two_sided]
        kept = [p for p in tokens if not drop_reason(*p, cfg.max_src_len, cfg.max_tgt_len)]
        src_vocab = Vocabulary.build(
            (s for s, _ in kept),
            max_size=cfg.src_tokenizer.max_vocab,
            min_freq=cfg.src_tokenizer.min_freq,
        )
        tgt_vocab = Vocabulary.build(
            (t for _, t in kept),
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

    def examples(self, pairs, *, filter_length: bool = True) -> list[Example]:
        """Pairs of text -> pairs of ids; training drops blank, one-sided and over-long pairs."""
        if filter_length:
            return self.training_examples(pairs)[0]
        return [(self.encode_src(s), self.encode_tgt(t)) for s, t in pairs]

    def training_examples(self, pairs) -> tuple[list[Example], dict[str, int]]:
        """The pairs training keeps, as ids (the pairs `fit` counts the vocabularies on), and
        how many it drops for each reason of `transforms.drop_reason`."""
        kept, dropped = [], Counter()
        for s, t in pairs:
            ex = (self.encode_src(s), self.encode_tgt(t))
            reason = drop_reason(*ex, self.cfg.max_src_len, self.cfg.max_tgt_len)
            if reason:
                dropped[reason] += 1
            else:
                kept.append(ex)
        return kept, dict(dropped)


def dropped_summary(dropped: dict[str, int], total: int, cfg: DataConfig) -> str:
    """One line: how many of the `total` training pairs were dropped, for which reasons."""
    names = {
        "blank": "blank",
        "one-sided": "with one side empty",
        "too long": f"longer than data.max_src_len {cfg.max_src_len} / "
        f"max_tgt_len {cfg.max_tgt_len} tokens",
    }
    reasons = ", ".join(f"{n} {names[r]}" for r, n in dropped.items())
    return f"dropped {sum(dropped.values())} of {total} training pairs: {reasons}"
