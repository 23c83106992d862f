"""Plots a person would rather look at than read: score breakdowns."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..evaluation import bucket_label


def pyplot():
    """matplotlib's pyplot on a file-only backend; plotting is an optional extra."""
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise UserError(
            "plots need matplotlib: pip install 'seq2seq[plot]' (or pip install matplotlib)"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_breakdown(
    rows: list[dict] | dict[str, list[dict]],
    path: str | Path,
    *,
    xlabel: str,
    title: str,
    ylabel: str = "BLEU",
    whole_numbers: bool = False,
) -> Path:
    """Line plot of a metric per bucket (from `evaluation.bucketed`), like the paper's Figure 3:
    one line, or one per system given as {label: rows} over the same buckets.
    `whole_numbers`: the keys are counts (lengths), so buckets are labelled inclusively."""
    plt = pyplot()

    systems = rows if isinstance(rows, dict) else {"": rows}
    first = next(iter(systems.values()))
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    for label, series in systems.items():
        ax.plot(range(len(series)), [r["score"] for r in series], marker="o", label=label or None)
    ax.set_xticks(
        range(len(first)),
        [bucket_label(r, whole_numbers=whole_numbers) for r in first],
        rotation=30,
        fontsize=8,
    )
    for i, r in enumerate(first):  # the bucket sizes, once, along the bottom
        ax.annotate(
            f"n={r['sentences']}",
            (i, 0),
            xycoords=("data", "axes fraction"),
            fontsize=7,
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
        )
    if len(systems) > 1:
        ax.legend(fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def plot_attention(src_tokens: list[str], tgt_tokens: list[str], weights, path: str | Path) -> Path:
    """Heatmap of attention weights: target tokens (rows, </s> last) x source tokens (columns)."""
    plt = pyplot()

    rows = [*tgt_tokens, "</s>"]
    w = weights[: len(rows), : len(src_tokens)]
    fig, ax = plt.subplots(
        figsize=(max(3, 0.45 * len(src_tokens) + 1.5), max(3, 0.4 * len(rows) + 1)), dpi=110
    )
    ax.imshow(w, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(src_tokens)), src_tokens, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
