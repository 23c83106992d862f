"""Speech recognition's WER and CER (jiwer) in the one metric table, apart from G2P's `wer`."""

from __future__ import annotations

import pytest

from seq2seq.config import config_from_dict
from seq2seq.errors import UserError
from seq2seq.evaluation import METRICS, asr_error_rates, is_better, score

pytest.importorskip("jiwer", reason="the speech extra is not installed")


def test_corpus_rates_count_edits_over_reference_length():
    hyps = ["the cat sat", "a dog", ""]
    refs = [["the cat sat down"], ["the dog"], ["hi"]]
    got = asr_error_rates(hyps, refs)
    assert got["asr_wer"] == pytest.approx((1 + 1 + 1) / (4 + 2 + 1))  # del, sub, del
    # characters, spaces included: "the cat sat down" -> 5 deletions; "the dog" -> "a dog":
    # 1 substitution + 2 deletions; "hi" -> 2 deletions
    assert got["asr_cer"] == pytest.approx((5 + 3 + 2) / (16 + 7 + 2))


def test_perfect_and_insertions_beyond_one():
    assert asr_error_rates(["a b"], [["a  b "]]) == {"asr_wer": 0.0, "asr_cer": 0.0}
    assert asr_error_rates(["x y z"], [["a"]])["asr_wer"] == 3.0


def test_the_table_and_score():
    assert not METRICS["asr_wer"].higher_is_better and METRICS["asr_cer"].decoded
    assert is_better("asr_cer", 0.1, 0.2)
    assert set(score("asr_cer", ["ab"], [["ab"]])) == {"asr_wer", "asr_cer"}
    # G2P's wer is unchanged: a sentence is right or wrong as a whole
    assert score("wer", ["a b"], [["a c"]])["wer"] == 1.0


def test_a_speech_run_does_not_select_by_g2p_wer():
    data = {
        "dataset": "speech",
        "tgt_tokenizer": {"kind": "char"},
        "speech": {"train": "t.tsv", "dev": "d.tsv"},
    }
    with pytest.raises(UserError, match="asr_wer"):
        config_from_dict({"data": data, "train": {"metric": "wer"}})
    assert (
        config_from_dict({"data": data, "train": {"metric": "asr_cer"}}).train.metric == "asr_cer"
    )
