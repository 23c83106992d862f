"""Learning curves of a run from its `metrics.jsonl` (one entry per validation): training and
dev loss, the dev metrics, and the learning rate, against the step. `seq2seq plot RUN`."""

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
    plt = pyplot()
    steps = [e["step"] for e in entries]
    fig, (loss, metric, lr) = plt.subplots(1, 3, figsize=(13, 3.8), dpi=110)
    for key, label in (("train_loss", "train"), ("dev_loss", "dev")):
        _line(loss, entries, steps, key, label)
    loss.set_title("loss per target token")
    names = sorted({k for e in entries for k in e if k.startswith("dev_")} - set(NOT_METRICS))
    for key in names:
        _line(metric, entries, steps, key, key[len("dev_") :])
    metric.set_title("dev metric" + ("" if names else ": none (no dev set)"))
    _line(lr, entries, steps, "lr", "lr")
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


def _line(ax, entries: list[dict], steps: list[int], key: str, label: str) -> None:
    points = [(s, e[key]) for s, e in zip(steps, entries) if isinstance(e.get(key), int | float)]
    if points:
        ax.plot(*zip(*points), marker="o", markersize=3, label=label)
