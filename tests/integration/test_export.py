"""Exported models decode as the run does: CTranslate2 (Transformer) and ONNX Runtime (LSTM
with and without attention, GRU, Transformer), on tiny models trained here.

ONNX Runtime runs under our own search (`export/onnx_runtime.py` keeps the model protocol),
so its n-best lists equal ours. CTranslate2 runs its own search; its known differences
(`export/ctranslate2.py`) are held to exactly what that docstring says.
"""

from __future__ import annotations

import json
import math
import sys

import pytest
import torch
from helpers import make_pairs, tiny_config_dict, write_pairs

from seq2seq import export
from seq2seq.cli import main
from seq2seq.config import config_from_dict
from seq2seq.data.batching import pad
from seq2seq.decoding.search import max_lengths
from seq2seq.training import train
from seq2seq.translator import Translator
from seq2seq.vocab import BOS_ID, EOS_ID, PAD_ID

PAIRS = make_pairs(40, seed=3, min_len=2, max_len=8)
SOURCES = [s for s, _ in PAIRS] + [s for s, _ in make_pairs(30, seed=9, min_len=1, max_len=10)]
MODELS = {
    "lstm": {"type": "rnn", "layers": 2, "emb_size": 16, "hidden_size": 32},
    "lstm-luong-feeding": {
        "type": "rnn",
        "layers": 2,
        "emb_size": 16,
        "hidden_size": 32,
        "attention": "general",
    },
    "lstm-bahdanau-bidirectional": {
        "type": "rnn",
        "layers": 1,
        "emb_size": 16,
        "hidden_size": 32,
        "attention": "bahdanau",
        "bidirectional": True,
    },
    "gru-residual": {
        "type": "rnn",
        "cell": "gru",
        "layers": 2,
        "emb_size": 32,
        "hidden_size": 32,
        "residual": True,
    },
    "transformer": {"type": "transformer", "layers": 2, "d_model": 32, "heads": 4, "ff_size": 64},
}


def quiet(msg):
    pass


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """name -> a run trained briefly on 40 pairs (model dropout 0), and its folder root."""
    root = tmp_path_factory.mktemp("export")
    tsv = write_pairs(root / "train.tsv", PAIRS)
    out = {}
    for name, model in MODELS.items():
        steps = 120 if name == "transformer" else 40
        raw = tiny_config_dict(
            tsv, train={"max_steps": steps, "lr": 0.005 if steps == 120 else 0.01}
        )
        raw["model"] = {**model, "dropout": 0.0}
        raw["decode"] = {**raw["decode"], "max_len_a": 1.5, "max_len_b": 4}
        train(config_from_dict(raw), root / name, progress=False, log=quiet)
        out[name] = root / name
    return out


def renormalised(translator: Translator, source: str, tokens: list[int]) -> float:
    """Our model's log P(tokens + </s>) with <pad> and <s> taken out of every step's
    distribution before it is normalised, as CTranslate2 does."""
    model, ids = translator.model, translator.processor.encode_src(source)
    src, src_len = pad([ids])
    state = model.init_state(model.encode(src, src_len))
    last, total = torch.tensor([BOS_ID]), 0.0
    with torch.no_grad():
        for tok in [*tokens, EOS_ID]:
            logp, state, _ = model.step(last, state)
            p = logp[0].exp()
            total += float(logp[0, tok]) - math.log(1 - float(p[PAD_ID] + p[BOS_ID]))
            last = torch.tensor([tok])
    return total


def cap(translator: Translator, source: str) -> int:
    cfg = translator.cfg.decode
    n = len(translator.processor.encode_src(source))
    return int(max_lengths(torch.tensor([n]), cfg.max_len_a, cfg.max_len_b))


# -- CTranslate2 ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ct2(runs, tmp_path_factory):
    pytest.importorskip("ctranslate2", reason="the `export` extra (ctranslate2) is not installed")
    folder = tmp_path_factory.mktemp("ct2") / "model"
    export.export(runs["transformer"], "ctranslate2", folder)
    ours = Translator.load(runs["transformer"], device="cpu", precision="fp32")
    return ours, export.load(folder, "ctranslate2", device="cpu", precision="fp32")


def test_ctranslate2_greedy_equals_ours(ct2):
    """Every output equal; scores equal to ours renormalised without <pad>/<s>, except where
    the length cap stopped a hypothesis (ours then scores the forced </s>)."""
    ours, theirs = ct2
    a = ours.translate_nbest(SOURCES, greedy=True)
    b = theirs.translate_nbest(SOURCES, greedy=True)
    assert [x[0].tokens for x in a] == [y[0].tokens for y in b]
    free = [i for i, x in enumerate(a) if len(x[0].tokens) < cap(ours, SOURCES[i])]
    assert len(free) >= 60  # the cap stopped few of the 70
    vocab = ours.processor.tgt_vocab
    for i in free:
        expected = renormalised(ours, SOURCES[i], vocab.encode(a[i][0].tokens))
        assert b[i][0].score == pytest.approx(expected, abs=1e-4)
        assert a[i][0].score < b[i][0].score  # renormalising without <pad>/<s> adds a little


