"""examples/g2p_unlabeled_words.py: which word types of running text become unlabelled G2P input."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "g2p_unlabeled_words.py"


def load_script():
    spec = importlib.util.spec_from_file_location("g2p_unlabeled_words", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_words_are_new_pronounceable_types_counted_over_all_corpora(tmp_path):
    text = tmp_path / "a.txt.gz"
    with gzip.open(text, "wt", encoding="utf-8") as f:
        f.write("Zorbly went to d'Arc, the NT zorbly; Known words stay known.\nGlimp's KFW\n")
    other = tmp_path / "b.txt"
    other.write_text("glimp's went zorbly\n", encoding="utf-8")
    known = tmp_path / "dict.tsv"
    known.write_text("WENT\tW EH N T\nKNOWN\tN OW N\n", encoding="utf-8")
    out = tmp_path / "words.txt"
    script = load_script()
    assert script.main([str(text), str(other), "--exclude", str(known), "-o", str(out)]) == 0
    # upper-cased types, sorted; no excluded word, no vowel-less abbreviation, no elision,
    # nothing under 3 letters
    assert out.read_text().split() == ["GLIMP'S", "STAY", "THE", "WORDS", "ZORBLY"]
    script.main(
        [str(text), str(other), "--exclude", str(known), "--min-count", "2", "-o", str(out)]
    )
    assert out.read_text().split() == ["GLIMP'S", "ZORBLY"]
    script.main([str(text), "--exclude-cmudict", "-o", str(out)])
    assert "THE" not in out.read_text().split() and "ZORBLY" in out.read_text().split()
