"""Sentence vectors, PCA, nearest neighbours and Figure-3 breakdowns."""

import torch

from seq2seq.analysis.vectors import nearest, pca_2d
from seq2seq.evaluation import OPEN_END, average_rank, bleu, bucket_label, bucketed, frequency_ranks


def test_nearest_finds_the_closest_by_cosine():
    v = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1], [-1.0, 0.0]])
    got = nearest(v, v[0], k=3)
    assert [i for i, _ in got] == [0, 2, 1]
    assert abs(got[0][1] - 1.0) < 1e-6


def test_pca_keeps_the_main_direction():
    torch.manual_seed(0)
    t = torch.linspace(-5, 5, 50).unsqueeze(1)
    direction = torch.randn(1, 8)
    x = t @ direction + 0.01 * torch.randn(50, 8)
    xy = pca_2d(x)
    assert xy.shape == (50, 2)
    assert xy[:, 0].var() > 100 * xy[:, 1].var()  # almost all variance on PC 1


def test_frequency_rank_and_average_rank():
    ranks = frequency_ranks([["a", "b", "a"], ["a", "c", "b"]])
    assert ranks == {"a": 1, "b": 2, "c": 3}
    assert average_rank(["a", "zzz"], ranks) == (1 + 4) / 2


def test_bucketed_bleu_matches_bleu_on_each_bucket():
    hyps = ["a b c d", "a b c d e f g h", "x y z w", "the cat sat on the mat today"]
    refs = [["a b c d"], ["a b c d e f g x"], ["x y q w"], ["the cat sat on a mat today"]]
    keys = [4, 8, 4, 7]
    rows = bucketed(bleu, hyps, refs, keys, [0, 5, 100])
    assert [r["sentences"] for r in rows] == [2, 2]
    assert abs(rows[0]["score"] - bleu([hyps[0], hyps[2]], [refs[0], refs[2]])[0]) < 1e-9
    assert abs(rows[1]["score"] - bleu([hyps[1], hyps[3]], [refs[1], refs[3]])[0]) < 1e-9


def test_bucketed_joins_buckets_smaller_than_min_sentences():
    hyps = [f"w{i} x y z" for i in range(7)]
    refs = [[h] for h in hyps]
    keys = [1, 1, 5, 9, 9, 9, 20]  # sentences per bucket: [0,4) 2, [4,8) 1, [8,12) 3, [12,30) 1
    rows = bucketed(bleu, hyps, refs, keys, [0, 4, 8, 12, 30], min_sentences=2)
    # [4,8) is too small and joins [8,12); the last, [12,30), joins the one before it
    assert [(r["from"], r["to"], r["sentences"]) for r in rows] == [(0, 4, 2), (4, 30, 5)]
    assert [r["sentences"] for r in bucketed(bleu, hyps, refs, keys, [0, 4, 8, 12, 30])] == [
        2,
        1,
        3,
        1,
    ]


def test_bucket_labels():
    assert bucket_label({"from": 1, "to": 8}, whole_numbers=True) == "1-7"
    assert bucket_label({"from": 500, "to": 1000}) == "500-1000"
    assert bucket_label({"from": 4000, "to": OPEN_END}) == "4000+"
