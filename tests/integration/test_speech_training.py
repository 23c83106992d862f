"""Speech end to end on a few generated wav files: `seq2seq train` on a speech config (joint
CTC/attention loss with SpecAugment), a resumed run equals an uninterrupted one, and the
Transcriber reads the run and transcribes file paths, files' bytes and arrays with every search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from seq2seq.config import config_from_dict, config_to_dict
from seq2seq.training import train
from tests.helpers import SPEECH_TEXTS as TEXTS
from tests.helpers import chirps, model_params, speech_config, speech_corpus

pytest.importorskip("soundfile", reason="the speech extra is not installed")
pytest.importorskip("soxr", reason="the speech extra is not installed")
pytest.importorskip("jiwer", reason="the speech extra is not installed")

from seq2seq.data.audio import read_audio  # noqa: E402


def quiet(msg):
    pass


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return speech_corpus(tmp_path_factory.mktemp("speech"))


N = 7


@pytest.fixture(scope="module")
def uninterrupted(corpus, tmp_path_factory):
    run = tmp_path_factory.mktemp("whole") / "run"
    assert train(speech_config(corpus, N), run, progress=False, log=quiet)["steps"] == N
    return run


def test_resume_equals_uninterrupted(corpus, uninterrupted, tmp_path):
    run = tmp_path / "run"
    train(speech_config(corpus, 4), run, progress=False, log=quiet)
    logs = []
    train(speech_config(corpus, N), run, progress=False, log=logs.append)
    assert any("resumed from" in m and "at step 4" in m for m in logs)
    a = model_params(run / "checkpoints" / "last.pt")
    b = model_params(uninterrupted / "checkpoints" / "last.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# -- inference: the Transcriber and the CLI --------------------------------------------------


def test_transcriber_reads_paths_bytes_and_arrays_with_every_search(corpus, uninterrupted):
    from seq2seq.transcriber import Transcriber

    t = Transcriber.load(uninterrupted, device="cpu")
    paths = [str(corpus / "wav" / f"u{i}.wav") for i in range(3)]
    waves = [read_audio(p, 16000) for p in paths]  # the same samples as arrays
    files = [Path(p).read_bytes() for p in paths]  # and as the files' bytes (an upload)
    for beam in (1, 3):
        for w in (None, 0.0, 0.5, 1.0):
            a = t.transcribe(paths, beam=beam, ctc_weight=w, nbest=min(beam, 2))
            b = t.transcribe(waves, beam=beam, ctc_weight=w, nbest=min(beam, 2))
            c = t.transcribe(files, beam=beam, ctc_weight=w, nbest=min(beam, 2))
            assert [[x.text for x in nb] for nb in a] == [[x.text for x in nb] for nb in b]
            assert [[x.score for x in nb] for nb in a] == [[x.score for x in nb] for nb in c]
            assert all(isinstance(nb[0].text, str) and len(nb) >= 1 for nb in a)
    one = t.transcribe(paths[:1], beam=3, ctc_weight=0.5)
    assert one[0][0].text == t.transcribe(paths, beam=3, ctc_weight=0.5)[0][0].text


@pytest.fixture(scope="module")
def streaming_run(corpus, tmp_path_factory):
    run = tmp_path_factory.mktemp("stream") / "run"
    cfg = speech_config(corpus, 3, encoder="streaming", chunk_frames=24)
    train(cfg, run, progress=False, log=quiet)
    return run


def test_a_stream_ends_with_the_whole_utterance_s_transcript(corpus, streaming_run):
    from seq2seq.transcriber import Transcriber

    t = Transcriber.load(streaming_run, device="cpu")
    path = str(corpus / "wav" / "u2.wav")
    for w in (0.0, 0.5, 1.0):
        parts = list(t.stream(path, ctc_weight=w))
        assert len(parts) == -(-len(t.features(path)) // 24)  # one per chunk
        assert parts[-1].text == t.transcribe([path], beam=1, ctc_weight=w)[0][0].text
    report = t.latency([path])  # per-utterance CMVN: the stream needs the whole file
    assert report["whole_utterance"] and report["rtf"] > 0
    assert report["lookahead_s"] == pytest.approx(report["audio_s"])


def global_config(corpus, max_steps: int):
    raw = config_to_dict(speech_config(corpus, max_steps, encoder="streaming", chunk_frames=24))
    raw["data"]["speech"]["cmvn"] = "global"
    return config_from_dict(raw)


@pytest.fixture(scope="module")
def global_run(corpus, tmp_path_factory):
    run = tmp_path_factory.mktemp("global") / "run"
    train(global_config(corpus, 3), run, progress=False, log=quiet)
    return run


def test_a_global_cmvn_run_resumes_as_uninterrupted(corpus, global_run, tmp_path):
    run = tmp_path / "run"
    train(global_config(corpus, 2), run, progress=False, log=quiet)
    train(global_config(corpus, 3), run, progress=False, log=quiet)
    a = model_params(run / "checkpoints" / "last.pt")
    b = model_params(global_run / "checkpoints" / "last.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def first_chunk_outputs(t, wave) -> tuple[torch.Tensor, str]:
    """The listener outputs of a stream's first chunk and the text after it."""
    seen = []
    encode = t.model.encode_chunk
    t.model.encode_chunk = lambda x, s: seen.append(encode(x, s)) or seen[-1]
    try:
        first = next(iter(t.stream(wave)))
    finally:
        del t.model.encode_chunk
    return seen[0][0], first.text


