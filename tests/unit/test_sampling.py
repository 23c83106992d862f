"""Sampling as a search of its own: top-k 1 and temperature -> 0 are greedy search; a seed
repeats the output; the top-p nucleus and the top-k cut hold, and the draws follow the
renormalised distribution."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import quick_trained_model

from seq2seq.data.batching import pad
from seq2seq.decoding import greedy_search
from seq2seq.decoding.sampling import filter_logits, make_generator, sample_search
from seq2seq.models.base import DecoderState
from seq2seq.vocab import EOS_ID

DECODE = {"max_len_a": 1.0, "max_len_b": 3}


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    model, examples = quick_trained_model(steps=20)
    return model, pad([s for s, _ in examples])


def _sample(model, src, src_len, seed=0, **kw):
    return sample_search(model, src, src_len, generator=make_generator(seed, "cpu"), **kw, **DECODE)


@pytest.mark.parametrize("spec", [{"top_k": 1}, {"temperature": 0.0}])
def test_top_k_one_and_temperature_zero_are_greedy(trained, spec):
    model, (src, src_len) = trained
    greedy = greedy_search(model, src, src_len, **DECODE)
    sampled = _sample(model, src, src_len, **spec)
    assert [h.tokens for h in sampled] == [h.tokens for h in greedy]
    assert [h.score for h in sampled] == pytest.approx([h.score for h in greedy], abs=1e-5)


def test_temperature_towards_zero_approaches_greedy(trained):
    """The share of outputs equal to greedy search's grows as the temperature falls, and is
    all of them at 1e-6 (this model's closest call between its two best tokens is ~1e-4)."""
    model, (src, src_len) = trained
    greedy = [h.tokens for h in greedy_search(model, src, src_len, **DECODE)]
    shares = []
    for t in (1.0, 0.1, 0.01, 1e-6):
        same = [
            sum(
                h.tokens == g
                for h, g in zip(_sample(model, src, src_len, seed, temperature=t), greedy)
            )
            for seed in range(4)
        ]
        shares.append(sum(same) / (4 * len(greedy)))
    assert shares == sorted(shares) and shares[0] < 0.5 and shares[-1] == 1.0


def test_a_seed_repeats_the_output_and_another_differs(trained):
    model, (src, src_len) = trained
    a = [h.tokens for h in _sample(model, src, src_len, seed=7, top_p=0.95)]
    b = [h.tokens for h in _sample(model, src, src_len, seed=7, top_p=0.95)]
    c = [h.tokens for h in _sample(model, src, src_len, seed=8, top_p=0.95)]
    greedy = [h.tokens for h in greedy_search(model, src, src_len, **DECODE)]
    assert a == b
    assert a != c and a != greedy  # it samples: a partly trained model is unsure


def test_filter_logits_keeps_the_smallest_nucleus_holding_top_p():
    g = torch.Generator().manual_seed(0)
    logp = torch.randn(50, 30, generator=g).mul(2).log_softmax(-1)
    for p in (0.1, 0.5, 0.9, 0.99):
        kept = torch.isfinite(filter_logits(logp, top_p=p))
        probs = logp.exp()
        for row in range(50):
            order = probs[row].argsort(descending=True)
            n = int(kept[row].sum())
            assert kept[row, order[:n]].all()  # the most probable ones
            mass = probs[row, order[:n]].sum()
            assert mass >= p - 1e-6  # hold at least top_p ...
            assert n == 1 or mass - probs[row, order[n - 1]] < p  # ... and no token more


def test_filter_logits_top_k_and_temperature():
    logp = torch.tensor([[-0.1, -2.0, -3.0, -5.0]])
    x = filter_logits(logp, top_k=2, temperature=2.0)
    assert torch.isfinite(x).tolist() == [[True, True, False, False]]
    assert x[0, :2].tolist() == pytest.approx([-0.05, -1.0])


class _Fixed:
    """The first step: a fixed distribution over A..D (</s> impossible); then </s>."""

    probs = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.5, 0.25])  # pad unk <s> </s> A B
    probs = torch.cat([probs, torch.tensor([0.15, 0.1])])  # C D

    def encode(self, src, src_len):
        return src

    def init_state(self, enc):
        return DecoderState({"n": torch.zeros(enc.size(0))}, {"n": 0})

    def step(self, tokens, state):
        logp = self.probs.log().expand(tokens.size(0), -1).clone()  # (n, V)
        later = state["n"] > 0
        logp[later] = -math.inf
        logp[later, EOS_ID] = 0.0
        return logp, state.replace(n=state["n"] + 1), None


def test_draws_follow_the_renormalised_nucleus():
    """top_p 0.8 keeps A, B, C (0.5 + 0.25 < 0.8 <= 0.9): D is never drawn, and A, B, C
    come in proportion 0.5 : 0.25 : 0.15."""
    n = 4000
    src, src_len = torch.ones(n, 1, dtype=torch.long), torch.ones(n, dtype=torch.long)
    hyps = sample_search(
        _Fixed(),
        src,
        src_len,
        generator=make_generator(0, "cpu"),
        top_p=0.8,
        max_len_a=0,
        max_len_b=3,
    )
    first = torch.tensor([h.tokens[0] for h in hyps])
    counts = torch.bincount(first, minlength=8)[4:].float() / n
    assert counts[3] == 0
    assert counts[:3].tolist() == pytest.approx([0.5 / 0.9, 0.25 / 0.9, 0.15 / 0.9], abs=0.03)
    # the score is the model's own log-probability of the token (then of </s>: 0)
    assert hyps[0].score == pytest.approx(math.log(_Fixed.probs[hyps[0].tokens[0]]), abs=1e-5)
