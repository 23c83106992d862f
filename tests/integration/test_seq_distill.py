"""Sequence-level distillation: the chunked cache of teacher outputs resumes to exactly the
files of an uninterrupted run, and a tiny teacher -> student run end to end."""

from __future__ import annotations

import json

import pytest
import yaml
from helpers import tiny_config_dict, write_pairs

from seq2seq import Translator
from seq2seq.cli import main
from seq2seq.config import config_from_dict
from seq2seq.distillation import distill
from seq2seq.distillation.cache import LabelCache
from seq2seq.errors import UserError
from seq2seq.models import count_parameters

SOURCES = [f"s{i:02d}" for i in range(23)]  # 5 chunks of 5: the last one has 3
IDENT = {"teachers": ["t"], "beam": 5}


class Labeller:
    """A deterministic stand-in for the teachers that counts its calls and can fail."""

    def __init__(self, fail_on: int | None = None):
        self.calls, self.fail_on = 0, fail_on

    def __call__(self, part: list[str]) -> list[str]:
        self.calls += 1
        if self.calls == self.fail_on:
            raise RuntimeError("killed")
        return [s.upper()[::-1] for s in part]


def files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def uninterrupted(tmp_path):
    cache = LabelCache(tmp_path / "whole", IDENT, SOURCES, 5)
    assert cache.fill(Labeller())
    return files(tmp_path / "whole")


def test_a_budget_stops_and_a_rerun_completes_identically(tmp_path, uninterrupted):
    folder = tmp_path / "cut"
    first = Labeller()
    assert not LabelCache(folder, IDENT, SOURCES, 5).fill(first, budget=2)
    assert first.calls == 2
    assert sorted(files(folder)) == ["chunk-00000.jsonl", "chunk-00001.jsonl", "manifest.json"]
    rest = Labeller()
    cache = LabelCache(folder, IDENT, SOURCES, 5)
    assert cache.fill(rest)
    assert rest.calls == 3  # only the missing chunks
    assert files(folder) == uninterrupted
    assert cache.outputs() == [s.upper()[::-1] for s in SOURCES]


def test_a_crash_mid_chunk_leaves_no_partial_file(tmp_path, uninterrupted):
    folder = tmp_path / "crash"
    with pytest.raises(RuntimeError, match="killed"):
        LabelCache(folder, IDENT, SOURCES, 5).fill(Labeller(fail_on=3))
    assert sorted(files(folder)) == ["chunk-00000.jsonl", "chunk-00001.jsonl", "manifest.json"]
    assert LabelCache(folder, IDENT, SOURCES, 5).fill(Labeller())
    assert files(folder) == uninterrupted


@pytest.mark.parametrize(
    "ident, sources, chunk, changed",
    [
        ({**IDENT, "beam": 4}, SOURCES, 5, "beam"),
        (IDENT, SOURCES[:-1], 5, "sources, sources_sha256"),
        (IDENT, SOURCES, 4, "chunk"),
    ],
)
def test_a_cache_of_other_settings_is_refused(tmp_path, ident, sources, chunk, changed):
    LabelCache(tmp_path / "c", IDENT, SOURCES, 5).fill(Labeller(), budget=1)
    with pytest.raises(UserError) as e:
        LabelCache(tmp_path / "c", ident, sources, chunk)
    assert str(e.value) == (
        f"{tmp_path / 'c'}: its teacher outputs were made with other {changed}; use another "
        "--out, or delete that folder to label again"
    )


def test_distill_end_to_end(memorised, tmp_path, capsys):
    """The memorised model teaches a smaller student, first stopped after one chunk, then
    resumed through the CLI: the student's training data is the teacher's beam output for
    every source, and the report holds both models' metric, size and speed."""
    teacher_run, pairs, _ = memorised
    tsv = write_pairs(tmp_path / "words.tsv", pairs)
    raw = tiny_config_dict(
        tsv,
        tsv,
        data={"test": {"tsv": str(tsv)}},
        model={"hidden_size": 48},
        train={"max_steps": 150},
    )
    (tmp_path / "student.yaml").write_text(yaml.safe_dump(raw))
    out, lines = tmp_path / "student", []
    cfg = config_from_dict(raw)
    stopped = distill(
        [str(teacher_run)], cfg, out, chunk=7, budget=1, progress=False, log=lines.append
    )
    assert stopped == {"complete": False}
    assert sorted(p.name for p in (out / "distill").iterdir()) == [
        "chunk-00000.jsonl",
        "manifest.json",
    ]
    argv = ["distill", "--teacher", str(teacher_run), "--config", str(tmp_path / "student.yaml")]
    assert main([*argv, "--out", str(out), "--chunk", "7", "--no-progress"]) == 0
    report = json.loads((out / "distill" / "report.json").read_text())
    assert json.loads(capsys.readouterr().out) == {"run": str(out), "complete": True, **report}
    # as distill loads them: the default device, precision auto (bf16 on a recent GPU)
    teacher = Translator.load(teacher_run, precision="auto")
    sources = [s for s, _ in pairs]
    labels = teacher.translate(sources, beam=teacher.cfg.decode.beam)
    assert (out / "distill" / "train.tsv").read_text().splitlines() == [
        f"{s}\t{h}" for s, h in zip(sources, labels)
    ]
    student = Translator.load(out, precision="auto")
    assert (report["split"], report["metric"], report["beam"]) == ("test", "wer", 3)
    for who, t in (("teacher", teacher), ("student", student)):
        assert report[who]["parameters"] == count_parameters(t.model)
        assert report[who]["wer"] == pytest.approx(t.evaluate(pairs, "wer", beam=3)[0]["wer"])
        assert report[who]["wer_greedy"] == pytest.approx(
            t.evaluate(pairs, "wer", beam=1)[0]["wer"]
        )
        assert report[who]["sent_per_s"] > 0 and report[who]["sent_per_s_greedy"] > 0
    assert report["student"]["parameters"] < report["teacher"]["parameters"]
    assert report["teacher"]["wer"] == 0.0  # it memorised the pairs, so its outputs are theirs
    assert labels == [t for _, t in pairs]
