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

from .config import PREPROCESSING, Config, DecodeConfig, config_from_dict
from .data import Processor, references
from .decoding.batched import decode_all
from .decoding.ensemble import Ensemble
from .decoding.rescore import forced_scores
from .errors import UserError
from .evaluation import score
from .models import build_model
from .precision import decoding_precision
from .training import checkpoint


@dataclass
class Translation:
    text: str
    score: float  # log-probability, </s> included
    norm_score: float  # the length-normalised score search ranked by
    tokens: list[str]
    attention: torch.Tensor | None = None  # (target tokens + 1, source tokens)


class Translator:
    def __init__(
        self,
        model,
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
        runs = [runs] if isinstance(runs, str | Path) else list(runs)
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        check_device(device)
        models, first = [], None
        for run in runs:
            path = checkpoint.find(run, which)
            ckpt = checkpoint.load(path)
            cfg = config_from_dict(ckpt["config"], source=str(path))
            if first is None:
                first = (
                    cfg,
                    Processor.from_state(cfg.data, ckpt["processor"]),
                    ckpt["processor"],
                    path,
                )
            else:
                check_compatible(first, cfg, ckpt["processor"], path)
            model = build_model(cfg.model, len(first[1].src_vocab), len(first[1].tgt_vocab))
            try:
                model.load_state_dict(ckpt["model"])
            except RuntimeError:
                raise UserError(
                    f"{path}: its weights do not fit the model its config describes "
                    "(written by another version of seq2seq?); retrain or convert it"
                ) from None
            models.append(model.to(device))
        model = models[0] if len(models) == 1 else Ensemble(models)
        return cls(model, first[1], first[0], device=device, precision=precision)

    def decode_config(self, **overrides) -> DecodeConfig:
        given = {k: v for k, v in overrides.items() if v is not None}
        try:
            return dataclasses.replace(self.cfg.decode, **given)
        except ValueError as e:  # a bad --beam / --nbest: one line, not a traceback
            options = ", ".join(f"{k}={v}" for k, v in given.items())
            raise UserError(f"decoding options ({options}): {e}") from None

    def translate_nbest(
        self, sentences: list[str], *, greedy: bool = False, progress: bool = False, **decode
    ) -> list[list[Translation]]:
        """n-best translations per sentence; keyword arguments override `decode` settings."""
        cfg = self.decode_config(**decode)
        sources = [self.processor.encode_src(s) for s in sentences]
        with tqdm(total=len(sources), unit="sent", disable=not progress, mininterval=1.0) as bar:
            with self._autocast():
                hyps = decode_all(
                    self.model, sources, cfg, device=self.device, greedy=greedy, progress=bar
                )
        vocab = self.processor.tgt_vocab
        return [
            [
                Translation(
                    self.processor.decode_tgt(h.tokens),
                    h.score,
                    h.norm_score,
                    vocab.decode(h.tokens),
                    self._source_order(h.attention, len(src)),
                )
                for h in nbest
            ]
            for src, nbest in zip(sources, hyps)
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

    def score(self, pairs: list[tuple[str, str]], *, batch_size: int = 64) -> list[float]:
        """Model (or ensemble) log-probability of each target given its source, </s> included."""
        p = self.processor
        return forced_scores(
            self.model,
            [p.encode_src(s) for s, _ in pairs],
            [p.encode_tgt(t) for _, t in pairs],
            batch_size=batch_size,
            device=self.device,
        )

    def evaluate(
        self, pairs: list[tuple[str, str]], metric: str, **decode
    ) -> tuple[dict, list[str]]:
        """Score on (source, reference) pairs; repeated sources count once, with all references."""
        sources, refs = references(pairs)
        hyps = self.translate(sources, **decode)
        return score(metric, hyps, refs), hyps


def quantize_int8(model):
    """Dynamic INT8 quantisation of the recurrent and linear layers (CPU inference)."""
    members = getattr(model, "models", None)
    if members is not None:  # an ensemble: quantise each member
        model.models = [quantize_int8(m) for m in members]
        return model
    with warnings.catch_warnings():  # torch.ao's notice that quantize_dynamic is deprecated
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(
            model, {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear}, dtype=torch.qint8
        )


def check_compatible(first: tuple, cfg: Config, processor: dict, path: Path) -> None:
    """Ensemble members must read and write the same tokens, in the same order."""
    data0, data = first[0].data, cfg.data
    for key in PREPROCESSING:
        if getattr(data, key) != getattr(data0, key):
            raise UserError(
                f"{path}: data.{key} differs from {first[3]}'s; ensemble members must preprocess alike"
            )
    for side in ("tgt", "src"):
        if (
            processor[f"{side}_vocab"] != first[2][f"{side}_vocab"]
            or processor[f"{side}_spm"] != first[2][f"{side}_spm"]
        ):
            raise UserError(
                f"{path}: its {'target' if side == 'tgt' else 'source'} vocabulary differs from {first[3]}'s; "
                "an ensemble needs models trained on the same data and vocabulary"
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
