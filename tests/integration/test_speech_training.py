"""Speech end to end on a few generated wav files: `seq2seq train` on a speech config (joint
CTC/attention loss with SpecAugment), a resumed run equals an uninterrupted one, and the
Transcriber reads the run and transcribes file paths and arrays with every search."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seq2seq.config import config_from_dict, config_to_dict
from seq2seq.training import train
from tests.helpers import model_params

pytest.importorskip("soundfile", reason="the speech extra is not installed")
pytest.importorskip("soxr", reason="the speech extra is not installed")
pytest.importorskip("jiwer", reason="the speech extra is not installed")

from seq2seq.data.audio import read_audio, write_wav  # noqa: E402

TEXTS = ["ab", "ba", "abc", "cab", "bca", "cc"]


def quiet(msg):
    pass


def chirps(text: str, rate: int = 16000) -> np.ndarray:
    """A stand-in for speech: each letter a tone of its own for 0.15 s, then 0.05 s of quiet."""
    parts = []
    for ch in text:
        t = np.arange(int(0.15 * rate)) / rate
        parts += [0.4 * np.sin(2 * np.pi * (300 + 250 * (ord(ch) - 97)) * t), np.zeros(800)]
    return np.concatenate(parts).astype(np.float32)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("speech")
    (root / "wav").mkdir()
    for i, text in enumerate(TEXTS):
        write_wav(root / "wav" / f"u{i}.wav", chirps(text))
    rows = [f"wav/u{i}.wav\t{text}" for i, text in enumerate(TEXTS)]
    (root / "train.tsv").write_text("\n".join(rows) + "\n")
    return root


def speech_config(corpus, max_steps: int, **model):
    return config_from_dict(
        {
            "data": {
                "dataset": "speech",
                "tgt_tokenizer": {"kind": "char"},
                "reverse_source": False,
                "speech": {
                    "train": str(corpus / "train.tsv"),
                    "dev": str(corpus / "train.tsv"),
                    "n_mels": 40,
                    "specaugment": {
                        "freq_masks": 1,
                        "freq_width": 8,
                        "time_masks": 1,
                        "time_width": 10,
                    },
                },
            },
            "model": {
                "type": "speech",
                "features": 40,
                "listener_hidden": 16,
                "speller_hidden": 16,
                "emb_size": 8,
                "pyramid_levels": 2,
                "ctc_weight": 0.5,
                **model,
            },
            "train": {
                "optimizer": "adam",
                "lr": 0.01,
                "schedule": "constant",
                "batch_size": 2,
                "max_steps": max_steps,
                "valid_every": 3,
                "metric": "asr_cer",
                "tensorboard": False,
            },
        }
    )


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


def test_transcriber_reads_paths_and_arrays_with_every_search(corpus, uninterrupted):
    from seq2seq.transcriber import Transcriber

    t = Transcriber.load(uninterrupted, device="cpu")
    paths = [str(corpus / "wav" / f"u{i}.wav") for i in range(3)]
    waves = [read_audio(p, 16000) for p in paths]  # the same samples as arrays
    for beam in (1, 3):
        for w in (None, 0.0, 0.5, 1.0):
            a = t.transcribe(paths, beam=beam, ctc_weight=w, nbest=min(beam, 2))
            b = t.transcribe(waves, beam=beam, ctc_weight=w, nbest=min(beam, 2))
            assert [[x.text for x in nb] for nb in a] == [[x.text for x in nb] for nb in b]
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
    report = t.latency([path])
    assert report["lookahead_s"] == pytest.approx(0.24) and report["rtf"] > 0


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
