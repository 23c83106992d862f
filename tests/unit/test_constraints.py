"""Constrained decoding on real (tiny) models, an LSTM and a Transformer, through `step` only:
no constraints == today's search; lengths and forced tokens always hold, under greedy, beam
and sampling; a batch == one sentence at a time; scores stay forced-decode scores."""

from __future__ import annotations

import pytest
import torch
from helpers import quick_trained_model, random_sources

from seq2seq.config import DecodeConfig, TransformerConfig
from seq2seq.data.batching import pad
from seq2seq.decoding import beam_search, greedy_search
from seq2seq.decoding.constraints import Constraints, source_constraints
from seq2seq.decoding.rescore import forced_scores
from seq2seq.decoding.sampling import make_generator, sample_search
from seq2seq.errors import InputValueError
from seq2seq.models.transformer import TransformerSeq2Seq

DECODE = {"max_len_a": 1.0, "max_len_b": 3}
V = 14


def _transformer():
    torch.manual_seed(3)
    cfg = TransformerConfig(layers=1, d_model=32, heads=4, ff_size=64, dropout=0.0)
    return TransformerSeq2Seq(cfg, V, V).eval()


@pytest.fixture(scope="module", params=["lstm", "transformer"])
def case(request):
    if request.param == "lstm":
        torch.manual_seed(0)
        model, examples = quick_trained_model(steps=20)
        sources = [s for s, _ in examples][:12]
    else:
        model, sources = _transformer(), random_sources(12, V, seed=1, max_len=9)
    return model, sources


def _constraints(sources, seed=0):
    """A length per sentence (its source's plus -1..+2) and 1-2 forced tokens; token 5 is
    reserved (allowed only where forced)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for i, s in enumerate(sources):
        n = max(1, len(s) + i % 4 - 1)
        pos = torch.randperm(n, generator=g)[: 1 + i % 2].tolist()
        forced = tuple((p, 5 if k == 0 else 6 + (p + i) % 5) for k, p in enumerate(pos))
        out.append(Constraints(n, forced, frozenset({5})))
    return out


def test_no_constraints_leave_every_search_unchanged(case):
    model, sources = case
    src, src_len = pad(sources)
    empty = [Constraints()] * len(sources)
    for run in (
        lambda c: [[h] for h in greedy_search(model, src, src_len, constraints=c, **DECODE)],
        lambda c: beam_search(model, src, src_len, beam=4, nbest=3, constraints=c, **DECODE),
    ):
        plain, masked = run(None), run(empty)
        assert [[h.tokens for h in n] for n in plain] == [[h.tokens for h in n] for n in masked]
        assert [[h.score for h in n] for n in plain] == [[h.score for h in n] for n in masked]


def test_lengths_forced_and_reserved_tokens_always_hold(case):
    model, sources = case
    src, src_len = pad(sources)
    cons = _constraints(sources)
    greedy = greedy_search(model, src, src_len, constraints=cons, **DECODE)
    beams = beam_search(model, src, src_len, beam=4, nbest=4, constraints=cons, **DECODE)
    sampled = sample_search(
        model, src, src_len, generator=make_generator(0, "cpu"), constraints=cons, **DECODE
    )
    assert sum(len(n) == 4 for n in beams) > len(beams) // 2  # fewer: all positions forced
    for c, g, nbest, s in zip(cons, greedy, beams, sampled):
        assert nbest
        for h in [g, s, *nbest]:
            assert len(h.tokens) == c.length and c.holds(h.tokens), (c, h.tokens)
            assert all(h.tokens[p] == tok for p, tok in c.forced)
            assert 5 not in [t for i, t in enumerate(h.tokens) if i not in dict(c.forced)]


def test_constrained_beam_batch_equals_one_by_one(case):
    model, sources = case
    cons = _constraints(sources, seed=1)
    src, src_len = pad(sources)
    kw = {"beam": 3, "nbest": 2, **DECODE}
    batched = beam_search(model, src, src_len, constraints=cons, **kw)
    greedy = greedy_search(model, src, src_len, constraints=cons, **DECODE)
    for s, c, nbest, g in zip(sources, cons, batched, greedy):
        one, one_len = pad([s])
        alone = beam_search(model, one, one_len, constraints=[c], **kw)[0]
        assert [h.tokens for h in nbest] == [h.tokens for h in alone]
        assert [h.score for h in nbest] == pytest.approx([h.score for h in alone], abs=1e-4)
        (g1,) = greedy_search(model, one, one_len, constraints=[c], **DECODE)
        assert g1.tokens == g.tokens


def test_constrained_scores_are_forced_decode_scores(case):
    """Masking keeps the model's log-probabilities: the search's score of a constrained
    output is what forced decoding gives that output."""
    model, sources = case
    cons = _constraints(sources, seed=2)
    src, src_len = pad(sources)
    beams = beam_search(model, src, src_len, beam=3, nbest=1, constraints=cons, **DECODE)
    forced = forced_scores(model, sources, [n[0].tokens for n in beams], batch_size=5)
    assert forced == pytest.approx([n[0].score for n in beams], abs=1e-4)


def test_beam_one_equals_greedy_under_constraints(case):
    model, sources = case
    cons = _constraints(sources, seed=3)
    src, src_len = pad(sources)
    greedy = greedy_search(model, src, src_len, constraints=cons, **DECODE)
    beam = beam_search(model, src, src_len, beam=1, constraints=cons, **DECODE)
    assert [g.tokens for g in greedy] == [b[0].tokens for b in beam]


def test_length_longer_than_the_cap_wins():
    model, sources = _transformer(), [[4, 5]]
    src, src_len = pad(sources)
    (h,) = greedy_search(
        model, src, src_len, max_len_a=0.0, max_len_b=1, constraints=[Constraints(7)]
    )
    assert len(h.tokens) == 7


class _Proc:
    """What source_constraints reads of a Processor."""

    def __init__(self, reverse: bool):
        from types import SimpleNamespace

        from seq2seq.vocab import Vocabulary

        self.src_vocab = Vocabulary(["<pad>", "<unk>", "<s>", "</s>", "天", "，", "地"])
        self.tgt_vocab = Vocabulary(["<pad>", "<unk>", "<s>", "</s>", "，", "山", "水"])
        self.cfg = SimpleNamespace(reverse_source=reverse)


@pytest.mark.parametrize("reverse", [False, True])
def test_source_constraints_from_the_config(reverse):
    proc = _Proc(reverse)
    src = [4, 5, 6, 6]  # 天，地地 as written
    ids = src[::-1] if reverse else src
    cfg = DecodeConfig(length="source", copy_tokens=("，",))
    (c,) = source_constraints(cfg, proc, [ids])
    assert c == Constraints(4, ((1, 4),), frozenset({4}))
    assert source_constraints(DecodeConfig(), proc, [ids]) is None
    (c,) = source_constraints(DecodeConfig(copy_tokens=("，",)), proc, [ids])
    assert c.length is None
    with pytest.raises(InputValueError, match="not in the model's target vocabulary"):
        source_constraints(DecodeConfig(copy_tokens=("。",)), proc, [ids])
