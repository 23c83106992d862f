"""`seq2seq data aeslc`: the upstream files parsed as the shared copy was made, the extracted
copy read back, the download over a file:// archive, and the files the configs read."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from seq2seq.cli import main
from seq2seq.data import aeslc
from seq2seq.data.corpus import read_split
from seq2seq.data.io import read_tsv
from seq2seq.data.splits import references
from seq2seq.errors import UserError

EMAIL = (
    "Hi Phillip,  This message is to confirm our meeting.\nI can be reached at 713-345-6687.\n"
    "Thanks,\n\n@subject\nConfirmation: Meeting 10/30/01\n\n@ann0\nmeeting confimation\n\n"
    "@ann1\nmeeting confirmation\n\n@ann2\nmeeting   confirmed"
)


def _upstream(root: Path) -> Path:
    """A small copy of the repository's layout: enron_subject_line/{train,dev}/*.subject."""
    base = root / "enron_subject_line"
    for split, n in (("train", 3), ("dev", 2)):
        (base / split).mkdir(parents=True)
        for i in range(n):
            text = EMAIL.replace("Phillip", f"P{i}")
            if split == "train":
                text = text.split("\n\n@ann0")[0]  # training emails have no annotations
            (base / split / f"allen-p_inbox_{i}.subject").write_text(text, encoding="utf-8")
    return root


def test_parse_email_splits_at_the_markers_and_collapses_whitespace():
    e = aeslc.parse_email(EMAIL)
    assert e["src"] == (
        "Hi Phillip, This message is to confirm our meeting. I can be reached at "
        "713-345-6687. Thanks,"
    )
    assert e["tgt"] == "Confirmation: Meeting 10/30/01"
    assert [e[f"ann{k}"] for k in range(3)] == [
        "meeting confimation",
        "meeting confirmation",
        "meeting confirmed",
    ]


def test_prepare_from_the_upstream_layout(tmp_path):
    written = aeslc.prepare_aeslc(tmp_path / "out", _upstream(tmp_path / "up"))
    assert set(written) == {"train", "dev"}
    assert "tsv" not in written["train"] and "ann0" not in written["train"]
    train = read_split(_split(written["train"]))
    assert len(train) == 3 and train[0][1] == "Confirmation: Meeting 10/30/01"
    dev = read_tsv(written["dev"]["tsv"])  # each body once per annotation
    sources, refs = references(dev)
    assert len(dev) == 6 and len(sources) == 2
    assert refs[0] == ["meeting confimation", "meeting confirmation", "meeting confirmed"]
    assert (
        written["dev"]["ann2"].read_text(encoding="utf-8").splitlines() == ["meeting confirmed"] * 2
    )


def test_the_extracted_copy_reads_back_the_same(tmp_path):
    first = aeslc.prepare_aeslc(tmp_path / "a", _upstream(tmp_path / "up"))
    second = aeslc.prepare_aeslc(tmp_path / "b", tmp_path / "a")
    for split, files in first.items():
        for kind, path in files.items():
            assert second[split][kind].read_bytes() == path.read_bytes(), (split, kind)


def test_download_unpacks_the_archive(tmp_path, monkeypatch):
    """The real download code over a file:// URL standing for GitHub's archive."""
    up = _upstream(tmp_path / "up")
    archive = tmp_path / "AESLC.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(up.rglob("*.subject")):
            z.write(f, f"AESLC-{aeslc.COMMIT}/{f.relative_to(up)}")
    monkeypatch.setattr(aeslc, "AESLC_URL", archive.as_uri())
    written = aeslc.prepare_aeslc(tmp_path / "out")
    assert len(read_tsv(written["dev"]["tsv"])) == 6
    assert (tmp_path / "out" / "raw" / f"AESLC-{aeslc.COMMIT}.zip").is_file()


def test_misaligned_or_missing_copies_are_one_line_and_leave_nothing(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train.src").write_text("a\nb\n", encoding="utf-8")
    (bad / "train.tgt").write_text("a\n", encoding="utf-8")
    with pytest.raises(UserError, match="not line-aligned"):
        aeslc.prepare_aeslc(tmp_path / "o1", bad)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no AESLC training data"):
        aeslc.prepare_aeslc(tmp_path / "o2", tmp_path / "empty")
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_cli_writes_the_files_the_configs_read(tmp_path, capsys):
    up = _upstream(tmp_path / "up")
    assert main(["data", "aeslc", "--from", str(up), "--out", str(tmp_path / "aeslc")]) == 0
    said = capsys.readouterr().out
    assert "dev.tsv" in said and "dev.ann2" in said
    names = {p.name for p in (tmp_path / "aeslc").iterdir()}
    assert {"train.src", "train.tgt", "dev.src", "dev.tgt", "dev.tsv"} <= names
    assert {f"dev.ann{k}" for k in range(3)} <= names


def test_shared_copy_if_present(tmp_path):
    """The shared corpus read whole: 14,436 training pairs, 1,960 dev emails x 3 subjects."""
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "aeslc_subject_line"
    if not shared.is_dir():
        pytest.skip(f"{shared}: the shared AESLC copy is not here")
    written = aeslc.prepare_aeslc(tmp_path / "out", shared)
    assert len(written["train"]["src"].read_text(encoding="utf-8").splitlines()) == 14436
    assert len(read_tsv(written["dev"]["tsv"])) == 3 * 1960


def _split(files: dict):
    from seq2seq.config import SplitConfig

    return SplitConfig(src=str(files["src"]), tgt=str(files["tgt"]))
