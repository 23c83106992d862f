"""Faster decoding (bf16 autocast, INT8 dynamic quantisation) keeps a memorised model right."""

import pytest
import torch

from seq2seq import Translator
from seq2seq.errors import UserError
from seq2seq.precision import bf16_runs


@pytest.mark.cpu_only
@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_decoding_still_translates_the_memorised_pairs(memorised, precision):
    run, pairs, _ = memorised
    sources = [s for s, _ in pairs]
    fp32 = Translator.load(run, device="cpu").translate(sources, beam=3)
    if precision == "bf16" and not bf16_runs(torch.device("cpu")):  # e.g. AVX2 without AVX-512
        with pytest.raises(UserError, match="cannot run it"):
            Translator.load(run, device="cpu", precision=precision)
        return
    t = Translator.load(run, device="cpu", precision=precision)
    if precision == "int8":
        assert any("quantized" in type(m).__module__ for m in t.model.modules())
    got = t.translate(sources, beam=3)
    agree = sum(a == b for a, b in zip(got, fp32))
    assert agree >= 18, f"{precision} agrees with fp32 on only {agree}/20"
    assert sum(g == tgt for g, (_, tgt) in zip(got, pairs)) >= 18


@pytest.mark.cpu_only
def test_int8_refuses_a_gpu(memorised):
    run, _, _ = memorised
    t = Translator.load(run, device="cpu")
    with pytest.raises(UserError, match="CPU"):
        Translator(t.model, t.processor, t.cfg, device=torch.device("meta"), precision="int8")
