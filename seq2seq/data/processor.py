"""Text <-> ids for one model: tokenizers, vocabularies and source reversal together.

A `Processor` is fitted on the training side, saved inside every checkpoint (`state()`),
and rebuilt by the translator, so training and inference can never disagree.

With `data.shared_vocab` source and target share one tokenizer and one vocabulary. For a
copying model (`model.copy`, a pointer-generator, which needs that) ids past the
vocabulary's V are an extended vocabulary, per sentence: a source token outside the vocabulary gets the id V + j, j its first position in
the source as the encoder reads it (See et al.'s temporary ids, numbered by position so
that they need no table beside the ids); a target token outside the vocabulary that the
source holds gets that same id (else <unk>); and `decode_tgt` reads an id V + j back as
the source's j-th token.
"""

from __future__ import annotations

from collections import Counter

from ..config import DataConfig, TokenizerConfig
from ..vocab import EOS_ID, UNK, UNK_ID, Vocabulary
from .tokenizers import Tokenizer
from .transforms import drop_reason, reverse_source, truncate

Example = tuple[list[int], list[int]]  # (source ids, target ids)


class Processor:
    def __init__(
        self,
        cfg: DataConfig,
        src_tok: Tokenizer,
        tgt_tok: Tokenizer,
        src_vocab: Vocabulary,
        tgt_vocab: Vocabulary,
        *,
        copy: bool = False,
        cmvn: dict | None = None,
    ):
        self.cfg, self.copy = cfg, copy
        self.cmvn = cmvn  # speech with `data.speech.cmvn: global`: {"mean": [..], "std": [..]}
        self.src_tok, self.tgt_tok = src_tok, tgt_tok
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab

    @classmethod
    def fit(cls, cfg: DataConfig, pairs: list[tuple[str, str]], *, copy: bool = False) -> Processor:
        """Tokenizers and vocabularies counted on the pairs training keeps
        (`training_examples`): a token found only in a blank, one-sided or over-long pair
        gets no id. Sentencepiece learns from the two-sided pairs, as a pair's length in its
        pieces is known only once it is trained. With `data.shared_vocab`, one tokenizer and
        one vocabulary for both sides, fitted on both. `copy`: extended ids (a
        pointer-generator's; it needs the shared vocabulary)."""
        two_sided = [(s, t) for s, t in pairs if s.split() and t.split()]
        if cfg.shared_vocab:
            both = Tokenizer(cfg.src_tokenizer).fit(x for p in two_sided for x in p)
            src_tok = tgt_tok = both
        else:
            src_tok = Tokenizer(cfg.src_tokenizer).fit(s for s, _ in two_sided)
            tgt_tok = Tokenizer(cfg.tgt_tokenizer).fit(t for _, t in two_sided)
        tokens = [(cls._cut(cfg, src_tok.tokenize(s)), tgt_tok.tokenize(t)) for s, t in two_sided]
        kept = [p for p in tokens if not drop_reason(*p, cfg.max_src_len, cfg.max_tgt_len)]
        if cfg.shared_vocab:
            shared = _vocabulary([x for p in kept for x in p], cfg.src_tokenizer)
            return cls(cfg, src_tok, tgt_tok, shared, shared, copy=copy)
        src_vocab = _vocabulary([s for s, _ in kept], cfg.src_tokenizer)
        tgt_vocab = _vocabulary([t for _, t in kept], cfg.tgt_tokenizer)
        return cls(cfg, src_tok, tgt_tok, src_vocab, tgt_vocab)

    def state(self) -> dict:
        return {
            "src_vocab": self.src_vocab.itos,
            "tgt_vocab": self.tgt_vocab.itos,
            "src_spm": self.src_tok.state(),
            "tgt_spm": self.tgt_tok.state(),
            "copy": self.copy,
            **({"cmvn": self.cmvn} if self.cmvn is not None else {}),
        }

    @classmethod
    def from_state(cls, cfg: DataConfig, state: dict) -> Processor:
        copy = bool(state.get("copy", False))  # absent in checkpoints from before copying
        src_tok = Tokenizer(cfg.src_tokenizer, state["src_spm"])
        shared = cfg.shared_vocab
        tgt_tok = src_tok if shared else Tokenizer(cfg.tgt_tokenizer, state["tgt_spm"])
        src_vocab = Vocabulary(state["src_vocab"])
        tgt_vocab = src_vocab if shared else Vocabulary(state["tgt_vocab"])
        cmvn = state.get("cmvn")  # only in speech runs with global CMVN
        return cls(cfg, src_tok, tgt_tok, src_vocab, tgt_vocab, copy=copy, cmvn=cmvn)

    @staticmethod
    def _cut(cfg: DataConfig, tokens: list[str]) -> list[str]:
        return truncate(tokens, cfg.max_src_len) if cfg.truncate_src else tokens

    def src_tokens(self, text: str) -> list[str]:
        """Tokens in the order the encoder reads them: cut to `max_src_len` with
        `truncate_src`, then reversed when configured."""
        toks = self._cut(self.cfg, self.src_tok.tokenize(text))
        return reverse_source(toks) if self.cfg.reverse_source else toks

    def encode_src(self, text: str) -> list[int]:
        """Source ids; for a copying model, with the extended ids of out-of-vocabulary tokens."""
        toks = self.src_tokens(text)
        return self._extended(toks, toks) if self.copy else self.src_vocab.encode(toks)

    def encode_tgt(self, text: str) -> list[int]:
        return self.tgt_vocab.encode(self.tgt_tok.tokenize(text))

    def encode_pair(self, src: str, tgt: str) -> Example:
        """A (source, target) pair as ids; a copying model's target has the extended ids of
        the source's out-of-vocabulary tokens it holds."""
        if not self.copy:
            return self.encode_src(src), self.encode_tgt(tgt)
        toks = self.src_tokens(src)
        return self._extended(toks, toks), self._extended(self.tgt_tok.tokenize(tgt), toks)

    def _extended(self, tokens: list[str], source: list[str]) -> list[int]:
        """Vocabulary ids, and V + (first position in `source`) for a token outside the
        vocabulary that `source` holds; <unk> for the rest."""
        first: dict[str, int] = {}
        for j, tok in enumerate(source):
            first.setdefault(tok, j)
        get, V = self.tgt_vocab.stoi.get, len(self.tgt_vocab)
        return [get(t, V + first[t] if t in first else UNK_ID) for t in tokens]

    def tgt_token_list(self, ids, source: str | None = None) -> list[str]:
        """Output ids -> tokens; an extended id V + j is the j-th token of `source` (the
        sentence it was decoded from) as the encoder read it, else <unk>."""
        V, src = len(self.tgt_vocab), None
        out = []
        for i in ids:
            if i == EOS_ID:
                break
            if i < V:
                out.extend(self.tgt_vocab.decode([i]))
                continue
            if src is None:
                src = self.src_tokens(source) if source is not None else []
            out.append(src[i - V] if i - V < len(src) else UNK)
        return out

    def decode_tgt(self, ids, source: str | None = None) -> str:
        """Output ids -> text; `source`: the sentence a copying model decoded them from."""
        return self.tgt_tok.detokenize(self.tgt_token_list(ids, source))

    def examples(self, pairs, *, filter_length: bool = True) -> list[Example]:
        """Pairs of text -> pairs of ids; training drops blank, one-sided and over-long pairs."""
        if filter_length:
            return self.training_examples(pairs)[0]
        return [self.encode_pair(s, t) for s, t in pairs]

    def training_examples(self, pairs) -> tuple[list[Example], dict[str, int]]:
        """The pairs training keeps, as ids (the pairs `fit` counts the vocabularies on), and
        how many it drops for each reason of `transforms.drop_reason`."""
        kept, dropped = [], Counter()
        for s, t in pairs:
            ex = self.encode_pair(s, t)
            reason = drop_reason(*ex, self.cfg.max_src_len, self.cfg.max_tgt_len)
            if reason:
                dropped[reason] += 1
            else:
                kept.append(ex)
        return kept, dict(dropped)


def _vocabulary(sentences: list[list[str]], cfg: TokenizerConfig) -> Vocabulary:
    return Vocabulary.build(sentences, max_size=cfg.max_vocab, min_freq=cfg.min_freq)


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