@pytest.mark.parametrize("alpha, early_stop", [(0.0, True), (1.0, False)])
def test_ctranslate2_beam_best_equals_ours(ct2, alpha, early_stop):
    """The best hypothesis of beam 4, with the stopping rule CTranslate2 takes for that length
    penalty; its score is ours renormalised, its normalised score divides by tokens + 1."""
    ours, theirs = ct2
    opts = {"beam": 4, "nbest": 2, "length_penalty": alpha}
    a = ours.translate_nbest(SOURCES, early_stop=early_stop, **opts)
    b = theirs.translate_nbest(SOURCES, **opts)
    caps = [cap(ours, s) for s in SOURCES]
    # at the cap, CTranslate2 ends every live hypothesis without </s>; either search may
    # then prefer one there
    free = [
        i for i in range(len(SOURCES)) if max(len(a[i][0].tokens), len(b[i][0].tokens)) < caps[i]
    ]
    assert len(free) >= 60
    vocab = ours.processor.tgt_vocab
    for i in free:
        assert b[i][0].tokens == a[i][0].tokens, SOURCES[i]
        expected = renormalised(ours, SOURCES[i], vocab.encode(a[i][0].tokens))
        assert b[i][0].score == pytest.approx(expected, abs=1e-4)
        n = len(b[i][0].tokens) + 1
        assert b[i][0].norm_score == pytest.approx(b[i][0].score / n**alpha, abs=1e-5)


def test_ctranslate2_never_outputs_pad_or_bos(runs, ct2, tmp_path):
    """A model that ranks <s> first everywhere by far: our search skips it, and so does the
    export. <s>'s output row and a shift of the final norm lie orthogonal to the other rows,
    so every other token's logit, and so every output, is the trained model's."""
    ckpt = torch.load(runs["transformer"] / "checkpoints" / "best.pt", weights_only=True)
    weights = ckpt["model"]
    out = weights["out.weight"].clone()  # (V, D), tied: also the decoder's input embedding
    others = torch.cat([out[:BOS_ID], out[BOS_ID + 1 :]])  # (V - 1, D)
    q, _ = torch.linalg.qr(others.t())  # (D, V - 1): their span
    v = torch.randn(out.size(1), generator=torch.Generator().manual_seed(0))
    v = v - q @ (q.t() @ v)
    v = 5 * v / v.norm()
    ckpt["config"]["model"]["tie_embeddings"] = False
    weights["tgt_emb.weight"], weights["dec_norm.bias"] = out.clone(), weights["dec_norm.bias"] + v
    out[BOS_ID] = v
    weights["out.weight"] = out
    torch.save(ckpt, tmp_path / "bos.pt")
    export.export(tmp_path / "bos.pt", "ctranslate2", tmp_path / "ct2")
    ours = Translator.load(tmp_path / "bos.pt", device="cpu", precision="fp32")
    theirs = export.load(tmp_path / "ct2", "ctranslate2", device="cpu", precision="fp32")
    model = ours.model
    src, src_len = pad([ours.processor.encode_src(SOURCES[0])])
    with torch.no_grad():
        first, _, _ = model.step(
            torch.tensor([BOS_ID]), model.init_state(model.encode(src, src_len))
        )
    assert int(first.argmax()) == BOS_ID and float(first[0, BOS_ID]) > -1e-3  # <s>: p ~ 1
    trained = [x[0].tokens for x in ct2[0].translate_nbest(SOURCES, greedy=True)]
    assert [x[0].tokens for x in ours.translate_nbest(SOURCES, greedy=True)] == trained
    assert [y[0].tokens for y in theirs.translate_nbest(SOURCES, greedy=True)] == trained


def test_ctranslate2_from_the_command_line(runs, tmp_path, capsys):
    pytest.importorskip("ctranslate2", reason="the `export` extra (ctranslate2) is not installed")
    run, folder = runs["transformer"], tmp_path / "ct2"
    assert (
        main(["export", "--format", "ctranslate2", "--model", str(run), "--out", str(folder)]) == 0
    )
    src = tmp_path / "in.txt"
    src.write_text("".join(s + "\n" for s in SOURCES[:10]), encoding="utf-8")
    outputs = {}
    for engine, model in (("torch", run), ("ctranslate2", folder)):
        out = tmp_path / f"{engine}.txt"
        argv = ["translate", "--engine", engine, "--model", str(model), "-i", str(src)]
        assert main([*argv, "-o", str(out), "--greedy", "--device", "cpu"]) == 0
        outputs[engine] = out.read_text(encoding="utf-8")
    assert outputs["ctranslate2"] == outputs["torch"]
    assert len(outputs["torch"].splitlines()) == 10


