"""Ensembles, forced scoring and n-best rescoring keep the model protocol's promises."""

import torch

from seq2seq.config import RNNConfig
from seq2seq.decoding import beam_search, greedy_search
from seq2seq.decoding.ensemble import Ensemble
from seq2seq.decoding.rescore import NBestEntry, forced_scores, read_nbest, rerank, tune_weight
from seq2seq.models import build_model


def tiny_model(seed: int):
    torch.manual_seed(seed)
    cfg = RNNConfig(layers=2, emb_size=16, hidden_size=24, dropout=0.0, init_range=0.5)
    return build_model(cfg, 12, 10).eval()


def batch():
    torch.manual_seed(0)
    src = torch.randint(4, 12, (3, 6))
    src_len = torch.tensor([6, 4, 2])
    src[1, 4:] = 0
    src[2, 2:] = 0
    return src, src_len


def test_ensemble_of_one_equals_the_model():
    model, (src, src_len) = tiny_model(1), batch()
    a = beam_search(model, src, src_len, beam=4, nbest=2)
    b = beam_search(Ensemble([model]), src, src_len, beam=4, nbest=2)
    assert [[h.tokens for h in n] for n in a] == [[h.tokens for h in n] for n in b]
    assert all(abs(x.score - y.score) < 1e-5 for n, m in zip(a, b) for x, y in zip(n, m))


def test_ensemble_of_two_identical_models_equals_the_model():
    model, (src, src_len) = tiny_model(2), batch()
    twin = tiny_model(2)
    a = greedy_search(model, src, src_len)
    b = greedy_search(Ensemble([model, twin]), src, src_len)
    assert [h.tokens for h in a] == [h.tokens for h in b]
    assert all(abs(x.score - y.score) < 1e-5 for x, y in zip(a, b))


def test_ensemble_of_different_models_averages_log_probs():
    m1, m2, (src, src_len) = tiny_model(3), tiny_model(4), batch()
    ens = Ensemble([m1, m2])
    tokens = torch.full((3,), 2)
    lp1, _, _ = m1.step(tokens, m1.init_state(m1.encode(src, src_len)))
    lp2, _, _ = m2.step(tokens, m2.init_state(m2.encode(src, src_len)))
    lp, _, _ = ens.step(tokens, ens.init_state(ens.encode(src, src_len)))
    assert torch.allclose(lp, (lp1 + lp2) / 2)
    assert not torch.allclose(lp, lp1)


def test_forced_score_equals_beam_score():
    model, (src, src_len) = tiny_model(5), batch()
    hyps = beam_search(model, src, src_len, beam=3, nbest=3, length_penalty=0.7)
    sources = [src[i, : src_len[i]].tolist() for i in range(3)]
    flat = [(i, h) for i, n in enumerate(hyps) for h in n]
    got = forced_scores(model, [sources[i] for i, _ in flat], [h.tokens for _, h in flat])
    for (_, h), s in zip(flat, got):
        assert abs(h.score - s) < 1e-4


def test_rescoring_with_weight_one_returns_the_models_own_best():
    model, (src, src_len) = tiny_model(6), batch()
    hyps = beam_search(model, src, src_len, beam=5, nbest=5, length_penalty=0.0)
    sources = [src[i, : src_len[i]].tolist() for i in range(3)]
    # the other system's scores prefer the model's worst hypothesis
    entries = [
        NBestEntry(i, " ".join(map(str, h.tokens)), "", float(rank))
        for i, n in enumerate(hyps)
        for rank, h in enumerate(n)
    ]
    model_scores = forced_scores(
        model,
        [sources[e.sent_id] for e in entries],
        [[int(t) for t in e.text.split()] for e in entries],
    )
    best = rerank(entries, model_scores, weight=1.0)
    assert best == {i: " ".join(map(str, n[0].tokens)) for i, n in enumerate(hyps)}
    worst = rerank(entries, model_scores, weight=0.0)
    assert worst == {i: " ".join(map(str, n[-1].tokens)) for i, n in enumerate(hyps)}


def test_tune_weight_picks_the_best_grid_point():
    entries = [NBestEntry(0, "a", "", 0.0), NBestEntry(0, "b", "", -1.0)]
    weight, value = tune_weight(entries, [-5.0, 0.0], lambda best: float(best[0] == "b"))
    assert value == 1.0 and weight > 1 / 6


def test_read_nbest_accepts_moses_and_short_format():
    got = read_nbest(["0 ||| a b ||| lm=1 ||| -1.5", "1 ||| c ||| -2"], "x")
    assert [(e.sent_id, e.text, e.score) for e in got] == [(0, "a b", -1.5), (1, "c", -2.0)]
