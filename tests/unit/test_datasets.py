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
