"""The models one server holds: `--model [NAME=]PATH` each, loaded once, described for
`GET /v1/models` (type, task, vocabularies, decoding defaults, the run's dev and test metrics).

A text run is served by a `Translator`; a speech run (`data.dataset: speech`) by a
`Transcriber`, decoded in fp32 (it has no bf16 or int8 path). The checkpoint is read once and
its config says which. `ServedModel.decode` is the one call the batcher makes of either.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from .. import checkpoints
from ..config import Config
from ..errors import UserError
from ..evaluation import is_better
from ..transcriber import Transcriber
from ..translator import Translator, check_device

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
AUDIO_FORMATS = ["wav", "flac", "ogg"]  # what libsndfile reads (and more: aiff, ...)


@dataclass
class ServedModel:
    """A served model: a text run's Translator or a speech run's Transcriber (one of them)."""

    name: str
    path: Path
    translator: Translator | None = None
    transcriber: Transcriber | None = None

    def __post_init__(self):
        if (self.translator is None) == (self.transcriber is None):
            raise ValueError(f"model {self.name}: give exactly one of translator and transcriber")

    @property
    def cfg(self) -> Config:
        return (self.translator or self.transcriber).cfg

    @property
    def attention(self) -> bool:
        """Whether its translations carry attention (an alignment matrix); transcripts do not."""
        if self.transcriber is not None:
            return False
        model = self.cfg.model
        return model.type == "transformer" or getattr(model, "attention", "none") != "none"

    @property
    def task(self) -> str:
        """speech (audio -> text), g2p (spelling -> phonemes: the page splits lines into
        words) or translation."""
        if self.transcriber is not None:
            return "speech"
        data = self.cfg.data
        g2p = data.dataset == "cmudict" or (
            data.src_tokenizer.kind == "char" and data.tgt_tokenizer.kind == "word"
        )
        return "g2p" if g2p else "translation"

    def decode(self, items: list, *, batch_size: int, **options) -> list[list]:
        """The n-best lists of a batch: sentences translated, or waveforms (at the run's
        sample rate) transcribed; `options` are the request's decoding options."""
        if self.transcriber is not None:
            return self.transcriber.transcribe(items, batch_size=batch_size, **options)
        return self.translator.translate_nbest(items, batch_size=batch_size, **options)

    def describe(self) -> dict:
        cfg = self.cfg
        out = {
            "name": self.name,
            "path": str(self.path),
            "type": cfg.model.type,
            "attention": self.attention,
            "task": self.task,
            "metrics": run_metrics(run_folder(self.path), cfg.train.metric),
        }
        return {**out, **(self._speech() if self.transcriber else self._text())}

    def _text(self) -> dict:
        t = self.translator
        cfg, p = t.cfg, t.processor
        return {
            "device": str(t.device),
            "precision": t.precision,
            "vocab": {"source": len(p.src_vocab), "target": len(p.tgt_vocab)},
            "tokenizers": {"source": p.cfg.src_tokenizer.kind, "target": p.cfg.tgt_tokenizer.kind},
            "decode": {
                "beam": cfg.decode.beam,
                "nbest": cfg.decode.nbest,
                "length_penalty": cfg.decode.length_penalty,
            },
        }

    def _speech(self) -> dict:
        """What an upload must be (any rate is resampled; mono only) and what comes back."""
        t = self.transcriber
        cfg, sp = t.cfg, t.cfg.data.speech
        return {
            "device": str(t.device),
            "precision": "fp32",
            "vocab": {"target": len(t.processor.tgt_vocab)},
            "tokenizers": {"target": cfg.data.tgt_tokenizer.kind},
            "audio": {
                "sample_rate": sp.sample_rate,
                "channels": 1,
                "formats": AUDIO_FORMATS,
                "features": f"{sp.n_mels} log-mel bins, {sp.window_ms:g} ms windows every "
                f"{sp.hop_ms:g} ms, {sp.cmvn} CMVN",
            },
            "decode": {
                "beam": cfg.decode.beam,
                "nbest": 1,
                "ctc_weight": cfg.model.ctc_weight,
            },
        }


def parse_spec(spec: str) -> tuple[str, Path]:
    """`NAME=PATH`, or `PATH` named after its run folder (runs/demo -> demo)."""
    name, sep, path = spec.partition("=")
    if not sep:
        name, path = run_folder(Path(spec)).resolve().name, spec
    if not NAME.fullmatch(name):
        raise UserError(
            f"--model {spec}: {name!r} is not a usable model name; give one of letters, digits, "
            "'.', '_' and '-' (NAME=PATH)"
        )
    return name, Path(path)


def run_folder(path: Path) -> Path:
    """The run directory of a run directory or of a file in its checkpoints/ folder."""
    if path.is_file() and path.parent.name == "checkpoints":
        return path.parent.parent
    return path


def load_models(specs: list[str], *, device: str | None, precision: str) -> list[ServedModel]:
    """Each `--model` spec loaded (`load_model`); names must differ."""
    named = [parse_spec(s) for s in specs]
    names = [n for n, _ in named]
    for n in names:
        if names.count(n) > 1:
            raise UserError(f"--model: two models are named {n!r}; name them: --model NAME=PATH")
    return [load_model(name, path, device=device, precision=precision) for name, path in named]


def load_model(name: str, path: Path, *, device: str | None, precision: str) -> ServedModel:
    """A text run as a Translator, a speech run as a Transcriber (fp32: --precision auto or
    fp32); the checkpoint read once."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    check_device(device)
    ckpt = checkpoints.read(path)
    if ckpt.config.data.dataset != "speech":
        translator = Translator.from_checkpoints([ckpt], device=device, precision=precision)
        return ServedModel(name, path, translator=translator)
    if precision not in ("auto", "fp32"):
        raise UserError(
            f"--precision {precision}: {name} is a speech run, decoded in fp32 only; serve it "
            "with --precision auto or fp32"
        )
    return ServedModel(name, path, transcriber=Transcriber(ckpt, device))


def run_metrics(run: Path, metric: str) -> dict:
    """The run's best validation (metrics.jsonl, by `train.metric`) and its test scores
    (metrics.json); None where the run has no such file."""
    dev = None
    try:
        lines = (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
        entries = [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError):
        entries = []
    key = f"dev_{metric}"  # the validation entry: dev_loss, dev_ppl, dev_wer, dev_bleu, ...
    for entry in entries:
        value = entry.get(key)
        if value is not None and (dev is None or is_better(metric, value, dev.get(key))):
            dev = entry
    if dev is None and entries:
        dev = entries[-1]
    try:
        test = json.loads((run / "metrics.json").read_text(encoding="utf-8")).get("test")
    except (OSError, ValueError, AttributeError):
        test = None
    return {"dev": dev, "test": test}
