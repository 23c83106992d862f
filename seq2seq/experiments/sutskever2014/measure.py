"""The measurements: BLEU of every single model, ensemble and beam size, test perplexity,
parameters, rescoring another system's n-best lists, phrase vectors (Figure 2) and BLEU by
length and rarity (Figure 3). Every finished measurement is cached in WORK/results.json, so a
re-run continues where the last sitting stopped."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sacrebleu

from ...config import config_from_dict
from ...data.datasets import prepare
from ...data.io import read_lines
from ...decoding.rescore import NBestEntry, rerank, tune_weight
from ...evaluation import bleu, breakdowns, frequency_ranks, perplexity
from ...models import count_parameters
from ...training import train
from ...translator import Translator
from .grid import PRESETS, SEEDS, model_config, models, train_parallel

PHRASES_DE = [  # Figure 2: same words in another order vs the same meaning in another voice
    "ein mann sieht eine frau",
    "eine frau sieht einen mann",
    "eine frau wird von einem mann gesehen",
    "ein mann wird von einer frau gesehen",
    "ein hund jagt eine katze",
    "eine katze jagt einen hund",
    "eine katze wird von einem hund gejagt",
    "ein hund wird von einer katze gejagt",
]


class Reproduction:
    """One grid under one preset: its data, its work folder with the cache, its report folder."""

    def __init__(self, preset: str, data: Path, work: Path, report: Path, *, pair: str = "de-en"):
        self.p, self.work, self.report, self.pair = PRESETS[preset], work, report, pair
        self.preset, self.src_lang, self.tgt_lang = preset, *pair.split("-")
        self.files = {
            k: tuple(map(str, v)) for k, v in prepare("multi30k", pair, work / "data", data).items()
        }
        self.cache_path = work / "results.json"
        self.results = json.loads(self.cache_path.read_text()) if self.cache_path.is_file() else {}
        self.clock = time.time()  # this sitting's wall time not yet added to grid_seconds
        self.test_src = read_lines(self.files["test"][0])
        self.test_ref = read_lines(self.files["test"][1])

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """Finished measurements are kept, so a re-run continues where it stopped."""
        if key not in self.results:
            self.results[key] = compute()
            self.save()
        return self.results[key]

    def save(self) -> None:
        """Write the cache atomically, adding the wall time since the last save to grid_seconds.
        Saved every minute while models train, so a sitting that is killed (not interrupted)
        still counts, and a kill mid-write cannot lose the finished measurements."""
        now = time.time()
        self.results["grid_seconds"] = self.results.get("grid_seconds", 0) + now - self.clock
        self.clock = now
        tmp = self.cache_path.with_name(self.cache_path.name + ".tmp")
        tmp.write_text(json.dumps(self.results, indent=2))
        os.replace(tmp, self.cache_path)

    # -- the grid ------------------------------------------------------------------------

    def config(self, *, reverse: bool, layers: int, seed: int) -> dict:
        """One model's training config (the parallel workers get theirs from here too)."""
        return model_config(self.p, self.files, reverse=reverse, layers=layers, seed=seed)

    def models(self) -> list[tuple[str, dict]]:
        """The grid's models, by name, with their config's arguments."""
        return models(self.p)

    def train_parallel(self, jobs: int) -> None:
        """Train the whole grid `jobs` models at a time; `grid` then finds them trained."""
        train_parallel(self.models(), self.config, self.work, jobs, tick=self.save)

    def run(self, name: str, **kw) -> Path:
        """Train (or resume, or find finished) one model of the grid."""
        out = self.work / name
        summary = train(config_from_dict(self.config(**kw), source=name), out)
        # the trainer's own clock: training steps across all sittings, pauses left out
        self.results.setdefault("train_seconds", {})[name] = round(summary["train_seconds"])
        return out

    # -- one measurement each, cached ----------------------------------------------------

    def hyps_of(self, key: str, runs: list[Path], beam: int) -> list[str]:
        return self.cached(
            f"hyps/{key}/beam{beam}",
            lambda: Translator.load(runs).translate(
                self.test_src, beam=beam, greedy=beam == 1, progress=True
            ),
        )

    def bleu_of(self, key: str, runs: list[Path], beam: int) -> float:
        return self.cached(
            f"bleu/{key}/beam{beam}",
            lambda: bleu(self.hyps_of(key, runs, beam), [[r] for r in self.test_ref])[0],
        )

    def params_of(self, run: Path) -> int:
        return self.cached(
            f"params/{run.name}", lambda: count_parameters(Translator.load(run, device="cpu").model)
        )

    def ppl_of(self, key: str, run: Path) -> float:
        def compute():
            t = Translator.load(run)
            pairs = list(zip(self.test_src, self.test_ref))
            n = sum(len(t.processor.encode_tgt(r)) + 1 for r in self.test_ref)
            return perplexity(-sum(t.score(pairs)), n)

        return self.cached(f"ppl/{key}", compute)

    # -- the paper's tables and figures --------------------------------------------------

    def grid(self) -> dict:
        """Train (or continue) every model of the grid, then measure everything the report shows."""
        L = self.p["layers"]
        runs = {name: self.run(name, **kw) for name, kw in self.models()}
        rev = [runs[f"rev-s{s}"] for s in SEEDS]
        fwd = [runs[f"fwd-s{s}"] for s in SEEDS[:2]]
        depth = {d: runs["rev-s1" if d == L else f"rev-L{d}"] for d in self.p["depths"]}
        # every seed: the ensemble is compared with the best of all five, not of the first two
        singles = {f"rev-s{i}": self.bleu_of(f"rev-s{i}", [r], 12) for i, r in enumerate(rev, 1)}
        forward = {f"fwd-s{i}": self.bleu_of(f"fwd-s{i}", [r], 12) for i, r in enumerate(fwd, 1)}
        table1 = self.table1(rev, singles, forward)
        beams = {
            name: {b: self.bleu_of(key, runs, b) for b in (1, 2, 12)}
            for name, key, runs in (
                ("single reversed (seed 1)", "rev-s1", rev[:1]),
                ("ensemble of 5", "ens5", rev),
            )
        }
        return {
            "table1": table1,
            "singles": {**forward, **singles},
            "beams": beams,
            "forward_vs_reversed": self.forward_vs_reversed(fwd, rev, table1),
            "depth": {
                d: {
                    "bleu": self.bleu_of(f"L{d}", [r], 12),
                    "ppl": self.ppl_of(f"L{d}", r),
                    "parameters": self.params_of(r),
                }
                for d, r in depth.items()
            },
            "rescoring": self.rescoring(fwd[0], rev),
            "figure2": self.figure2(rev[0]),
            "figure3": self.figure3(rev),
        }

    def table1(self, rev: list[Path], singles: dict, forward: dict) -> dict[str, float]:
        mean = statistics.mean
        reversed2 = mean(singles[f"rev-s{i}"] for i in (1, 2))  # as many seeds as forward
        return {
            "single forward LSTM (mean of 2 seeds), beam 12": mean(forward.values()),
            "single reversed LSTM (mean of 2 seeds), beam 12": reversed2,
            "best of 5 single reversed LSTMs, beam 12": max(singles.values()),
            "ensemble of 2 reversed LSTMs, beam 12": self.bleu_of("ens2", rev[:2], 12),
            "ensemble of 5 reversed LSTMs, beam 12": self.bleu_of("ens5", rev, 12),
        }

    def forward_vs_reversed(self, fwd: list[Path], rev: list[Path], table1: dict) -> dict:
        mean = statistics.mean
        return {
            "forward": {
                "ppl": mean(self.ppl_of(f"fwd-s{i}", r) for i, r in enumerate(fwd, 1)),
                "bleu": table1["single forward LSTM (mean of 2 seeds), beam 12"],
            },
            "reversed": {
                "ppl": mean(self.ppl_of(f"rev-s{i}", r) for i, r in enumerate(rev[:2], 1)),
                "bleu": table1["single reversed LSTM (mean of 2 seeds), beam 12"],
            },
        }

    def nbest(self, run: Path, split: str) -> list[NBestEntry]:
        """The "other system": the forward model's 12-best lists."""

        def compute():
            nb = Translator.load(run).translate_nbest(
                read_lines(self.files[split][0]), beam=12, nbest=12, progress=True
            )
            return [[i, h.text, h.score] for i, n in enumerate(nb) for h in n]

        return [
            NBestEntry(i, text, "", score)
            for i, text, score in self.cached(f"nbest/{split}", compute)
        ]

    def rescoring(self, other: Path, rev: list[Path]) -> dict:
        dev_src, dev_ref = (read_lines(f) for f in self.files["dev"])
        dev, test = self.nbest(other, "dev"), self.nbest(other, "test")
        refs = [[r] for r in self.test_ref]
        corpus = lambda best, n, r: bleu([best.get(i, "") for i in range(n)], r)[0]  # noqa: E731
        out = {
            "other system 1-best": corpus(
                {e.sent_id: e.text for e in reversed(test)}, len(refs), refs
            ),
            "oracle of the 12-best lists": self.cached("rescore/oracle", lambda: self.oracle(test)),
        }
        for name, runs in (
            ("rescored by single reversed", rev[:1]),
            ("rescored by ensemble of 5", rev),
        ):

            def compute(runs=runs):
                t = Translator.load(runs)
                dev_scores = t.score([(dev_src[e.sent_id], e.text) for e in dev])
                w, _ = tune_weight(
                    dev, dev_scores, lambda b: corpus(b, len(dev_src), [[r] for r in dev_ref])
                )
                test_scores = t.score([(self.test_src[e.sent_id], e.text) for e in test])
                return {"weight": w, "bleu": corpus(rerank(test, test_scores, w), len(refs), refs)}

            out[name] = self.cached(f"rescore/{name}", compute)
        return out

    def oracle(self, entries: list[NBestEntry]) -> float:
        best: dict[int, tuple[float, str]] = {}
        for e in entries:
            s = sacrebleu.sentence_bleu(e.text, [self.test_ref[e.sent_id]]).score
            if e.sent_id not in best or s > best[e.sent_id][0]:
                best[e.sent_id] = (s, e.text)
        return bleu(
            [best[i][1] if i in best else "" for i in range(len(self.test_ref))],
            [[r] for r in self.test_ref],
        )[0]

    def figure2(self, run: Path) -> dict:
        from ...analysis.vectors import nearest, plot_pca, sentence_vectors

        vectors = sentence_vectors(Translator.load(run), PHRASES_DE)
        plot_pca(
            PHRASES_DE,
            vectors,
            self.report / "figure2_pca.png",
            title="Figure 2 analogue: phrase vectors (PCA)",
        )
        return {
            p: PHRASES_DE[[j for j, _ in nearest(vectors, vectors[i], 2) if j != i][0]]
            for i, p in enumerate(PHRASES_DE)
        }

    def figure3(self, rev: list[Path]) -> dict:
        from ...analysis.plots import plot_breakdown

        ranks = frequency_ranks(s.lower().split() for s in read_lines(self.files["train"][0]))
        hyps = self.hyps_of("ens5", rev, 12)
        out = breakdowns(
            [s.lower().split() for s in self.test_src], hyps, [[r] for r in self.test_ref], ranks
        )
        plot_breakdown(
            out["by_length"],
            self.report / "figure3_length.png",
            xlabel="source sentence length (words)",
            title="BLEU by sentence length (ensemble of 5)",
            whole_numbers=True,
        )
        plot_breakdown(
            out["by_rarity"],
            self.report / "figure3_rarity.png",
            xlabel="average word frequency rank",
            title="BLEU by word rarity (ensemble of 5)",
        )
        return out
