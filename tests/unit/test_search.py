"""Search over a hand-built step function: greedy is myopic, beam finds the better
sequence; n-best order; length normalisation; the max-length cap; back-pointers."""

from __future__ import annotations

import math

import pytest
import torch

from seq2seq.data.batching import pad
from seq2seq.decoding import DecoderState, beam_search, greedy_search
from seq2seq.decoding.search import length_normalize, max_lengths
from seq2seq.vocab import BOS_ID, EOS_ID

A, B = 4, 5  # the two real tokens; ids 0-3 are <pad> <unk> <s> </s>
V = 6


class TableModel:
    """P(next | last token) from a fixed table; knows nothing about its source.

    `step` also returns the input token as a one-column "attention", so a hypothesis's
    attention rows spell out <s> y1 .. yn and check search's back-pointers.
    """

    def __init__(self, table: dict[int, dict[int, float]]):
        self.logp = torch.full((V, V), -math.inf)
        for last, dist in table.items():
            for tok, p in dist.items():
                self.logp[last, tok] = math.log(p)
        self.calls = 0

    def encode(self, src, src_len):
        return src_len

    def init_state(self, enc):
        return DecoderState({"t": torch.zeros(len(enc), dtype=torch.long)}, {"t": 0})

    def step(self, tokens, state):
        self.calls += 1
        att = tokens.float().unsqueeze(1)  # (N, 1)
        return self.logp[tokens], state.replace(t=state["t"] + 1), att


# greedy takes A (0.6) and then is stuck with A </s> = 0.24; B </s> = 0.36 is better.
MYOPIC = {
    BOS_ID: {A: 0.6, B: 0.4},
    A: {EOS_ID: 0.4, A: 0.3, B: 0.3},
    B: {EOS_ID: 0.9, A: 0.05, B: 0.05},
}

# The empty output has the best raw score; <s> A B </s> the best per-token score.
LENGTHS = {
    BOS_ID: {EOS_ID: 0.55, A: 0.45},
    A: {B: 0.99, EOS_ID: 0.006, A: 0.004},
    B: {EOS_ID: 0.99, A: 0.005, B: 0.005},
}

# </s> is the best first token; B is third, and B </s> the best finished sequence of length 1.
EARLY_END = {
    BOS_ID: {EOS_ID: 0.5, A: 0.3, B: 0.2},
    A: {EOS_ID: 0.5, A: 0.25, B: 0.25},
    B: {EOS_ID: 0.99, A: 0.005, B: 0.005},
}

NEVER_ENDS = {t: {A: 0.6, B: 0.3999, EOS_ID: 1e-4} for t in (BOS_ID, A, B)}


def _src(*lengths):
    return pad([[A] * n for n in lengths])


def test_greedy_is_myopic_and_beam_two_finds_the_better_sequence():
    src, src_len = _src(3)
    model = TableModel(MYOPIC)
    (g,) = greedy_search(model, src, src_len)
    assert g.tokens == [A]
    assert g.score == pytest.approx(math.log(0.6 * 0.4))
    (nbest,) = beam_search(model, src, src_len, beam=2, nbest=2, length_penalty=0.0)
    assert [h.tokens for h in nbest] == [[B], [A]]
    assert nbest[0].score == pytest.approx(math.log(0.4 * 0.9))
    assert nbest[1].score == pytest.approx(math.log(0.6 * 0.4))


def test_a_finished_hypothesis_does_not_take_a_live_beam_slot():
    """Beam 2 keeps A and B alive after </s> ends a hypothesis at step 0 (2K candidates)."""
    src, src_len = _src(2)
    (nbest,) = beam_search(TableModel(EARLY_END), src, src_len, beam=2, nbest=2, length_penalty=0)
    assert [h.tokens for h in nbest] == [[], [B]]
    assert [h.score for h in nbest] == pytest.approx([math.log(0.5), math.log(0.2 * 0.99)])


def test_beam_one_is_greedy_on_the_table():
    src, src_len = _src(3, 1)
    model = TableModel(MYOPIC)
    greedy = greedy_search(model, src, src_len)
    beam = beam_search(model, src, src_len, beam=1, nbest=1)
    assert [h.tokens for h in greedy] == [b[0].tokens for b in beam]
    assert [h.score for h in greedy] == pytest.approx([b[0].score for b in beam])


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_nbest_sorted_by_norm_score(alpha):
    src, src_len = _src(4, 2)
    for nbest in beam_search(
        TableModel(LENGTHS), src, src_len, beam=3, nbest=3, length_penalty=alpha
    ):
        assert len(nbest) == 3
        norms = [h.norm_score for h in nbest]
        assert norms == sorted(norms, reverse=True)
        for h in nbest:
            assert h.norm_score == pytest.approx(h.score / (len(h.tokens) + 1) ** alpha)
        expected = [[], [A, B], [A]] if alpha == 0 else [[A, B], [], [A]]
        assert [h.tokens for h in nbest] == expected


