"""The sutskever2014 report: its verdicts follow the measurements through report.py's bars."""

import json
from pathlib import Path

import pytest

from seq2seq.evaluation import OPEN_END
from seq2seq.experiments import EXPERIMENTS
from seq2seq.experiments.sutskever2014 import report, run
from seq2seq.experiments.sutskever2014.report import discussion, render

ROOT = Path(__file__).resolve().parents[2]


def results(*, forward=20.0, reversed_=22.0, ens5=25.0, greedy=21.0, beam2=21.5, beam12=22.0):
    """A run's results, built by hand; the best reversed single is 23.0."""
    singles = {"fwd-s1": 19.5, "fwd-s2": 20.5, "rev-s1": 22.0, "rev-s2": 23.0, "rev-s3": 21.0}
    return {
        **{"preset": "tiny", "pair": "de-en", "layers": 2, "emb": 16, "hidden": 32, "spm": 120},
        **{"epochs": 1, "optimizer": "adam", "lr": 0.01, "schedule": "constant"},
        "table1": {
            "best of 5 single reversed LSTMs, beam 12": 23.0,
            "ensemble of 2 reversed LSTMs, beam 12": 24.0,
            "ensemble of 5 reversed LSTMs, beam 12": ens5,
        },
        "singles": singles,
        "beams": {
            "single reversed (seed 1)": {1: greedy, 2: beam2, 12: beam12},
            "ensemble of 5": {1: 24.0, 2: 24.5, 12: ens5},
        },
        "forward_vs_reversed": {
            "forward": {"ppl": 12.0, "bleu": forward},
            "reversed": {"ppl": 11.0, "bleu": reversed_},
        },
        "depth": {
            1: {"bleu": 21.0, "ppl": 12.0, "parameters": 1000},
            2: {"bleu": 22.0, "ppl": 11.0, "parameters": 2000},
        },
        "rescoring": {
            "other system 1-best": 20.0,
            "oracle of the 12-best lists": 28.0,
            "rescored by single reversed": {"weight": 0.5, "bleu": 21.0},
            "rescored by ensemble of 5": {"weight": 1.0, "bleu": 22.0},
        },
        "figure2": {"ein mann": "eine frau", "eine frau": "ein mann"},
        "figure3": {
            "by_length": [
                {"from": 1, "to": 8, "sentences": 10, "score": 30.0},
                {"from": 8, "to": OPEN_END, "sentences": 5, "score": 25.0},
            ],
            "by_rarity": [
                {"from": 0, "to": 500, "sentences": 10, "score": 30.0},
                {"from": 500, "to": OPEN_END, "sentences": 5, "score": 20.0},
            ],
        },
        "train_seconds": {"rev-s1": 1800, "fwd-s1": 1800},
        "grid_seconds": 5400,
    }


def line(s, start):
    (found,) = [x for x in discussion(s) if x.startswith(start)]
    return found


@pytest.mark.parametrize(
    "claim, bar, gain",
    [  # the result whose gain is `g`: forward 20, best reversed single 23, greedy 21
        ("- Reversing the source:", "REVERSAL_GAIN", lambda g: {"reversed_": 20.0 + g}),
        ("- Ensembles:", "ENSEMBLE_GAIN", lambda g: {"ens5": 23.0 + g}),
        ("- Beam search:", "BEAM_GAIN", lambda g: {"greedy": 21.0, "beam12": 21.0 + g}),
    ],
    ids=["reversal", "ensembles", "beam"],
)
def test_each_bar_decides_its_verdict(claim, bar, gain, monkeypatch):
    at = getattr(report, bar)  # a result on either side of the bar: reproduced at it, not below
    assert line(results(**gain(at - 0.25)), claim).startswith(f"{claim} **not reproduced** (")
    assert line(results(**gain(at)), claim).startswith(f"{claim} reproduced (target")
    # the verdict is the bar's, not a number written into the prose: raise it, it flips
    monkeypatch.setattr(report, bar, at + 0.5)
    assert line(results(**gain(at)), claim).startswith(f"{claim} **not reproduced** (target")


