"""`row_topk` against its reference `torch.topk`: the same values (and, without ties, the
same indices), and beam search's candidates the same with kernels on or off."""

import math

import pytest
import torch

from seq2seq import kernels
from seq2seq.decoding.search import top_candidates
from seq2seq.kernels.topk import row_topk

pytestmark = pytest.mark.usefixtures("kernels_on")


def test_row_topk_finds_the_values_of_topk_with_ties_and_a_short_tail():
    torch.manual_seed(0)
    # bf16-rounded values have many exact ties; 1000 = 15 blocks of 64 + a tail of 40
    x = (torch.randn(37, 1000) * 3).bfloat16().float()
    x[5, 990:] = 50.0  # the best values of a row in its tail
    x[6, :64] = 40.0  # ... or all in one block
    values, idx = row_topk(x, 3)
    ref_values, _ = x.topk(3, dim=-1)
    assert torch.equal(values, ref_values)
    assert torch.equal(x.gather(1, idx), values)  # the indices point at those values
    assert (idx.sort(-1).values.diff(dim=-1) > 0).all()  # and are distinct


@pytest.mark.parametrize("V,k", [(5000, 10), (4100, 2), (300, 4)])  # 300: topk itself
def test_row_topk_equals_topk_without_ties(V, k):
    x = torch.randn(24, V, generator=torch.Generator().manual_seed(V)).log_softmax(-1)
    values, idx = row_topk(x, k)
    ref_values, ref_idx = x.topk(k, dim=-1)
    assert torch.equal(values, ref_values)
    assert torch.equal(idx, ref_idx)


def test_beam_candidates_are_the_same_with_kernels_on_and_off():
    g = torch.Generator().manual_seed(5)
    n, K, V = 3, 5, 3000  # a vocabulary large enough for the kernel's block search
    scores = torch.randn(n, K, generator=g)
    scores[0, 1:] = -math.inf  # the first step: only beam 0 is real
    logp = torch.randn(n * K, V, generator=g).log_softmax(-1)
    with kernels.use(True):
        kernel = top_candidates(scores, logp)
    with kernels.use(False):
        reference = top_candidates(scores, logp)
    finite = torch.isfinite(reference[0])  # among -inf ties the order is arbitrary
    assert finite.sum() > 2 * K
    for a, b in zip(kernel, reference):
        assert torch.equal(a[finite], b[finite])
