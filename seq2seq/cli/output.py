"""How decoding commands write their results: one best per line, or Moses-style n-best rows,
to `--output` (written whole, atomically) or to stdout."""

from __future__ import annotations

import sys


def results_text(results, *, nbest: bool) -> str:
    """`results[i]` lists sentence i's hypotheses, best first (`.text`, `.score`)."""
    if nbest:
        return "".join(
            f"{i} ||| {t.text} ||| {t.score:.4f}\n" for i, nb in enumerate(results) for t in nb
        )
    return "".join(nb[0].text + "\n" for nb in results)


def emit(text: str, output: str | None) -> None:
    from ..data.io import write_text

    if output:
        write_text(output, text)
    else:
        sys.stdout.write(text)
