"""The encoder-decoder over real values: Sutskever et al.'s deep LSTM pair, reading the past
of a series and generating its future step by step.

Each step's input (the scaled values and their covariates) goes through a linear projection
where a text model has its embeddings; the decoder's output goes through a distribution head
(`heads.py`) where a text model has its softmax. The protocol is the same as every model's,
with real values in the place of tokens:

- `forward(src (B, S, F), src_len, tgt_in (B, H, F), keep=None) -> params (B, H, D, P)`:
  teacher forcing, tgt_in[:, t] holds the value before step t and step t's covariates.
- `encode`, `init_state` as every model; `step(inputs (N, F), state) -> (params (N, D, P),
  state, None)`.
- `loss(params, y)`, `point(params)` (the mean, or the median of a quantile head) and
  `sample(params, generator)`: what the trainer and the forecast decoder need of the head.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import ForecastConfig
from .base import DecoderState, EncoderOutput
from .heads import GaussianHead, QuantileHead


class ForecastSeq2Seq(nn.Module):
    def __init__(self, cfg: ForecastConfig, input_size: int, target_size: int):
        super().__init__()
        self.cfg = cfg
        E, H, L = cfg.emb_size, cfg.hidden_size, cfg.layers
        drop = cfg.dropout if L > 1 else 0.0
        self.src_proj = nn.Linear(input_size, E)
        self.tgt_proj = nn.Linear(input_size, E)
        self.encoder = nn.LSTM(E, H, L, batch_first=True, dropout=drop)
        self.decoder = nn.LSTM(E, H, L, batch_first=True, dropout=drop)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = (
            GaussianHead(H, target_size)
            if cfg.head == "gaussian"
            else QuantileHead(H, target_size, cfg.quantiles)
        )

    # -- the protocol -------------------------------------------------------------------

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> EncoderOutput:
        """Windows are whole (no padding): src_len is every window's length S."""
        x = self.dropout(self.src_proj(src))  # (B, S, E)
        _, (h, c) = self.encoder(x)  # (L, B, H) each
        return EncoderOutput(final=(h, c), sentence_vector=h[-1])

    def init_state(self, enc: EncoderOutput) -> DecoderState:
        h, c = enc.final
        return DecoderState({"h": h, "c": c}, {"h": 1, "c": 1})

    def step(self, inputs: torch.Tensor, state: DecoderState):
        x = self.dropout(self.tgt_proj(inputs)).unsqueeze(1)  # (N, 1, E)
        out, (h, c) = self.decoder(x, (state["h"], state["c"]))  # (N, 1, H)
        params = self.head(self.dropout(out.squeeze(1)))  # (N, D, P)
        return params, state.replace(h=h, c=c), None

    def forward(
        self,
        src: torch.Tensor,
        src_len: torch.Tensor,
        tgt_in: torch.Tensor,
        keep: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Teacher forcing over the whole horizon at once (the fused LSTM)."""
        state = self.init_state(self.encode(src, src_len))
        y = self.dropout(self.tgt_proj(tgt_in))  # (B, H, E)
        out, _ = self.decoder(y, (state["h"], state["c"]))  # (B, H, Hd)
        return self.head(self.dropout(out))  # (B, H, D, P)

    # -- the head, for training and decoding ---------------------------------------------

    def loss(self, params: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Summed negative log-likelihood (Gaussian) or pinball loss (quantiles)."""
        return self.head.loss(params, y)

    def point(self, params: torch.Tensor) -> torch.Tensor:
        return self.head.point(params)

    def sample(self, params: torch.Tensor, generator: torch.Generator | None = None):
        return self.head.sample(params, generator)
