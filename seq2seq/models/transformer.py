"""Transformer encoder-decoder (pre-norm, sinusoidal positions) behind the same protocol.

The decoder's key/value cache lives in the returned `DecoderState` (one growing tensor
per layer for self-attention, fixed cross-attention keys/values), so incremental decoding
costs one position per step and beam search reorders the cache like any other state.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..config import TransformerConfig
from ..kernels.dropout import Dropout
from ..vocab import PAD_ID
from .base import DecoderState, EncoderOutput


def sinusoids(length: int, dim: int, offset: int = 0, device=None) -> torch.Tensor:
    """(length, dim) sinusoidal position encodings starting at position `offset`."""
    pos = torch.arange(offset, offset + length, device=device, dtype=torch.float).unsqueeze(1)
    freq = torch.exp(
        torch.arange(0, dim, 2, device=device, dtype=torch.float) * (-math.log(10000.0) / dim)
    )
    out = torch.zeros(length, dim, device=device)
    out[:, 0::2], out[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
    return out


class MultiHeadAttention(nn.Module):
    def __init__(self, d: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def split(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        return x.view(B, T, self.heads, D // self.heads).transpose(1, 2)  # (B, h, T, dh)

    def forward(self, x, k, v, mask=None, *, causal=False, weights=False):
        """x (B, T, D) queries; k, v (B, h, S, dh) already split; mask (B, S) True = attend."""
        q = self.split(self.q(x))  # (B, h, T, dh)
        attn_mask = None if mask is None else mask[:, None, None, :]  # (B, 1, 1, S)
        drop = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=drop, is_causal=causal
        )
        B, h, T, dh = out.shape
        out = self.o(out.transpose(1, 2).reshape(B, T, h * dh))  # (B, T, D)
        if not weights:
            return out, None
        scores = (q @ k.transpose(-1, -2)).float() / math.sqrt(dh)  # (B, h, T, S)
        if attn_mask is not None:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        return out, scores.softmax(-1).mean(1)  # (B, T, S), averaged over heads


class Layer(nn.Module):
    """Pre-norm block: self-attention, (cross-attention), feed-forward, each residual."""

    def __init__(self, d: int, heads: int, ff: int, dropout: float, cross: bool):
        super().__init__()
        self.self_attn, self.norm1 = MultiHeadAttention(d, heads, dropout), nn.LayerNorm(d)
        self.cross = MultiHeadAttention(d, heads, dropout) if cross else None
        self.norm2 = nn.LayerNorm(d) if cross else None
        self.ff = nn.Sequential(nn.Linear(d, ff), nn.ReLU(), Dropout(dropout), nn.Linear(ff, d))
        self.norm3, self.drop = nn.LayerNorm(d), Dropout(dropout)


class TransformerSeq2Seq(nn.Module):
    def __init__(self, cfg: TransformerConfig, src_vocab_size: int, tgt_vocab_size: int):
        super().__init__()
        self.cfg, d = cfg, cfg.d_model
        self.src_emb = nn.Embedding(src_vocab_size, d, padding_idx=PAD_ID)
        self.tgt_emb = nn.Embedding(tgt_vocab_size, d, padding_idx=PAD_ID)
        self.enc = nn.ModuleList(
            Layer(d, cfg.heads, cfg.ff_size, cfg.dropout, False) for _ in range(cfg.layers)
        )
        self.dec = nn.ModuleList(
            Layer(d, cfg.heads, cfg.ff_size, cfg.dropout, True)
            for _ in range(cfg.dec_layers or cfg.layers)
        )
        self.enc_norm, self.dec_norm = nn.LayerNorm(d), nn.LayerNorm(d)
        self.drop = Dropout(cfg.dropout)
        self.out = nn.Linear(d, tgt_vocab_size, bias=False)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        nn.init.normal_(self.src_emb.weight, 0, d**-0.5)
        nn.init.normal_(self.tgt_emb.weight, 0, d**-0.5)
        if cfg.tie_embeddings:
            self.out.weight = self.tgt_emb.weight

    def _embed(self, emb: nn.Embedding, tokens: torch.Tensor, offset: int = 0) -> torch.Tensor:
        x = emb(tokens) * math.sqrt(self.cfg.d_model)  # (B, T, D)
        return self.drop(
            x + sinusoids(tokens.size(1), self.cfg.d_model, offset, tokens.device).to(x.dtype)
        )

    # -- the protocol -------------------------------------------------------------------

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> EncoderOutput:
        mask = src != PAD_ID  # (B, S)
        x = self._embed(self.src_emb, src)
        for layer in self.enc:
            h = layer.norm1(x)
            sa = layer.self_attn
            x = x + layer.drop(sa(h, sa.split(sa.k(h)), sa.split(sa.v(h)), mask)[0])
            x = x + layer.drop(layer.ff(layer.norm3(x)))
        memory = self.enc_norm(x)  # (B, S, D)
        n = mask.sum(1, keepdim=True).clamp(min=1)
        vector = (memory * mask.unsqueeze(-1)).sum(1) / n  # (B, D): mean over real positions
        return EncoderOutput(final=(), sentence_vector=vector, memory=memory, src_mask=mask)

    def init_state(self, enc: EncoderOutput) -> DecoderState:
        B, D = enc.memory.size(0), self.cfg.d_model
        tensors, dims = (
            {
                "mask": enc.src_mask,
                "pos": torch.zeros(B, dtype=torch.long, device=enc.memory.device),
            },
            {},
        )
        for i, layer in enumerate(self.dec):
            ca = layer.cross
            tensors[f"ck{i}"], tensors[f"cv{i}"] = (
                ca.split(ca.k(enc.memory)),
                ca.split(ca.v(enc.memory)),
            )
            empty = enc.memory.new_zeros(B, self.cfg.heads, 0, D // self.cfg.heads)  # (B, h, 0, dh)
            tensors[f"sk{i}"], tensors[f"sv{i}"] = empty, empty
        return DecoderState(tensors, dict.fromkeys(tensors, 0) | dims)

    def _decoder(self, x: torch.Tensor, state: DecoderState, *, cache: bool):
        """Decoder layers over x (B, T, D); with `cache`, T == 1 and keys/values accumulate."""
        new, att = {}, None
        for i, layer in enumerate(self.dec):
            h, sa = layer.norm1(x), layer.self_attn
            k, v = sa.split(sa.k(h)), sa.split(sa.v(h))  # (B, h, T, dh)
            if cache:
                k = torch.cat([state[f"sk{i}"], k], dim=2)
                v = torch.cat([state[f"sv{i}"], v], dim=2)
                new[f"sk{i}"], new[f"sv{i}"] = k, v
            x = x + layer.drop(sa(h, k, v, causal=not cache)[0])
            last = cache and i == len(self.dec) - 1
            c, att = layer.cross(
                layer.norm2(x), state[f"ck{i}"], state[f"cv{i}"], state["mask"], weights=last
            )
            x = x + layer.drop(c)
            x = x + layer.drop(layer.ff(layer.norm3(x)))
        return self.dec_norm(x), new, att

    def step(self, tokens: torch.Tensor, state: DecoderState):
        pos = int(state["pos"][0]) if state["pos"].numel() else 0
        x = self._embed(self.tgt_emb, tokens.unsqueeze(1), offset=pos)  # (N, 1, D)
        y, new, att = self._decoder(x, state, cache=True)
        logits = self.out(y.squeeze(1))  # (N, V)
        state = state.replace(**new, pos=state["pos"] + 1)
        return torch.log_softmax(logits, -1, dtype=torch.float32), state, att.squeeze(1)

    def forward(
        self,
        src: torch.Tensor,
        src_len: torch.Tensor,
        tgt_in: torch.Tensor,
        keep: torch.Tensor | None = None,
    ) -> torch.Tensor:
        state = self.init_state(self.encode(src, src_len))
        y, _, _ = self._decoder(self._embed(self.tgt_emb, tgt_in), state, cache=False)
        return self.out(y if keep is None else y[keep])  # (B, T, V) or (N, V)
