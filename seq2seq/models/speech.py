"""Speech recognition: Listen, Attend and Spell (Chan et al., 2016), CTC (Graves et al.,
2006) and both on one encoder (joint CTC/attention, Watanabe et al., 2017).

The listener reads (B, T, F) log-mel frames: `listener_layers` (B)LSTM layers at the frame
rate, then `pyramid_levels` layers that each read pairs of consecutive outputs of the layer
below (an odd count gets a zero frame), so T frames become ceil(T / 2**levels). The
`streaming` listener is the same pyramid of unidirectional LSTMs: an output frame depends
on no input past the end of its block of 2**levels frames, and `encode_chunk` encodes audio
chunk by chunk, carrying the LSTM states, exactly as the whole utterance at once.

The speller is the `rnn` model's attention decoder (`RNNSeq2Seq` built with `memory_size`),
so `init_state` and `step` are its own; it starts from zero states. The CTC head gives
log-probabilities (B, T', V) over the target vocabulary, with <pad>'s column as the blank
(`vocab.BLANK_ID`) and none for <s> and </s>, which are never CTC labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..config import RNNConfig, SpeechModelConfig
from ..kernels.dropout import Dropout
from ..vocab import BLANK_ID, BOS_ID, EOS_ID, PAD_ID
from .base import DecoderState, EncoderOutput
from .rnn import RNNSeq2Seq
from .stacked import make_stack

NEVER = -1e4  # the CTC head's logit for <s> and </s>: a probability of 0 in fp32


def pair_frames(x: torch.Tensor, lengths: torch.Tensor | None):
    """(B, T, D) -> (B, ceil(T / 2), 2D): each pair of consecutive frames side by side (a
    zero frame after an odd last one); lengths -> ceil(lengths / 2)."""
    if x.size(1) % 2:
        x = F.pad(x, (0, 0, 0, 1))  # (B, T + 1, D)
    B, T, D = x.shape
    paired = x.reshape(B, T // 2, 2 * D)  # (B, T / 2, 2D)
    return paired, None if lengths is None else (lengths + 1) // 2


class Listener(nn.Module):
    def __init__(self, cfg: SpeechModelConfig):
        super().__init__()
        bidirectional = cfg.encoder == "pyramidal"
        dirs, H = 2 if bidirectional else 1, cfg.listener_hidden
        self.bottom = make_stack(
            "lstm",
            cfg.features,
            H,
            cfg.listener_layers,
            dropout=cfg.dropout,
            bidirectional=bidirectional,
        )
        self.pyramid = nn.ModuleList(
            make_stack("lstm", 2 * dirs * H, H, 1, dropout=0.0, bidirectional=bidirectional)
            for _ in range(cfg.pyramid_levels)
        )
        self.dropout = Dropout(cfg.dropout)
        self.output_size = dirs * H

    def forward(self, x: torch.Tensor, lengths: torch.Tensor):
        """Frames (B, T, F) and their counts (B,) -> outputs (B, ceil(T / 2**levels), D),
        zero past each row's length, and the output lengths (B,)."""
        lengths = lengths.cpu()
        out = _packed(self.bottom, x, lengths)
        for layer in self.pyramid:
            out, lengths = pair_frames(self.dropout(out), lengths)
            out = _packed(layer, out, lengths)
        return out, lengths

    def chunk(self, x: torch.Tensor, state: tuple | None):
        """One chunk (B, C, F) of audio and the LSTM states the previous chunk left (None at
        the start) -> outputs (B, ceil(C / 2**levels), D) and the states after it. For a
        unidirectional listener, with chunks of a multiple of 2**levels frames but the last."""
        states = list(state) if state is not None else [None] * (1 + len(self.pyramid))
        out, states[0] = self.bottom(x, states[0])
        for i, layer in enumerate(self.pyramid, 1):
            out, _ = pair_frames(self.dropout(out), None)
            out, states[i] = layer(out, states[i])
        return out, tuple(states)


