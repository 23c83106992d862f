"""Pure transforms on token lists; none of them touches the model."""

from __future__ import annotations

from collections.abc import Sequence


def reverse_source(tokens: Sequence[str]) -> list[str]:
    """The paper's trick: feed `c b a` for `a b c` (short-range dependencies at the start)."""
    return list(reversed(tokens))


def within_length(src: Sequence, tgt: Sequence, max_src: int, max_tgt: int) -> bool:
    """Training pairs kept: both sides non-empty and within the limits."""
    return 0 < len(src) <= max_src and 0 < len(tgt) <= max_tgt
