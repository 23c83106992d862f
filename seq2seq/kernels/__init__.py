"""Hand-written fast paths for a small CPU, each replacing one plain torch call.

- `recurrence.StepWeight`: `x @ W` at each step of a written-out LSTM, its weight
  gradient one product per batch; `recurrence.lstm_layer`: one `nn.LSTM` layer, packed.
- `stacked.LSTM`, `stacked.GRU`: `nn.LSTM.forward` / `nn.GRU.forward` when training on CPU.
- `dropout.fast_dropout`: `F.dropout` (whose mask is a `bernoulli_` draw).
- `loss.softmax_cross_entropy`: `F.cross_entropy(..., reduction="sum", label_smoothing=eps)`.
- `topk.row_topk`: `torch.topk` over a vocabulary.
- `memory.keep_freed_memory`: glibc's default malloc thresholds.

Selected here, in one place: `enabled()` is True unless the environment sets
`SEQ2SEQ_KERNELS=0` (read once, at import), and `with use(False):` runs a block on the plain
torch calls. Each use asks `enabled()` at call time and otherwise makes the plain call, the
readable reference: `training/loss.token_loss`, `decoding/search.top_candidates`,
`models/rnn.forward` (the input-feeding loop written out, or the step-by-step loop),
`dropout.dropout` and `stacked`'s `forward` (which fall back to torch's). Dropout kernels
draw other random numbers, so with dropout results differ in value, not in kind.
tests/unit/test_kernels_*.py hold every kernel to its reference. What each gained, and on
which machine: bench/README.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

_OFF = {"0", "false", "no", "off"}
_enabled = os.environ.get("SEQ2SEQ_KERNELS", "1").strip().lower() not in _OFF


def enabled() -> bool:
    """Whether the fast paths run (True unless SEQ2SEQ_KERNELS=0 or inside `use(False)`)."""
    return _enabled


@contextmanager
def use(on: bool) -> Iterator[None]:
    """Run a block with the kernels on or off (process-wide; restored on exit)."""
    global _enabled
    before, _enabled = _enabled, bool(on)
    try:
        yield
    finally:
        _enabled = before
