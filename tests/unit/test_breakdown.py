"""`seq2seq breakdown`: Figure 3 for several systems over the same buckets."""

from __future__ import annotations

import json
import random

import pytest

from seq2seq.analysis.breakdown import compare, table
from seq2seq.cli import main
from seq2seq.evaluation import bleu


def _corpus(n: int = 120, seed: int = 0):
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(40)]
    sources = [" ".join(rng.choices(words, k=rng.randint(3, 40))) for _ in range(n)]
    refs = [s.upper() for s in sources]
    good = [r if i % 3 else r.rsplit(" ", 1)[0] for i, r in enumerate(refs)]  # drops a word
    bad = [" ".join(r.split()[: max(1, len(r.split()) // 2)]) for r in refs]  # half of it
    return sources, refs, good, bad


def test_each_bucket_is_the_corpus_bleu_of_its_sentences():
    sources, refs, good, bad = _corpus()
    out = compare(sources, [[r] for r in refs], {"good": good, "bad": bad}, train_sources=sources)
    assert set(out) == {"by_length", "by_rarity"}
    for label, hyps in (("good", good), ("bad", bad)):
        rows = out["by_length"][label]
        assert sum(r["sentences"] for r in rows) == len(sources)
        assert all(r["sentences"] >= 20 for r in rows)
        for r in rows:
            idx = [i for i, s in enumerate(sources) if r["from"] <= len(s.split()) < r["to"]]
            want = bleu([hyps[i] for i in idx], [[refs[i]] for i in idx])[0]
            assert r["score"] == pytest.approx(want)
    same = [(r["from"], r["to"]) for r in out["by_length"]["good"]]
    assert same == [(r["from"], r["to"]) for r in out["by_length"]["bad"]]
    md = table(out["by_length"], whole_numbers=True)
    assert md.splitlines()[0] == "| bucket | sentences | good | bad |"


def test_the_command_prints_plots_and_writes_json(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    sources, refs, good, bad = _corpus()
    files = {}
    for name, lines in (("src", sources), ("ref", refs), ("good", good), ("bad", bad)):
        files[name] = tmp_path / f"{name}.txt"
        files[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["breakdown", "--src", str(files["src"]), "--ref", str(files["ref"])]
    args += ["--hyp", str(files["good"]), str(files["bad"]), "--label", "A", "B"]
    args += ["--plot", str(tmp_path / "fig3"), "--json", str(tmp_path / "b.json")]
    assert main(args) == 0
    assert "| bucket | sentences | A | B |" in capsys.readouterr().out
    assert (tmp_path / "fig3_length.png").stat().st_size > 1000
    assert not (tmp_path / "fig3_rarity.png").exists()  # no --train-src
    saved = json.loads((tmp_path / "b.json").read_text())
    assert set(saved["by_length"]) == {"A", "B"}


def test_misaligned_files_are_one_line(tmp_path, capsys):
    sources, refs, good, _ = _corpus()
    (tmp_path / "s").write_text("\n".join(sources) + "\n")
    (tmp_path / "r").write_text("\n".join(refs[:-1]) + "\n")
    (tmp_path / "h").write_text("\n".join(good) + "\n")
    args = ["breakdown", "--src", str(tmp_path / "s"), "--hyp", str(tmp_path / "h")]
    assert main(args + ["--ref", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "line-aligned" in err
    assert main(args + ["--ref", str(tmp_path / "h"), "--label", "a", "b"]) == 2
    assert "--label" in capsys.readouterr().err
