"""Load a trained model and translate text: the API behind the CLI, evaluation and analysis."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from . import checkpoints, checks
from .config import Config, DecodeConfig, copies
from .data import Processor, references
from .decoding.batched import decode_all
from .decoding.constraints import source_constraints
from .decoding.ensemble import Ensemble
from .decoding.rescore import forced_scores
from .errors import InputValueError, UserError
from .evaluation import score
from .models import Seq2SeqModel
from .precision import decoding_precision
from .vocab import UNK_ID


@dataclass
class Translation:
    text: str
    score: float  # log-probability, </s> included
    norm_score: float  # the length-normalised score search ranked by
    tokens: list[str]
    attention: torch.Tensor | None = None  # (target tokens + 1, source tokens)
    unknown: float = 0.0  # share of the source's tokens the model does not know (0..1)


INPUT_LIMIT_FACTOR = 4  # default decode.max_input_tokens: 4 x the trained data.max_src_len


def unknown_share(ids: list[int], vocab_size: int | None = None) -> float:
    """The share of <unk> among a sentence's token ids (0 for an empty sentence); with
    `vocab_size`, ids past it (a copying model's out-of-vocabulary tokens) count too."""
    if not ids:
        return 0.0
    limit = vocab_size if vocab_size is not None else float("inf")
    return sum(i == UNK_ID or i >= limit for i in ids) / len(ids)


class Translator:
    def __init__(
        self,
        model: Seq2SeqModel,
        processor: Processor,
        cfg: Config,
        *,
        device: str | torch.device = "cpu",
        precision: str = "fp32",
    ):
        """`precision`: auto (the fastest this hardware runs without a loss in quality: see
        `seq2seq.precision`), fp32, bf16 (autocast) or int8 (dynamic quantisation, CPU)."""
        self.processor, self.cfg, self.device = processor, cfg, torch.device(device)
        self.choice = decoding_precision(precision, self.device)
        if self.choice.warning:
            print(self.choice.warning, file=sys.stderr)
        self.model = quantize_int8(model.eval()) if self.precision == "int8" else model.eval()

    @property
    def precision(self) -> str:
        return self.choice.name

    def _autocast(self):
        if self.precision != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    @classmethod
    def load(
        cls,
        runs: str | Path | list[str | Path],
        *,
        device: str | None = None,
        which: str = "best",
        precision: str = "fp32",
    ) -> Translator:
        """From a run directory (its best checkpoint) or a checkpoint file; several = ensemble."""
        runs = checks.model_paths(runs)
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        check_device(device)
        ckpts = [checkpoints.read(run, which) for run in runs]
        return cls.from_checkpoints(ckpts, device=device, precision=precision)

    @classmethod
    def from_checkpoints(
        cls,
        ckpts: list[checkpoints.Checkpoint],
        *,
        device: str | None = None,
        precision: str = "fp32",
    ) -> Translator:
        """From checkpoints already read (`checkpoints.read`); several = ensemble."""
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        check_device(device)
        other_kind = {
            "speech": "a speech model: transcribe audio with `seq2seq transcribe --model RUN`"
            " or seq2seq.transcriber.Transcriber",
            "series": "a forecasting model: use `seq2seq forecast --model RUN` or "
            "seq2seq.forecasting.Forecaster",
        }.get(ckpts[0].config.data.dataset)
        if other_kind:
            raise UserError(f"{ckpts[0].source}: {other_kind}, not a translator")
        for other in ckpts[1:]:
            checkpoints.check_compatible(ckpts[0], other)
        models = [checkpoints.load_model(c, device) for c in ckpts]
        first = ckpts[0]
        processor = Processor.from_state(first.config.data, first.processor)
        model = models[0] if len(models) == 1 else Ensemble(models)
        return cls(model, processor, first.config, device=device, precision=precision)

    def decode_config(self, **overrides) -> DecodeConfig:
        """This model's `decode` settings with `overrides` (checked: types, then values)."""
        given = checks.decode_options(overrides)
        try:
            return dataclasses.replace(self.cfg.decode, **given)
        except ValueError as e:  # a bad --beam / --nbest: one line, not a traceback
            options = ", ".join(f"{k}={v}" for k, v in given.items())
            raise InputValueError(f"decoding options ({options}): {e}") from None

    def encode_sources(
        self, sentences: list[str], cfg: DecodeConfig | None = None, *, name: str | None = None
    ) -> list[list[int]]:
        """Token ids of each sentence; an input over `decode.max_input_tokens` is refused with
        one line naming it (`name`:line, or sentences[i] without a name)."""
        cfg = cfg or self.cfg.decode
        limit = cfg.max_input_tokens or INPUT_LIMIT_FACTOR * self.cfg.data.max_src_len
        sources = []
        for i, sentence in enumerate(sentences):
            ids = self.processor.encode_src(sentence)
            if len(ids) > limit:
                where = f"{name}:{i + 1}" if name else f"sentences[{i}]"
                raise InputValueError(
                    f"{where}: {len(ids):,} source tokens, over the limit of {limit:,} "
                    f"(decode.max_input_tokens; by default {INPUT_LIMIT_FACTOR} x the trained "
                    "data.max_src_len); split the input, or raise the limit (--max-input-tokens)"
                )
            sources.append(ids)
        return sources

    def translate_nbest(
        self,
        sentences: list[str],
        *,
        greedy: bool = False,
        sample: bool = False,
        progress: bool = False,
        source_name: str | None = None,
        **decode,
    ) -> list[list[Translation]]:
        """n-best translations per sentence; keyword arguments override `decode` settings.
        `greedy`: greedy search; `sample`: sampling (decode.temperature, top_k, top_p, seed).
        `source_name` (a file name) is what an error about one input names."""
        sentences = checks.sentences(sentences)
        cfg = self.decode_config(**decode)
        sources = self.encode_sources(sentences, cfg, name=source_name)
        return self.decode_sources(
            sources, cfg, greedy=greedy, sample=sample, progress=progress, sentences=sentences
        )

    def decode_sources(
        self,
        sources: list[list[int]],
        cfg: DecodeConfig,
        *,
        greedy: bool = False,
        sample: bool = False,
        progress: bool = False,
        sentences: list[str] | None = None,
    ) -> list[list[Translation]]:
        """n-best translations of sentences already encoded (`encode_sources`) with `cfg`;
        `decode.length` and `decode.copy_tokens` constrain each from its source; `sentences`:
        their text, from which a copying model's copied tokens are read."""
        constraints = source_constraints(cfg, self.processor, sources)
        if constraints is not None and copies(self.cfg):
            raise InputValueError(
                "decode.length / decode.copy_tokens: not available for a copying model "
                "(model.copy: its outputs are wider than the vocabulary); drop them"
            )
        with tqdm(total=len(sources), unit="sent", disable=not progress, mininterval=1.0) as bar:
            with self._autocast():
                hyps = decode_all(
                    self.model,
                    sources,
                    cfg,
                    device=self.device,
                    greedy=greedy,
                    sample=sample,
                    constraints=constraints,
                    progress=bar,
                )
        p, texts = self.processor, sentences or [None] * len(sources)
        return [
            [
                Translation(
                    p.decode_tgt(h.tokens, text),
                    h.score,
                    h.norm_score,
                    p.tgt_token_list(h.tokens, text),
                    self._source_order(h.attention, len(src)),
                    unknown_share(src, len(p.src_vocab)),
                )
                for h in nbest
            ]
            for src, text, nbest in zip(sources, texts, hyps)
        ]

    def _source_order(self, attention: torch.Tensor | None, n: int) -> torch.Tensor | None:
        """Attention over the tokens as the user wrote them (undo source reversal, drop padding)."""
        if attention is None:
            return None
        attention = attention[:, :n].float().cpu()
        return attention.flip(-1) if self.processor.cfg.reverse_source else attention

    def translate(self, sentences: list[str], **decode) -> list[str]:
        """1-best translation of each sentence."""
        return [n[0].text for n in self.translate_nbest(sentences, **decode)]

    def continue_lines(self, firsts: list[str], lines: int, **decode) -> list[list[str]]:
        """Write on from each first line: each output is fed back as the next source until a
        text has `lines` lines (a poem from its first line). Keyword arguments as
        `translate_nbest` (`greedy`, `sample`, decoding settings); the texts are decoded
        together, one batch per line. Sampling draws line k with seed `decode.seed + k`, so
        the lines do not repeat one stream of random numbers and the whole is repeatable."""
        if isinstance(lines, bool) or not isinstance(lines, int) or lines < 1:
            raise InputValueError(f"lines={lines!r}: expected an int >= 1")
        texts = [[s] for s in checks.sentences(firsts, "firsts")]
        settings = {k: v for k, v in decode.items() if k not in ("greedy", "sample", "progress")}
        seed = self.decode_config(**settings).seed
        for k in range(lines - 1):
            nxt = self.translate_nbest([t[-1] for t in texts], **{**decode, "seed": seed + k})
            for t, nb in zip(texts, nxt):
                t.append(nb[0].text)
        return texts

    def unknown(self, sentences: list[str], side: str = "src") -> list[float]:
        """Per sentence, the share of its tokens the model does not know (source or target)."""
        encode = self.processor.encode_src if side == "src" else self.processor.encode_tgt
        V = len(self.processor.src_vocab)
        return [unknown_share(encode(s), V) for s in checks.sentences(sentences)]

    def score(self, pairs: list[tuple[str, str]], *, batch_size: int = 64) -> list[float]:
        """Model (or ensemble) log-probability of each target given its source, </s> included."""
        pairs = checks.pairs(pairs)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InputValueError(f"batch_size={batch_size!r}: expected an int >= 1")
        p = self.processor
        self.encode_sources([s for s, _ in pairs])  # an overlong source: one line
        ids = [p.encode_pair(s, t) for s, t in pairs]
        return forced_scores(
            self.model,
            [s for s, _ in ids],
            [t for _, t in ids],
            batch_size=batch_size,
            device=self.device,
        )

    def evaluate(
        self, pairs: list[tuple[str, str]], metric: str, **decode
    ) -> tuple[dict, list[str]]:
        """Score on (source, reference) pairs; repeated sources count once, with all references."""
        sources, refs = references(checks.pairs(pairs))
        hyps = self.translate(sources, **decode)
        return score(metric, hyps, refs, tokenize=self.cfg.train.bleu_tokenize), hyps


def quantize_int8(model):
    """Dynamic INT8 quantisation of the recurrent and linear layers (CPU inference)."""
    if isinstance(model, Ensemble):  # quantise each member
        return Ensemble([quantize_int8(m) for m in model.members])
    with warnings.catch_warnings():  # torch.ao's notice that quantize_dynamic is deprecated
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(
            model, {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear}, dtype=torch.qint8
        )


def check_device(device: str) -> None:
    """A device this torch can use, or a one-line error (not torch's AssertionError)."""
    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise UserError(f"--device {device}: not a device; use cpu, cuda or cuda:N") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise UserError(
            f"--device {device}: this torch build has no usable CUDA; use --device cpu, or "
            "install a CUDA build of torch (README: GPU users)"
        )


def load(run: str | Path | list[str | Path], **kwargs) -> Translator:
    """`seq2seq.load(RUN_DIR).translate(["a sentence"])`."""
    return Translator.load(run, **kwargs)
