"""The pointer-generator (`model.copy`): with its switch forced to generate (p_gen = 1) it is
the plain attention model; its mixed distribution sums to 1 over the extended vocabulary;
search over it keeps the protocol's equivalences (beam 1 == greedy, a batch of N == N
batches of 1, forced score == search score)."""

from __future__ import annotations

import math

import pytest
import torch

from seq2seq.config import RNNConfig
from seq2seq.data.batching import pad
from seq2seq.decoding import beam_search, greedy_search
from seq2seq.decoding.rescore import forced_scores
from seq2seq.models.copy import FLOOR, mix
from seq2seq.models.rnn import RNNSeq2Seq
from seq2seq.vocab import BOS_ID, UNK_ID

V = 14  # one vocabulary for both sides; ids V + j are copies of source position j
VARIANTS = {
    "general, fused": {"attention": "general", "input_feeding": False, "bidirectional": True},
    "general, input feeding": {"attention": "general", "input_feeding": True},
    "bahdanau": {"attention": "bahdanau"},
    "dot, 2 layers": {"attention": "dot", "input_feeding": False, "layers": 2},
}


def _models(seed: int = 0, **options) -> tuple[RNNSeq2Seq, RNNSeq2Seq]:
    """A copying model and the plain attention model with the same weights (but the gate)."""
    torch.manual_seed(seed)
    kw = {"layers": 1, "emb_size": 16, "hidden_size": 24, "dropout": 0.0, "init_range": 0.5}
    kw.update(options)
    copying = RNNSeq2Seq(RNNConfig(copy=True, **kw), V, V).eval()
    plain = RNNSeq2Seq(RNNConfig(**kw), V, V).eval()
    missing, unexpected = plain.load_state_dict(copying.state_dict(), strict=False)
    assert not missing and unexpected == ["copy.gate.weight", "copy.gate.bias"]
    return copying, plain


def _generate_only(model: RNNSeq2Seq) -> RNNSeq2Seq:
    """Force the switch to the vocabulary: p_gen = sigmoid(1e4) = 1 exactly in fp32."""
    with torch.no_grad():
        model.copy.gate.weight.zero_()
        model.copy.gate.bias.fill_(1e4)
    return model


def _sources():
    """Source ids with extended ones (V + first position of an out-of-vocabulary token),
    one repeated, and the same sources as a plain model reads them (<unk>)."""
    extended = [[5, V + 1, 7, V + 1, 9], [4, 6, V + 2, 8], [V + 0, 11], [12, 13, 5, 4, 10, 6]]
    plain = [[UNK_ID if i >= V else i for i in s] for s in extended]
    return pad(extended), pad(plain)


@pytest.mark.parametrize("variant", VARIANTS)
def test_with_the_switch_forced_to_generate_it_is_the_plain_attention_model(variant):
    copying, plain = _models(**VARIANTS[variant])
    _generate_only(copying)
    (src, src_len), (plain_src, _) = _sources()
    S = src.size(1)
    tgt_in = torch.tensor([[BOS_ID, 5, 9, 4], [BOS_ID, 6, 7, 8], [BOS_ID, 11, 4, 4], [BOS_ID] * 4])
    with torch.no_grad():
        mixed = copying(src, src_len, tgt_in)  # (B, T, V + S): log P
        reference = torch.log_softmax(plain(plain_src, src_len, tgt_in), -1)  # (B, T, V)
    assert mixed.shape == (4, 4, V + S)
    torch.testing.assert_close(mixed[..., :V], reference, atol=1e-5, rtol=1e-5)
    assert (mixed[..., V:] <= math.log(FLOOR) + 1e-3).all()  # no mass on copies
    # and step by step, through the protocol search uses
    a, b = (
        copying.init_state(copying.encode(src, src_len)),
        plain.init_state(plain.encode(plain_src, src_len)),
    )
    for t in range(tgt_in.size(1)):
        with torch.no_grad():
            lp_a, a, att_a = copying.step(tgt_in[:, t], a)
            lp_b, b, att_b = plain.step(tgt_in[:, t], b)
        torch.testing.assert_close(lp_a[:, :V], lp_b, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(att_a, att_b)


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_mixed_distribution_sums_to_one(variant):
    copying, _ = _models(seed=3, **VARIANTS[variant])
    (src, src_len), _ = _sources()
    tgt_in = torch.tensor([[BOS_ID, V + 1, 9], [BOS_ID, 6, V + 2], [BOS_ID, V, 4], [BOS_ID] * 3])
    keep = torch.tensor(
        [[True, True, True], [True, True, False], [True, False, False]] + [[1, 1, 1]]
    )
    with torch.no_grad():
        full = copying(src, src_len, tgt_in).exp().sum(-1)  # (B, T)
        kept = copying(src, src_len, tgt_in, keep.bool()).exp().sum(-1)  # (N,)
        lp, _, _ = copying.step(tgt_in[:, 1], copying.init_state(copying.encode(src, src_len)))
    torch.testing.assert_close(full, torch.ones_like(full))
    torch.testing.assert_close(kept, torch.ones(int(keep.sum())))
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(4))


def test_mix_by_hand():
    """P(w) = p_gen P_vocab(w) + (1 - p_gen) * attention on the positions holding w; an
    out-of-vocabulary token at two positions (one extended id) gets both positions' share."""
    logits = torch.log(torch.tensor([[0.1, 0.2, 0.3, 0.4]]))  # V = 4
    attention = torch.tensor([[0.5, 0.2, 0.3, 0.0]])  # the last position is padding
    src_ids = torch.tensor([[2, 5, 5, 0]])  # id 5 = V + 1: the token first seen at position 1
    p = mix(logits, torch.tensor([[0.75]]), attention, src_ids).exp()
    expected = [0.075, 0.15, 0.225 + 0.125, 0.3, 0.0, 0.125, 0.0, 0.0]  # (V + S)
    torch.testing.assert_close(p, torch.tensor([expected]), atol=1e-6, rtol=0)


