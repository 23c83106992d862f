"""Equivalences on a real (tiny, partly trained) RNNSeq2Seq: beam 1 == greedy; a batch of
N == N batches of 1; teacher-forced score == sum of step log-probs == search's score."""

from __future__ import annotations

import pytest
import torch
from helpers import quick_trained_model

from seq2seq.data.batching import collate, pad
from seq2seq.decoding import beam_search, greedy_search
from seq2seq.vocab import BOS_ID, PAD_ID

DECODE = {"max_len_a": 1.0, "max_len_b": 3}


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    return quick_trained_model(steps=20)


@pytest.fixture(scope="module")
def sources(trained):
    _, examples = trained
    return [src for src, _ in examples]


def test_sources_and_outputs_have_varied_lengths(trained, sources):
    model, _ = trained
    src, src_len = pad(sources)
    assert len(set(src_len.tolist())) >= 4
    lengths = {len(h.tokens) for h in greedy_search(model, src, src_len, **DECODE)}
    assert len(lengths) >= 3  # sentences finish at different steps


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_beam_one_equals_greedy(trained, sources, length_penalty):
    model, _ = trained
    src, src_len = pad(sources)
    greedy = greedy_search(model, src, src_len, **DECODE)
    beam = beam_search(
        model, src, src_len, beam=1, nbest=1, length_penalty=length_penalty, **DECODE
    )
    assert len(beam) == len(greedy)
    for g, (b,) in zip(greedy, beam):
        assert b.tokens == g.tokens
        assert b.score == pytest.approx(g.score, abs=1e-5)


def test_batched_beam_equals_one_sentence_at_a_time(trained, sources):
    model, _ = trained
    kw = {"beam": 4, "nbest": 3, "length_penalty": 1.0, **DECODE}
    src, src_len = pad(sources)
    batched = beam_search(model, src, src_len, **kw)
    assert len(batched) == len(sources)
    for s, nbest in zip(sources, batched):
        one_src, one_len = pad([s])
        (alone,) = beam_search(model, one_src, one_len, **kw)
        assert len(nbest) == len(alone) == 3
        assert [h.tokens for h in nbest] == [h.tokens for h in alone]
        assert [h.score for h in nbest] == pytest.approx([h.score for h in alone], abs=1e-4)
        assert [h.norm_score for h in nbest] == pytest.approx(
            [h.norm_score for h in alone], abs=1e-4
        )


def test_beam_search_sometimes_beats_greedy(trained, sources):
    """Not an equivalence: guards that the tests above run on a model where search matters."""
    model, _ = trained
    src, src_len = pad(sources)
    greedy = greedy_search(model, src, src_len, **DECODE)
    beam = beam_search(model, src, src_len, beam=4, nbest=1, length_penalty=0.0, **DECODE)
    assert any(b[0].score > g.score + 1e-3 for g, b in zip(greedy, beam))


def forced_scores(model, src, src_len, targets):
    """Teacher forcing: sum of log_softmax(forward) at y1 .. yn </s>, per sentence."""
    batch = collate([(s[: int(n)], t) for s, n, t in zip(src.tolist(), src_len, targets)])
    with torch.no_grad():
        logp = torch.log_softmax(model(batch.src, batch.src_len, batch.tgt_in).float(), -1)
    picked = logp.gather(-1, batch.tgt_out.unsqueeze(-1)).squeeze(-1)  # (B, T)
    return picked.masked_fill(batch.tgt_out == PAD_ID, 0.0).sum(1)


def stepwise_scores(model, src, src_len, targets):
    """The same sum, one `step` call per target position."""
    batch = collate([(s[: int(n)], t) for s, n, t in zip(src.tolist(), src_len, targets)])
    with torch.no_grad():
        state = model.init_state(model.encode(batch.src, batch.src_len))
        total = torch.zeros(len(targets))
        for t in range(batch.tgt_in.size(1)):
            logp, state, _ = model.step(batch.tgt_in[:, t], state)
            gold = batch.tgt_out[:, t]
            total += logp.gather(1, gold.unsqueeze(1)).squeeze(1) * (gold != PAD_ID)
    return total


def test_forced_score_equals_sum_of_step_log_probs(trained):
    model, examples = trained
    assert not model.training
    src, src_len = pad([s for s, _ in examples])
    targets = [t for _, t in examples]
    forced = forced_scores(model, src, src_len, targets)
    stepped = stepwise_scores(model, src, src_len, targets)
    assert torch.allclose(forced, stepped, atol=1e-4)
    assert bool((forced < 0).all())


def test_forced_score_of_search_output_equals_search_score(trained, sources):
    model, _ = trained
    src, src_len = pad(sources)
    nbests = beam_search(model, src, src_len, beam=3, nbest=3, length_penalty=1.0, **DECODE)
    greedy = greedy_search(model, src, src_len, **DECODE)
    hyps = [h for nb in nbests for h in nb] + greedy
    rows = [i for i, nb in enumerate(nbests) for _ in nb] + list(range(len(sources)))
    idx = torch.tensor(rows)
    forced = forced_scores(model, src[idx], src_len[idx], [h.tokens for h in hyps])
    assert forced.tolist() == pytest.approx([h.score for h in hyps], abs=1e-4)


def test_decode_all_restores_input_order(trained, sources):
    from seq2seq.config import DecodeConfig
    from seq2seq.decoding.batched import decode_all

    model, _ = trained
    cfg = DecodeConfig(beam=2, nbest=2, batch_size=5, **DECODE)
    mixed = [sources[3], [], sources[0], sources[7], sources[1]]
    out = decode_all(model, mixed, cfg)
    assert out[1][0].tokens == [] and out[1][0].score == 0.0
    for i in (0, 2, 3, 4):
        one_src, one_len = pad([mixed[i]])
        (alone,) = beam_search(model, one_src, one_len, beam=2, nbest=2, **DECODE)
        assert [h.tokens for h in out[i]] == [h.tokens for h in alone]
    greedy = decode_all(model, mixed, cfg, greedy=True)
    assert [len(g) for g in greedy] == [1] * 5
    assert BOS_ID not in greedy[0][0].tokens


@pytest.mark.parametrize("nbest", [1, 3])
def test_early_stop_keeps_the_nbest_without_length_penalty(trained, sources, nbest):
    """With raw log-probabilities scores only fall, so stopping once the n-th best finished
    hypothesis beats every live one cannot change the n-best list; it may only save steps."""
    model, _ = trained
    src, src_len = pad(sources)
    calls = {True: 0, False: 0}

    class Counting:
        def __init__(self, early):
            self.early = early

        def __getattr__(self, name):
            return getattr(model, name)

        def step(self, tokens, state):
            calls[self.early] += tokens.size(0)
            return model.step(tokens, state)

    kw = {"beam": 4, "nbest": nbest, "length_penalty": 0.0, **DECODE}
    full = beam_search(Counting(False), src, src_len, **kw)
    early = beam_search(Counting(True), src, src_len, early_stop=True, **kw)
    assert all(len(f) == nbest for f in full)
    assert [[h.tokens for h in e] for e in early] == [[h.tokens for h in f] for f in full]
    flat = lambda out: [h.score for hyps in out for h in hyps]  # noqa: E731
    assert flat(early) == pytest.approx(flat(full), abs=1e-5)
    assert calls[True] <= calls[False]
