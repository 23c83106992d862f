"""Pure transforms on token lists; none of them touches the model."""

from __future__ import annotations

from collections.abc import Sequence


def reverse_source(tokens: Sequence[str]) -> list[str]:
    """The paper's trick: feed `c b a` for `a b c` (short-range dependencies at the start)."""
    return list(reversed(tokens))


def truncate(tokens: Sequence[str], n: int) -> list[str]:
    """The first `n` tokens: a long document's start (`data.truncate_src`)."""
    return list(tokens[:n])


def drop_reason(src: Sequence, tgt: Sequence, max_src: int, max_tgt: int) -> str | None:
    """Why training drops a pair of token lists ("blank", "one-sided", "too long"); None
    for a pair it keeps."""
    if not src and not tgt:
        return "blank"
    if not src or not tgt:
        return "one-sided"
    if len(src) > max_src or len(tgt) > max_tgt:
        return "too long"
    return None


def within_length(src: Sequence, tgt: Sequence, max_src: int, max_tgt: int) -> bool:
    """Training pairs kept: both sides non-empty and within the limits."""
    return drop_reason(src, tgt, max_src, max_tgt) is None
