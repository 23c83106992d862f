"""ROUGE-1/2/L F1 (rouge-score) against several references: the mean over a sentence's
references (and the best one, `*_max`), then the mean over sentences; the metric table's
row; `seq2seq evaluate --metric rouge` with one reference file per annotator."""

from __future__ import annotations

import pytest

from seq2seq.cli import main
from seq2seq.config import config_from_dict
from seq2seq.evaluation import DECODED_METRICS, METRICS, is_better, rouge, score


def test_identical_is_100_and_disjoint_is_0():
    same = rouge(["meeting on friday"], [["meeting on friday"]])
    assert same["rouge1"] == same["rouge2"] == same["rougeL"] == same["rouge"] == 100.0
    none = rouge(["budget"], [["meeting on friday"]])
    assert none["rouge1"] == none["rouge"] == 0.0


def test_several_references_mean_and_max_by_hand():
    """hyp `meeting confirmation` against `meeting confirmation` (F1 1) and `meeting
    tomorrow at noon` (1 of 2 hyp unigrams, 1 of 4 ref: P 1/2, R 1/4, F1 1/3)."""
    out = rouge(["meeting confirmation"], [["meeting confirmation", "meeting tomorrow at noon"]])
    assert out["rouge1"] == pytest.approx(100 * (1 + 1 / 3) / 2)
    assert out["rouge1_max"] == pytest.approx(100.0)
    assert out["rouge2"] == pytest.approx(100 * (1 + 0) / 2)
    assert out["rouge"] == pytest.approx((out["rouge1"] + out["rouge2"] + out["rougeL"]) / 3)


def test_corpus_score_is_the_mean_over_sentences_and_stems():
    out = rouge(["meetings", "budget"], [["meeting"], ["report"]])  # Porter: meetings -> meet
    assert out["rouge1"] == pytest.approx(50.0)


def test_metric_table_and_config():
    assert "rouge" in DECODED_METRICS and METRICS["rouge"].higher_is_better
    assert is_better("rouge", 20.0, 10.0)
    cfg = config_from_dict({"data": {"train": {"tsv": "t"}}, "train": {"metric": "rouge"}})
    assert cfg.train.metric == "rouge"
    assert score("rouge", ["a b"], [["a b"]])["rouge"] == 100.0


def test_evaluate_cli_with_three_reference_files(tmp_path, capsys):
    hyp = tmp_path / "hyp"
    hyp.write_text("meeting confirmation\nbudget\n", encoding="utf-8")
    refs = []
    for k, lines in enumerate(
        [["meeting confirmation", "budget"], ["meeting confirmed", "the budget"], ["meet", "x"]]
    ):
        refs.append(tmp_path / f"ann{k}")
        refs[-1].write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    argv = ["evaluate", "--hyp", str(hyp), "--ref", *map(str, refs), "--metric", "rouge"]
    assert main(argv) == 0
    printed = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    expected = rouge(["meeting confirmation", "budget"], [list(r) for r in zip(*_lines(refs))])
    assert float(printed["rouge1"]) == pytest.approx(expected["rouge1"], abs=1e-4)
    assert set(printed) >= {"rouge1", "rouge2", "rougeL", "rouge", "rouge1_max"}


def _lines(paths):
    return [p.read_text(encoding="utf-8").splitlines() for p in paths]
