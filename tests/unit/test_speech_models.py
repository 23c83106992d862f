"""Speech models: the listener's lengths, padding and streaming causality; the joint loss's
pieces; a tiny LAS and a tiny CTC model memorise a handful of generated utterances."""

from __future__ import annotations

import math

import pytest
import torch

from seq2seq.config import SpeechModelConfig
from seq2seq.decoding import beam_search, greedy_search
from seq2seq.decoding.ctc import ctc_greedy
from seq2seq.models import build_model
from seq2seq.models.speech import ctc_loss_sum
from seq2seq.vocab import BOS_ID, EOS_ID, PAD_ID

F = 12  # features per frame in these tests (the real data's is 80)


def tiny(**kw) -> SpeechModelConfig:
    opts = dict(features=F, listener_hidden=16, speller_hidden=16, emb_size=8, dropout=0.0)
    return SpeechModelConfig(**{**opts, **kw})


@pytest.mark.parametrize("encoder", ["pyramidal", "streaming"])
def test_pyramidal_output_length_is_ceil_t_over_8(encoder):
    torch.manual_seed(0)
    model = build_model(tiny(encoder=encoder), F, 10).eval()
    lengths = torch.tensor([1, 2, 7, 8, 9, 15, 16, 17, 63, 101])
    x = torch.randn(len(lengths), int(lengths.max()), F)
    enc = model.encode(x, lengths)
    assert enc.src_mask.sum(1).tolist() == [math.ceil(t / 8) for t in lengths.tolist()]
    assert enc.memory.shape[1] == math.ceil(101 / 8)
    for levels in (0, 1, 2):
        m = build_model(tiny(encoder=encoder, pyramid_levels=levels), F, 10).eval()
        got = m.encode(x, lengths).src_mask.sum(1).tolist()
        assert got == [math.ceil(t / 2**levels) for t in lengths.tolist()]


@pytest.mark.parametrize("encoder", ["pyramidal", "streaming"])
def test_padding_changes_no_output(encoder):
    """A batch's encodings equal each utterance's alone (odd lengths included)."""
    torch.manual_seed(1)
    model = build_model(tiny(encoder=encoder, ctc_weight=0.5), F, 10).eval()
    lengths = torch.tensor([29, 9, 40])
    x = torch.randn(3, 40, F)
    x[1, 9:] = 0
    x[0, 29:] = 0
    enc = model.encode(x, lengths)
    for b, n in enumerate(lengths.tolist()):
        alone = model.encode(x[b : b + 1, :n], lengths[b : b + 1])
        k = alone.memory.size(1)
        torch.testing.assert_close(enc.memory[b, :k], alone.memory[0])
        assert not enc.memory[b, k:].any()


def test_streaming_chunks_equal_the_whole_utterance_and_ignore_the_future():
    torch.manual_seed(2)
    cfg = tiny(encoder="streaming", chunk_frames=16)
    model = build_model(cfg, F, 10).eval()
    x = torch.randn(1, 61, F)
    full = model.encode(x, torch.tensor([61])).memory  # (1, 8, D)
    state, outs = None, []
    for s in range(0, 61, cfg.chunk_frames):
        out, state = model.encode_chunk(x[:, s : s + cfg.chunk_frames], state)
        outs.append(out)
    torch.testing.assert_close(torch.cat(outs, 1), full)
    # the first chunk's outputs do not depend on any later audio
    changed = x.clone()
    changed[:, 16:] = torch.randn(1, 45, F) * 3
    later = model.encode(changed, torch.tensor([61])).memory
    torch.testing.assert_close(later[:, :2], full[:, :2])
    assert not torch.allclose(later[:, 2:], full[:, 2:])
    # while a full-context (bidirectional) listener's do: the check can fail
    bi = build_model(tiny(), F, 10).eval()
    a, b = (bi.encode(v, torch.tensor([61])).memory for v in (x, changed))
    assert not torch.allclose(a[:, :2], b[:, :2])


def test_a_ctc_only_model_has_no_speller_and_an_attention_only_no_ctc_head():
    ctc = build_model(tiny(ctc_weight=1.0), F, 10)
    att = build_model(tiny(ctc_weight=0.0), F, 10)
    assert ctc.speller is None and ctc.has_ctc and att.ctc is None and att.has_speller
    with pytest.raises(ValueError, match="CTC-only"):
        ctc.init_state(ctc.encode(torch.randn(1, 8, F), torch.tensor([8])))
    with pytest.raises(ValueError, match="ctc_weight"):
        SpeechModelConfig(ctc_weight=1.5)
    with pytest.raises(ValueError, match="chunk_frames"):
        SpeechModelConfig(chunk_frames=12)


