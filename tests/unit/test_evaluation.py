"""Metrics: edit distance, G2P WER/PER with several references, BLEU against sacreBLEU,
metric directions."""

from __future__ import annotations

import math

import pytest
import sacrebleu

from seq2seq.evaluation import (
    METRICS,
    bleu,
    chrf,
    edit_distance,
    is_better,
    perplexity,
    score,
    wer_per,
)


@pytest.mark.parametrize(
    ("a", "b", "d"),
    [
        ("", "", 0),
        ("abc", "", 3),
        ("", "ab", 2),
        ("kitten", "sitting", 3),
        ("flaw", "lawn", 2),
        ("abc", "abc", 0),
        ("abcd", "acbd", 2),
    ],
)
def test_edit_distance(a, b, d):
    assert edit_distance(list(a), list(b)) == d
    assert edit_distance(list(b), list(a)) == d


def test_edit_distance_on_token_lists():
    assert edit_distance("K AE T".split(), "K AA T S".split()) == 2


def test_wer_per_with_multiple_references():
    hyps = ["AH B K", "K AE", "D AO G"]
    refs = [
        ["AA B K S", "AH B K"],  # right (second reference); distance 0 to a 3-phoneme ref
        ["K AE T", "K AA T S"],  # wrong; closest is "K AE T" at distance 1 (length 3)
        ["D AA G", "D AO G"],  # right; distance 0, length 3
    ]
    out = wer_per(hyps, refs)
    assert out["wer"] == pytest.approx(1 / 3)
    assert out["per"] == pytest.approx(1 / 9)


def test_wer_per_all_right_and_all_wrong():
    assert wer_per(["A B"], [["A B"]]) == {"wer": 0.0, "per": 0.0}
    out = wer_per(["X"], [["A B", "A B C"]])
    assert out == {"wer": 1.0, "per": pytest.approx(2 / 2)}
    with pytest.raises(ValueError):
        wer_per(["A"], [])


def test_bleu_matches_sacrebleu_single_reference():
    hyps = ["the cat sat on the mat", "a quick brown dog", "hello there world", "it is raining"]
    refs = ["the cat sat on a mat", "the quick brown fox", "hello world", "it is raining now"]
    value, signature = bleu(hyps, [[r] for r in refs])
    expected = sacrebleu.corpus_bleu(hyps, [refs]).score
    assert value == pytest.approx(expected, abs=1e-9)
    assert 0 < value < 100
    assert "nrefs:1" in signature


def test_bleu_with_uneven_reference_counts_matches_sacrebleu():
    hyps = ["the cat sat on the mat", "a quick brown dog"]
    refs = [["the cat sat on a mat", "a cat sat on the mat"], ["the quick brown fox"]]
    value, _ = bleu(hyps, refs)
    streams = [["the cat sat on a mat", "the quick brown fox"], ["a cat sat on the mat", None]]
    assert value == pytest.approx(sacrebleu.corpus_bleu(hyps, streams).score)


def test_chrf_and_score_dispatch():
    hyps, refs = ["abc def"], [["abc deg"]]
    value, _ = chrf(hyps, refs)
    assert value == pytest.approx(sacrebleu.corpus_chrf(hyps, [["abc deg"]]).score)
    assert score("chrf", hyps, refs)["chrf"] == pytest.approx(value)
    assert set(score("per", hyps, refs)) == {"wer", "per"}
    assert "bleu_signature" in score("bleu", hyps, refs)


def test_metric_directions():
    assert METRICS["bleu"].higher_is_better and METRICS["chrf"].higher_is_better
    for m in ("wer", "per", "loss", "ppl"):
        assert not METRICS[m].higher_is_better
    assert is_better("bleu", 30.0, 20.0) and not is_better("bleu", 20.0, 30.0)
    assert is_better("wer", 0.1, 0.2) and not is_better("wer", 0.2, 0.1)
    assert is_better("loss", 1.0, 2.0)
    assert not is_better("ppl", 2.0, 2.0)
    assert is_better("wer", 0.9, None)


def test_perplexity():
    assert perplexity(0.0, 10) == pytest.approx(1.0)
    assert perplexity(10 * math.log(4), 10) == pytest.approx(4.0)
    assert math.isfinite(perplexity(1e9, 1))


def test_the_metric_table_drives_config_choices_and_test_scoring():
    """Every `train.metric` the config accepts is in the table; a run's test split is scored
    with a decoded metric, which `score` computes; a loss-type metric is not scored."""
    import typing

    from seq2seq.config import TrainConfig

    assert set(typing.get_args(typing.get_type_hints(TrainConfig)["metric"])) == set(METRICS)
    hyps, refs = ["a b", "c"], [["a b"], ["c d"]]
    for m in METRICS.values():
        assert METRICS[m.reported_as].decoded
        assert m.reported_as in score(m.reported_as, hyps, refs)
    with pytest.raises(ValueError, match="not a metric of translations"):
        score("ppl", hyps, refs)
