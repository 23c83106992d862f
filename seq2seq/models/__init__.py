"""`build_model(cfg, ...)`: the one model factory, an explicit table of types."""

from __future__ import annotations

from torch import nn

from ..config import ModelConfig
from .base import EncoderOutput, Seq2SeqModel
from .forecast import ForecastSeq2Seq
from .rnn import RNNSeq2Seq
from .speech import SpeechModel
from .transformer import TransformerSeq2Seq

MODELS = {
    "rnn": RNNSeq2Seq,
    "transformer": TransformerSeq2Seq,
    "forecast": ForecastSeq2Seq,
    "speech": SpeechModel,
}


def build_model(cfg: ModelConfig, src_size: int, tgt_size: int) -> nn.Module:
    """The model of `cfg.type`; the sizes are the vocabularies' (text), or the values and
    covariates per step and the target dimensions (`forecast`), the features per frame and
    the target vocabulary (`speech`)."""
    return MODELS[cfg.type](cfg, src_size, tgt_size)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


__all__ = ["EncoderOutput", "Seq2SeqModel", "build_model", "count_parameters", "MODELS"]
