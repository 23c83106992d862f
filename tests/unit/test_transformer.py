"""The Transformer keeps the protocol: cached incremental decoding == full recomputation."""

import torch
from helpers import padded_inputs

from seq2seq.config import TrainConfig, TransformerConfig, config_from_dict
from seq2seq.decoding import beam_search, greedy_search
from seq2seq.models import build_model
from seq2seq.training.optim import Schedule


def make(seed=0):
    torch.manual_seed(seed)
    cfg = TransformerConfig(layers=2, dec_layers=2, d_model=32, heads=4, ff_size=64, dropout=0.0)
    return build_model(cfg, 13, 11).eval()


def inputs():
    return padded_inputs(6)


def test_incremental_decoding_with_cache_equals_full_recomputation():
    model, (src, src_len, tgt_in) = make(), inputs()
    full = torch.log_softmax(model(src, src_len, tgt_in), -1)  # (B, T, V)
    state = model.init_state(model.encode(src, src_len))
    for t in range(tgt_in.size(1)):
        logp, state, att = model.step(tgt_in[:, t], state)
        assert torch.allclose(logp, full[:, t], atol=1e-5), t
        assert state["sk0"].shape[2] == t + 1  # the cache grows one position per step
        assert torch.allclose(att.sum(-1), torch.ones(3), atol=1e-5)
        assert torch.all(att[1, 5:] == 0) and torch.all(att[2, 2:] == 0)


def test_beam_one_equals_greedy_and_batched_equals_single():
    model, (src, src_len, _) = make(seed=3), inputs()
    g = greedy_search(model, src, src_len)
    b = beam_search(model, src, src_len, beam=1)
    assert [h.tokens for h in g] == [n[0].tokens for n in b]
    batched = beam_search(model, src, src_len, beam=4, nbest=2)
    for i in range(3):
        n = int(src_len[i])
        single = beam_search(model, src[i : i + 1, :n], src_len[i : i + 1], beam=4, nbest=2)[0]
        assert [h.tokens for h in single] == [h.tokens for h in batched[i]]


def test_config_selects_the_model_by_type():
    cfg = config_from_dict({"model": {"type": "transformer", "d_model": 64, "heads": 4}})
    assert isinstance(cfg.model, TransformerConfig) and cfg.model.d_model == 64
    assert config_from_dict({"model": {"layers": 3}}).model.type == "rnn"


def test_noam_schedule_peaks_at_warmup():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = Schedule(
        TrainConfig(schedule="noam", lr=1e-3, warmup_steps=100), opt, steps_per_epoch=10
    )
    lrs = []
    for _ in range(400):
        lrs.append(sched.lr)
        sched.step()
    assert max(range(400), key=lrs.__getitem__) == 99
    assert abs(max(lrs) - 1e-3) < 1e-9 and abs(lrs[399] - 1e-3 * (100 / 400) ** 0.5) < 1e-9