def test_length_penalty_changes_the_winner():
    src, src_len = _src(4)
    raw = beam_search(TableModel(LENGTHS), src, src_len, beam=3, length_penalty=0.0)
    norm = beam_search(TableModel(LENGTHS), src, src_len, beam=3, length_penalty=1.0)
    assert raw[0][0].tokens == []
    assert norm[0][0].tokens == [A, B]
    assert norm[0][0].score == pytest.approx(math.log(0.45 * 0.99 * 0.99))


def test_length_normalize_and_caps():
    assert length_normalize(-6.0, 3, 1.0) == pytest.approx(-2.0)
    assert length_normalize(-6.0, 3, 0.0) == -6.0
    assert max_lengths(torch.tensor([1, 4, 0]), 1.5, 2).tolist() == [4, 8, 2]
    assert max_lengths(torch.tensor([0]), 0.0, 0).tolist() == [1]


def test_a_model_that_never_ends_is_cut_at_max_len():
    src, src_len = _src(1, 4)
    caps = [1 * 1 + 2, 1 * 4 + 2]
    model = TableModel(NEVER_ENDS)
    greedy = greedy_search(model, src, src_len, max_len_a=1.0, max_len_b=2)
    assert [len(h.tokens) for h in greedy] == caps
    for h, cap in zip(greedy, caps):
        assert h.tokens == [A] * cap
        assert h.score == pytest.approx(cap * math.log(0.6) + math.log(1e-4))
    model.calls = 0
    beams = beam_search(model, src, src_len, beam=2, nbest=2, max_len_a=1.0, max_len_b=2)
    assert model.calls <= max(caps) + 1
    for nbest, cap in zip(beams, caps):
        assert len(nbest) == 2
        assert all(len(h.tokens) <= cap for h in nbest)
        assert len(nbest[0].tokens) == cap
        assert all(math.isfinite(h.score) for h in nbest)


def test_attention_follows_the_back_pointers():
    src, src_len = _src(3, 2)
    for model_table in (MYOPIC, LENGTHS):
        for nbest in beam_search(TableModel(model_table), src, src_len, beam=3, nbest=3):
            for h in nbest:
                assert h.attention[:, 0].tolist() == [BOS_ID, *h.tokens]
        for h in greedy_search(TableModel(model_table), src, src_len):
            assert h.attention[:, 0].tolist() == [BOS_ID, *h.tokens]


def test_decoder_state_select_and_repeat():
    state = DecoderState(
        {"h": torch.arange(6.0).view(1, 3, 2), "m": torch.arange(3.0)}, {"h": 1, "m": 0}
    )
    rep = state.repeat(2)
    assert rep["m"].tolist() == [0, 0, 1, 1, 2, 2]
    assert rep["h"].shape == (1, 6, 2)
    assert rep["h"][0, 3].tolist() == [2.0, 3.0]
    sel = rep.select(torch.tensor([5, 0]))
    assert sel["m"].tolist() == [2, 0]
    assert sel["h"][0].tolist() == [[4.0, 5.0], [0.0, 1.0]]
    assert state["m"].tolist() == [0, 1, 2]  # the original is untouched
    assert state.replace(m=torch.zeros(3))["h"] is state["h"]


@pytest.mark.parametrize("K,V", [(1, 7), (3, 50), (5, 6), (12, 9)])
def test_top_candidates_equal_sorting_all_k_times_v(K, V):
    """The per-beam top-k shortcut picks the same (score, beam, token) as the full sort."""
    from seq2seq.decoding.search import top_candidates

    g = torch.Generator().manual_seed(K * 100 + V)
    n = 4
    scores = torch.randn(n, K, generator=g)
    scores[0, 1:] = -math.inf  # the first step: only beam 0 is real
    logp = torch.randn(n * K, V, generator=g).log_softmax(-1)
    logp[:, 0] = -math.inf
    got_scores, got_beam, got_tok = top_candidates(scores, logp)
    full = (scores.unsqueeze(-1) + logp.view(n, K, V)).view(n, K * V)
    want_scores, want_idx = full.topk(min(2 * K, K * V), dim=-1)
    assert torch.equal(got_scores, want_scores)
    finite = torch.isfinite(want_scores)  # among -inf ties the order is arbitrary
    assert torch.equal(got_beam[finite], (want_idx // V)[finite])
    assert torch.equal(got_tok[finite], (want_idx % V)[finite])
