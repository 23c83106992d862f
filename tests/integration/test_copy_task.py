"""A toy copy task end to end (data -> training -> search -> text): each source hides a name
among filler words, and its target is `re NAME`. Every name occurs in one pair only, so
none is in the vocabulary: the pointer-generator must write names it has no id for (its
extended vocabulary), which the plain attention model cannot (it has only <unk>)."""

from __future__ import annotations

import random

import pytest
from helpers import tiny_config, write_pairs

import seq2seq
from seq2seq.cli import main
from seq2seq.training import train

FILLER = "please see the note about our plan for next week".split()


def _pairs(n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        name = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(6))
        words = rng.sample(FILLER, 4)
        words.insert(rng.randrange(5), name)
        out.append((" ".join(words), f"re {name}"))
    return out


def _train(root, *, copy: bool):
    train_tsv = write_pairs(root / "train.tsv", _pairs(240, seed=1))
    dev_tsv = write_pairs(root / "dev.tsv", _pairs(10, seed=2))
    words = {"kind": "word", "min_freq": 3}  # a name occurs twice: in a source and a target
    cfg = tiny_config(
        train_tsv,
        dev_tsv,
        data={
            "src_tokenizer": words,
            "tgt_tokenizer": words,
            "shared_vocab": True,
            "reverse_source": False,
        },
        model={"attention": "general", "input_feeding": False, "bidirectional": True, "copy": copy},
        train={"max_steps": 150, "valid_every": 150, "lr": 0.01, "metric": "rouge"},
    )
    run = root / ("copy" if copy else "plain")
    train(cfg, run, progress=False, log=lambda msg: None)
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("copytask")
    return _train(root, copy=True), _train(root, copy=False)


@pytest.fixture(scope="module")
def unseen():
    return _pairs(30, seed=3)  # names that no training pair holds


def _accuracy(translator, pairs, **decode) -> float:
    hyps = translator.translate([s for s, _ in pairs], **decode)
    return sum(h == t for h, (_, t) in zip(hyps, pairs)) / len(pairs)


def test_the_copy_model_writes_names_outside_its_vocabulary(runs, unseen):
    model = seq2seq.load(runs[0])
    assert all(t.split()[1] not in model.processor.tgt_vocab.stoi for _, t in unseen)
    assert _accuracy(model, unseen, greedy=True) >= 0.9
    assert _accuracy(model, unseen, beam=3) >= 0.9
    (best,) = model.translate_nbest([unseen[0][0]], beam=3, nbest=1)
    assert best[0].tokens == unseen[0][1].split()


def test_the_plain_model_cannot(runs, unseen):
    plain = seq2seq.load(runs[1])
    assert _accuracy(plain, unseen, greedy=True) == 0.0
    assert _accuracy(plain, unseen, beam=3) == 0.0
    assert plain.translate([unseen[0][0]], greedy=True)[0] == "re <unk>"
    banned = plain.translate([s for s, _ in unseen], greedy=True, ban_unk=True)
    assert all("<unk>" not in h for h in banned)  # a word instead, never the name
    assert _accuracy(plain, unseen, greedy=True, ban_unk=True) == 0.0


def test_scores_of_copied_targets_and_the_cli(runs, unseen, tmp_path):
    model = seq2seq.load(runs[0])
    (nb,) = model.translate_nbest([unseen[1][0]], beam=3)
    assert model.score([(unseen[1][0], nb[0].text)]) == pytest.approx([nb[0].score], abs=1e-4)
    src = tmp_path / "src.txt"
    src.write_text("".join(s + "\n" for s, _ in unseen[:5]), encoding="utf-8")
    out = tmp_path / "out.txt"
    assert main(["translate", "--model", str(runs[0]), "-i", str(src), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").splitlines() == [t for _, t in unseen[:5]]


def test_no_export_and_no_ensemble_with_a_plain_model(runs, unseen, tmp_path, capsys):
    out = str(tmp_path / "x")
    assert main(["export", "--format", "onnx", "--model", str(runs[0]), "--out", out]) == 2
    assert "a copying model (model.copy) has no onnx export" in capsys.readouterr().err
    src = tmp_path / "src.txt"
    src.write_text(unseen[0][0] + "\n", encoding="utf-8")
    assert main(["translate", "--model", str(runs[0]), str(runs[1]), "-i", str(src)]) == 2
    assert "copies from its source (model.copy)" in capsys.readouterr().err
