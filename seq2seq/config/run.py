"""The `train:` and `decode:` sections, and the whole Config with its cross-section rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..evaluation import BleuTokenize, MetricName
from .data import DataConfig
from .model import ModelConfig, RNNConfig


@dataclass(frozen=True)
class TrainConfig:
    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: float = 0.7
    momentum: float = 0.0
    weight_decay: float = 0.0
    adam_betas: tuple[float, float] = (0.9, 0.999)
    schedule: Literal["constant", "halving", "plateau", "noam", "linear"] = "halving"
    halving_start_epoch: float = 5.0  # the paper: halve every half epoch after epoch 5
    halving_every: float = 0.5
    plateau_factor: float = 0.5
    plateau_patience: int = 1
    warmup_steps: int = 0  # linear warm-up; with `noam`, the step of the peak lr
    final_lr_factor: float = 0.0  # `linear`: the lr at the end of the budget, as a share of lr
    clip_norm: float = 5.0  # 0 = no clipping
    label_smoothing: float = 0.0
    batch_tokens: int = 4096  # budget per batch: sentences * longest (source or target) length
    batch_size: int = 0  # > 0: a fixed number of sentences per batch instead of a token budget
    epochs: float = 7.5
    max_steps: int = 0  # 0 = no limit
    max_minutes: float = 0.0  # wall-clock limit on training; 0 = no limit
    valid_every: int = 0  # steps between validations; 0 = at the end of each epoch
    valid_max_sentences: int = 0  # decode only the first N dev sources for the metric; 0 = all
    metric: MetricName = "bleu"
    bleu_tokenize: BleuTokenize = "13a"  # sacreBLEU's tokenizer: zh for Chinese (per character)
    patience: int = 0  # stop after this many validations without improvement; 0 = never
    keep_checkpoints: int = 0  # also keep the weights of the last N validations (for averaging)
    tensorboard: bool = True  # event files in RUN/tensorboard/ when the package is installed
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    threads: int = 0  # torch intra-op threads; 0 = torch's default
    seed: int = 1
    # fine-tuning: start from this checkpoint's weights and vocabulary (a file or a run
    # directory) with a fresh optimizer and schedule; ignored once the run has its own last.pt
    init_from: str = ""
    # take this checkpoint's tokenizers and vocabularies (a file or a run directory) instead of
    # fitting them on the training data: e.g. a distilled student whose data has words its
    # teachers' vocabulary was not counted on (the teachers' token ids must mean the same)
    vocab_from: str = ""
    # token-level ensemble distillation: teacher checkpoints (or run directories) trained on
    # the same vocabulary; loss = (1 - w) * CE(reference) + w * CE(teachers' top-k distribution)
    distill_from: tuple[str, ...] = ()
    distill_weight: float = 0.5
    distill_topk: int = 8
    # forecasting: the share of decoder inputs taken from the model's own samples instead of
    # the true past value (scheduled sampling), reached linearly over the first
    # `scheduled_sampling_steps` steps (0: over the whole step budget)
    scheduled_sampling: float = 0.0
    scheduled_sampling_steps: int = 0

    def __post_init__(self):
        if self.lr <= 0 or self.epochs <= 0:
            raise ValueError("`train.lr` and `train.epochs` must be positive")
        if self.batch_tokens < 1 and self.batch_size < 1:
            raise ValueError("set `train.batch_tokens` or `train.batch_size` to a positive number")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError("`train.label_smoothing` must be in [0, 1)")
        if not 0.0 <= self.final_lr_factor <= 1.0:
            raise ValueError("`train.final_lr_factor` must be in [0, 1]")
        if not 0.0 <= self.scheduled_sampling <= 1.0 or self.scheduled_sampling_steps < 0:
            raise ValueError(
                "`train.scheduled_sampling` must be in [0, 1], `scheduled_sampling_steps` >= 0"
            )
        if not 0.0 <= self.distill_weight <= 1.0 or self.distill_topk < 1:
            raise ValueError("`train.distill_weight` must be in [0, 1], `distill_topk` >= 1")
        if self.init_from and self.vocab_from:
            raise ValueError(
                "set `train.init_from` or `train.vocab_from`, not both: init_from brings its vocabulary"
            )


@dataclass(frozen=True)
class DecodeConfig:
    beam: int = 5
    nbest: int = 1
    length_penalty: float = 1.0  # final score = log-prob / length**alpha; 0 = raw log-prob
    early_stop: bool = False  # a sentence ends once a finished hypothesis beats its best live one
    max_len_a: float = 2.0  # hypotheses stop at a * source_length + b tokens
    max_len_b: int = 10
    batch_size: int = 64
    # longer inputs are refused with one line; 0 = 4 x the trained data.max_src_len
    max_input_tokens: int = 0
    # constrained decoding, for every model and search: `source` = exactly as many target
    # tokens as the source has (character-level couplets); copy_tokens = where the source
    # has one of these tokens the output has it too, and nowhere else (e.g. ["，"])
    length: Literal["free", "source"] = "free"
    copy_tokens: tuple[str, ...] = ()
    # sampling (`--sample`): temperature, then the top_k tokens (0 = all) and the smallest
    # set holding top_p of the probability (1.0 = all); the seed makes it repeatable
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int = 1
    ban_unk: bool = False  # never output <unk> (a capped vocabulary's most frequent guess)

    def __post_init__(self):
        if self.beam < 1 or not 1 <= self.nbest <= self.beam:
            raise ValueError("`decode.beam` must be >= 1 and 1 <= `decode.nbest` <= beam")
        if self.temperature < 0 or self.top_k < 0 or not 0.0 < self.top_p <= 1.0:
            raise ValueError(
                "`decode.temperature` and `top_k` must be >= 0, `decode.top_p` in (0, 1]"
            )
        if self.batch_size < 1:
            raise ValueError("`decode.batch_size` must be >= 1")
        if self.max_len_a < 0 or self.max_len_b < 0 or self.max_input_tokens < 0:
            raise ValueError("`decode.max_len_a`, `max_len_b` and `max_input_tokens` must be >= 0")


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=lambda: DataConfig(dataset="cmudict"))
    model: ModelConfig = field(default_factory=RNNConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)

    def __post_init__(self):
        series = self.data.dataset == "series"
        if series != (self.model.type == "forecast"):
            raise ValueError(
                "`model.type: forecast` goes with `data.dataset: series`, and only with it"
            )
        if self.model.type == "speech" and self.data.dataset != "speech":
            raise ValueError("`model.type: speech` reads audio: it needs `data.dataset: speech`")
        if self.model.type == "speech" and self.model.features != self.data.speech.n_mels:
            raise ValueError(
                f"`model.features` ({self.model.features}) must equal `data.speech.n_mels` "
                f"({self.data.speech.n_mels}): the listener reads one frame of features"
            )
        if series and self.train.metric != "loss":
            raise ValueError("a series run selects its best checkpoint by `train.metric: loss`")
        if self.data.dataset == "speech" and self.train.metric in ("wer", "per"):
            raise ValueError(
                f"`train.metric: {self.train.metric}` is G2P's (whole-word) rate; a speech run "
                "selects by `asr_wer` or `asr_cer` (word / character error rate)"
            )
        for key in ("vocab_from", "distill_from"):
            if series and getattr(self.train, key):
                raise ValueError(f"`train.{key}` is for text models; remove it from a series run")
        if copies(self) and not self.data.shared_vocab:
            raise ValueError(
                "`model.copy` copies source tokens as target tokens: set `data.shared_vocab: "
                "true` (one vocabulary for both sides)"
            )
        if copies(self) and (self.decode.length != "free" or self.decode.copy_tokens):
            raise ValueError(
                "`decode.length` / `decode.copy_tokens` are not available with `model.copy` "
                "(a copying model's outputs are wider than the vocabulary); drop them"
            )
        if copies(self) and self.train.distill_from:
            raise ValueError(
                "`train.distill_from` with `model.copy`: the teachers' distributions have no "
                "extended ids; distil a copying model from its teachers' outputs (seq2seq "
                "distill) instead"
            )


def copies(cfg: Config) -> bool:
    """Whether the model copies from its source (`model.copy`, a pointer-generator)."""
    return bool(getattr(cfg.model, "copy", False))
