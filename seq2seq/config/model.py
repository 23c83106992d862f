"""The `model:` section, discriminated by `model.type`: one dataclass per model family."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class RNNConfig:
    """The Sutskever et al. model: a deep LSTM encoder and a separate deep LSTM decoder."""

    type: Literal["rnn"] = "rnn"
    cell: Literal["lstm", "gru"] = "lstm"
    layers: int = 4
    emb_size: int = 1000
    hidden_size: int = 1000
    dropout: float = 0.2
    init_range: float = 0.08  # uniform init in [-r, r]
    tie_embeddings: bool = False  # decoder input embedding shared with the output layer
    attention: Literal["none", "bahdanau", "dot", "general"] = "none"  # none = the paper's model
    input_feeding: bool = True  # Luong: feed the last attentional vector into the next step
    bidirectional: bool = False  # encoder reads both ways; a bridge maps its state to the decoder's
    residual: bool = False  # residual connections between stacked layers
    # pointer-generator (See et al. 2017): mix the output distribution with the attention
    # over the source, so source tokens (also ones outside the vocabulary) can be copied;
    # needs attention, and shares one vocabulary between source and target
    copy: bool = False

    def __post_init__(self):
        if self.layers < 1 or self.emb_size < 1 or self.hidden_size < 1:
            raise ValueError("`model.layers`, `emb_size` and `hidden_size` must be positive")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("`model.dropout` must be in [0, 1)")
        if self.tie_embeddings and self.emb_size != self.hidden_size:
            raise ValueError("`model.tie_embeddings` needs emb_size == hidden_size")
        if self.copy and self.attention == "none":
            raise ValueError(
                "`model.copy` copies through the attention: set `model.attention` "
                "(bahdanau, dot or general)"
            )
        if self.attention == "dot" and self.bidirectional:
            raise ValueError(
                "`model.attention: dot` needs equal sizes; use `general` with a bidirectional encoder"
            )


@dataclass(frozen=True)
class TransformerConfig:
    """Pre-norm Transformer (Vaswani et al., 2017) with sinusoidal positions."""

    type: Literal["transformer"] = "transformer"
    layers: int = 6  # encoder layers
    dec_layers: int = 0  # 0 = same as `layers`
    d_model: int = 512
    heads: int = 8
    ff_size: int = 2048
    dropout: float = 0.1
    tie_embeddings: bool = True  # decoder input embedding shared with the output layer

    def __post_init__(self):
        if self.d_model % self.heads:
            raise ValueError("`model.d_model` must be divisible by `model.heads`")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("`model.dropout` must be in [0, 1)")


@dataclass(frozen=True)
class ForecastConfig:
    """An LSTM encoder-decoder over real values: a linear input projection instead of
    embeddings, and a distribution head (Gaussian NLL, or quantiles with the pinball loss)."""

    type: Literal["forecast"] = "forecast"
    layers: int = 2
    emb_size: int = 32  # the linear projection of each step's values and covariates
    hidden_size: int = 64
    dropout: float = 0.1
    head: Literal["gaussian", "quantile"] = "gaussian"
    quantiles: tuple[float, ...] = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975)

    def __post_init__(self):
        if self.layers < 1 or self.emb_size < 1 or self.hidden_size < 1:
            raise ValueError("`model.layers`, `emb_size` and `hidden_size` must be positive")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("`model.dropout` must be in [0, 1)")
        q = self.quantiles
        if list(q) != sorted(set(q)) or not all(0 < x < 1 for x in q) or 0.5 not in q:
            raise ValueError(
                "`model.quantiles` must be increasing levels in (0, 1) that include 0.5"
            )


@dataclass(frozen=True)
class SpeechModelConfig:
    """Speech recognition over log-mel features (`data.dataset: speech`): a listener
    (pyramidal BLSTM, time reduced 2**pyramid_levels; or `streaming`: the same pyramid of
    unidirectional LSTMs, encoded chunk by chunk), an attention speller (the `rnn` model's
    decoder) and/or a CTC head. `ctc_weight` is lambda of the joint loss and of joint
    decoding (ESPnet's convention): 0 = attention only (no CTC head), 1 = CTC only (no
    speller), between = both, loss (1 - lambda) CE + lambda CTC."""

    type: Literal["speech"] = "speech"
    encoder: Literal["pyramidal", "streaming"] = "pyramidal"
    features: int = 80  # log-mel bins per frame (the data's `src` last dimension)
    listener_layers: int = 1  # (B)LSTM layers at the full frame rate, below the pyramid
    listener_hidden: int = 256  # per direction
    pyramid_levels: int = 3  # each halves the frame rate: 3 -> 8x
    speller_layers: int = 1
    speller_hidden: int = 256
    emb_size: int = 64  # target token embedding
    attention: Literal["bahdanau", "general"] = "bahdanau"
    dropout: float = 0.1
    init_range: float = 0.1  # uniform init in [-r, r]
    ctc_weight: float = 0.0
    chunk_frames: int = 40  # streaming: input frames per chunk (a multiple of 2**levels)

    def __post_init__(self):
        sizes = (self.features, self.listener_layers, self.listener_hidden, self.speller_layers)
        if min(sizes + (self.speller_hidden, self.emb_size)) < 1 or self.pyramid_levels < 0:
            raise ValueError(
                "`model` sizes and layer counts must be positive, `pyramid_levels` >= 0"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("`model.dropout` must be in [0, 1)")
        if not 0.0 <= self.ctc_weight <= 1.0:
            raise ValueError(
                "`model.ctc_weight` must be in [0, 1] (0 = attention only, 1 = CTC only)"
            )
        if self.chunk_frames < 1 or self.chunk_frames % self.reduction:
            raise ValueError(
                f"`model.chunk_frames` must be a positive multiple of {self.reduction} "
                "(2 ** pyramid_levels)"
            )

    @property
    def reduction(self) -> int:
        """How many input frames make one listener output frame."""
        return 2**self.pyramid_levels


ModelConfig = RNNConfig | TransformerConfig | ForecastConfig | SpeechModelConfig  # by `type`