def test_global_cmvn_is_kept_in_the_run_and_survives_save_and_load(corpus, global_run):
    from seq2seq.data.features import cmvn_stats, log_mel
    from seq2seq.transcriber import Transcriber

    raw = torch.load(global_run / "checkpoints" / "last.pt", weights_only=True)
    stats = raw["processor"]["cmvn"]
    waves = [read_audio(corpus / "wav" / f"u{i}.wav", 16000) for i in range(len(TEXTS))]
    expected = cmvn_stats([log_mel(w, n_mels=40) for w in waves])
    assert np.allclose(stats["mean"], expected["mean"], atol=1e-5)
    assert np.allclose(stats["std"], expected["std"], atol=1e-5)
    t = Transcriber.load(global_run, device="cpu")
    assert t.stats == stats and t.processor.state()["cmvn"] == stats
    mean, std = torch.tensor(stats["mean"]), torch.tensor(stats["std"])
    x = t.features(waves[2])
    assert torch.allclose(x, (log_mel(waves[2], n_mels=40) - mean) / std, atol=1e-5)


def test_a_global_cmvn_stream_is_causal_and_ends_with_the_whole_transcript(corpus, global_run):
    from seq2seq.transcriber import Transcriber

    t = Transcriber.load(global_run, device="cpu")
    wave = chirps("abcab")
    for w in (0.0, 0.5, 1.0):
        parts = list(t.stream(wave, ctc_weight=w))
        assert len(parts) == -(-len(t.features(wave)) // 24)
        assert parts[-1].text == t.transcribe([wave], beam=1, ctc_weight=w)[0][0].text
    # the first chunk (frames 0..23) reads samples < 23 * 160 + 200: change all after 4000
    later = wave.copy()
    later[4000:] = np.random.default_rng(0).standard_normal(len(wave) - 4000) * 0.8
    a, text_a = first_chunk_outputs(t, wave)
    b, text_b = first_chunk_outputs(t, later)
    assert torch.equal(a, b) and text_a == text_b
    report = t.latency([wave])
    assert not report["whole_utterance"]
    assert report["lookahead_s"] == pytest.approx(0.24 + 0.0125)


def test_per_utterance_cmvn_streams_see_later_audio(corpus, streaming_run):
    """The same causality check fails on a per-utterance CMVN stream (the test can fail)."""
    from seq2seq.transcriber import Transcriber

    t = Transcriber.load(streaming_run, device="cpu")
    wave = chirps("abcab")
    later = wave.copy()
    later[4000:] = np.random.default_rng(0).standard_normal(len(wave) - 4000) * 0.8
    assert not torch.equal(first_chunk_outputs(t, wave)[0], first_chunk_outputs(t, later)[0])


def test_a_run_from_before_the_cmvn_key_loads_and_decodes_as_before(
    corpus, uninterrupted, tmp_path
):
    from seq2seq.data.features import features
    from seq2seq.transcriber import Transcriber

    old = tmp_path / "old" / "checkpoints"
    old.mkdir(parents=True)
    for name in ("best.pt", "last.pt"):
        ckpt = torch.load(uninterrupted / "checkpoints" / name, weights_only=True)
        assert "cmvn" not in ckpt["processor"]
        del ckpt["config"]["data"]["speech"]["cmvn"]  # as written before the key existed
        torch.save(ckpt, old / name)
    a, b = Transcriber.load(old.parent, device="cpu"), Transcriber.load(uninterrupted, "cpu")
    assert a.cfg.data.speech.cmvn == "utterance" and a.stats is None
    wave = read_audio(corpus / "wav" / "u1.wav", 16000)
    assert torch.equal(a.features(wave), features(wave, n_mels=40))  # per utterance, as before
    paths = [str(corpus / "wav" / f"u{i}.wav") for i in range(3)]
    assert [nb[0].text for nb in a.transcribe(paths, beam=3)] == [
        nb[0].text for nb in b.transcribe(paths, beam=3)
    ]
    logs = []  # and it resumes: the missing key reads as its default, no config change
    train(speech_config(corpus, N + 1), old.parent, progress=False, log=logs.append)
    assert any("resumed from" in m for m in logs)


def test_the_cli_transcribes_and_translate_reads_audio_paths(corpus, uninterrupted, tmp_path):
    from seq2seq.cli import main

    paths = [str(corpus / "wav" / f"u{i}.wav") for i in range(3)]
    (tmp_path / "wavs.txt").write_text("\n".join(paths) + "\n")
    out_a, out_b = tmp_path / "a.txt", tmp_path / "b.txt"
    assert main(["transcribe", *paths, "--model", str(uninterrupted), "-o", str(out_a)]) == 0
    args = ["translate", "--model", str(uninterrupted), "-i", str(tmp_path / "wavs.txt")]
    assert main([*args, "-o", str(out_b)]) == 0
    assert out_a.read_text() == out_b.read_text()
    assert len(out_a.read_text().splitlines()) == 3
    assert main(["transcribe", "--model", str(uninterrupted)]) == 2


def test_text_commands_on_a_speech_run_say_what_to_use_in_one_line(
    corpus, uninterrupted, tmp_path, capsys
):
    from seq2seq.cli import main
    from seq2seq.errors import UserError
    from seq2seq.translator import Translator

    with pytest.raises(UserError, match="a speech model: transcribe audio with"):
        Translator.load(uninterrupted)
    (tmp_path / "s.txt").write_text("a\n")
    (tmp_path / "t.txt").write_text("b\n")
    code = main(
        [
            "score",
            "--model",
            str(uninterrupted),
            "--src",
            str(tmp_path / "s.txt"),
            "--tgt",
            str(tmp_path / "t.txt"),
        ]
    )
    err = capsys.readouterr().err
    assert code != 0 and "seq2seq transcribe" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_speech_configs_refuse_mismatches_in_one_line(corpus, tmp_path):
    from seq2seq.errors import UserError

    raw = config_to_dict(speech_config(corpus, 1))
    with pytest.raises(UserError, match="model.features.*n_mels"):
        config_from_dict({**raw, "model": {**raw["model"], "features": 80}})
    with pytest.raises(UserError, match="needs `data.dataset: speech`"):
        config_from_dict({"model": {"type": "speech"}})
    text_model = config_from_dict({**raw, "model": {"type": "rnn"}})
    with pytest.raises(UserError, match="set model.type: speech"):
        train(text_model, tmp_path / "run", progress=False, log=quiet)
    assert not (tmp_path / "run").exists()


def test_the_cli_streams_and_lists_nbest(corpus, streaming_run, uninterrupted, capsys):
    from seq2seq.cli import main

    path = str(corpus / "wav" / "u2.wav")
    assert main(["transcribe", path, "--model", str(streaming_run), "--stream"]) == 0
    rows = [r.split("\t") for r in capsys.readouterr().out.splitlines()]
    assert [r[0] for r in rows] == [path] * len(rows) and len(rows) >= 2
    assert [float(r[1]) for r in rows] == sorted(float(r[1]) for r in rows)
    argv = ["transcribe", path, "--model", str(uninterrupted), "--beam", "3", "--nbest", "2"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(line.startswith("0 ||| ") for line in lines)
    assert main(["transcribe", path, "--model", str(uninterrupted), "--ctc-weight", "2"]) == 2
