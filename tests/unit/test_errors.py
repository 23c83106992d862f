"""Bad input ends in a UserError naming the file (and line), and the CLI prints it as one
`error:` line with exit code 2."""

from __future__ import annotations

import gzip

import pytest

from seq2seq import Translator
from seq2seq.cli import main
from seq2seq.data.io import read_lines, read_parallel, read_tsv, write_tsv
from seq2seq.errors import UserError


def test_reads_plain_gzip_and_crlf(tmp_path):
    plain = tmp_path / "a.txt"
    plain.write_bytes(b"one\r\ntwo\n\nfour")
    assert read_lines(plain) == ["one", "two", "", "four"]
    gz = tmp_path / "a.txt.gz"
    with gzip.open(gz, "wb") as f:
        f.write("é\nü\n".encode())
    assert read_lines(gz) == ["é", "ü"]


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match=r"nothere\.txt: file not found"):
        read_lines(tmp_path / "nothere.txt")


def test_corrupt_gzip(tmp_path):
    gz = tmp_path / "broken.gz"
    gz.write_bytes(b"definitely not gzip")
    with pytest.raises(UserError, match=r"broken\.gz: cannot read"):
        read_lines(gz)


def test_bad_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"ok\nfine\nna\xefve\nlast\n")
    with pytest.raises(UserError) as e:
        read_lines(path)
    assert f"{path}:3:" in str(e.value)
    assert "UTF-8" in str(e.value)


def test_parallel_files_of_different_lengths(tmp_path):
    src, tgt = tmp_path / "train.de", tmp_path / "train.en"
    src.write_text("a\nb\nc\n", encoding="utf-8")
    tgt.write_text("x\ny\n", encoding="utf-8")
    with pytest.raises(UserError) as e:
        read_parallel(src, tgt)
    msg = str(e.value)
    assert str(src) in msg and str(tgt) in msg and "3" in msg and "2" in msg
    tgt.write_text("x\ny\nz\n", encoding="utf-8")
    assert read_parallel(src, tgt) == [("a", "x"), ("b", "y"), ("c", "z")]


def test_a_tab_inside_a_sentence_survives_a_tsv_round_trip(tmp_path):
    """Multi30k's German has a tab inside one sentence: the run's (or the distilled) TSV
    must read back, the tab as a space, every other pair unchanged."""
    pairs = [("a b", "x"), ('"in einer \tWasserfontäne."', "in a\tfountain"), ("c", "z")]
    write_tsv(tmp_path / "p.tsv", pairs)
    assert read_tsv(tmp_path / "p.tsv") == [
        ("a b", "x"),
        ('"in einer  Wasserfontäne."', "in a fountain"),
        ("c", "z"),
    ]


