"""The Sutskever et al. (2014) model and the field's extensions of it.

A deep LSTM encoder reads the (reversed) source into its final state; a separate deep
LSTM decoder starts from that state of every layer and predicts the target token by
token. Options: GRU cells, a bidirectional encoder (a bridge maps its final states to the
decoder's size), residual connections between layers, attention over the encoder's
outputs (Bahdanau additive; Luong dot / general with input feeding), and with attention a
pointer-generator's copy switch (`copy.py`).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .. import kernels
from ..config import RNNConfig
from ..kernels.dropout import Dropout, fast_dropout
from ..kernels.recurrence import StepWeight, lstm_cell
from ..vocab import PAD_ID
from .attention import Attention
from .base import DecoderState, EncoderOutput
from .copy import CopyGate, in_vocabulary
from .stacked import make_stack


class RNNSeq2Seq(nn.Module):
    def __init__(
        self,
        cfg: RNNConfig,
        src_vocab_size: int,
        tgt_vocab_size: int,
        *,
        memory_size: int | None = None,
    ):
        """With `memory_size` the decoder alone (a speech model's speller): no source
        embedding, encoder or bridge; it attends to another encoder's outputs of that size,
        starting from `init_state` of an `EncoderOutput` that encoder made."""
        super().__init__()
        if cfg.copy and src_vocab_size != tgt_vocab_size:
            raise ValueError("a copying model reads and writes one (shared) vocabulary")
        self.cfg = cfg
        E, H, L = cfg.emb_size, cfg.hidden_size, cfg.layers
        speller = memory_size is not None
        memory_size = memory_size or H * (2 if cfg.bidirectional else 1)
        n_states = 2 if cfg.cell == "lstm" else 1
        self.feeding = cfg.attention in ("dot", "general") and cfg.input_feeding
        extra_input = {"bahdanau": memory_size}.get(cfg.attention, H if self.feeding else 0)
        rnn_opts = {"dropout": cfg.dropout, "residual": cfg.residual}
        # registered in this order (it is the order of parameters, optimizer state and init)
        self.src_emb = None if speller else nn.Embedding(src_vocab_size, E, padding_idx=PAD_ID)
        self.tgt_emb = nn.Embedding(tgt_vocab_size, E, padding_idx=PAD_ID)
        self.encoder = (
            None
            if speller
            else make_stack(cfg.cell, E, H, L, bidirectional=cfg.bidirectional, **rnn_opts)
        )
        self.decoder = make_stack(cfg.cell, E + extra_input, H, L, **rnn_opts)
        self.bridge = (
            nn.ModuleList(nn.Linear(2 * H, H) for _ in range(n_states))
            if cfg.bidirectional and not speller
            else None
        )
        self.attention = (
            None if cfg.attention == "none" else Attention(cfg.attention, H, memory_size)
        )
        self.combine = None if self.attention is None else nn.Linear(memory_size + H, H)
        self.dropout = Dropout(cfg.dropout)
        self.out = nn.Linear(H, tgt_vocab_size)
        # p_gen from [context; decoder output; decoder input]; ids past the vocabulary copy
        self.copy = CopyGate(memory_size + H + E) if cfg.copy else None
        self.vocab_size = tgt_vocab_size
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The paper's init: every parameter uniform in [-0.08, 0.08]."""
        for p in self.parameters():
            nn.init.uniform_(p, -self.cfg.init_range, self.cfg.init_range)
        with torch.no_grad():
            if self.src_emb is not None:
                self.src_emb.weight[PAD_ID].zero_()
            self.tgt_emb.weight[PAD_ID].zero_()
        if self.cfg.tie_embeddings:
            self.out.weight = self.tgt_emb.weight

    # -- the protocol -------------------------------------------------------------------

    def _ids(self, ids: torch.Tensor) -> torch.Tensor:
        """Ids an embedding can read: a copying model reads an extended (copied) id as <unk>."""
        return ids if self.copy is None else in_vocabulary(ids, self.vocab_size)

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> EncoderOutput:
        x = self.dropout(self.src_emb(self._ids(src)))  # (B, S, E)
        packed = pack_padded_sequence(x, src_len.cpu(), batch_first=True, enforce_sorted=False)
        out, final = self.encoder(packed)
        final = final if isinstance(final, tuple) else (final,)  # (h, c) or (h,): (L*dirs, B, H)
        vector = final[0][-1]  # (B, H): the top layer's last hidden state
        if self.bridge is not None:
            L, B, H = self.cfg.layers, src.size(0), self.cfg.hidden_size
            both = [
                f.view(L, 2, B, H).transpose(1, 2).reshape(L, B, 2 * H) for f in final
            ]  # (L, B, 2H)
            vector = both[0][-1]  # (B, 2H): forward and backward top-layer states
            final = tuple(torch.tanh(lin(f)) for lin, f in zip(self.bridge, both))  # (L, B, H)
        memory = mask = None
        if self.attention is not None:
            memory, _ = pad_packed_sequence(
                out, batch_first=True, total_length=src.size(1)
            )  # (B, S, Hm)
            mask = torch.arange(src.size(1), device=src.device).unsqueeze(0) < src_len.to(
                src.device
            ).unsqueeze(1)
        src_ids = src if self.copy is not None else None
        return EncoderOutput(final, vector, memory, mask, src_ids=src_ids)

    def init_state(self, enc: EncoderOutput) -> DecoderState:
        names = ("h", "c")[: len(enc.final)]
        tensors, dims = dict(zip(names, enc.final)), dict.fromkeys(names, 1)
        if self.attention is not None:
            tensors.update(
                memory=enc.memory, keys=self.attention.keys(enc.memory), mask=enc.src_mask
            )
            dims.update(memory=0, keys=0, mask=0)
        if self.feeding:
            tensors["feed"] = enc.final[0].new_zeros(enc.final[0].shape[1:])  # (B, H)
            dims["feed"] = 0
        if self.copy is not None:
            tensors["src"], dims["src"] = enc.src_ids, 0  # (B, S) extended ids, to copy onto
        return DecoderState(tensors, dims)

    def step(self, tokens: torch.Tensor, state: DecoderState):
        """log P (N, V), or (N, V + S) over a copying model's extended vocabulary."""
        y = self.dropout(self.tgt_emb(self._ids(tokens)))  # (N, E)
        o, state, att, parts = self._step_core(y, state)
        logits = self.out(self.dropout(o))  # (N, V)
        if self.copy is not None:
            features = torch.cat([parts[0], parts[1].to(parts[0].dtype), y.to(parts[0].dtype)], -1)
            return self.copy(logits, att, state["src"], features), state, att  # (N, V + S)
        return torch.log_softmax(logits, dim=-1, dtype=torch.float32), state, att  # no fp32 copy

    def forward(
        self,
        src: torch.Tensor,
        src_len: torch.Tensor,
        tgt_in: torch.Tensor,
        keep: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Teacher forcing. Without input-dependent feedback (no attention, or Luong attention
        without input feeding) the decoder runs fused over the whole target at once. A
        copying model returns log P over its extended vocabulary (B, T, V + S) or (N, V + S)."""
        return self.decode(self.init_state(self.encode(src, src_len)), tgt_in, keep)

    def decode(
        self, state: DecoderState, tgt_in: torch.Tensor, keep: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Teacher forcing from `init_state`'s state: `forward` after the encoder."""
        y = self.dropout(self.tgt_emb(self._ids(tgt_in)))  # (B, T, E)
        out, att, parts = self._teacher_forced(y, state)  # (B, T, H), (B, T, S) or None
        if keep is not None:
            out = out[keep]  # (N, H)
        logits = self.out(self.dropout(out))  # (B, T, V) or (N, V)
        if self.copy is None:
            return logits
        src_ids = state["src"].unsqueeze(1).expand(-1, y.size(1), -1)  # (B, T, S)
        features = torch.cat([parts[0], parts[1].to(parts[0].dtype), y.to(parts[0].dtype)], -1)
        if keep is not None:
            att, src_ids, features = att[keep], src_ids[keep], features[keep]  # (N, ...)
        return self.copy(logits, att, src_ids, features)

    def _teacher_forced(self, y: torch.Tensor, state: DecoderState):
        """Embedded targets (B, T, E) -> output vectors (B, T, H), attention (B, T, S) and
        (context, decoder output) for the copy switch; both None where not needed."""
        if self.attention is None or (self.cfg.attention != "bahdanau" and not self.feeding):
            out, _ = self.decoder(y, self._rnn_state(state))  # (B, T, H)
            if self.attention is None:
                return out, None, None
            context, att = self._attend(out, state)  # (B, T, Hm), (B, T, S)
            o, _ = self._attentional(out, (context, att))  # (B, T, H)
            return o, att, (context, out)
        if self.feeding and self.copy is None and isinstance(self.decoder, nn.LSTM):
            if kernels.enabled():
                return self._feeding_loop(y, state), None, None  # (B, T, H)
        steps = []
        for t in range(y.size(1)):
            o, state, att, parts = self._step_core(y[:, t], state)
            steps.append((o, att, *parts))
        o, att, context, out = (torch.stack(x, dim=1) for x in zip(*steps))  # (B, T, ...)
        return o, att, (context, out)

    def _feeding_loop(self, y: torch.Tensor, state: DecoderState) -> torch.Tensor:
        """Teacher forcing with Luong input feeding, the LSTM cells written out: the first
        layer's input projection of the embedded targets is one matrix product over all T
        steps, and each step does one product per layer ([input; h] against [W_ih; W_hh])
        instead of a call into the fused RNN for a single time step. Those weights are
        `StepWeight`s: cast once, their gradients one product per batch. Same
        function as the step-by-step loop (the cell state is kept in fp32 under autocast),
        which is its reference: `forward` takes that loop when kernels are off."""
        dec, L, E = self.decoder, self.cfg.layers, self.cfg.emb_size
        w = [getattr(dec, f"weight_ih_l{k}") for k in range(L)]
        wh = [
            torch.cat([w[k][:, E:] if k == 0 else w[k], getattr(dec, f"weight_hh_l{k}")], 1).t()
            for k in range(L)
        ]  # (In + H, 4H)
        bias = [getattr(dec, f"bias_ih_l{k}") + getattr(dec, f"bias_hh_l{k}") for k in range(L)]
        first = nn.functional.linear(y, w[0][:, :E], bias[0]).unbind(1)  # T x (B, 4H)
        layer = [StepWeight(wh[k], bias[k] if k else None).step for k in range(L)]
        h, c = list(state["h"].unbind(0)), [x.float() for x in state["c"].unbind(0)]
        feed = state["feed"]
        p = dec.dropout if self.training else 0.0
        steps = []
        for t in range(y.size(1)):
            x = feed
            for k in range(L):
                gates = layer[k](torch.cat([x, h[k].to(x.dtype)], 1), first[t] if k == 0 else None)
                h[k], c[k] = lstm_cell(gates, c[k], gates.dtype)
                x = fast_dropout(h[k], p) if k < L - 1 else h[k]
            top = h[-1].unsqueeze(1)  # (B, 1, H)
            feed, _ = self._attentional(top, self._attend(top, state))
            feed = feed.squeeze(1)  # (B, H)
            steps.append(feed)
        return torch.stack(steps, dim=1)

    # -- one decoder step ----------------------------------------------------------------

    def _attend(self, query: torch.Tensor, state: DecoderState):
        """Queries (N, T, H) -> context (N, T, Hm), weights (N, T, S)."""
        return self.attention(query, state["keys"], state["memory"], state["mask"])

    def _attentional(self, out: torch.Tensor, attended):
        """Luong's attentional vector tanh(W [context; out]) (N, T, H), and the weights."""
        context, weights = attended
        return torch.tanh(self.combine(torch.cat([context, out.to(context.dtype)], -1))), weights

    def _rnn_state(self, state: DecoderState):
        return (state["h"], state["c"]) if "c" in state.tensors else state["h"]

    def _with_rnn_state(self, state: DecoderState, new) -> DecoderState:
        new = new if isinstance(new, tuple) else (new,)
        return state.replace(**dict(zip(("h", "c"), new)))

    def _step_core(self, y: torch.Tensor, state: DecoderState):
        """Embedded input y (N, E) -> output vector (N, H), new state, attention (N, S) or
        None, and (context (N, Hm), decoder output (N, H)) or None (without attention)."""
        if self.attention is None:
            out, new = self.decoder(y.unsqueeze(1), self._rnn_state(state))  # (N, 1, H)
            return out.squeeze(1), self._with_rnn_state(state, new), None, None
        if self.cfg.attention == "bahdanau":  # attend with the previous state, then step
            attended = self._attend(state["h"][-1].unsqueeze(1), state)  # (N, 1, Hm), (N, 1, S)
            out, new = self.decoder(
                torch.cat([y.unsqueeze(1), attended[0].to(y.dtype)], -1), self._rnn_state(state)
            )
        else:  # Luong: step (with the last attentional vector fed in), then attend
            x = torch.cat([y, state["feed"].to(y.dtype)], -1) if self.feeding else y
            out, new = self.decoder(x.unsqueeze(1), self._rnn_state(state))  # (N, 1, H)
            attended = self._attend(out, state)
        o, weights = self._attentional(out, attended)
        o = o.squeeze(1)  # (N, H)
        state = self._with_rnn_state(state, new)
        if self.feeding:
            state = state.replace(feed=o)
        return o, state, weights.squeeze(1), (attended[0].squeeze(1), out.squeeze(1))
