"""CTC search and joint CTC/attention decoding, against hand-built inputs and torch's CTC
forward score: greedy, prefix beam (beam 1 == greedy on peaked inputs; its score == the
CTC forward log-probability of its output), and the joint step wrapper (lambda 0 == the
speller's beam search; lambda 1 scores == CTC forward; batched == one by one)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from seq2seq.config import SpeechModelConfig
from seq2seq.decoding import beam_search, greedy_search
from seq2seq.decoding.ctc import CTCPrefixScorer, ctc_greedy, ctc_prefix_beam_search
from seq2seq.models import build_model
from seq2seq.vocab import BLANK_ID, BOS_ID, EOS_ID


def ctc_log_prob(log_probs: torch.Tensor, tokens: list[int]) -> float:
    """log P(tokens | x) by torch's CTC forward algorithm, for one (T, V) utterance."""
    if not tokens:
        return float(log_probs[:, BLANK_ID].sum())
    loss = F.ctc_loss(
        log_probs.detach().unsqueeze(1),
        torch.tensor([tokens]),
        torch.tensor([log_probs.size(0)]),
        torch.tensor([len(tokens)]),
        blank=BLANK_ID,
        reduction="sum",
    )
    return -float(loss)


def random_ctc(B: int, T: int, V: int, *, seed: int, peak: float = 0.0) -> torch.Tensor:
    """Random (B, T, V) CTC log-probabilities; with `peak`, one random token (the blank
    half of the time) per frame has its logit raised by that much."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, T, V, generator=g)
    if peak:
        top = torch.randint(4, V, (B, T, 1), generator=g)
        top = top.masked_fill(torch.rand(B, T, 1, generator=g) < 0.5, BLANK_ID)
        logits.scatter_add_(-1, top, torch.full((B, T, 1), peak))
    logits[..., BOS_ID] = -math.inf
    logits[..., EOS_ID] = -math.inf
    return torch.log_softmax(logits, -1)


def test_greedy_merges_repeats_and_drops_blanks():
    path = [5, 5, 0, 5, 6, 6, 0, 0, 7, 4]  # a a _ a b b _ _ c | past the length
    lp = torch.full((1, len(path), 8), -10.0)
    lp[0, torch.arange(len(path)), torch.tensor(path)] = -0.1
    (hyp,) = ctc_greedy(lp, torch.tensor([9]))
    assert hyp.tokens == [5, 5, 6, 7]
    assert hyp.score == pytest.approx(-0.9)


@pytest.mark.parametrize("seed", range(10))
def test_prefix_beam_of_one_equals_greedy_on_peaked_inputs(seed):
    lp = random_ctc(3, 30, 9, seed=seed, peak=10.0)
    lengths = torch.tensor([30, 17, 1])
    greedy = [h.tokens for h in ctc_greedy(lp, lengths)]
    beam1 = [h[0].tokens for h in ctc_prefix_beam_search(lp, lengths, beam=1)]
    assert beam1 == greedy


def test_beam_of_one_keeps_the_best_prefix_not_the_best_path():
    """Why the equality above needs peaked inputs. Frames (a 1), (blank .55, a .45),
    (blank .45, a .55): the best path "a _ a" (.30) says "aa", but the prefix "a" totals
    .70 over its paths ("a a a", "a _ _", "a a _", "a _ a" is not one of them), so beam 1
    says "a"."""
    probs = torch.tensor([[0.0, 0, 0, 0, 1.0], [0.55, 0, 0, 0, 0.45], [0.45, 0, 0, 0, 0.55]])
    lp = probs.clamp(min=1e-30).log().unsqueeze(0)  # (1, 3, 5)
    assert ctc_greedy(lp, torch.tensor([3]))[0].tokens == [4, 4]
    (best,) = ctc_prefix_beam_search(lp, torch.tensor([3]), beam=1)[0]
    assert best.tokens == [4]
    assert best.score == pytest.approx(math.log(0.6975), abs=1e-5)


@pytest.mark.parametrize("seed", range(5))
def test_prefix_beam_scores_are_the_ctc_forward_scores(seed):
    """With a beam that prunes nothing (3 labels, 6 frames), every returned labelling's
    score is its CTC forward log-probability, and the best is the most probable."""
    lp = random_ctc(2, 6, 8, seed=seed)
    lp[..., 1] = -math.inf  # only the blank and labels 5, 6, 7 (<unk> and 4 unused)
    lp[..., 4] = -math.inf
    lp = torch.log_softmax(lp, -1)
    lengths = torch.tensor([6, 4])
    for b, hyps in enumerate(ctc_prefix_beam_search(lp, lengths, beam=2000, nbest=5)):
        n = int(lengths[b])
        for h in hyps:
            assert h.score == pytest.approx(ctc_log_prob(lp[b, :n], h.tokens), abs=1e-4)
        assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)


def test_a_small_beam_scores_no_more_than_the_forward_score():
    lp = random_ctc(1, 20, 9, seed=3)
    for h in ctc_prefix_beam_search(lp, torch.tensor([20]), beam=3, nbest=3)[0]:
        assert h.score <= ctc_log_prob(lp[0], h.tokens) + 1e-4


# -- joint decoding ------------------------------------------------------------------------


F_IN = 12


def joint_model(seed: int = 0):
    torch.manual_seed(seed)
    cfg = SpeechModelConfig(
        features=F_IN, listener_hidden=16, speller_hidden=16, emb_size=8, ctc_weight=0.5
    )
    model = build_model(cfg, F_IN, 9).eval()
    with torch.no_grad():  # a peakier CTC head than random init gives, so search has a shape
        model.ctc.weight.mul_(20)
    return model


def audio(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([50, 23, 37])
    return torch.randn(3, 50, F_IN, generator=g), lengths


@pytest.mark.parametrize("candidates", [0, 8])
def test_joint_lambda_zero_is_the_spellers_beam_search(candidates):
    model = joint_model()
    x, lengths = audio()
    opts = dict(beam=4, nbest=4, max_len_a=0.2, max_len_b=3)
    plain = beam_search(model, x, lengths, **opts)
    scorer = CTCPrefixScorer(model, 0.0, candidates=candidates)
    joint = beam_search(scorer, x, lengths, **opts)
    assert [[h.tokens for h in s] for s in joint] == [[h.tokens for h in s] for s in plain]
    assert [[h.score for h in s] for s in joint] == [[h.score for h in s] for s in plain]


def test_joint_lambda_one_scores_are_the_ctc_forward_scores():
    """With lambda 1 the per-step CTC prefix-score increments of a finished hypothesis add
    up to its CTC forward log-probability (torch's CTCLoss)."""
    model = joint_model(1)
    x, lengths = audio(1)
    lp = model.ctc_log_probs(model.encode(x, lengths))
    out_len = (lengths + 7) // 8
    for b, hyps in enumerate(
        beam_search(
            CTCPrefixScorer(model, 1.0),
            x,
            lengths,
            beam=3,
            nbest=3,
            length_penalty=0.0,
            max_len_a=0.2,
            max_len_b=3,
        )
    ):
        assert hyps
        for h in hyps:
            want = ctc_log_prob(lp[b, : int(out_len[b])], h.tokens)
            assert h.score == pytest.approx(want, abs=1e-3)


@pytest.mark.parametrize("candidates", [0, 3])
def test_joint_score_mixes_forced_attention_and_ctc_scores(candidates):
    """Also when only the speller's best 3 tokens a step are CTC-scored (pre-beam): the
    chosen ones are, exactly."""
    model = joint_model(2)
    x, lengths = audio(2)
    enc = model.encode(x, lengths)
    lp = model.ctc_log_probs(enc)
    w = 0.3
    scorer = CTCPrefixScorer(model, w, candidates=candidates)
    for b, h in enumerate(greedy_search(scorer, x, lengths, max_len_a=0.2)):
        n = int(lengths[b])
        tgt_in = torch.tensor([[BOS_ID, *h.tokens]])
        with torch.no_grad():
            logits = model(x[b : b + 1, :n], lengths[b : b + 1], tgt_in)
        att = torch.log_softmax(logits.float(), -1)[0]
        forced = float(att.gather(1, torch.tensor([[*h.tokens, EOS_ID]]).t()).sum())
        ctc = ctc_log_prob(lp[b, : math.ceil(n / 8)], h.tokens)
        assert h.score == pytest.approx((1 - w) * forced + w * ctc, abs=1e-3)


@pytest.mark.parametrize("candidates", [0, 4])
def test_joint_batched_equals_one_by_one(candidates):
    model = joint_model(3)
    x, lengths = audio(3)
    scorer = CTCPrefixScorer(model, 0.4, candidates=candidates)
    opts = dict(beam=3, nbest=2, max_len_a=0.2, max_len_b=3)
    batched = beam_search(scorer, x, lengths, **opts)
    for b in range(3):
        n = int(lengths[b])
        (alone,) = beam_search(scorer, x[b : b + 1, :n], lengths[b : b + 1], **opts)
        assert [h.tokens for h in alone] == [h.tokens for h in batched[b]]
        for a, c in zip(alone, batched[b]):
            assert a.score == pytest.approx(c.score, abs=1e-4)
