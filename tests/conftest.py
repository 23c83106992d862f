"""Suite-wide setting: one torch thread. Tiny models run fastest that way (also when the
machine is busy), and results do not depend on the machine's core count.

`kernels_on` runs a test of a kernel with kernels on, whatever SEQ2SEQ_KERNELS says.
Shared helpers live in tests/helpers.py (pytest puts tests/ on the import path because
this conftest.py is there)."""

from __future__ import annotations

import pytest
import torch

from seq2seq import kernels

torch.set_num_threads(1)


@pytest.fixture
def kernels_on():
    """A test of a kernel runs it even when the suite runs with SEQ2SEQ_KERNELS=0."""
    with kernels.use(True):
        yield
