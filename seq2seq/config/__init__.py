"""Typed, frozen configuration with strict loading.

Every setting has one typed place below. `load_config` reads YAML, rejects unknown keys
with a "did you mean" hint, checks types and ranges, and applies `--set a.b=v` overrides.
The resolved config is saved as YAML in every run directory and inside every checkpoint.
"""

from .data import (
    PREPROCESSING,
    CmudictConfig,
    DataConfig,
    SeriesConfig,
    SpecAugmentConfig,
    SpeechConfig,
    SplitConfig,
    TokenizerConfig,
)
from .loading import apply_overrides, config_from_dict, config_to_dict, load_config, save_config
from .model import (
    ForecastConfig,
    ModelConfig,
    RNNConfig,
    SpeechModelConfig,
    TransformerConfig,
)
from .run import Config, DecodeConfig, TrainConfig, copies

__all__ = [
    "PREPROCESSING",
    "CmudictConfig",
    "Config",
    "DataConfig",
    "DecodeConfig",
    "ForecastConfig",
    "ModelConfig",
    "RNNConfig",
    "SeriesConfig",
    "SpecAugmentConfig",
    "SpeechConfig",
    "SpeechModelConfig",
    "SplitConfig",
    "TokenizerConfig",
    "TrainConfig",
    "TransformerConfig",
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "copies",
    "load_config",
    "save_config",
]
