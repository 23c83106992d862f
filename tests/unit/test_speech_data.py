"""Speech data: audio reading and its one-line errors, the TSV and LibriSpeech readers on
tiny trees built here, the feature cache, and the batch contract speech models rely on."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from seq2seq.config import config_from_dict
from seq2seq.data.audio import read_audio, write_wav
from seq2seq.data.features import cmvn_stats, features, log_mel
from seq2seq.data.speech import (
    cache_key,
    collate_speech,
    load_speech_set,
    normalize_transcript,
    read_librispeech,
    read_manifest,
    read_speech_split,
    sampler_lengths,
    speech_batch,
    speech_processor,
    speech_splits,
    training_indices,
)
from seq2seq.errors import UserError

sf = pytest.importorskip("soundfile", reason="the speech extra is not installed")
pytest.importorskip("soxr", reason="the speech extra is not installed")


def tone(freq, seconds, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    return (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def speech_cfg(train, **speech):
    return config_from_dict(
        {
            "data": {
                "dataset": "speech",
                "tgt_tokenizer": {"kind": "char"},
                "speech": {"train": str(train), "dev": str(train), **speech},
            }
        }
    )


@pytest.fixture
def manifest(tmp_path):
    (tmp_path / "wav").mkdir()
    rows = ["Hello, World!", "Don't STOP -- it's 5 o'clock!", "a third one"]
    for i, _ in enumerate(rows):
        write_wav(tmp_path / "wav" / f"u{i}.wav", tone(300 * (i + 1), 0.5 + 0.25 * i))
    lines = [f"wav/u{i}.wav\t{text}" for i, text in enumerate(rows)]
    (tmp_path / "train.tsv").write_text("\n".join(lines[:2]) + "\n\n" + lines[2] + "\n")
    return tmp_path / "train.tsv"


def test_normalisation():
    assert normalize_transcript("Don't STOP -- it's 5 o\u2019clock!") == "don't stop it's 5 o'clock"
    assert normalize_transcript("'Quoted'  words_here, CAF\u00c9") == "quoted words here café"


@pytest.mark.parametrize("rate", [8000, 22050, 44100])
def test_resampling_keeps_a_tone_s_frequency(tmp_path, rate):
    write_wav(tmp_path / "t.wav", tone(1000, 1.0, rate), rate)
    wave = read_audio(tmp_path / "t.wav", 16000)
    assert wave.dtype == np.float32 and abs(len(wave) - 16000) <= 1
    spectrum = np.abs(np.fft.rfft(wave))
    assert abs(np.argmax(spectrum) * 16000 / len(wave) - 1000) < 2


def test_flac_is_read(tmp_path):
    sf.write(str(tmp_path / "a.flac"), tone(500, 0.3), 16000)
    assert len(read_audio(tmp_path / "a.flac")) == 4800


def _bad_files(tmp_path):
    sf.write(str(tmp_path / "stereo.wav"), np.stack([tone(300, 0.3)] * 2, 1), 16000)
    sf.write(str(tmp_path / "empty.wav"), np.zeros(0, np.float32), 16000)
    sf.write(str(tmp_path / "tiny.wav"), tone(300, 0.01), 16000)
    sf.write(str(tmp_path / "lowrate.wav"), tone(300, 0.3, 4000), 4000)
    (tmp_path / "garbage.wav").write_bytes(b"RIFF not really a wave file at all")
    return {
        "missing.wav": "not found",
        "stereo.wav": "2 channels",
        "empty.wav": "zero-length",
        "tiny.wav": "shorter than one",
        "lowrate.wav": "4000 Hz",
        "garbage.wav": "not readable",
    }


def test_each_bad_file_is_one_line_naming_it(tmp_path):
    for name, why in _bad_files(tmp_path).items():
        with pytest.raises(UserError) as e:
            read_audio(tmp_path / name)
        msg = str(e.value)
        assert name in msg and why in msg and "\n" not in msg, msg


def test_a_file_s_bytes_read_as_the_file_and_fail_as_it_does(tmp_path):
    """An upload's bytes: the same samples as the file, the same problems, named `audio`
    and with a fix for the sender (no manifest to edit)."""
    sf.write(str(tmp_path / "a.flac"), tone(300, 0.3, 22050), 22050)
    assert np.array_equal(
        read_audio((tmp_path / "a.flac").read_bytes()), read_audio(tmp_path / "a.flac")
    )
    for name, why in _bad_files(tmp_path).items():
        if name == "missing.wav":
            continue
        with pytest.raises(UserError) as e:
            read_audio((tmp_path / name).read_bytes())
        msg = str(e.value)
        assert msg.startswith("audio: ") and why in msg and "\n" not in msg, msg
        assert "manifest" not in msg, msg
    with pytest.raises(UserError, match=r"^audio: empty \(0 bytes\); send a WAV, FLAC or OGG"):
        read_audio(b"")


def test_a_bad_file_stops_loading_before_training(tmp_path):
    for name, why in _bad_files(tmp_path).items():
        if name == "missing.wav":
            continue
        (tmp_path / "m.tsv").write_text(f"{name}\tsome words\n")
        with pytest.raises(UserError, match=f"{name}.*{why}.*m.tsv:1"):
            load_speech_set(speech_cfg(tmp_path / "m.tsv").data.speech, tmp_path / "m.tsv", "x")


@pytest.mark.parametrize(
    "row, why",
    [
        ("no-tab-here", "expected AUDIO_PATH<TAB>TRANSCRIPT"),
        ("a.wav\tone\ttwo", "expected AUDIO_PATH<TAB>TRANSCRIPT"),
        ("missing.wav\twords", "missing.wav not found"),
        ("a.wav\t ?! ", "empty transcript"),
    ],
)
def test_bad_manifest_rows(tmp_path, row, why):
    write_wav(tmp_path / "a.wav", tone(300, 0.3))
    (tmp_path / "m.tsv").write_text(f"a.wav\tfine\n{row}\n")
    with pytest.raises(UserError, match=f"m.tsv:2: .*{why}"):
        read_manifest(tmp_path / "m.tsv")


def test_manifest_paths_are_read_against_its_folder(manifest):
    utts = read_manifest(manifest)
    assert [u.audio.name for u in utts] == ["u0.wav", "u1.wav", "u2.wav"]
    assert utts[1].text == "don't stop it's 5 o'clock" and utts[2].where.endswith(":4")


def test_librispeech_layout(tmp_path):
    for spk, chap, n in (("19", "198", 2), ("26", "495", 1)):
        folder = tmp_path / spk / chap
        folder.mkdir(parents=True)
        lines = []
        for k in range(n):
            uid = f"{spk}-{chap}-{k:04d}"
            sf.write(str(folder / f"{uid}.flac"), tone(200 + 100 * k, 0.4), 16000)
            lines.append(f"{uid} WORD NUMBER {k} OF {spk.upper()}")
        (folder / f"{spk}-{chap}.trans.txt").write_text("\n".join(lines) + "\n")
    utts = read_librispeech(tmp_path)
    assert [u.text for u in utts] == [
        "word number 0 of 19",
        "word number 1 of 19",
        "word number 0 of 26",
    ]
    data = load_speech_set(
        speech_cfg(tmp_path, layout="librispeech").data.speech, tmp_path, "train"
    )
    assert data.frames() == [41, 41, 41] and (tmp_path / ".features").is_dir()
    (tmp_path / "26" / "495" / "26-495-0000.flac").unlink()
    with pytest.raises(
        UserError, match="26-495.trans.txt:1: audio file .*26-495-0000.flac not found"
    ):
        read_librispeech(tmp_path)


def test_the_cache_equals_recomputation_and_follows_changes(manifest, tmp_path):
    cfg = speech_cfg(manifest).data.speech
    (tmp_path / ".features").mkdir()
    other = tmp_path / ".features" / "train-clean-0123456789abcdef0123.pt"  # another split's
    other.write_bytes(b"x")
    first = load_speech_set(cfg, manifest, "train")
    assert len(list((tmp_path / ".features").glob("train-*.pt"))) == 2
    fresh = load_speech_set(cfg, manifest, "train", cache=False)
    cached = load_speech_set(cfg, manifest, "train")
    assert torch.equal(first.feats, cached.feats) and torch.equal(fresh.feats, cached.feats)
    direct = features(read_audio(tmp_path / "wav" / "u1.wav"))
    assert torch.allclose(cached.features(1), direct, atol=2e-2)  # float16 storage
    write_wav(tmp_path / "wav" / "u1.wav", tone(700, 1.0))  # changed audio: a new key
    changed = load_speech_set(cfg, manifest, "train")
    assert changed.frames()[1] == 101 and len(list((tmp_path / ".features").glob("*.pt"))) == 2
    assert other.read_bytes() == b"x"  # a stale key of train.tsv went, train-clean stayed
    next(p for p in (tmp_path / ".features").glob("*.pt") if p != other).write_bytes(b"broken")
    assert torch.equal(load_speech_set(cfg, manifest, "train").feats, changed.feats)


def test_global_cmvn_measures_the_training_set_and_normalises_every_split_by_it(manifest):
    cfg = speech_cfg(manifest, cmvn="global").data.speech
    wavs = sorted((manifest.parent / "wav").glob("u*.wav"))
    raw = [log_mel(read_audio(w)) for w in wavs]  # (T_i, F) each
    train = load_speech_set(cfg, manifest, "train")
    joined = torch.cat(raw).double()
    assert torch.allclose(torch.tensor(train.cmvn["mean"]).double(), joined.mean(0), atol=1e-5)
    std = joined.std(0, unbiased=False)
    assert torch.allclose(torch.tensor(train.cmvn["std"]).double(), std, atol=1e-5)
    direct = features(read_audio(wavs[1]), stats=train.cmvn)
    assert torch.allclose(train.features(1), direct, atol=2e-2)  # float16 storage
    assert not torch.allclose(train.features(1), features(read_audio(wavs[1])), atol=0.1)
    stats = {"mean": [0.0] * 80, "std": [2.0] * 80}  # another training set's
    dev = load_speech_set(cfg, manifest, "dev", stats=stats)
    assert dev.cmvn == stats and torch.allclose(dev.features(0), raw[0] / 2, atol=2e-2)
    again = load_speech_set(cfg, manifest, "train")  # from the cache, stats included
    assert again.cmvn == train.cmvn and torch.equal(again.feats, train.feats)


def test_a_split_loaded_with_its_own_measured_stats_reads_their_cache(manifest, monkeypatch):
    import seq2seq.data.speech as speech

    cfg = speech_cfg(manifest, cmvn="global").data.speech
    train = load_speech_set(cfg, manifest, "train")

    def recompute(*args, **kwargs):
        raise AssertionError("recomputed")

    monkeypatch.setattr(speech, "compute_features", recompute)
    resumed = load_speech_set(cfg, manifest, "train", stats=train.cmvn)  # a resume, dev = train
    assert resumed.cmvn == train.cmvn and torch.equal(resumed.feats, train.feats)
    with pytest.raises(AssertionError, match="recomputed"):  # other stats: not that cache
        load_speech_set(cfg, manifest, "dev", stats={"mean": [0.0] * 80, "std": [1.0] * 80})


def test_the_cache_key_holds_the_cmvn_mode_and_utterance_keeps_the_old_key(manifest):
    utts = read_speech_split("tsv", manifest)
    utterance = speech_cfg(manifest).data.speech
    glob = speech_cfg(manifest, cmvn="global").data.speech
    stats = cmvn_stats([torch.zeros(3, 80)])
    keys = {cache_key(utts, utterance), cache_key(utts, glob), cache_key(utts, glob, stats)}
    assert len(keys) == 3
    params = {"version": 1, "sample_rate": 16000, "n_mels": 80, "window_ms": 25.0, "hop_ms": 10.0}
    h = hashlib.sha256(json.dumps(params, sort_keys=True).encode())  # the key before `cmvn`
    for u in utts:
        st = u.audio.stat()
        h.update(f"{u.audio.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    assert cache_key(utts, utterance) == h.hexdigest()[:20]  # old caches stay valid
    old = load_speech_set(utterance, manifest, "train", stats=stats)  # stats unused
    assert old.cmvn is None and torch.allclose(
        old.features(0), features(read_audio(manifest.parent / "wav" / "u0.wav")), atol=2e-2
    )


def test_the_batch_contract(manifest):
    cfg = speech_cfg(manifest, specaugment={"freq_masks": 2, "time_masks": 1, "time_width": 5})
    data = load_speech_set(cfg.data.speech, manifest, "train")
    proc = speech_processor(cfg.data, data.texts)
    targets = [proc.encode_tgt(t) for t in data.texts]
    assert proc.decode_tgt(targets[1]) == "don't stop it's 5 o'clock"
    keep, dropped = training_indices(data, targets, cfg.data)
    assert keep == [0, 1, 2] and dropped == 0
    assert sampler_lengths(data, targets, keep) == [(51, 11), (76, 25), (101, 11)]
    batch = speech_batch(data, targets, [2, 0])
    assert batch.src.shape == (2, 101, 80) and batch.src.dtype == torch.float32
    assert batch.src_len.tolist() == [101, 51] and batch.src_len.dtype == torch.long
    assert batch.src[1, 51:].abs().sum() == 0  # zero padding past the length
    assert torch.equal(batch.src[1, :51], data.features(0))
    assert batch.tgt_in[0, 0] == 2 and batch.n_tgt_tokens == 11 + 1 + 11 + 1  # <s> ... </s>
    gen = torch.Generator().manual_seed(0)
    aug = speech_batch(data, targets, [2, 0], augment=cfg.data.speech.specaugment, generator=gen)
    assert aug.src.shape == batch.src.shape and not torch.equal(aug.src, batch.src)
    rev = collate_speech([(data.features(0), targets[0])], reverse=True)
    assert torch.equal(rev.src[0], data.features(0).flip(0))


def test_config_messages():
    with pytest.raises(UserError, match="data.speech.train"):
        config_from_dict({"data": {"dataset": "speech", "tgt_tokenizer": {"kind": "char"}}})
    with pytest.raises(UserError, match="tgt_tokenizer.kind: char"):
        config_from_dict({"data": {"dataset": "speech", "speech": {"train": "a", "dev": "b"}}})
    with pytest.raises(UserError, match="data.speech.sample_rate"):
        speech_cfg("a", sample_rate=4000)
    with pytest.raises(UserError, match="cmvn"):
        speech_cfg("a", cmvn="running")


def test_split_names():
    cfg = speech_cfg("d/train.tsv", test="d/test.tsv", more_tests=["d/test_engine.tsv", "x/clean"])
    names = speech_splits(cfg.data.speech)
    assert list(names) == ["train", "dev", "test", "test_engine", "clean"]
    twice = speech_cfg("d/train.tsv", more_tests=["e/train.tsv"])
    with pytest.raises(UserError, match="more_tests: e/train.tsv has the name 'train' twice"):
        speech_splits(twice.data.speech)


def test_a_speech_section_needs_the_speech_dataset():
    with pytest.raises(UserError, match="set `data.dataset: speech`"):
        config_from_dict({"data": {"dataset": "cmudict", "speech": {"train": "t.tsv"}}})
