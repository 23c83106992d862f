"""The Sutskever et al. (2014) model: a deep LSTM encoder reads the (reversed) source into
its final state; a separate deep LSTM decoder starts from that state of every layer and
predicts the target token by token. GRU cells are an option of the same class.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from ..config import RNNConfig
from ..decoding.state import DecoderState
from ..vocab import PAD_ID
from .base import EncoderOutput


class RNNSeq2Seq(nn.Module):
    def __init__(self, cfg: RNNConfig, src_vocab_size: int, tgt_vocab_size: int):
        super().__init__()
        self.cfg = cfg
        rnn = nn.LSTM if cfg.cell == "lstm" else nn.GRU
        E, H, L = cfg.emb_size, cfg.hidden_size, cfg.layers
        inner_dropout = cfg.dropout if L > 1 else 0.0
        self.src_emb = nn.Embedding(src_vocab_size, E, padding_idx=PAD_ID)
        self.tgt_emb = nn.Embedding(tgt_vocab_size, E, padding_idx=PAD_ID)
        self.encoder = rnn(E, H, L, dropout=inner_dropout, batch_first=True)
        self.decoder = rnn(E, H, L, dropout=inner_dropout, batch_first=True)
        self.dropout = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(H, tgt_vocab_size)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The paper's init: every parameter uniform in [-0.08, 0.08]."""
        for p in self.parameters():
            nn.init.uniform_(p, -self.cfg.init_range, self.cfg.init_range)
        with torch.no_grad():
            self.src_emb.weight[PAD_ID].zero_()
            self.tgt_emb.weight[PAD_ID].zero_()
        if self.cfg.tie_embeddings:
            self.out.weight = self.tgt_emb.weight

    # -- the protocol -------------------------------------------------------------------

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> EncoderOutput:
        x = self.dropout(self.src_emb(src))  # (B, S, E)
        packed = pack_padded_sequence(x, src_len.cpu(), batch_first=True, enforce_sorted=False)
        _, final = self.encoder(packed)
        final = final if isinstance(final, tuple) else (final,)  # (h, c) or (h,), each (L, B, H)
        return EncoderOutput(final=final, sentence_vector=final[0][-1])

    def init_state(self, enc: EncoderOutput) -> DecoderState:
        names = ("h", "c")[: len(enc.final)]
        return DecoderState(dict(zip(names, enc.final)), {n: 1 for n in names})

    def _rnn_state(self, state: DecoderState):
        return (state["h"], state["c"]) if "c" in state.tensors else state["h"]

    def step(self, tokens: torch.Tensor, state: DecoderState):
        x = self.dropout(self.tgt_emb(tokens)).unsqueeze(1)  # (N, 1, E)
        out, new = self.decoder(x, self._rnn_state(state))  # out (N, 1, H)
        logits = self.out(self.dropout(out.squeeze(1)))  # (N, V)
        new = new if isinstance(new, tuple) else (new,)
        state = state.replace(**dict(zip(("h", "c"), new)))
        return torch.log_softmax(logits.float(), dim=-1), state, None

    def forward(
        self, src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor
    ) -> torch.Tensor:
        """Teacher forcing: the decoder LSTM runs over the whole target at once."""
        state = self.init_state(self.encode(src, src_len))
        y = self.dropout(self.tgt_emb(tgt_in))  # (B, T, E)
        out, _ = self.decoder(y, self._rnn_state(state))  # (B, T, H)
        return self.out(self.dropout(out))  # (B, T, V)
