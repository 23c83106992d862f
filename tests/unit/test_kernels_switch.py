"""The one switch: SEQ2SEQ_KERNELS=0 or `kernels.use(False)` runs the plain torch calls, and
a model trains to the same values and gradients either way (no dropout: the kernels draw
other random numbers); `keep_freed_memory` leaves glibc alone with kernels off."""

import os
import platform
import subprocess
import sys

import pytest
import torch
from helpers import padded_inputs

from seq2seq import kernels
from seq2seq.config import RNNConfig
from seq2seq.kernels.memory import keep_freed_memory
from seq2seq.models import build_model
from seq2seq.training.loss import token_loss

pytestmark = pytest.mark.usefixtures("kernels_on")


@pytest.mark.parametrize("value,on", [(None, True), ("1", True), ("0", False), ("off", False)])
def test_the_environment_variable_is_read_at_import(value, on):
    env = {k: v for k, v in os.environ.items() if k != "SEQ2SEQ_KERNELS"}
    if value is not None:
        env["SEQ2SEQ_KERNELS"] = value
    code = "import seq2seq.kernels as k; print(k.enabled())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == str(on), out.stderr


def test_use_sets_the_switch_for_a_block_and_restores_it():
    before = kernels.enabled()
    with kernels.use(False):
        assert not kernels.enabled()
        with pytest.raises(RuntimeError), kernels.use(True):
            assert kernels.enabled()
            raise RuntimeError
        assert not kernels.enabled()
    assert kernels.enabled() == before


VARIANTS = {
    "paper": {},  # the packed encoder's written-out cells
    "input-feeding": {"attention": "general", "layers": 3},  # the feeding loop, StepWeight
    "bidir-bahdanau": {"attention": "bahdanau", "bidirectional": True},
    "gru-residual": {"cell": "gru", "residual": True, "layers": 3},
}


@pytest.mark.parametrize("name", VARIANTS)
def test_a_training_step_is_the_same_with_kernels_on_and_off(name):
    torch.manual_seed(0)
    opts = {"layers": 2, "emb_size": 16, "hidden_size": 24, "dropout": 0.0, "init_range": 0.3}
    model = build_model(RNNConfig(**{**opts, **VARIANTS[name]}), 13, 11).train()
    src, src_len, tgt_in = padded_inputs(5)
    tgt_out = torch.randint(4, 11, tgt_in.shape, generator=torch.Generator().manual_seed(1))
    tgt_out[2, 3:] = 0
    keep = tgt_out != 0
    results = []
    for on in (True, False):
        with kernels.use(on):
            logits = model(src, src_len, tgt_in, keep)
            loss = token_loss(logits, tgt_out[keep], 0.1)
        grads = torch.autograd.grad(loss, list(model.parameters()), allow_unused=True)
        results.append((logits, loss, grads))
    (l1, s1, g1), (l2, s2, g2) = results
    assert torch.allclose(l1, l2, atol=1e-5)
    assert torch.allclose(s1, s2, rtol=1e-6, atol=1e-4)
    for (n, _), a, b in zip(model.named_parameters(), g1, g2):
        assert (a is None) == (b is None), n
        assert a is None or torch.allclose(a, b, atol=1e-5), n


def test_keep_freed_memory_is_a_kernel_too():
    with kernels.use(False):
        assert keep_freed_memory() is False
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert keep_freed_memory() is True