def _packed(rnn: nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, _ = rnn(packed)
    return pad_packed_sequence(out, batch_first=True, total_length=x.size(1))[0]  # (B, T, D)


def speller_config(cfg: SpeechModelConfig) -> RNNConfig:
    """The speller as an `rnn` model's decoder: an LSTM with attention (Luong input feeding
    with `general`)."""
    return RNNConfig(
        layers=cfg.speller_layers,
        emb_size=cfg.emb_size,
        hidden_size=cfg.speller_hidden,
        dropout=cfg.dropout,
        init_range=cfg.init_range,
        attention=cfg.attention,
    )


@dataclass(frozen=True)
class SpeechOutputs:
    """One encoding's outputs for the joint loss."""

    logits: torch.Tensor | None  # the speller's (B, T, V) or (N, V); None without a speller
    ctc_log_probs: torch.Tensor | None  # (B, T', V); None without a CTC head
    out_len: torch.Tensor  # (B,) listener output frames per utterance


class SpeechModel(nn.Module):
    def __init__(self, cfg: SpeechModelConfig, feature_size: int, tgt_vocab_size: int):
        super().__init__()
        if feature_size != cfg.features:
            raise ValueError(f"`model.features` is {cfg.features}, the data's {feature_size}")
        self.cfg = cfg
        self.listener = Listener(cfg)
        D = self.listener.output_size
        self.ctc = nn.Linear(D, tgt_vocab_size) if cfg.ctc_weight > 0 else None
        for p in self.parameters():
            nn.init.uniform_(p, -cfg.init_range, cfg.init_range)
        self.speller = (
            RNNSeq2Seq(speller_config(cfg), 0, tgt_vocab_size, memory_size=D)
            if cfg.ctc_weight < 1
            else None
        )

    # -- the protocol -------------------------------------------------------------------

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> EncoderOutput:
        """Frames (B, T, F) -> the listener's outputs as attention memory (B, T', D)."""
        memory, out_len = self.listener(src, src_len)
        return self._encoder_output(memory, out_len.to(memory.device))

    def _encoder_output(self, memory: torch.Tensor, out_len: torch.Tensor) -> EncoderOutput:
        B, T, D = memory.shape
        mask = torch.arange(T, device=memory.device).unsqueeze(0) < out_len.unsqueeze(1)
        vector = (memory * mask.unsqueeze(-1)).sum(1) / out_len.clamp(min=1).unsqueeze(1)
        L, H = self.cfg.speller_layers, self.cfg.speller_hidden
        zeros = memory.new_zeros(L, B, H)  # the speller starts from zero states
        return EncoderOutput((zeros, zeros), vector, memory, mask)

    def init_state(self, enc: EncoderOutput) -> DecoderState:
        return self._speller().init_state(enc)

    def step(self, tokens: torch.Tensor, state: DecoderState):
        return self._speller().step(tokens, state)

    def forward(
        self,
        src: torch.Tensor,
        src_len: torch.Tensor,
        tgt_in: torch.Tensor,
        keep: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The speller's teacher-forced logits (B, T, V), or (N, V) at `keep`."""
        return self._speller().decode(self.init_state(self.encode(src, src_len)), tgt_in, keep)

    def _speller(self) -> RNNSeq2Seq:
        if self.speller is None:
            raise ValueError(
                "a CTC-only model (model.ctc_weight 1) has no speller: decode it with CTC search"
            )
        return self.speller

    # -- CTC and the joint loss ----------------------------------------------------------

    @property
    def has_ctc(self) -> bool:
        return self.ctc is not None

    @property
    def has_speller(self) -> bool:
        return self.speller is not None

    def ctc_log_probs(self, enc: EncoderOutput) -> torch.Tensor:
        """The CTC head's log-probabilities (B, T', V) in fp32; <s> and </s> get none (a
        logit of -1e4, not -inf: torch's CTC gradient turns -inf inputs into nan)."""
        logits = self.ctc(enc.memory).float()  # (B, T', V)
        never = torch.zeros(logits.size(-1), dtype=torch.bool, device=logits.device)
        never[[BOS_ID, EOS_ID]] = True
        logits = logits.masked_fill(never, NEVER)
        return torch.log_softmax(logits, dim=-1)

    def outputs(
        self,
        src: torch.Tensor,
        src_len: torch.Tensor,
        tgt_in: torch.Tensor,
        keep: torch.Tensor | None = None,
    ) -> SpeechOutputs:
        """What the joint loss needs, from one encoding: the speller's logits and the CTC
        head's log-probabilities, whichever the model has."""
        enc = self.encode(src, src_len)
        logits = None
        if self.speller is not None:
            logits = self.speller.decode(self.speller.init_state(enc), tgt_in, keep)
        ctc = self.ctc_log_probs(enc) if self.ctc is not None else None
        return SpeechOutputs(logits, ctc, enc.src_mask.sum(1))

    # -- streaming -------------------------------------------------------------------------

    def encode_chunk(self, chunk: torch.Tensor, state: tuple | None):
        """A streaming model's next chunk of frames (B, C, F) -> its listener outputs
        (B, ceil(C / 2**levels), D) and the state for the next chunk."""
        if self.cfg.encoder != "streaming":
            raise ValueError("chunk-wise encoding needs `model.encoder: streaming`")
        return self.listener.chunk(chunk, state)

    def encoder_output(self, memory: torch.Tensor) -> EncoderOutput:
        """Listener outputs (B, T', D), every frame real, as an encoding to decode."""
        out_len = torch.full((memory.size(0),), memory.size(1), device=memory.device)
        return self._encoder_output(memory, out_len)


def ctc_loss_sum(log_probs: torch.Tensor, out_len: torch.Tensor, tgt_out: torch.Tensor):
    """Summed CTC loss (-log P(y | x)) of (B, T', V) log-probabilities against the targets
    `tgt_out` (B, S): y1 .. yn </s> <pad>..., whose </s> is no CTC label. An utterance too
    short for its transcript adds 0 (zero_infinity) rather than inf."""
    tgt_len = (tgt_out != PAD_ID).sum(1) - 1  # (B,) without </s>
    return F.ctc_loss(
        log_probs.transpose(0, 1),  # (T', B, V)
        tgt_out,
        out_len.cpu(),
        tgt_len.cpu(),
        blank=BLANK_ID,
        reduction="sum",
        zero_infinity=True,
    )
