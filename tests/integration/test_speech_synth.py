"""`seq2seq data speech-synth` on a tiny size: real espeak-ng, flite and festival renders,
voices disjoint across splits, festival only in test_engine, the recipe written down."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from seq2seq.cli import main
from seq2seq.data import speech_synth as ss
from seq2seq.errors import UserError

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
ENGINES_HERE = all(shutil.which(c) for c in ss.ENGINES.values())
pytest.importorskip("soundfile", reason="the speech extra is not installed")


def speakers(rows):
    return {(r["engine"], r["voice"]) for r in rows}


def test_voice_split_is_disjoint_and_festival_is_held_out():
    bases = ["en", "en-US", "en-GB-scotland"]
    by_split = {s: set(ss.voices(s, bases)) for s in ("train", "dev", "test", "test_engine")}
    names = list(by_split)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not by_split[a] & by_split[b], (a, b)
    assert by_split["test_engine"] == {("festival", "kal_diphone")}
    assert all(e != "festival" for s in ("train", "dev", "test") for e, _ in by_split[s])
    variants = {s: {v.split("+")[1] for e, v in by_split[s] if e == "espeak-ng"} for s in names[:3]}
    assert not variants["train"] & (variants["dev"] | variants["test"])


def test_a_plan_is_a_pure_function_of_seed_split_and_index():
    a = ss.plan("train", 7, "A dog runs.", ["en"], seed=3)
    assert a == ss.plan("train", 7, "A dog runs.", ["en"], seed=3)
    assert a != ss.plan("train", 8, "A dog runs.", ["en"], seed=3)


def test_a_missing_engine_says_what_to_install(monkeypatch, tmp_path):
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda c: None if c == "flite" else real(c))
    with pytest.raises(UserError, match="flite not found; install it: apt-get install espeak-ng"):
        ss.build_speech_synth(tmp_path / "out", SHARED)


@pytest.mark.skipif(not ENGINES_HERE, reason="apt-get install espeak-ng flite festival")
@pytest.mark.skipif(not (SHARED / "multi30k").is_dir(), reason="../shared/data is not here")
def test_a_tiny_corpus(tmp_path, capsys):
    out = tmp_path / "synth"
    args = ["data", "speech-synth", "--out", str(out), "--hours", "0.004"]
    assert main([*args, "--eval-utterances", "4", "--workers", "1", "--from", str(SHARED)]) == 0
    assert "test_engine" in capsys.readouterr().out
    header, *lines = (out / "utterances.tsv").read_text().splitlines()
    rows = [dict(zip(header.split("\t"), ln.split("\t"))) for ln in lines]
    split = {
        s: [r for r in rows if r["split"] == s] for s in ("train", "dev", "test", "test_engine")
    }
    assert [len(split[s]) for s in ("dev", "test", "test_engine")] == [4, 4, 4]
    assert sum(float(r["seconds"]) for r in split["train"]) >= 0.004 * 3600
    for a in split:
        for b in split:
            if a < b:
                assert not speakers(split[a]) & speakers(split[b]), (a, b)
    assert speakers(split["test_engine"]) == {("festival", "kal_diphone")}
    assert [r["text"] for r in split["test_engine"]] == [r["text"] for r in split["test"]]
    assert not {r["text"] for r in split["train"]} & {
        r["text"] for r in split["dev"] + split["test"]
    }
    import soundfile as sf

    from seq2seq.data.speech import read_manifest

    for s in split:
        utts = read_manifest(out / f"{s}.tsv")
        info = sf.info(str(utts[0].audio))
        assert len(utts) == len(split[s]) and (info.samplerate, info.channels) == (16000, 1)
    assert len(list((out / "train").glob("*.wav"))) == len(split["train"])  # extras removed
    readme = (out / "README.md").read_text()
    assert "| test_engine | 4 |" in readme and "kal_diphone" in readme and "--seed 1" in readme


@pytest.mark.skipif(not ENGINES_HERE, reason="apt-get install espeak-ng flite festival")
def test_a_job_renders_the_same_file_twice(tmp_path):
    for k, engine in enumerate(("espeak-ng", "flite")):
        job = ss.plan("dev", k, "Two dogs play in the snow.", ["en-US"], seed=5)
        while job["engine"] != engine:  # the first index this engine speaks
            k += 2
            job = ss.plan("dev", k, "Two dogs play in the snow.", ["en-US"], seed=5)
        files = []
        for copy in ("a", "b"):
            (tmp_path / copy / "dev").mkdir(parents=True)
            assert ss.render(job, tmp_path / copy) > 1.0
            files.append((tmp_path / copy / "dev" / f"{job['id']}.wav").read_bytes())
            (tmp_path / copy / "dev" / f"{job['id']}.wav").unlink()
            (tmp_path / copy / "dev").rmdir()
        assert files[0] == files[1], engine
