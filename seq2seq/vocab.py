"""Vocabulary and the special tokens, defined once for the whole toolkit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
SPECIALS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(4)
# CTC's blank: <pad>'s column. <pad> is never a target, so a CTC head needs no extra output,
# and torch's CTCLoss default (blank=0) is this id. <s> and </s> are never CTC labels either.
BLANK_ID = PAD_ID


class Vocabulary:
    """A token <-> id map whose first four ids are the specials above."""

    def __init__(self, tokens: Sequence[str]):
        if tuple(tokens[:4]) != SPECIALS:
            raise ValueError(f"a vocabulary must start with {SPECIALS}")
        self.itos: list[str] = list(tokens)
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(
        cls, sentences: Iterable[Sequence[str]], *, max_size: int = 0, min_freq: int = 1
    ) -> Vocabulary:
        """Most frequent tokens first (ties by first appearance); `max_size` 0 = no cap."""
        counts = Counter(tok for sent in sentences for tok in sent)
        kept = [t for t, n in counts.most_common() if n >= min_freq and t not in SPECIALS]
        if max_size:
            kept = kept[: max(0, max_size - len(SPECIALS))]
        return cls(list(SPECIALS) + kept)

    def __len__(self) -> int:
        return len(self.itos)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos

    def encode(self, tokens: Sequence[str]) -> list[int]:
        get = self.stoi.get
        return [get(t, UNK_ID) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Ids -> tokens, stopping at </s> and dropping <s>/<pad>."""
        out = []
        for i in ids:
            if i == EOS_ID:
                break
            if i not in (PAD_ID, BOS_ID):
                out.append(self.itos[i])
        return out
