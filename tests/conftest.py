"""Suite-wide setting: one torch thread. Tiny models run fastest that way (also when the
machine is busy), and results do not depend on the machine's core count.

Shared helpers live in tests/helpers.py (pytest puts tests/ on the import path because
this conftest.py is there)."""

from __future__ import annotations

import torch

torch.set_num_threads(1)