def test_empty_corpus(tmp_path):
    blank = tmp_path / "blank.tsv"
    blank.write_text("\n   \n\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"blank\.tsv: the corpus is empty"):
        read_tsv(blank)
    empty_src, empty_tgt = tmp_path / "e.src", tmp_path / "e.tgt"
    empty_src.write_text("", encoding="utf-8")
    empty_tgt.write_text("", encoding="utf-8")
    with pytest.raises(UserError, match="the corpus is empty"):
        read_parallel(empty_src, empty_tgt)


def test_tsv_with_three_fields_names_the_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("a\tA\n\nb\tB\textra\n", encoding="utf-8")
    with pytest.raises(UserError) as e:
        read_tsv(path)
    assert f"{path}:3:" in str(e.value)
    assert "found 3" in str(e.value)


def test_tsv_reads_pairs_and_repeated_sources(tmp_path):
    path = tmp_path / "ok.tsv"
    path.write_text("a\tA \n a\tAA\nb\tB\n", encoding="utf-8")
    assert read_tsv(path) == [("a", "A"), ("a", "AA"), ("b", "B")]


def test_translator_load_on_a_directory_that_is_not_a_model(tmp_path):
    with pytest.raises(UserError) as e:
        Translator.load(tmp_path)
    assert str(tmp_path) in str(e.value)
    assert "not a model directory" in str(e.value)
    with pytest.raises(UserError, match="no such model directory"):
        Translator.load(tmp_path / "missing")


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


def test_cli_train_with_missing_config(tmp_path, capsys):
    missing = tmp_path / "nope.yaml"
    assert main(["train", str(missing), "--out", str(tmp_path / "run")]) == 2
    assert str(missing) in _one_error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_cli_train_with_unknown_key(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data: {dataset: cmudict}\ntrain: {epoch: 3}\n", encoding="utf-8")
    assert main(["train", str(cfg), "--out", str(tmp_path / "run")]) == 2
    line = _one_error_line(capsys)
    assert "`train.epoch`" in line and "did you mean `train.epochs`" in line


def test_cli_translate_with_an_empty_model_dir(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["translate", "--model", str(empty)]) == 2
    assert str(empty) in _one_error_line(capsys)


def test_cli_evaluate_with_misaligned_files(tmp_path, capsys):
    hyp, ref = tmp_path / "h.txt", tmp_path / "r.txt"
    hyp.write_text("a\nb\n", encoding="utf-8")
    ref.write_text("a\n", encoding="utf-8")
    assert main(["evaluate", "--hyp", str(hyp), "--ref", str(ref), "--metric", "wer"]) == 2
    assert str(hyp) in _one_error_line(capsys)


def test_cli_evaluate_with_missing_hypotheses(tmp_path, capsys):
    ref = tmp_path / "r.txt"
    ref.write_text("a\n", encoding="utf-8")
    assert main(["evaluate", "--hyp", str(tmp_path / "h.txt"), "--ref", str(ref)]) == 2
    assert "h.txt: file not found" in _one_error_line(capsys)


def test_cli_embed_with_no_sentences_or_one_to_plot(tmp_path, capsys):
    empty, one = tmp_path / "empty.txt", tmp_path / "one.txt"
    empty.write_text("", encoding="utf-8")
    one.write_text("a b c\n", encoding="utf-8")
    model = str(tmp_path / "run")  # never loaded: the input is checked first
    assert main(["embed", "--model", model, "-i", str(empty)]) == 2
    assert "empty.txt: no sentences to embed" in _one_error_line(capsys)
    assert main(["embed", "--model", model, "-i", str(one), "--plot", str(tmp_path / "p.png")]) == 2
    assert "--plot needs 2 or more sentences" in _one_error_line(capsys)


def test_cli_average_needs_at_least_one_checkpoint(tmp_path, capsys):
    assert main(["average", str(tmp_path), "--last", "0"]) == 2  # not "all of them"
    assert "--last 0: give 1 or more" in _one_error_line(capsys)


def test_cli_translate_options_that_cannot_work(tmp_path, capsys, monkeypatch):
    import torch

    from seq2seq.translator import check_device

    model = str(tmp_path / "run")
    assert main(["translate", "--model", model, "--greedy", "--nbest", "2"]) == 2
    assert "--nbest 2 needs beam search" in _one_error_line(capsys)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError, match="--device cuda: this torch build has no usable CUDA"):
        check_device("cuda")
    with pytest.raises(UserError, match="--device gpu: not a device"):
        check_device("gpu")
    check_device("cpu")


def test_cli_without_a_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage" in capsys.readouterr().out


@pytest.mark.parametrize("signum, code", [(2, 130), (15, 143)])
def test_an_interrupted_run_exits_with_128_plus_its_signal(monkeypatch, capsys, signum, code):
    from seq2seq import cli
    from seq2seq.cli import commands
    from seq2seq.errors import Interrupted

    def stopped(args):
        raise Interrupted("interrupted at step 3; saved last.pt", signum)

    monkeypatch.setattr(commands, "cmd_train", stopped)
    assert cli.main(["train", "any.yaml"]) == code
    assert capsys.readouterr().err == "interrupted at step 3; saved last.pt\n"
