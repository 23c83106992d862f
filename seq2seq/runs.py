"""A finished training run's test evaluation: `metrics.json`, `test.src` and `test.hyp`.

Used by `seq2seq train` (after training) and the demo; the CLI only prints the result.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .config import load_config
from .data.corpus import read_split
from .data.io import read_tsv
from .data.speech import read_speech_split, speech_splits
from .evaluation import METRICS, asr_error_rates
from .forecasting import evaluate_series_run
from .transcriber import Transcriber
from .translator import Translator


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def evaluate_run(run_dir: str | Path, log=_log) -> dict:
    """Score the run's best checkpoint on its test split (if any); write metrics.json. A
    series run: its test origins, against the baselines (`forecasting.evaluate`)."""
    run_dir = Path(run_dir)
    cfg = load_config(run_dir / "config.yaml")
    if cfg.data.dataset == "series":  # rolling-origin forecasts against the baselines
        return evaluate_series_run(run_dir, log=log)
    if cfg.data.dataset == "speech":
        return evaluate_speech_run(run_dir, log=log)
    if (run_dir / "test.tsv").is_file():  # a split the run derived itself
        test = read_tsv(run_dir / "test.tsv")
    else:
        test = read_split(cfg.data.test) if cfg.data.test else []
    if not test:
        return {}
    translator = Translator.load(run_dir)
    scores, hyps = translator.evaluate(test, METRICS[cfg.train.metric].reported_as)
    sources = list(dict.fromkeys(s for s, _ in test))
    (run_dir / "test.src").write_text("".join(s + "\n" for s in sources), encoding="utf-8")
    (run_dir / "test.hyp").write_text("".join(h + "\n" for h in hyps), encoding="utf-8")
    metrics = {"test": scores, "decode": {"beam": translator.cfg.decode.beam}}
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics


def evaluate_speech_run(run_dir: Path, log=_log) -> dict:
    """WER and CER of the run's best checkpoint on each test set of `data.speech` (test and
    `more_tests`), decoded with its `decode` settings; writes `<name>.hyp` per set and
    metrics.json."""
    cfg = load_config(run_dir / "config.yaml")
    tests = {k: v for k, v in speech_splits(cfg.data.speech).items() if k not in ("train", "dev")}
    if not tests:
        return {}
    transcriber = Transcriber.load(run_dir)
    scores = {}
    for name, path in tests.items():
        utts = read_speech_split(cfg.data.speech.layout, path)
        hyps = [nb[0].text for nb in transcriber.transcribe([str(u.audio) for u in utts])]
        (run_dir / f"{name}.hyp").write_text("".join(h + "\n" for h in hyps), encoding="utf-8")
        scores[name] = asr_error_rates(hyps, [[u.text] for u in utts])
        log(f"{name}: WER {scores[name]['asr_wer']:.4f}, CER {scores[name]['asr_cer']:.4f}")
    metrics = {"test": scores, "decode": {"beam": cfg.decode.beam}}
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics
