"""Built-in corpus preparation from a local copy; the Tatoeba grouped split."""

import gzip

import pytest

from seq2seq.data.datasets import prepare, split_tatoeba
from seq2seq.errors import UserError


def test_prepare_multi30k_from_a_local_copy(tmp_path):
    src = tmp_path / "copy"
    src.mkdir()
    for split, n in (("train", 5), ("val", 2), ("test_2016_flickr", 3)):
        for lang in ("de", "en"):
            with gzip.open(src / f"{split}.{lang}.gz", "wt", encoding="utf-8") as f:
                f.write("".join(f"{lang} {split} {i}\n" for i in range(n)))
    out = prepare("multi30k", "de-en", tmp_path / "out", src)
    assert set(out) == {"train", "dev", "test"}
    assert out["dev"][0].read_text(encoding="utf-8").splitlines() == ["de val 0", "de val 1"]
    assert len(out["test"][1].read_text(encoding="utf-8").splitlines()) == 3


def test_prepare_rejects_unknown_pair_and_missing_files(tmp_path):
    with pytest.raises(UserError, match="languages"):
        prepare("multi30k", "de-xx", tmp_path / "o", tmp_path)
    with pytest.raises(UserError, match="train"):
        prepare("multi30k", "de-en", tmp_path / "o", tmp_path)


def test_tatoeba_split_groups_by_english_and_fills_test_then_dev(tmp_path):
    pairs = [[f"en {i // 2}", f"fr {i}"] for i in range(8000)]  # every English sentence twice
    split_tatoeba(pairs, tmp_path)
    sides = {
        s: (tmp_path / f"{s}.en").read_text(encoding="utf-8").splitlines()
        for s in ("train", "dev", "test")
    }
    assert 2000 <= len(sides["test"]) <= 2001 and 1000 <= len(sides["dev"]) <= 1001
    assert sum(map(len, sides.values())) == 8000
    assert not set(sides["train"]) & (set(sides["dev"]) | set(sides["test"]))
    assert not set(sides["dev"]) & set(sides["test"])


def test_fetch_writes_a_verified_file_or_nothing(tmp_path):
    """A file:// URL stands in for the network: the right checksum writes the file whole; a
    wrong one writes nothing and names the URL."""
    import hashlib

    from seq2seq.data.datasets import fetch

    origin = tmp_path / "origin.txt"
    origin.write_bytes(b"ein mann\n" * 1000)
    good = hashlib.sha256(origin.read_bytes()).hexdigest()
    out = fetch(origin.as_uri(), tmp_path / "copy.txt", good)
    assert out.read_bytes() == origin.read_bytes()
    with pytest.raises(UserError, match="origin.txt: checksum mismatch"):
        fetch(origin.as_uri(), tmp_path / "bad.txt", "0" * 64)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.txt", "origin.txt"]


def test_download_multi30k_checks_the_pinned_checksums(tmp_path, monkeypatch):
    """The real download code over file:// URLs of the shared copy: every pinned SHA-256
    matches the public files (skipped where the shared data is absent)."""
    from pathlib import Path

    from seq2seq.data import datasets

    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "multi30k"
    if not shared.is_dir():
        pytest.skip(f"{shared}: the shared Multi30k copy is not here")
    monkeypatch.setattr(datasets, "MULTI30K_URL", shared.as_uri() + "/{split}.{lang}.gz")
    out = prepare("multi30k", "de-en", tmp_path / "out")
    assert len(out["train"][0].read_text(encoding="utf-8").splitlines()) == 29000
