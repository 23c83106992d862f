"""The pointer-generator's copy switch (See et al., 2017, "Get To The Point").

At each target step a gate p_gen = sigmoid(w . [context; decoder output; decoder input] + b)
mixes the vocabulary distribution with the attention over the source:

    P(w) = p_gen * P_vocab(w) + (1 - p_gen) * sum of the attention on the source positions
           whose token is w

over an extended vocabulary of V + S ids: a source position j whose token is outside the
vocabulary has the id V + j (`data.Processor` numbers them; repeated tokens share the id
of their first position), so such a token (a name, a number) can still be written. With
p_gen = 1 the distribution is the plain attention model's.
"""

from __future__ import annotations

import torch
from torch import nn

from ..vocab import UNK_ID

FLOOR = 1e-30  # the least probability: log(0) has no gradient, and -inf none either


class CopyGate(nn.Module):
    def __init__(self, features: int):
        """`features`: the size of [context; decoder output; decoder input]."""
        super().__init__()
        self.gate = nn.Linear(features, 1)

    def forward(
        self,
        logits: torch.Tensor,
        attention: torch.Tensor,
        src_ids: torch.Tensor,
        features: torch.Tensor,
    ) -> torch.Tensor:
        """Logits (..., V), attention (..., S), the source's extended ids (..., S), gate
        features (..., F) -> log P over the extended vocabulary (..., V + S), in fp32."""
        p_gen = torch.sigmoid(self.gate(features).float())  # (..., 1)
        return mix(logits, p_gen, attention, src_ids)


def mix(
    logits: torch.Tensor, p_gen: torch.Tensor, attention: torch.Tensor, src_ids: torch.Tensor
) -> torch.Tensor:
    """log(p_gen * softmax(logits) + (1 - p_gen) * attention scattered onto the source's
    ids): (..., V + S) for (..., V) logits, (..., 1) p_gen, (..., S) attention and ids.
    Padding positions carry no attention, so add nothing."""
    p_vocab = torch.softmax(logits.float(), dim=-1)  # (..., V)
    extension = p_vocab.new_zeros(*p_vocab.shape[:-1], src_ids.size(-1))  # (..., S)
    p = torch.cat([p_gen * p_vocab, extension], dim=-1)  # (..., V + S)
    p = p.scatter_add(-1, src_ids, (1 - p_gen) * attention.float())
    return torch.log(p.clamp_min(FLOOR))


def in_vocabulary(ids: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Extended ids -> ids an embedding can look up: a copied token is read as <unk>."""
    return ids.masked_fill(ids >= vocab_size, UNK_ID)