def test_gradients_are_finite_with_zero_probabilities():
    copying, _ = _models(seed=1, attention="general", input_feeding=False)
    (src, src_len), _ = _sources()
    tgt_in = torch.tensor([[BOS_ID, 5], [BOS_ID, 6], [BOS_ID, 7], [BOS_ID, 8]])
    gold = torch.tensor([[V + 1, 4], [V + 2, 4], [V, 4], [5, 4]])
    logp = copying.train()(src, src_len, tgt_in)
    loss = torch.nn.functional.cross_entropy(logp.flatten(0, 1), gold.flatten())
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in copying.parameters() if p.grad is not None)
    assert copying.copy.gate.weight.grad.abs().sum() > 0


def test_a_copying_model_needs_one_vocabulary():
    with pytest.raises(ValueError, match="shared"):
        RNNSeq2Seq(RNNConfig(attention="general", copy=True), 12, 10)


@pytest.fixture(scope="module")
def peaked():
    """A copying model whose gate lets copies win at times (a wide init: peaked outputs)."""
    copying, _ = _models(seed=2, attention="general", input_feeding=False, init_range=1.0)
    (src, src_len), _ = _sources()
    return copying, src, src_len


DECODE = {"max_len_a": 1.0, "max_len_b": 3}


def test_search_outputs_copies(peaked):
    model, src, src_len = peaked
    hyps = beam_search(model, src, src_len, beam=4, nbest=4, **DECODE)
    assert any(t >= V for nbest in hyps for h in nbest for t in h.tokens)


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_beam_one_equals_greedy_with_copy(peaked, length_penalty):
    model, src, src_len = peaked
    greedy = greedy_search(model, src, src_len, **DECODE)
    beam = beam_search(model, src, src_len, beam=1, length_penalty=length_penalty, **DECODE)
    for g, (b,) in zip(greedy, beam):
        assert b.tokens == g.tokens
        assert b.score == pytest.approx(g.score, abs=1e-5)


def test_batched_beam_equals_one_at_a_time_and_forced_scores_with_copy(peaked):
    """The extended vocabulary is as wide as the batch's longest source; a sentence decoded
    alone (a narrower one) gets the same hypotheses, and forced decoding their scores."""
    model, src, src_len = peaked
    batched = beam_search(model, src, src_len, beam=3, nbest=3, length_penalty=0.0, **DECODE)
    sources = [s[: int(n)] for s, n in zip(src.tolist(), src_len)]
    for s, nbest in zip(sources, batched):
        (alone,) = beam_search(model, *pad([s]), beam=3, nbest=3, length_penalty=0.0, **DECODE)
        assert [h.tokens for h in nbest] == [h.tokens for h in alone]
        assert [h.score for h in nbest] == pytest.approx([h.score for h in alone], abs=1e-4)
        forced = forced_scores(model, [s] * len(nbest), [h.tokens for h in nbest])
        assert forced == pytest.approx([h.score for h in nbest], abs=1e-4)


def test_ban_unk_keeps_unk_out_of_every_search():
    """A model that prefers <unk> everywhere: with `decode.ban_unk` no hypothesis holds it,
    and the rest of each step's distribution is unchanged."""
    from seq2seq.config import DecodeConfig
    from seq2seq.decoding.ban import BanTokens
    from seq2seq.decoding.batched import decode_all

    model, _ = _models(seed=4, attention="general", input_feeding=False)
    with torch.no_grad():
        model.out.bias[UNK_ID] = 20.0
    sources = [[5, 6, 7], [8, 9], [10, 11, 12, 13]]
    for greedy in (True, False):
        plain = decode_all(model, sources, DecodeConfig(beam=3, max_len_b=4), greedy=greedy)
        banned = decode_all(
            model, sources, DecodeConfig(beam=3, max_len_b=4, ban_unk=True), greedy=greedy
        )
        assert all(UNK_ID in n[0].tokens for n in plain)
        assert all(UNK_ID not in h.tokens for n in banned for h in n)
    (src, src_len), _ = _sources()
    state = model.init_state(model.encode(src, src_len))
    tokens = torch.full((4,), BOS_ID)
    with torch.no_grad():
        a, _, _ = model.step(tokens, state)
        b, _, _ = BanTokens(model).step(tokens, state)
    assert torch.isinf(b[:, UNK_ID]).all()
    keep = [i for i in range(a.size(1)) if i != UNK_ID]
    torch.testing.assert_close(a[:, keep], b[:, keep])


@pytest.mark.parametrize("decode", [{"length": "source"}, {"copy_tokens": [","]}])
def test_constrained_decoding_is_refused_for_a_copying_model(decode):
    """Constraint masks are as wide as the vocabulary; a copying model's outputs are wider."""
    from helpers import tiny_config_dict

    from seq2seq.config import config_from_dict
    from seq2seq.errors import UserError

    raw = tiny_config_dict("train.tsv", data={"shared_vocab": True})
    raw["model"].update(attention="general", copy=True)
    config_from_dict(raw)  # a copying model without constraints is fine
    raw["decode"] = {**raw.get("decode", {}), **decode}
    with pytest.raises((UserError, ValueError), match="model.copy"):
        config_from_dict(raw)
