"""The paper's Figure 3 for any systems: corpus BLEU by source length and by the average
frequency rank of the source words, several systems over the same buckets, as a table and
a plot.

The buckets are those of `evaluation.breakdowns` (lengths in whitespace words; a bucket of
fewer than 20 sentences joins a neighbour), so a run here and the reproduction's report are
cut the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import UserError
from ..evaluation import breakdowns, bucket_label, frequency_ranks


def compare(
    sources: Sequence[str],
    refs: Sequence[Sequence[str]],
    systems: dict[str, Sequence[str]],
    *,
    train_sources: Sequence[str] = (),
    tokenize: str = "13a",
) -> dict[str, dict[str, list[dict]]]:
    """{"by_length" | "by_rarity": {label: rows}}; rarity only with `train_sources` (the ranks
    are counted there, lower-cased, as in the reproduction)."""
    toks = [s.lower().split() for s in sources]
    ranks = frequency_ranks(s.lower().split() for s in train_sources)
    out: dict[str, dict[str, list[dict]]] = {"by_length": {}}
    if train_sources:
        out["by_rarity"] = {}
    for label, hyps in systems.items():
        if len(hyps) != len(sources):
            raise UserError(
                f"{label}: {len(hyps)} hypotheses for {len(sources)} sources; the files must "
                "be line-aligned"
            )
        parts = breakdowns(toks, hyps, refs, ranks, tokenize=tokenize)
        for key in out:
            out[key][label] = parts[key]
    return out


def table(rows_by_system: dict[str, list[dict]], *, whole_numbers: bool) -> str:
    """A Markdown table: one row per bucket, its sentence count, one BLEU column per system."""
    labels = list(rows_by_system)
    first = rows_by_system[labels[0]]
    lines = [
        "| bucket | sentences | " + " | ".join(labels) + " |",
        "|---|---:|" + "---:|" * len(labels),
    ]
    for i, row in enumerate(first):
        scores = " | ".join(f"{rows_by_system[k][i]['score']:.2f}" for k in labels)
        lines.append(
            f"| {bucket_label(row, whole_numbers=whole_numbers)} | {row['sentences']} | {scores} |"
        )
    return "\n".join(lines)


def plot(
    result: dict[str, dict[str, list[dict]]], prefix: str | Path, title: str = ""
) -> list[Path]:
    """PREFIX_length.png (and PREFIX_rarity.png): one line per system."""
    from .plots import plot_breakdown

    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    written = [
        plot_breakdown(
            result["by_length"],
            f"{prefix}_length.png",
            xlabel="source sentence length (words)",
            title=title or "BLEU by source sentence length",
            whole_numbers=True,
        )
    ]
    if "by_rarity" in result:
        written.append(
            plot_breakdown(
                result["by_rarity"],
                f"{prefix}_rarity.png",
                xlabel="average word frequency rank",
                title=title or "BLEU by word rarity",
            )
        )
    return written