# -- ONNX ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MODELS))
def test_onnx_search_equals_ours(runs, name, tmp_path):
    """Greedy and beam (n-best 3) from ONNX Runtime equal ours: tokens exactly, scores to
    float32 rounding."""
    pytest.importorskip("onnx", reason="the `export` extra (onnx) is not installed")
    pytest.importorskip("onnxruntime", reason="the `export` extra (onnxruntime) is not installed")
    export.export(runs[name], "onnx", tmp_path / "onnx")
    ours = Translator.load(runs[name], device="cpu", precision="fp32")
    theirs = export.load(tmp_path / "onnx", "onnx", device="cpu", precision="fp32")
    for opts in ({"greedy": True}, {"beam": 3, "nbest": 3}):
        a = ours.translate_nbest(SOURCES, **opts)
        b = theirs.translate_nbest(SOURCES, **opts)
        assert [[t.tokens for t in x] for x in a] == [[t.tokens for t in y] for y in b]
        for x, y in zip(a, b):
            assert [t.score for t in y] == pytest.approx([t.score for t in x], abs=1e-4)
    lengths = {len(x[0].tokens) for x in a}
    assert len(lengths) > 3  # outputs of many lengths: the state (a growing cache) is carried


def test_onnx_from_the_command_line(runs, tmp_path):
    pytest.importorskip("onnxruntime", reason="the `export` extra (onnxruntime) is not installed")
    run, folder = runs["lstm-luong-feeding"], tmp_path / "onnx"
    assert main(["export", "--format", "onnx", "--model", str(run), "--out", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["encoder.onnx", "seq2seq.json", "step.onnx"]
    src = tmp_path / "in.txt"
    src.write_text("".join(s + "\n" for s in SOURCES[:10]), encoding="utf-8")
    outputs = {}
    for engine, model in (("torch", run), ("onnx", folder)):
        out = tmp_path / f"{engine}.txt"
        argv = ["translate", "--engine", engine, "--model", str(model), "-i", str(src)]
        assert main([*argv, "-o", str(out), "--nbest", "2", "--device", "cpu"]) == 0
        outputs[engine] = [line.split(" ||| ") for line in out.read_text().splitlines()]
    assert [(i, text) for i, text, _ in outputs["onnx"]] == [(i, t) for i, t, _ in outputs["torch"]]
    scores = {engine: [float(score) for _, _, score in lines] for engine, lines in outputs.items()}
    assert scores["onnx"] == pytest.approx(scores["torch"], abs=2e-4)  # printed to 4 decimals


# -- refusals --------------------------------------------------------------------------------


def _one_line_error(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_an_lstm_is_refused_for_ctranslate2_in_one_line(runs, tmp_path, capsys):
    argv = ["export", "--format", "ctranslate2", "--model", str(runs["lstm"])]
    line = _one_line_error([*argv, "--out", str(tmp_path / "x")], capsys)
    assert "CTranslate2 has no LSTM/GRU; export it with --format onnx" in line
    assert not (tmp_path / "x").exists()


def test_export_never_overwrites(runs, tmp_path, capsys):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    argv = ["export", "--format", "onnx", "--model", str(runs["lstm"]), "--out"]
    line = _one_line_error([*argv, str(tmp_path / "full")], capsys)
    assert (
        line
        == f"error: --out {tmp_path / 'full'}: exists and is not an empty folder; choose a new path"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["full"]  # no temporary folder left


def test_a_run_is_not_an_exported_folder(runs, tmp_path, capsys):
    src = tmp_path / "in.txt"
    src.write_text("abc\n")
    argv = ["translate", "--engine", "onnx", "--model", str(runs["lstm"]), "-i", str(src)]
    line = _one_line_error(argv, capsys)
    assert line.endswith(
        "not a folder from `seq2seq export --format onnx` (no seq2seq.json); export the run first"
    )


@pytest.mark.parametrize(
    "argv, package",
    [
        (["export", "--format", "onnx", "--model", "{lstm}", "--out", "{tmp}/x"], "onnx"),
        (
            ["export", "--format", "ctranslate2", "--model", "{transformer}", "--out", "{tmp}/x"],
            "ctranslate2",
        ),
        (
            ["translate", "--engine", "onnx", "--model", "{tmp}", "-i", "{tmp}/in.txt"],
            "onnxruntime",
        ),
    ],
)
def test_without_the_extra_one_line_says_how_to_install_it(
    runs, tmp_path, capsys, monkeypatch, argv, package
):
    monkeypatch.setitem(sys.modules, package, None)  # not installed
    (tmp_path / "in.txt").write_text("abc\n")
    if argv[0] == "translate":  # a folder exported as ONNX (the onnx package is there)
        (tmp_path / "seq2seq.json").write_text(json.dumps({"format": "onnx"}))  # never read
    paths = {"lstm": runs["lstm"], "transformer": runs["transformer"], "tmp": tmp_path}
    line = _one_line_error([a.format(**paths) for a in argv], capsys)
    assert line.endswith(f"needs the `{package}` package: pip install 'seq2seq[export]'")
    assert not (tmp_path / "x").exists()
