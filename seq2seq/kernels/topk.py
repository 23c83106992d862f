"""The k best entries of each row of a large vocabulary, in one pass over the row.

Replaces `x.topk(k, dim=-1)`, which runs a selection per row over the whole vocabulary:
the k best values of a row lie in its k blocks with the best maxima, so only those blocks
(and the short tail) are searched. Same values as `topk`; among equal values it may pick
other indices. Gain: beam 5 +2.7 % sentences/s on 2 threads, +13 % on 1 (bench/README.md).
"""

from __future__ import annotations

import torch


def row_topk(x: torch.Tensor, k: int, block: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """`x.topk(k, dim=-1)` for (n, V) rows, searching only the k blocks of `block` columns
    with the best maxima, and the tail."""
    n, V = x.shape
    nb = V // block
    if nb <= 4 * k:  # small vocabularies: the plain selection is as fast
        return x.topk(k, dim=-1)
    full, x = nb * block, x.contiguous()  # a no-op for a model's fresh log-probabilities
    blocks = x[:, :full].unflatten(1, (nb, block))  # (n, nb, block), a view
    best = blocks.amax(-1).topk(k, dim=-1).indices  # (n, k) the blocks to search
    cand = blocks.gather(1, best.unsqueeze(-1).expand(n, k, block)).flatten(1)
    cols = (best.unsqueeze(-1) * block + torch.arange(block, device=x.device)).flatten(1)
    if full < V:
        cand = torch.cat([cand, x[:, full:]], 1)
        tail = torch.arange(full, V, device=x.device).expand(n, V - full)
        cols = torch.cat([cols, tail], 1)
    values, idx = cand.topk(k, dim=-1)
    return values, cols.gather(1, idx)
