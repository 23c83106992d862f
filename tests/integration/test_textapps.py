"""The text applications end to end on a tiny Chinese character model: constrained couplet
decoding from the config and the command line, `seq2seq generate` (beam, greedy, seeded
sampling), BLEU per character, and Chinese output as UTF-8 without spaces."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import pytest
from helpers import tiny_config, write_pairs

from seq2seq.cli import main
from seq2seq.training import train

CHARS = "天地山水风云日月花鸟春秋江河"


def _pairs(n: int = 24, seed: int = 3) -> list[tuple[str, str]]:
    """Couplet-like pairs: each character mapped to its partner, `，` kept in place."""
    partner = dict(zip(CHARS, CHARS[::-1]))
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        line = "".join(rng.choice(CHARS) for _ in range(rng.randint(3, 7)))
        if rng.random() < 0.5:
            cut = rng.randint(1, len(line) - 1)
            line = line[:cut] + "，" + line[cut:]
        if line not in [s for s, _ in out]:
            out.append((line, "".join(partner.get(c, c) for c in line)))
    return out


@pytest.fixture(scope="module")
def couplet_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("couplet")
    pairs = _pairs()
    tsv = write_pairs(root / "train.tsv", pairs)
    cfg = tiny_config(
        tsv,
        dev_tsv=tsv,
        data={"reverse_source": False},
        model={"attention": "general"},
        train={
            "max_steps": 60,
            "valid_every": 30,
            "lr": 0.02,
            "metric": "bleu",
            "bleu_tokenize": "zh",
        },
        decode={"length": "source", "copy_tokens": ["，"]},
    )
    train(cfg, root / "run", progress=False, log=lambda msg: None)
    return root / "run", pairs


def _shape_kept(src: str, hyp: str) -> bool:
    return len(hyp) == len(src) and all((a == "，") == (b == "，") for a, b in zip(src, hyp))


def test_constrained_outputs_keep_length_and_punctuation(couplet_run, tmp_path):
    run, pairs = couplet_run
    novel = ["天天天天天天天天天天天", "江，河", "花鸟，风云，日月"]  # unseen lengths and shapes
    src = tmp_path / "in.txt"
    src.write_text("".join(s + "\n" for s, _ in pairs) + "".join(s + "\n" for s in novel), "utf-8")
    sources = src.read_text(encoding="utf-8").splitlines()
    for extra in ([], ["--greedy"], ["--sample", "--seed", "2"], ["--beam", "3"]):
        out = tmp_path / "out.txt"
        assert main(["translate", "--model", str(run), "-i", str(src), "-o", str(out), *extra]) == 0
        hyps = out.read_text(encoding="utf-8").splitlines()
        assert all(_shape_kept(s, h) for s, h in zip(sources, hyps)), extra
        assert not any(" " in h for h in hyps)


def test_constraints_can_be_switched_off_on_the_command_line(couplet_run, tmp_path, capsys):
    run, _ = couplet_run
    src = tmp_path / "in.txt"
    src.write_text("天天天天天天天天天天天天天天\n", encoding="utf-8")
    args = ["translate", "--model", str(run), "-i", str(src), "--greedy"]
    assert main([*args, "--length", "free", "--copy-tokens"]) == 0
    free = capsys.readouterr().out.strip()
    assert main(args) == 0
    assert len(capsys.readouterr().out.strip()) == 14
    assert len(free) <= 2 * 14 + 10  # only the max_len cap holds it
    assert main([*args, "--copy-tokens", "。"]) == 2
    assert "not in the model's target vocabulary" in capsys.readouterr().err


def test_generate_writes_n_lines_each_fed_back(couplet_run, capsys):
    run, pairs = couplet_run
    firsts = [pairs[0][0], "花鸟风云"]
    assert main(["generate", "--model", str(run), "--lines", "4", *firsts]) == 0
    poems = capsys.readouterr().out.split("\n\n")
    assert [len(p.strip().splitlines()) for p in poems] == [4, 4]
    for first, poem in zip(firsts, poems):
        lines = poem.strip().splitlines()
        assert lines[0] == first and all(_shape_kept(first, x) for x in lines)


def test_generate_sampling_is_seeded_and_top_k_one_is_greedy(couplet_run, capsys):
    run, _ = couplet_run
    base = ["generate", "--model", str(run), "--lines", "3", "天地山水风"]

    def out(*extra):
        assert main([*base, *extra]) == 0
        return capsys.readouterr().out

    a, b = out("--sample", "--seed", "5"), out("--sample", "--seed", "5")
    assert a == b
    assert out("--sample", "--top-k", "1") == out("--greedy")
    assert main([*base, "--sample", "--greedy"]) == 2


def test_evaluate_bleu_per_character(tmp_path, capsys):
    hyp, ref = tmp_path / "hyp", tmp_path / "ref"
    hyp.write_text("东西役梦魂\n", encoding="utf-8")
    ref.write_text("东西役梦人\n", encoding="utf-8")
    assert main(["evaluate", "--hyp", str(hyp), "--ref", str(ref), "--tokenize", "zh"]) == 0
    out = capsys.readouterr().out
    assert "tok:zh" in out and "bleu: 66.87" in out  # 4/5, 3/4, 2/3, 1/2 n-grams
    assert main(["evaluate", "--hyp", str(hyp), "--ref", str(ref)]) == 0
    assert "bleu: 0.0000" in capsys.readouterr().out  # 13a: one "word" per line


def test_same_shape_counts_length_and_marks_in_place(tmp_path, capsys):
    from seq2seq.evaluation import same_shape

    src = ["天地，山水", "风云", "日月"]
    assert same_shape(src, ["江河，花鸟", "春秋", "江河"]) == 1.0
    assert same_shape(src, ["江河花，鸟", "春，", "江"]) == 0.0  # moved, added, too short
    hyp, ref, s = tmp_path / "hyp", tmp_path / "ref", tmp_path / "src"
    for path, lines in ((hyp, ["江河，花鸟", "春秋秋", "江河"]), (ref, src), (s, src)):
        path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    args = ["evaluate", "--hyp", str(hyp), "--ref", str(ref), "--tokenize", "zh"]
    assert main([*args, "--same-shape", str(s)]) == 0
    assert "same_shape: 0.6667" in capsys.readouterr().out


def test_chinese_output_is_utf8_under_a_c_locale(couplet_run):
    run, _ = couplet_run
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    env.pop("PYTHONIOENCODING", None)
    cmd = [sys.executable, "-m", "seq2seq", "generate", "--model", str(run), "--lines", "2", "天地"]
    done = subprocess.run(cmd, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    lines = done.stdout.decode("utf-8").splitlines()
    assert lines[0] == "天地" and len(lines[1]) == 2
