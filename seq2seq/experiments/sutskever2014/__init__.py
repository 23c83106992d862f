"""`seq2seq reproduce sutskever2014`: the paper's claims, reproduced on Multi30k.

Trains the grid (forward vs reversed source, 5 seeds, depth 1/2/4), decodes with beams 1,
2 and 12, ensembles, rescores another system's n-best lists, and writes a Markdown report
with tables, PNG figures (Figure 2: PCA of phrase vectors; Figure 3: BLEU by length and
rarity) and results.json. Every training run resumes and every finished measurement is
cached, so the grid can be run across sittings: re-run the same command to continue.
`jobs` > 1 trains that many models at once, each in its own process.

grid.py holds the presets and the models, measure.py the measurements, report.py the report.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

from .measure import Reproduction
from .report import render

__all__ = ["Reproduction", "render", "run"]


def run(
    preset: str,
    data: str | Path | None,
    work: str | Path,
    report: str | Path,
    *,
    pair: str = "de-en",
    jobs: int = 1,
) -> dict:
    """Run (or continue) the grid and write REPORT/report.md, results.json and the PNGs."""
    report = Path(report)
    report.mkdir(parents=True, exist_ok=True)
    r = Reproduction(preset, data, Path(work), report, pair=pair)
    try:  # a SIGTERM (a scheduler, a shutdown) stops the grid as Ctrl-C does: each run saves
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    except ValueError:  # not the main thread
        previous = None
    try:
        if jobs > 1:
            r.train_parallel(jobs)
        results = r.grid()
    finally:  # every sitting's wall time counts, an interrupted one too
        r.save()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    summary = {
        "preset": preset,
        "pair": pair,
        **r.p,
        **results,
        "train_seconds": r.results.get("train_seconds", {}),
        "grid_seconds": round(r.results["grid_seconds"]),
    }
    (report / "results.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (report / "report.md").write_text(render(summary), encoding="utf-8")
    return summary
