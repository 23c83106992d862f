"""The bad-input catalogue: every CLI subcommand and the Python API over bad inputs.

Each CLI case must end with exit code 2, exactly one line on stderr, no traceback, and no
file left in the output folder; each API case must raise the documented exception
(`InputTypeError` is a TypeError, `InputValueError` a ValueError, both `UserError`s).
Everything is built in code from the tiny memorised model of conftest.py.
"""

from __future__ import annotations

import io
import os
import sys

import pytest
import torch
import yaml
from helpers import tiny_config_dict

import seq2seq
from seq2seq.cli import main
from seq2seq.errors import InputTypeError, InputValueError, UserError


@pytest.fixture(scope="module")
def world(memorised, tmp_path_factory):
    """Bad files and bad checkpoints, next to the good model; returns a name -> path map."""
    run, pairs, _ = memorised
    root = tmp_path_factory.mktemp("bad")
    w = {"run": str(run), "root": root, "out": root / "out"}
    w["out"].mkdir()
    files = {
        "good": "".join(s + "\n" for s, _ in pairs[:3]).encode(),
        "tgt": "".join(t + "\n" for _, t in pairs[:3]).encode(),
        "two": "".join(s + "\n" for s, _ in pairs[:2]).encode(),
        "one": pairs[0][0].encode() + b"\n",
        "empty": b"",
        "badutf8": b"abc\n\xff\xfe\n",
        "long": b"a" * 10_000 + b"\n",
        "tsv3": b"a\tb\tc\n",
        "yaml_bad": b"data: [unclosed\n",
        "nbest_bad": b"0 ||| A B\n",
        "nbest_nan": b"0 ||| A ||| nan\n",
        "nbest_far": b"7 ||| A ||| -1.0\n",
        "nbest_one": b"0 ||| A ||| -1.0\n",
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
        w[name] = str(root / name)
    (root / "three.tsv").write_bytes(b"a\tb\tc\n")
    w["tsv3file"] = str(root / "three.tsv")
    (root / "bad.gz").write_bytes(b"not gzip at all")
    w["badgz"] = str(root / "bad.gz")
    w["missing"] = str(root / "nope.txt")
    w["folder"] = str(root)
    w["nodir_out"] = str(root / "missing" / "dir" / "out.txt")
    _checkpoints(w, run, root)
    _configs(w, pairs, root)
    return w


def _checkpoints(w: dict, run, root) -> None:
    best = run / "checkpoints" / "best.pt"
    raw = best.read_bytes()
    state = torch.load(best, weights_only=True)

    def model_dir(name: str, content: bytes | dict) -> None:
        (root / name / "checkpoints").mkdir(parents=True)
        path = root / name / "checkpoints" / "best.pt"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            torch.save(content, path)
        w[name] = str(root / name)

    model_dir("zero", b"")
    model_dir("truncated", raw[: len(raw) // 2])
    model_dir("text", b"hello, I am not a checkpoint\n")
    model_dir("foreign", {"weights": torch.zeros(3)})
    model_dir("evil", {"format_version": 1, "hook": os.system})
    model_dir("version", {**state, "format_version": 99})
    bigger = {**state, "config": {**state["config"], "model": {**state["config"]["model"]}}}
    bigger["config"]["model"]["hidden_size"] = 96
    model_dir("shape", bigger)
    vocab = list(state["processor"]["tgt_vocab"])
    vocab[4], vocab[5] = vocab[5], vocab[4]
    model_dir("othervocab", {**state, "processor": {**state["processor"], "tgt_vocab": vocab}})
    (root / "nomodel").mkdir()
    w["nomodel"] = str(root / "nomodel")
    (root / "steps" / "checkpoints").mkdir(parents=True)
    w["steps"] = str(root / "steps")
    (root / "zerostep" / "checkpoints").mkdir(parents=True)
    (root / "zerostep" / "checkpoints" / "step-00000001.pt").write_bytes(b"")
    w["zerostep"] = str(root / "zerostep")


def _configs(w: dict, pairs, root) -> None:
    train = root / "train.tsv"
    train.write_text("".join(f"{s}\t{t}\n" for s, t in pairs), encoding="utf-8")

    def config(name: str, raw: dict) -> None:
        (root / f"{name}.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
        w[name] = str(root / f"{name}.yaml")

    good = tiny_config_dict(train)
    config("cfg", good)
    config("cfg_unknown", {**good, "trian": {}})
    config("cfg_type", {**good, "train": {**good["train"], "lr": "fast"}})
    config("cfg_choice", {**good, "train": {**good["train"], "optimizer": "adamw"}})
    config("cfg_nodata", {**good, "data": {**good["data"], "train": {"tsv": w["missing"]}}})
    config("cfg_empty", {**good, "data": {**good["data"], "train": {"tsv": w["empty"]}}})
    config("cfg_badutf8", {**good, "data": {**good["data"], "train": {"tsv": w["badutf8"]}}})
    config("cfg_tsv3", {**good, "data": {**good["data"], "train": {"tsv": w["tsv3"]}}})
    mis = {"src": w["good"], "tgt": w["two"]}
    config("cfg_misaligned", {**good, "data": {**good["data"], "train": mis}})
    config("cfg_model", {**good, "model": {**good["model"], "type": "lstm9"}})
    config("cfg_init", {**good, "train": {**good["train"], "init_from": w["zero"]}})
    copying = {**good["model"], "attention": "general", "copy": True}
    config("cfg_copy_noattn", {**good, "model": {**good["model"], "copy": True}})
    config("cfg_copy_unshared", {**good, "model": copying})
    word = {"kind": "word"}
    shared = {**good["data"], "shared_vocab": True, "tgt_tokenizer": word}
    config("cfg_shared_two_tok", {**good, "data": shared})
    config("cfg_truncate_str", {**good, "data": {**good["data"], "truncate_src": "yes"}})


T = ["translate", "--model", "{run}", "-i", "{good}"]
CLI_CASES = {
    # translate: models that cannot be read
    "translate/missing-model": ["translate", "--model", "{missing}", "-i", "{good}"],
    "translate/dir-without-model": ["translate", "--model", "{nomodel}", "-i", "{good}"],
    "translate/zero-byte-checkpoint": ["translate", "--model", "{zero}", "-i", "{good}"],
    "translate/truncated-checkpoint": ["translate", "--model", "{truncated}", "-i", "{good}"],
    "translate/text-as-checkpoint": ["translate", "--model", "{text}", "-i", "{good}"],
    "translate/foreign-checkpoint": ["translate", "--model", "{foreign}", "-i", "{good}"],
    "translate/checkpoint-with-code": ["translate", "--model", "{evil}", "-i", "{good}"],
    "translate/other-format-version": ["translate", "--model", "{version}", "-i", "{good}"],
    "translate/weights-of-another-shape": ["translate", "--model", "{shape}", "-i", "{good}"],
    "translate/ensemble-other-vocab": [
        "translate",
        "--model",
        "{run}",
        "{othervocab}",
        "-i",
        "{good}",
    ],
    "translate/ensemble-with-zero-byte": [
        "translate",
        "--model",
        "{run}",
        "{zero}",
        "-i",
        "{good}",
    ],
    "translate/checkpoint-file-zero": ["translate", "--model", "{zero}/checkpoints/best.pt"],
    # translate: input
    "translate/missing-input": ["translate", "--model", "{run}", "-i", "{missing}"],
    "translate/folder-input": ["translate", "--model", "{run}", "-i", "{folder}"],
    "translate/bad-utf8": ["translate", "--model", "{run}", "-i", "{badutf8}"],
    "translate/bad-gzip": ["translate", "--model", "{run}", "-i", "{badgz}"],
    "translate/overlong-line": ["translate", "--model", "{run}", "-i", "{long}"],
    "translate/overlong-for-limit": [*T, "--max-input-tokens", "3"],
    "translate/negative-limit": [*T, "--max-input-tokens", "-1"],
    "translate/bad-utf8-stdin": ["translate", "--model", "{run}", "<{badutf8}"],
    "translate/overlong-stdin": ["translate", "--model", "{run}", "<{long}"],
    # translate: output and options
    "translate/output-in-missing-folder": [*T, "-o", "{nodir_out}"],
    "translate/output-is-a-folder": [*T, "-o", "{folder}"],
    "translate/plots-on-a-file": [*T, "--attention-plots", "{good}"],
    "translate/plots-without-attention": [*T, "--attention-plots", "{out}/plots"],
    "translate/beam-0": [*T, "--beam", "0"],
    "translate/beam-negative": [*T, "--beam", "-3"],
    "translate/beam-0-nbest-3": [*T, "--beam", "0", "--nbest", "3"],
    "translate/nbest-0": [*T, "--nbest", "0"],
    "translate/nbest-over-beam": [*T, "--beam", "2", "--nbest", "3"],
    "translate/greedy-nbest": [*T, "--greedy", "--nbest", "2"],
    "translate/batch-size-0": [*T, "--batch-size", "0"],
    "translate/beam-not-a-number": [*T, "--beam", "five"],
    "translate/length-penalty-nan": [*T, "--length-penalty", "nan"],
    "translate/length-penalty-inf": [*T, "--length-penalty", "inf"],
    "translate/bad-device": [*T, "--device", "tpu9"],
    "translate/bad-precision": [*T, "--precision", "fp8"],
    "translate/ban-unk-takes-no-value": [*T, "--ban-unk", "yes"],
    "translate/unknown-option": [*T, "--bem", "3"],
    "translate/no-model": ["translate", "-i", "{good}"],
    # evaluate
    "evaluate/missing-hyp": ["evaluate", "--hyp", "{missing}", "--ref", "{good}"],
    "evaluate/empty-hyp-bleu": ["evaluate", "--hyp", "{empty}", "--ref", "{empty}"],
    "evaluate/empty-hyp-wer": [
        "evaluate",
        "--hyp",
        "{empty}",
        "--ref",
        "{empty}",
        "--metric",
        "wer",
    ],
    "evaluate/misaligned": ["evaluate", "--hyp", "{good}", "--ref", "{two}"],
    "evaluate/missing-ref": ["evaluate", "--hyp", "{good}", "--ref", "{missing}"],
    "evaluate/bad-utf8-hyp": ["evaluate", "--hyp", "{badutf8}", "--ref", "{good}"],
    "evaluate/bad-utf8-ref": ["evaluate", "--hyp", "{two}", "--ref", "{badutf8}"],
    "evaluate/tsv-3-fields": ["evaluate", "--hyp", "{one}", "--ref", "{tsv3file}"],
    "evaluate/unknown-metric": [
        "evaluate",
        "--hyp",
        "{good}",
        "--ref",
        "{good}",
        "--metric",
        "meteor",
    ],
    "evaluate/folder-hyp": ["evaluate", "--hyp", "{folder}", "--ref", "{good}"],
    "evaluate/rouge-misaligned": [
        "evaluate",
        "--hyp",
        "{good}",
        "--ref",
        "{good}",
        "{two}",
        "--metric",
        "rouge",
    ],
    "evaluate/rouge-empty-hyp": [
        "evaluate",
        "--hyp",
        "{empty}",
        "--ref",
        "{good}",
        "--metric",
        "rouge",
    ],
    "evaluate/no-ref": ["evaluate", "--hyp", "{good}"],
    # score
    "score/misaligned": ["score", "--model", "{run}", "--src", "{good}", "--tgt", "{two}"],
    "score/empty": ["score", "--model", "{run}", "--src", "{empty}", "--tgt", "{empty}"],
    "score/missing-src": ["score", "--model", "{run}", "--src", "{missing}", "--tgt", "{good}"],
    "score/bad-utf8": ["score", "--model", "{run}", "--src", "{badutf8}", "--tgt", "{badutf8}"],
    "score/overlong-source": ["score", "--model", "{run}", "--src", "{long}", "--tgt", "{one}"],
    "score/zero-byte-model": ["score", "--model", "{zero}", "--src", "{good}", "--tgt", "{tgt}"],
    "score/foreign-model": ["score", "--model", "{foreign}", "--src", "{good}", "--tgt", "{tgt}"],
    "score/no-tgt": ["score", "--model", "{run}", "--src", "{good}"],
    # rescore
    "rescore/missing-nbest": [
        "rescore",
        "--model",
        "{run}",
        "--nbest",
        "{missing}",
        "--src",
        "{one}",
        "--weight",
        "0.5",
    ],
    "rescore/malformed-nbest": [
        "rescore",
        "--model",
        "{run}",
        "--nbest",
        "{nbest_bad}",
        "--src",
        "{one}",
        "--weight",
        "0.5",
    ],
    "rescore/nan-score": [
        "rescore",
        "--model",
        "{run}",
        "--nbest",
        "{nbest_nan}",
        "--src",
        "{one}",
        "--weight",
        "0.5",
    ],
    "rescore/id-outside-src": [
        "rescore",
        "--model",
        "{run}",
        "--nbest",
        "{nbest_far}",
        "--src",
        "{one}",
        "--weight",
        "0.5",
    ],
    "rescore/src-longer-than-nbest": [
        "rescore",
        "--model",
        "{run}",
        "--nbest",
        "{nbest_one}",
        "--src",
        "{two}",
        "--weight",
        "0.5",
    ],
    "rescore/empty-nbest": [
        "rescore",
        "--model",
        "{run}",
        "--nbest",
        "{empty}",
        "--src",
        "{one}",
        "--weight",
        "0.5",
    ],
    "rescore/weight-over-1": [
        "rescore",
        "--model",
        "{run}",
        "--nbest",
        "{nbest_one}",
        "--src",
        "{one}",
        "--weight",
        "2",
    ],
    "rescore/no-weight-no-dev": [
        "rescore",
        "--model",
        "{run}",
        "--nbest",
        "{nbest_one}",
        "--src",
        "{one}",
    ],
    "rescore/output-in-missing-folder": [
        "rescore",
        "--model",
        "{run}",
        "--nbest",
        "{nbest_one}",
        "--src",
        "{one}",
        "--weight",
        "0.5",
        "-o",
        "{nodir_out}",
    ],
    "rescore/truncated-model": [
        "rescore",
        "--model",
        "{truncated}",
        "--nbest",
        "{nbest_one}",
        "--src",
        "{one}",
        "--weight",
        "0.5",
    ],
    # data
    "data/unknown-corpus": ["data", "wmt14", "--pair", "de-en"],
    "data/bad-pair": ["data", "multi30k", "--pair", "de-xx", "--from", "{folder}"],
    "data/same-language": ["data", "multi30k", "--pair", "de-de", "--from", "{folder}"],
    "data/from-without-files": [
        "data",
        "multi30k",
        "--pair",
        "de-en",
        "--from",
        "{nomodel}",
        "--out",
        "{out}/m30k",
    ],
    "data/out-is-a-file": [
        "data",
        "multi30k",
        "--pair",
        "de-en",
        "--from",
        "{folder}",
        "--out",
        "{good}",
    ],
    "data/bible-without-from": ["data", "bible-en-es", "--pair", "en-es", "--out", "{out}/bible"],
    "data/no-pair": ["data", "multi30k"],
    "data/aeslc-with-pair": ["data", "aeslc", "--pair", "de-en", "--out", "{out}/a1"],
    "data/aeslc-from-without-files": ["data", "aeslc", "--from", "{nomodel}", "--out", "{out}/a2"],
    "data/aeslc-from-missing": ["data", "aeslc", "--from", "{missing}", "--out", "{out}/a3"],
    "data/aeslc-out-is-a-file": ["data", "aeslc", "--from", "{folder}", "--out", "{good}"],
    # embed
    "embed/negative-neighbours": [
        "embed",
        "--model",
        "{run}",
        "-i",
        "{good}",
        "--neighbours",
        "-1",
    ],
    "embed/empty-input": ["embed", "--model", "{run}", "-i", "{empty}"],
    "embed/plot-one-line": ["embed", "--model", "{run}", "-i", "{one}", "--plot", "{out}/pca.png"],
    "embed/output-in-missing-folder": [
        "embed",
        "--model",
        "{run}",
        "-i",
        "{good}",
        "-o",
        "{nodir_out}",
    ],
    "embed/plot-is-a-folder": ["embed", "--model", "{run}", "-i", "{good}", "--plot", "{folder}"],
    "embed/bad-utf8": ["embed", "--model", "{run}", "-i", "{badutf8}"],
    "embed/zero-byte-model": ["embed", "--model", "{zero}", "-i", "{good}"],
    "embed/overlong-line": ["embed", "--model", "{run}", "-i", "{long}"],
    # average
    "average/no-step-checkpoints": ["average", "{steps}"],
    "average/last-0": ["average", "{run}", "--last", "0"],
    "average/zero-byte-step": ["average", "{zerostep}", "--out", "{out}/avg.pt"],
    "average/out-in-missing-folder": ["average", "{zerostep}", "--out", "{nodir_out}"],
    "average/missing-run": ["average", "{missing}"],
    # train
    "train/missing-config": ["train", "{missing}", "--out", "{out}/t1"],
    "train/bad-yaml": ["train", "{yaml_bad}", "--out", "{out}/t2"],
    "train/unknown-key": ["train", "{cfg_unknown}", "--out", "{out}/t3"],
    "train/wrong-type": ["train", "{cfg_type}", "--out", "{out}/t4"],
    "train/unknown-choice": ["train", "{cfg_choice}", "--out", "{out}/t5"],
    "train/unknown-model-type": ["train", "{cfg_model}", "--out", "{out}/t6"],
    "train/missing-data": ["train", "{cfg_nodata}", "--out", "{out}/t7"],
    "train/empty-corpus": ["train", "{cfg_empty}", "--out", "{out}/t8"],
    "train/bad-utf8-corpus": ["train", "{cfg_badutf8}", "--out", "{out}/t9"],
    "train/tsv-3-fields": ["train", "{cfg_tsv3}", "--out", "{out}/t10"],
    "train/misaligned-corpus": ["train", "{cfg_misaligned}", "--out", "{out}/t11"],
    "train/init-from-zero-byte": ["train", "{cfg_init}", "--out", "{out}/t12"],
    "train/set-without-equals": ["train", "{cfg}", "--set", "train.lr", "--out", "{out}/t13"],
    "train/set-unknown-key": ["train", "{cfg}", "--set", "train.lrr=1", "--out", "{out}/t14"],
    "train/set-bad-value": ["train", "{cfg}", "--set", "train.epochs=many", "--out", "{out}/t15"],
    "train/config-is-a-folder": ["train", "{folder}", "--out", "{out}/t16"],
    "train/copy-without-attention": ["train", "{cfg_copy_noattn}", "--out", "{out}/t17"],
    "train/copy-without-shared-vocab": ["train", "{cfg_copy_unshared}", "--out", "{out}/t18"],
    "train/shared-vocab-two-tokenizers": ["train", "{cfg_shared_two_tok}", "--out", "{out}/t19"],
    "train/truncate-src-not-a-bool": ["train", "{cfg_truncate_str}", "--out", "{out}/t20"],
    # reproduce and demo
    "reproduce/jobs-0": ["reproduce", "sutskever2014", "--jobs", "0", "--work", "{out}/r"],
    "reproduce/unknown-paper": ["reproduce", "bahdanau2015"],
    "demo/unknown-key": ["demo", "--out", "{out}/demo", "--set", "train.nope=1"],
    # the command line itself
    "cli/unknown-command": ["translte"],
}


def _argv(case: list[str], w: dict) -> tuple[list[str], bytes]:
    """The case's arguments with the world's paths filled in; `<path` = that file on stdin."""
    stdin, argv = b"", []
    for a in case:
        a = a.format(**w)
        if a.startswith("<"):
            stdin = open(a[1:], "rb").read()
        else:
            argv.append(a)
    return argv, stdin


@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_cli_refuses_bad_input_in_one_line(name, world, capfd, monkeypatch):
    argv, stdin = _argv(CLI_CASES[name], world)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    before = sorted(p.name for p in world["out"].rglob("*"))
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own refusals
        code = e.code
    out, err = capfd.readouterr()
    assert code == 2, f"{name}: exit {code}; stderr:\n{err}"
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"{name}: {len(lines)} lines on stderr:\n{err}"
    assert lines[0].startswith("error: "), lines[0]
    assert sorted(p.name for p in world["out"].rglob("*")) == before, "files left behind"
    assert not os.path.exists(world["nodir_out"])


def _translator(w):
    return seq2seq.load(w["run"], device="cpu")


API_CASES = {
    "load/None": (lambda w: seq2seq.load(None), InputTypeError),
    "load/int": (lambda w: seq2seq.load(123), InputTypeError),
    "load/empty-list": (lambda w: seq2seq.load([]), InputTypeError),
    "load/list-with-None": (lambda w: seq2seq.load([w["run"], None]), InputTypeError),
    "load/missing": (lambda w: seq2seq.load(w["missing"]), UserError),
    "load/zero-byte": (lambda w: seq2seq.load(w["zero"]), UserError),
    "load/truncated": (lambda w: seq2seq.load(w["truncated"]), UserError),
    "load/with-code": (lambda w: seq2seq.load(w["evil"]), UserError),
    "load/foreign": (lambda w: seq2seq.load(w["foreign"]), UserError),
    "load/bad-device": (lambda w: seq2seq.load(w["run"], device="tpu"), UserError),
    "translate/str": (lambda w: _translator(w).translate("hello"), InputTypeError),
    "translate/bytes": (lambda w: _translator(w).translate(b"hello"), InputTypeError),
    "translate/None": (lambda w: _translator(w).translate(None), InputTypeError),
    "translate/ints": (lambda w: _translator(w).translate([1, 2]), InputTypeError),
    "translate/nested": (lambda w: _translator(w).translate([["abc"]]), InputTypeError),
    "translate/beam-str": (lambda w: _translator(w).translate(["abc"], beam="5"), InputTypeError),
    "translate/beam-float": (lambda w: _translator(w).translate(["abc"], beam=2.5), InputTypeError),
    "translate/beam-0": (lambda w: _translator(w).translate(["abc"], beam=0), InputValueError),
    "translate/nbest-over-beam": (
        lambda w: _translator(w).translate(["abc"], beam=2, nbest=3),
        InputValueError,
    ),
    "translate/unknown-option": (
        lambda w: _translator(w).translate(["abc"], bem=3),
        InputTypeError,
    ),
    "translate/nan-penalty": (
        lambda w: _translator(w).translate(["abc"], length_penalty=float("nan")),
        InputValueError,
    ),
    "translate/early-stop-str": (
        lambda w: _translator(w).translate(["abc"], early_stop="yes"),
        InputTypeError,
    ),
    "translate/batch-0": (
        lambda w: _translator(w).translate(["abc"], batch_size=0),
        InputValueError,
    ),
    "translate/overlong": (lambda w: _translator(w).translate(["a" * 10_000]), InputValueError),
    "nbest/str": (lambda w: _translator(w).translate_nbest("abc"), InputTypeError),
    "score/str": (lambda w: _translator(w).score("ab"), InputTypeError),
    "score/one-sided": (lambda w: _translator(w).score([("abc",)]), InputTypeError),
    "score/int-target": (lambda w: _translator(w).score([("abc", 1)]), InputTypeError),
    "score/batch-0": (
        lambda w: _translator(w).score([("abc", "CBA")], batch_size=0),
        InputValueError,
    ),
    "score/overlong": (lambda w: _translator(w).score([("a" * 10_000, "A")]), InputValueError),
    "evaluate/str": (lambda w: _translator(w).evaluate("abc", "wer"), InputTypeError),
    "evaluate/loss-metric": (
        lambda w: _translator(w).evaluate([("abc", "CBA")], "ppl"),
        ValueError,
    ),
    "unknown/str": (lambda w: _translator(w).unknown("abc"), InputTypeError),
}


@pytest.mark.parametrize("name", sorted(API_CASES))
def test_api_refuses_bad_arguments_with_the_documented_exception(name, world):
    call, expected = API_CASES[name]
    with pytest.raises(expected) as raised:
        call(world)
    assert "\n" not in str(raised.value)  # one line, as the CLI would print it


def test_the_catalogue_is_at_least_100_cases():
    assert len(CLI_CASES) + len(API_CASES) >= 100


def test_unknown_input_is_translated_with_a_warning_naming_the_line(world, capfd, tmp_path):
    """Input the model cannot read is not refused: it is flagged, per line, and in the API."""
    src = tmp_path / "in.txt"
    src.write_text("abc\n日本語\n", encoding="utf-8")
    assert main(["translate", "--model", world["run"], "-i", str(src)]) == 0
    out, err = capfd.readouterr()
    assert len(out.splitlines()) == 2
    warnings = [ln for ln in err.splitlines() if ln.startswith("warning:")]
    assert warnings == [
        f"warning: {src}:2: 100% of its source tokens are unknown to the model; "
        "its output is a guess"
    ]
    (good, bad) = _translator(world).translate_nbest(["abc", "日本語"])
    assert good[0].unknown == 0.0 and bad[0].unknown == 1.0


def test_score_counts_pairs_with_unknown_tokens(world, capfd, tmp_path):
    src, tgt = tmp_path / "s.txt", tmp_path / "t.txt"
    src.write_text("abc\nabc\n", encoding="utf-8")
    tgt.write_text("CBA\nZZ\n", encoding="utf-8")
    assert main(["score", "--model", world["run"], "--src", str(src), "--tgt", str(tgt)]) == 0
    out, err = capfd.readouterr()
    assert len(out.splitlines()) == 2
    assert "1 of 2 pairs hold tokens unknown to the model (0 sources, 1 targets)" in err


def test_stdin_from_a_pipe_is_read(world, tmp_path):
    """`-i /dev/stdin` reads a pipe (it is not a regular file)."""
    import subprocess

    if not os.path.exists("/dev/stdin"):
        pytest.skip("no /dev/stdin here")
    done = subprocess.run(
        [sys.executable, "-m", "seq2seq", "translate", "--model", world["run"], "-i", "/dev/stdin"],
        input=b"abc\n",
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert len(done.stdout.decode().splitlines()) == 1


def test_a_full_disk_leaves_no_partial_output(world, tmp_path, monkeypatch, capfd):
    """A write that fails half way (here: os.replace refused) leaves no file and one line."""
    out = tmp_path / "out.txt"

    def refuse(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    code = main(["translate", "--model", world["run"], "-i", world["good"], "-o", str(out)])
    _, err = capfd.readouterr()
    assert code == 2 and err.strip().splitlines()[-1].endswith("No space left on device)")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_stops_decoding_promptly(world, tmp_path):
    """SIGINT while a long input is being translated: exit 130 within seconds, one line."""
    import signal
    import subprocess
    import time

    big = tmp_path / "big.txt"
    big.write_text("abcdefg\n" * 200_000, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "seq2seq", "translate", "--model", world["run"], "-i", str(big)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # A terminal's Ctrl-C: SIGINT at its default in the child, even when this test runs
        # under a parent that ignores it (a `cmd &` in a script), which Python would honour.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    line = proc.stderr.readline().decode()  # "decoding in ...": the model is loaded
    assert line.startswith("decoding in"), line
    time.sleep(0.5)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=30)
    stopped_after = time.monotonic() - sent
    err = proc.stderr.read().decode()
    assert code == 130 and err.strip() == "aborted", (code, err)
    assert stopped_after < 5, f"took {stopped_after:.1f} s to stop"
