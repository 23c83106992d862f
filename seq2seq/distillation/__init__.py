"""Sequence-level knowledge distillation (Kim & Rush, 2016): a student trained on what the
teacher (or an ensemble of teachers) outputs, not on the references.

`distill(teachers, student_cfg, out)`:
1. the teachers decode the unique sources of the student config's training split with beam
   search (`decode.beam` of the first teacher, or `beam`), into OUT/distill/ in chunks
   (`cache.LabelCache`: a killed run restarts where it stopped);
2. OUT/distill/train.tsv pairs each source with the teachers' output (with
   `mix_references`, the original pairs are added), dev.tsv and test.tsv keep the
   references; the student config's data section is pointed at them;
3. the student trains in OUT as `seq2seq train` would (resumable);
4. teachers and student are decoded on the test split (else dev) with the same settings:
   the task metric and sentences/s of each at the beam and greedily, and their parameters,
   in OUT/distill/report.json.

Token-level distillation (the teachers' distributions as soft targets) is
`train.distill_from` in `training/distill.py`; the two combine.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path

from tqdm import tqdm

from .. import checkpoints
from ..config import Config, SplitConfig
from ..data.corpus import load_splits
from ..data.io import write_text, write_tsv
from ..data.splits import references
from ..errors import Interrupted
from ..evaluation import METRICS
from ..models import count_parameters
from ..runs import evaluate_run
from ..training import train
from ..translator import INPUT_LIMIT_FACTOR, Translator
from .cache import LabelCache


def _log(message: str) -> None:
    tqdm.write(message, file=sys.stderr)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def identity(teachers: list[str], translator: Translator, beam: int) -> dict:
    """What the teachers' outputs depend on besides the sources: recorded in the cache."""
    d = translator.cfg.decode
    files = [checkpoints.find(t) for t in teachers]
    return {
        "teachers": [{"path": str(f.resolve()), "sha256": file_sha256(f)} for f in files],
        "beam": beam,
        "length_penalty": d.length_penalty,
        "early_stop": d.early_stop,
        "max_len": [d.max_len_a, d.max_len_b],
        "precision": translator.precision,
    }


def readable(translator: Translator, sources: list[str]) -> list[str]:
    """The sources the teachers accept (their input limit): the others get no output."""
    cfg = translator.cfg
    limit = cfg.decode.max_input_tokens or INPUT_LIMIT_FACTOR * cfg.data.max_src_len
    return [s for s in sources if len(translator.processor.encode_src(s)) <= limit]


def label(
    teacher: Translator,
    sources: list[str],
    folder: Path,
    ident: dict,
    *,
    chunk: int,
    budget: int | None = None,
    progress: bool = True,
    log=_log,
) -> list[str] | None:
    """The teachers' outputs for `sources` through the chunk cache in `folder`; None when
    `budget` chunks were decoded and some are left (a rerun goes on)."""
    cache = LabelCache(folder, ident, sources, chunk)
    done = cache.chunks - len(cache.missing())
    if done:
        log(f"teacher outputs: {done} of {cache.chunks} chunks already in {folder}")
    bar = tqdm(
        total=len(sources),
        initial=min(done * chunk, len(sources)),
        unit="sent",
        desc="teachers",
        disable=not progress,
        mininterval=1.0,
    )
    try:
        complete = cache.fill(
            lambda part: teacher.translate(part, beam=ident["beam"]), budget=budget, progress=bar
        )
    except KeyboardInterrupt:
        kept = cache.chunks - len(cache.missing())
        raise Interrupted(
            f"interrupted; {kept} of {cache.chunks} chunks of teacher outputs saved in {folder}; "
            "run the same command to resume"
        ) from None
    finally:
        bar.close()
    return cache.outputs() if complete else None


def student_config(cfg: Config, folder: Path, splits: dict) -> Config:
    """The student's config with its data read from the distilled files in `folder`."""
    tsv = {name: SplitConfig(tsv=str(folder / f"{name}.tsv")) for name in ("train", "dev", "test")}
    data = dataclasses.replace(
        cfg.data,
        dataset="files",
        train=tsv["train"],
        dev=tsv["dev"] if splits["dev"] else None,
        test=tsv["test"] if splits["test"] else None,
        dev_fraction=0.0,
        test_fraction=0.0,
    )
    return dataclasses.replace(cfg, data=data)


def write_data(folder: Path, sources, outputs, splits: dict, mix_references: bool) -> int:
    """train.tsv (teacher outputs, then the references if mixed), dev.tsv, test.tsv."""
    pairs = list(zip(sources, outputs)) + (splits["train"] if mix_references else [])
    write_tsv(folder / "train.tsv", pairs)
    for name in ("dev", "test"):
        if splits[name]:
            write_tsv(folder / f"{name}.tsv", splits[name])
    return len(pairs)


def measure(translator: Translator, pairs, metric: str, beam: int) -> dict:
    """Task metric, parameters and decoding speed on `pairs`, with beam search of width
    `beam` and greedily (Kim & Rush: a distilled student loses little without the beam)."""
    model = translator.model
    members = getattr(model, "members", (model,))
    n = len(references(pairs)[0])
    report = {"parameters": sum(count_parameters(m) for m in members), "models": len(members)}
    for k, suffix in ((beam, ""), (1, "_greedy")):
        start = time.perf_counter()
        scores, _ = translator.evaluate(pairs, metric, beam=k)
        seconds = time.perf_counter() - start
        report.update(
            {metric + suffix: scores[metric], "sent_per_s" + suffix: round(n / seconds, 1)}
        )
    return {**report, "sentences": n}


def distill(
    teachers: list[str],
    cfg: Config,
    out: str | Path,
    *,
    beam: int | None = None,
    precision: str = "auto",
    mix_references: bool = False,
    chunk: int = 1000,
    budget: int | None = None,
    progress: bool = True,
    log=_log,
) -> dict:
    """Label, train the student, compare; returns the report (see the module docstring).
    `budget`: decode at most that many chunks, then stop (returns {"complete": False})."""
    out = Path(out)
    folder = out / "distill"
    teacher = Translator.load(teachers, precision=precision)
    splits = load_splits(cfg.data)
    sources = readable(teacher, references(splits["train"])[0])
    ident = identity(teachers, teacher, beam or teacher.cfg.decode.beam)
    log(
        f"distillation: {len(teachers)} teacher(s) label {len(sources):,} sources at beam {ident['beam']}"
    )
    outputs = label(
        teacher, sources, folder, ident, chunk=chunk, budget=budget, progress=progress, log=log
    )
    if outputs is None:
        return {"complete": False}
    n = write_data(folder, sources, outputs, splits, mix_references)
    log(f"student: {n:,} training pairs in {folder / 'train.tsv'}")
    student_cfg = student_config(cfg, folder, splits)
    summary = train(student_cfg, out, progress=progress, log=log)
    evaluate_run(out)
    name = "test" if splits["test"] else "dev"
    metric = METRICS[cfg.train.metric].reported_as
    report = {"split": name, "metric": metric, "label_beam": ident["beam"], "training": summary}
    if splits[name]:  # both decoded as the student config says (decode.beam)
        student, k = Translator.load(out, precision=precision), cfg.decode.beam
        report.update(beam=k, teacher=measure(teacher, splits[name], metric, k))
        report["student"] = measure(student, splits[name], metric, k)
    write_text(folder / "report.json", json.dumps(report, indent=2) + "\n", "--out")
    return {"complete": True, **report}
