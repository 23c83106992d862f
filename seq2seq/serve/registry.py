"""The models one server holds: `--model [NAME=]PATH` each, loaded once, described for
`GET /v1/models` (type, vocabularies, decoding defaults, the run's dev and test metrics)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..evaluation import is_better
from ..translator import Translator

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass
class ServedModel:
    name: str
    path: Path
    translator: Translator

    @property
    def attention(self) -> bool:
        """Whether its translations carry attention (an alignment matrix)."""
        model = self.translator.cfg.model
        return model.type == "transformer" or getattr(model, "attention", "none") != "none"

    @property
    def task(self) -> str:
        """g2p (spelling -> phonemes: the page splits lines into words) or translation."""
        data = self.translator.cfg.data
        g2p = data.dataset == "cmudict" or (
            data.src_tokenizer.kind == "char" and data.tgt_tokenizer.kind == "word"
        )
        return "g2p" if g2p else "translation"

    def describe(self) -> dict:
        t = self.translator
        cfg, p = t.cfg, t.processor
        return {
            "name": self.name,
            "path": str(self.path),
            "type": cfg.model.type,
            "attention": self.attention,
            "task": self.task,
            "device": str(t.device),
            "precision": t.precision,
            "vocab": {"source": len(p.src_vocab), "target": len(p.tgt_vocab)},
            "tokenizers": {"source": p.cfg.src_tokenizer.kind, "target": p.cfg.tgt_tokenizer.kind},
            "decode": {
                "beam": cfg.decode.beam,
                "nbest": cfg.decode.nbest,
                "length_penalty": cfg.decode.length_penalty,
            },
            "metrics": run_metrics(run_folder(self.path), cfg.train.metric),
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
    """Each `--model` spec loaded as a Translator; names must differ."""
    named = [parse_spec(s) for s in specs]
    names = [n for n, _ in named]
    for n in names:
        if names.count(n) > 1:
            raise UserError(f"--model: two models are named {n!r}; name them: --model NAME=PATH")
    return [
        ServedModel(name, path, Translator.load(path, device=device, precision=precision))
        for name, path in named
    ]


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