def test_ctc_head_gives_no_mass_to_bos_and_eos():
    model = build_model(tiny(ctc_weight=0.5), F, 10).eval()
    lp = model.ctc_log_probs(model.encode(torch.randn(2, 20, F), torch.tensor([20, 11])))
    assert (lp[..., BOS_ID] < -1e3).all() and (lp[..., EOS_ID] < -1e3).all()
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(2, 3))


# -- memorising generated utterances ----------------------------------------------------------


def synthetic_utterances(n: int, vocab: int, *, seed: int = 0):
    """`n` distinct label sequences (ids 4.. vocab-1) and their features: each label a
    fixed random frame pattern held 6-9 frames, then 3 frames of silence, all with noise
    (a stand-in for speech)."""
    g = torch.Generator().manual_seed(seed)
    protos = torch.randn(vocab, F, generator=g)
    utts = []
    while len(utts) < n:
        k = int(torch.randint(3, 6, (1,), generator=g))
        labels = torch.randint(4, vocab, (k,), generator=g).tolist()
        if labels in [u for u, _ in utts]:
            continue
        held = [int(torch.randint(6, 10, (1,), generator=g)) for _ in labels]
        frames = [
            torch.cat([protos[c].repeat(n, 1), torch.zeros(3, F)]) for c, n in zip(labels, held)
        ]
        x = torch.cat(frames) + 0.1 * torch.randn(sum(len(f) for f in frames), F, generator=g)
        utts.append((labels, x))
    return utts


def speech_batch(utts):
    lengths = torch.tensor([len(x) for _, x in utts])
    src = torch.zeros(len(utts), int(lengths.max()), F)
    for i, (_, x) in enumerate(utts):
        src[i, : len(x)] = x
    S = max(len(y) for y, _ in utts) + 1
    tgt_in = torch.full((len(utts), S), PAD_ID)
    tgt_out = torch.full((len(utts), S), PAD_ID)
    for i, (y, _) in enumerate(utts):
        tgt_in[i, : len(y) + 1] = torch.tensor([BOS_ID, *y])
        tgt_out[i, : len(y) + 1] = torch.tensor([*y, EOS_ID])
    return src, lengths, tgt_in, tgt_out


def train_tiny(cfg: SpeechModelConfig, utts, steps: int, lr: float = 0.01):
    torch.manual_seed(0)
    model = build_model(cfg, F, 10)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    src, lengths, tgt_in, tgt_out = speech_batch(utts)
    w = cfg.ctc_weight
    for _ in range(steps):
        out = model.outputs(src, lengths, tgt_in)
        loss = 0.0
        if out.logits is not None:
            ce = torch.nn.functional.cross_entropy(
                out.logits.transpose(1, 2), tgt_out, ignore_index=PAD_ID, reduction="sum"
            )
            loss = (1 - w) * ce
        if out.ctc_log_probs is not None:
            loss = loss + w * ctc_loss_sum(out.ctc_log_probs, out.out_len, tgt_out)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval(), src, lengths


def test_a_tiny_las_memorises_a_handful_of_utterances():
    utts = synthetic_utterances(5, 10)
    cfg = tiny(pyramid_levels=2, attention="general", listener_hidden=32, speller_hidden=32)
    model, src, lengths = train_tiny(cfg, utts, 200, lr=0.02)
    want = [y for y, _ in utts]
    assert [h.tokens for h in greedy_search(model, src, lengths)] == want
    assert [h[0].tokens for h in beam_search(model, src, lengths, beam=3)] == want


def test_a_tiny_ctc_model_memorises_a_handful_of_utterances():
    utts = synthetic_utterances(6, 10, seed=1)
    model, src, lengths = train_tiny(
        tiny(pyramid_levels=2, ctc_weight=1.0, listener_hidden=32), utts, 200
    )
    lp = model.ctc_log_probs(model.encode(src, lengths))
    out_len = (lengths + 3) // 4
    assert [h.tokens for h in ctc_greedy(lp, out_len)] == [y for y, _ in utts]
