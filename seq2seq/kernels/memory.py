"""glibc keeps freed memory, so large buffers are not page-faulted in again every step.

glibc hands every freed block above its mmap threshold (at most 32 MiB) back to the
kernel, so a training step whose logits buffer is larger than that (tokens x vocabulary x
4 bytes: 36 MiB for 900 tokens and 10k words) page-faults it in again on every step.
`keep_freed_memory` replaces glibc's default thresholds so that freed memory stays in the
process's heap, as PyTorch's caching allocator does on a GPU; the memory goes back to the
system when the process ends. With kernels off it leaves the defaults (the reference).
Gain: the page faults were a fifth of a training step (bench/README.md).
"""

from __future__ import annotations

import ctypes
import sys

from . import enabled

_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to serve large blocks from the heap and never trim it; True if set.

    Process-wide and lasting: kernels off (SEQ2SEQ_KERNELS=0) at the call leave it unset."""
    if not enabled() or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt  # absent on musl: AttributeError
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