def test_the_prose_prints_the_bars_it_compares_against(monkeypatch):
    text = "\n".join(discussion(results()))
    assert "(target +1.5 BLEU, mean of 2 seeds each): +2.00 BLEU" in text
    assert "(target +1 BLEU over the best single model)" in text
    assert "(target: beam 12 not worse than greedy)" in text
    assert "reached 23.00 BLEU (target 22)." in text
    monkeypatch.setattr(report, "REVERSAL_GAIN", 2.5)
    monkeypatch.setattr(report, "BEAM_GAIN", 0.5)
    monkeypatch.setattr(report, "BEST_SINGLE_TARGET", 24.0)
    text = "\n".join(discussion(results()))
    assert "Reversing the source: **not reproduced** (target +2.5 BLEU" in text
    assert "Beam search: reproduced (target: beam 12 +0.5 BLEU over greedy)" in text
    assert "reached 23.00 BLEU (target 24)." in text


def test_beam_2s_share_is_given_only_above_the_split_bar(monkeypatch):
    half, twice = (20.0 + k * report.BEAM_SPLIT_MIN for k in (0.5, 2))
    small = line(results(greedy=20.0, beam2=20.0, beam12=half), "- Beam search:")
    assert small.endswith("; here the beam gains too little to split.")
    large = line(results(greedy=20.0, beam2=twice, beam12=twice), "- Beam search:")
    assert large.endswith("; here beam 2 gives 100% of it.")
    monkeypatch.setattr(report, "BEAM_SPLIT_MIN", 1.0)  # the bar decides, not a number in prose
    assert line(results(greedy=21.0, beam2=21.5, beam12=23.0), "- Beam search:").endswith(
        "here beam 2 gives 25% of it."
    )
    assert line(results(greedy=21.0, beam2=21.5, beam12=21.75), "- Beam search:").endswith(
        "here the beam gains too little to split."
    )


def test_depth_and_rarity_verdicts_follow_the_numbers():
    s = results()
    assert line(s, "- Depth:").startswith("- Depth: every added layer helped (1 layer 21.00")
    assert line(s, "- Figure 3, rarity:").endswith("as in the paper, rarer words cost BLEU.")
    s["depth"][2]["bleu"] = 21.0  # no gain is not a gain
    s["figure3"]["by_rarity"][1]["score"] = 30.0
    assert "**more layers did not always help**" in line(s, "- Depth:")
    assert line(s, "- Depth:").endswith("the same number of epochs for every depth.")
    assert line(s, "- Figure 3, rarity:").endswith("rarer words did not cost BLEU here.")


def test_the_template_is_filled_with_every_section():
    text = render(results())
    assert "{" not in text and text.endswith(".\n")
    assert "Model: 2 x 32 LSTM (2,000 parameters), embeddings 16" in text
    assert "all models and sittings): 1.0 h; wall time of the grid's sittings, decoding" in text
    assert "| beam size | 1 | 2 | 12 |\n|---|---|---|---|\n| single reversed (seed 1) |" in text
    assert "| rescored by ensemble of 5 | 22.00 |" in text
    assert "| 2 | 2,000 | 22.00 | 11.00 |" in text
    assert "\n- ein mann -> eine frau\n" in text
    assert text.index("## Discussion") < text.index("- Reversing the source:")


def test_the_committed_report_renders_from_its_results():
    saved = json.loads((ROOT / "reports/sutskever2014/results.json").read_text())
    saved["depth"] = {int(k): v for k, v in saved["depth"].items()}  # JSON keys are strings
    saved["beams"] = {n: {int(k): v for k, v in b.items()} for n, b in saved["beams"].items()}
    assert render(saved) == (ROOT / "reports/sutskever2014/report.md").read_text(encoding="utf-8")


def test_the_command_runs_the_experiment_by_name():
    assert EXPERIMENTS == {"sutskever2014": run}


def test_the_cli_offers_every_experiment():
    """The parser lists the experiments without importing them (a fast `--help`)."""
    from seq2seq.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "==SUPPRESS==" or a.choices)
    paper = next(a for a in sub.choices["reproduce"]._actions if a.dest == "paper")
    assert set(paper.choices) == set(EXPERIMENTS)
