"""Load a trained model and translate text: the API behind the CLI, evaluation and analysis."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from .config import Config, DecodeConfig, config_from_dict
from .data import Processor, references
from .decoding.batched import decode_all
from .evaluation import score
from .models import build_model
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
        self, model, processor: Processor, cfg: Config, *, device: str | torch.device = "cpu"
    ):
        self.model, self.processor, self.cfg = model.eval(), processor, cfg
        self.device = torch.device(device)

    @classmethod
    def load(cls, run: str | Path, *, device: str | None = None, which: str = "best") -> Translator:
        """From a run directory (its best checkpoint) or a checkpoint file."""
        ckpt = checkpoint.load(checkpoint.find(run, which))
        cfg = config_from_dict(ckpt["config"], source=str(run))
        processor = Processor.from_state(cfg.data, ckpt["processor"])
        model = build_model(cfg.model, len(processor.src_vocab), len(processor.tgt_vocab))
        model.load_state_dict(ckpt["model"])
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        return cls(model.to(device), processor, cfg, device=device)

    def decode_config(self, **overrides) -> DecodeConfig:
        given = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(self.cfg.decode, **given)

    def translate_nbest(
        self, sentences: list[str], *, greedy: bool = False, progress: bool = False, **decode
    ) -> list[list[Translation]]:
        """n-best translations per sentence; keyword arguments override `decode` settings."""
        cfg = self.decode_config(**decode)
        sources = [self.processor.encode_src(s) for s in sentences]
        with tqdm(total=len(sources), unit="sent", disable=not progress, mininterval=1.0) as bar:
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
                    h.attention,
                )
                for h in nbest
            ]
            for nbest in hyps
        ]

    def translate(self, sentences: list[str], **decode) -> list[str]:
        """1-best translation of each sentence."""
        return [n[0].text for n in self.translate_nbest(sentences, **decode)]

    def evaluate(
        self, pairs: list[tuple[str, str]], metric: str, **decode
    ) -> tuple[dict, list[str]]:
        """Score on (source, reference) pairs; repeated sources count once, with all references."""
        sources, refs = references(pairs)
        hyps = self.translate(sources, **decode)
        return score(metric, hyps, refs), hyps


def load(run: str | Path, **kwargs) -> Translator:
    """`seq2seq.load(RUN_DIR).translate(["a sentence"])`."""
    return Translator.load(run, **kwargs)
