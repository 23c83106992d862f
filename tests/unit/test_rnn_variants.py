"""Every RNN variant keeps the protocol: teacher forcing == step-by-step, beam 1 == greedy,
attention is a distribution over real source positions, the bridge fits any depth."""

import pytest
import torch
from helpers import padded_inputs

from seq2seq.config import RNNConfig
from seq2seq.decoding import beam_search, greedy_search
from seq2seq.models import build_model

VARIANTS = {
    "paper": {},
    "gru": {"cell": "gru"},
    "bahdanau": {"attention": "bahdanau"},
    "luong-dot": {"attention": "dot"},
    "luong-general-nofeed": {"attention": "general", "input_feeding": False},
    "bidir-general": {"attention": "general", "bidirectional": True},
    "bidir-gru-residual": {"cell": "gru", "bidirectional": True, "residual": True, "layers": 3},
    "residual-bahdanau": {"attention": "bahdanau", "residual": True, "layers": 3},
    "luong-general-3-layers": {"attention": "general", "layers": 3},
}


def make(seed=0, **kw):
    torch.manual_seed(seed)
    opts = {"layers": 2, "emb_size": 16, "hidden_size": 24, "dropout": 0.0, "init_range": 0.3, **kw}
    return build_model(RNNConfig(**opts), 13, 11).eval()


def inputs():
    return padded_inputs(5)


@pytest.mark.parametrize("name", VARIANTS)
def test_teacher_forcing_equals_stepping(name):
    model, (src, src_len, tgt_in) = make(**VARIANTS[name]), inputs()
    full = torch.log_softmax(model(src, src_len, tgt_in), -1)  # (B, T, V)
    state = model.init_state(model.encode(src, src_len))
    for t in range(tgt_in.size(1)):
        logp, state, att = model.step(tgt_in[:, t], state)
        assert torch.allclose(logp, full[:, t], atol=1e-5), (name, t)
        assert (att is None) == (VARIANTS[name].get("attention") is None)


@pytest.mark.parametrize("name", VARIANTS)
def test_padded_batch_encodes_as_each_sentence_alone(name):
    """Padding changes nothing: each sentence's final states, sentence vector and memory
    are those it gets alone, with gradients on (the written-out training cells) and off."""
    model, (src, src_len, _) = make(**VARIANTS[name]), inputs()
    for grad in (True, False):
        with torch.set_grad_enabled(grad):
            batch = model.encode(src, src_len)
            for i, n in enumerate(src_len.tolist()):
                alone = model.encode(src[i : i + 1, :n], src_len[i : i + 1])
                for a, b in zip(batch.final, alone.final):
                    assert torch.allclose(a[:, i], b[:, 0], atol=1e-6), (name, i)
                assert torch.allclose(batch.sentence_vector[i], alone.sentence_vector[0], atol=1e-6)
                if batch.memory is not None:
                    assert torch.allclose(batch.memory[i, :n], alone.memory[0], atol=1e-6)


@pytest.mark.parametrize("layers", [1, 3])
def test_input_feeding_training_loop_has_the_gradients_of_stepping(layers):
    """Teacher forcing with input feeding runs written-out LSTM cells; its gradients must be
    those of the decoder stepping through the fused LSTM one token at a time."""
    model, (src, src_len, tgt_in) = make(attention="general", layers=layers), inputs()
    weights = torch.rand(*tgt_in.shape, 11)

    def grads(loss):
        model.zero_grad()
        loss.backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    full = grads((torch.log_softmax(model(src, src_len, tgt_in), -1) * weights).sum())
    state, total = model.init_state(model.encode(src, src_len)), 0.0
    for t in range(tgt_in.size(1)):
        logp, state, _ = model.step(tgt_in[:, t], state)
        total = total + (logp * weights[:, t]).sum()
    stepped = grads(total)
    assert full.keys() == stepped.keys()
    for name in full:
        assert torch.allclose(full[name], stepped[name], atol=1e-5), name


def test_input_feeding_loop_is_the_same_function_without_gradients():
    """Without gradients the loop takes plain products instead of `StepWeight`s."""
    model, (src, src_len, tgt_in) = make(attention="general", layers=3), inputs()
    with torch.no_grad():
        plain = model(src, src_len, tgt_in)
    assert torch.allclose(model(src, src_len, tgt_in), plain, atol=1e-6)


@pytest.mark.usefixtures("kernels_on")  # the plain bf16 LSTM needs a CPU with bf16
def test_input_feeding_bf16_gradients_follow_fp32():
    """Under bf16 autocast the recurrent weights are cast once and their gradients summed
    over the steps in one product; each parameter's gradient stays within bf16 rounding of
    the fp32 gradient (a step left out or a bias gradient lost would be far off)."""
    model, (src, src_len, tgt_in) = make(attention="general", layers=2), inputs()
    weights = torch.rand(*tgt_in.shape, 11)

    def grads(dtype):
        model.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype is torch.bfloat16):
            logits = model(src, src_len, tgt_in)
        (torch.log_softmax(logits.float(), -1) * weights).sum().backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    exact, bf16 = grads(torch.float32), grads(torch.bfloat16)
    assert exact.keys() == bf16.keys()
    for name in exact:
        err = (bf16[name] - exact[name]).norm() / exact[name].norm()
        assert err < 0.05, (name, float(err))


@pytest.mark.parametrize("name", VARIANTS)
def test_beam_one_equals_greedy(name):
    model, (src, src_len, _) = make(seed=2, **VARIANTS[name]), inputs()
    g = greedy_search(model, src, src_len)
    b = beam_search(model, src, src_len, beam=1)
    assert [h.tokens for h in g] == [n[0].tokens for n in b]
    assert all(abs(x.score - n[0].score) < 1e-4 for x, n in zip(g, b))


@pytest.mark.parametrize("kind", ["bahdanau", "dot", "general"])
def test_attention_sums_to_one_over_real_positions(kind):
    model, (src, src_len, _) = make(attention=kind), inputs()
    hyps = beam_search(model, src, src_len, beam=3, nbest=2)
    for i, nbest in enumerate(hyps):
        for h in nbest:
            att = h.attention  # (target tokens + 1, S)
            assert att.shape[0] == len(h.tokens) + 1
            assert torch.allclose(att.sum(-1), torch.ones(att.shape[0]), atol=1e-5)
            assert torch.all(att[:, src_len[i] :] == 0)
    g = greedy_search(model, src, src_len)
    assert all(
        torch.allclose(h.attention.sum(-1), torch.ones(len(h.tokens) + 1), atol=1e-5) for h in g
    )


@pytest.mark.parametrize("layers", [1, 2, 3, 4])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_bidirectional_bridge_shapes(layers, cell):
    model, (src, src_len, _) = (
        make(layers=layers, cell=cell, bidirectional=True, attention="general"),
        inputs(),
    )
    enc = model.encode(src, src_len)
    assert len(enc.final) == (2 if cell == "lstm" else 1)
    assert all(f.shape == (layers, 3, 24) for f in enc.final)
    assert enc.sentence_vector.shape == (3, 48)
    assert enc.memory.shape == (3, 7, 48)


def test_paper_model_has_no_attention_parameters():
    names = [n for n, _ in make().named_parameters()]
    assert not any(n.startswith(("attention", "combine", "bridge")) for n in names)
