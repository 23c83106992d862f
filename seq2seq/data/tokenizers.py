"""Tokenizers: character, word (optionally lower-cased), word with punctuation split off
(`wordpunct`: `Hi Phillip,` -> `Hi Phillip ,`) and sentencepiece (BPE / unigram).

Each is fitted on the training side (only sentencepiece learns anything) and can be
rebuilt from `state()`, which is stored in the checkpoint so a model carries its tokenizer.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

import sentencepiece as spm

from ..config import TokenizerConfig

SPACE = "\u2581"  # how the char tokenizer spells a space
WORD_OR_PUNCT = re.compile(r"\w+|[^\w\s]+")  # runs of word characters, runs of the rest


class Tokenizer:
    def __init__(self, cfg: TokenizerConfig, spm_model: bytes | None = None):
        self.cfg = cfg
        self._spm = None
        if spm_model is not None:
            self._spm = spm.SentencePieceProcessor(model_proto=spm_model)
            self._spm_bytes = spm_model

    def fit(self, texts: Iterable[str]) -> Tokenizer:
        if self.cfg.kind == "spm" and self._spm is None:
            buf = io.BytesIO()
            spm.SentencePieceTrainer.train(
                sentence_iterator=(self._norm(t) for t in texts),
                model_writer=buf,
                vocab_size=self.cfg.spm_vocab_size,
                model_type=self.cfg.spm_model_type,
                character_coverage=1.0,
                hard_vocab_limit=False,
                minloglevel=2,
            )
            self.__init__(self.cfg, buf.getvalue())
        return self

    def _norm(self, text: str) -> str:
        text = " ".join(text.split())
        return text.lower() if self.cfg.lowercase else text

    def tokenize(self, text: str) -> list[str]:
        text = self._norm(text)
        if self.cfg.kind == "char":
            return [SPACE if c == " " else c for c in text]
        if self.cfg.kind == "word":
            return text.split()
        if self.cfg.kind == "wordpunct":
            return WORD_OR_PUNCT.findall(text)
        return self._spm.encode(text, out_type=str)

    def detokenize(self, tokens: list[str]) -> str:
        if self.cfg.kind == "char":
            return "".join(tokens).replace(SPACE, " ")
        if self.cfg.kind in ("word", "wordpunct"):
            return " ".join(tokens)
        return self._spm.decode_pieces(tokens)

    def state(self) -> bytes | None:
        """What must be saved besides the config (the sentencepiece model), else None."""
        return self._spm_bytes if self._spm is not None else None
