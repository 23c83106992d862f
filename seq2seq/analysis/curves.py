"""Learning curves of a run from its `metrics.jsonl` (one entry per validation): training and
dev loss, the dev metrics, and the learning rate, against the step. `seq2seq plot RUN`;
`seq2seq plot RUN RUN ... --out P` overlays several runs."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError
from .plots import pyplot

NOT_METRICS = ("dev_loss", "dev_ppl")


def read_metrics(run_dir: str | Path) -> list[dict]:
    """The entries of RUN/metrics.jsonl, oldest first."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        raise UserError(
            f"{run_dir}: no metrics.jsonl; pass a run directory of `seq2seq train` that has "
            "validated at least once"
        )
    entries = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise UserError(f"{path}:{n}: not a JSON line ({e.msg}); fix or delete it") from None
    if not entries:
        raise UserError(f"{path}: empty; the run has not validated yet")
    return entries


def plot_curves(entries: list[dict], path: str | Path, *, title: str = "") -> Path:
    """Three panels: loss per target token (train, dev), dev metrics, learning rate."""
    return plot_runs({"": entries}, path, title=title)


def plot_runs(runs: dict[str, list[dict]], path: str | Path, *, title: str = "") -> Path:
    """The panels of `plot_curves` with several runs overlaid, one colour per run (named by
    its key; train loss dashed, dev solid), to compare runs of one study at a glance."""
    plt = pyplot()
    fig, (loss, metric, lr) = plt.subplots(1, 3, figsize=(13, 3.8), dpi=110)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    names = sorted(
        {k for es in runs.values() for e in es for k in e if k.startswith("dev_")}
        - set(NOT_METRICS)
    )
    styles = ("-", "--", ":", "-.")
    for i, (run, entries) in enumerate(runs.items()):
        c = {"color": colours[i % len(colours)]} if len(runs) > 1 else {}
        name = f"{run}: " if run else ""
        _line(loss, entries, "train_loss", f"{name}train", linestyle="--", **c)
        _line(loss, entries, "dev_loss", f"{name}dev", **c)
        for j, key in enumerate(names):
            style = styles[j % len(styles)] if c else "-"
            _line(metric, entries, key, name + key[len("dev_") :], linestyle=style, **c)
        _line(lr, entries, "lr", f"{name}lr", **c)
    loss.set_title("loss per target token")
    metric.set_title("dev metric" + ("" if names else ": none (no dev set)"))
    lr.set_title("learning rate")
    for ax in (loss, metric, lr):
        ax.set_xlabel("step")
        if ax.has_data():
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def _line(ax, entries: list[dict], key: str, label: str, **style) -> None:
    points = [(e["step"], e[key]) for e in entries if isinstance(e.get(key), int | float)]
    if points:
        ax.plot(*zip(*points), marker="o", markersize=3, label=label, **style)
