"""The command line end to end on the memorised model: translate (files, stdin, n-best),
evaluate, and train from a YAML file."""

from __future__ import annotations

import io
import json
import re

import yaml
from helpers import make_pairs, tiny_config_dict, write_pairs

from seq2seq.cli import main


def test_translate_files(memorised, tmp_path):
    run_dir, pairs, _ = memorised
    src = tmp_path / "in.txt"
    src.write_text("".join(s + "\n" for s, _ in pairs), encoding="utf-8")
    for extra in ([], ["--greedy"], ["--beam", "2", "--batch-size", "3"]):
        out = tmp_path / "out.txt"
        args = ["translate", "--model", str(run_dir), "-i", str(src), "-o", str(out)]
        assert main([*args, "--device", "cpu", *extra]) == 0
        assert out.read_text(encoding="utf-8").splitlines() == [t for _, t in pairs]


def test_translate_with_a_bad_beam_is_one_line(memorised, tmp_path, capsys):
    run_dir, pairs, _ = memorised
    src = tmp_path / "in.txt"
    src.write_text(pairs[0][0] + "\n", encoding="utf-8")
    args = ["translate", "--model", str(run_dir), "-i", str(src), "--device", "cpu"]
    assert main([*args, "--beam", "2", "--nbest", "3"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: decoding options (beam=2, nbest=3): `decode.beam` must be >= 1 and "
        "1 <= `decode.nbest` <= beam"
    ]


def test_translate_stdin_to_stdout(memorised, monkeypatch, capsys):
    run_dir, pairs, _ = memorised
    raw = f"{pairs[0][0]}\n{pairs[1][0]}\n".encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    assert main(["translate", "--model", str(run_dir), "--device", "cpu"]) == 0
    assert capsys.readouterr().out.splitlines() == [pairs[0][1], pairs[1][1]]


def test_translate_nbest_format(memorised, tmp_path):
    run_dir, pairs, _ = memorised
    src = tmp_path / "in.txt"
    src.write_text("".join(s + "\n" for s, _ in pairs[:5]), encoding="utf-8")
    out = tmp_path / "nbest.txt"
    args = ["translate", "--model", str(run_dir), "-i", str(src), "-o", str(out), "--nbest", "2"]
    assert main([*args, "--device", "cpu"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 10
    pattern = re.compile(r"^(\d+) \|\|\| (.*) \|\|\| (-?\d+\.\d{4})$")
    parsed = [pattern.match(line) for line in lines]
    assert all(parsed), lines
    assert [int(m.group(1)) for m in parsed] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    for i, (_, target) in enumerate(pairs[:5]):
        first, second = parsed[2 * i], parsed[2 * i + 1]
        assert first.group(2) == target
        assert second.group(2) != target
        assert float(first.group(3)) > float(second.group(3))
        assert float(first.group(3)) <= 0


def test_rescore_an_nbest_list_from_the_command_line(memorised, tmp_path, capsys):
    run_dir, pairs, _ = memorised
    pairs = pairs[:4]
    src, dev_ref = tmp_path / "src.txt", tmp_path / "ref.txt"
    src.write_text("".join(s + "\n" for s, _ in pairs), encoding="utf-8")
    dev_ref.write_text("".join(t + "\n" for _, t in pairs), encoding="utf-8")
    # another system's list: a wrong first candidate with the better old score, then the right one
    nbest = tmp_path / "other.nbest"
    nbest.write_text(
        "".join(
            f"{i} ||| {pairs[(i + 1) % 4][1]} ||| lm=1 ||| -1.0\n{i} ||| {t} ||| lm=2 ||| -9.0\n"
            for i, (_, t) in enumerate(pairs)
        ),
        encoding="utf-8",
    )
    args = ["rescore", "--model", str(run_dir), "--nbest", str(nbest), "--src", str(src)]
    assert main([*args, "--weight", "0"]) == 0  # the old scores alone keep the wrong ones
    assert capsys.readouterr().out.splitlines() == [pairs[(i + 1) % 4][1] for i in range(4)]
    assert main([*args, "--weight", "1"]) == 0  # the model alone picks what it memorised
    assert capsys.readouterr().out.splitlines() == [t for _, t in pairs]
    dev = ["--dev-nbest", str(nbest), "--dev-src", str(src), "--dev-ref", str(dev_ref)]
    assert main([*args, *dev]) == 0  # the tuned weight reaches the references
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [t for _, t in pairs]
    assert "tuned weight" in captured.err

    assert main([*args, "--weight", "2"]) != 0
    assert capsys.readouterr().err.strip() == (
        "error: --weight 2.0: must be in [0, 1] (0 keeps the old score, 1 the model's)"
    )
    dev_ref.write_text(pairs[0][1] + "\n", encoding="utf-8")
    assert main([*args, *dev]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has 4 lines but" in err[0] and "line-aligned" in err[0]


def test_evaluate_wer_against_a_tsv_reference(memorised, tmp_path, capsys):
    _, pairs, _ = memorised
    ref = write_pairs(tmp_path / "ref.tsv", pairs + [(pairs[2][0], "SECOND REFERENCE")])
    hyp = tmp_path / "hyp.txt"
    hyps = [t for _, t in pairs]
    hyp.write_text("".join(h + "\n" for h in hyps), encoding="utf-8")
    assert main(["evaluate", "--hyp", str(hyp), "--ref", str(ref), "--metric", "wer"]) == 0
    assert capsys.readouterr().out.splitlines() == ["wer: 0.0000", "per: 0.0000"]

    hyps[0] = hyps[0][:-1]  # one word wrong by one deleted character
    hyp.write_text("".join(h + "\n" for h in hyps), encoding="utf-8")
    assert main(["evaluate", "--hyp", str(hyp), "--ref", str(ref), "--metric", "wer"]) == 0
    out = dict(line.split(": ") for line in capsys.readouterr().out.splitlines())
    assert float(out["wer"]) == 1 / 20
    total = sum(len(t.split()) for _, t in pairs)  # a char-level target is one "word"
    assert float(out["per"]) == round(1 / total, 4)


def test_evaluate_bleu_with_two_reference_files(tmp_path, capsys):
    hyp, r1, r2 = (tmp_path / n for n in ("h.txt", "r1.txt", "r2.txt"))
    hyp.write_text("the cat sat on the mat\n", encoding="utf-8")
    r1.write_text("a cat sat on the mat\n", encoding="utf-8")
    r2.write_text("the cat sat on the mat\n", encoding="utf-8")
    assert main(["evaluate", "--hyp", str(hyp), "--ref", str(r1), str(r2)]) == 0
    out = capsys.readouterr().out
    assert "bleu: 100.0000" in out and "nrefs:2" in out


def test_train_from_yaml_reports_test_scores(tmp_path, capsys):
    train_tsv = write_pairs(tmp_path / "train.tsv", make_pairs(12, seed=8))
    test_tsv = write_pairs(tmp_path / "test.tsv", make_pairs(4, seed=9))
    raw = tiny_config_dict(train_tsv, data={"test": {"tsv": str(test_tsv)}})
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    out_dir = tmp_path / "run"
    args = ["train", str(config), "--out", str(out_dir), "--no-progress"]
    assert main([*args, "--set", "train.max_steps=4", "--set", "decode.beam=2"]) == 0
    out = capsys.readouterr().out  # progress log lines, then the JSON report
    report = json.loads(out[re.search(r"^\{$", out, re.MULTILINE).start() :])
    assert report["steps"] == 4 and report["run"] == str(out_dir)
    assert set(report["test"]) == {"wer", "per"}
    assert report["decode"]["beam"] == 2
    assert json.loads((out_dir / "metrics.json").read_text())["test"] == report["test"]
    assert len((out_dir / "test.hyp").read_text().splitlines()) == 4
