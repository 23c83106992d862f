"""`build_model(cfg, ...)`: the one model factory, an explicit table of types."""

from __future__ import annotations

from torch import nn

from ..config import ModelConfig
from .base import EncoderOutput, Seq2SeqModel
from .rnn import RNNSeq2Seq
from .transformer import TransformerSeq2Seq

MODELS = {"rnn": RNNSeq2Seq, "transformer": TransformerSeq2Seq}


def build_model(cfg: ModelConfig, src_vocab_size: int, tgt_vocab_size: int) -> nn.Module:
    return MODELS[cfg.type](cfg, src_vocab_size, tgt_vocab_size)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


__all__ = ["EncoderOutput", "Seq2SeqModel", "build_model", "count_parameters", "MODELS"]
