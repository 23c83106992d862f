"""Log-mel features, CMVN and SpecAugment (seq2seq/data/features.py), in plain torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seq2seq.config import SpecAugmentConfig
from seq2seq.data.features import (
    cmvn_stats,
    features,
    global_cmvn,
    hz_to_mel,
    log_mel,
    mel_filterbank,
    mel_to_hz,
    spec_augment,
    stream_log_mels,
    time_warp,
)

SR = 16000


def tone(freq: float, seconds: float = 1.0, rate: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def noisy_speechlike(seconds: float = 1.3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)  # a syllable-rate envelope
    return (
        env * (tone(220, seconds) + tone(1500, seconds)) + 0.05 * rng.standard_normal(len(t))
    ).astype(np.float32)


def test_shape_and_frame_count():
    x = features(np.zeros(16000, np.float32) + tone(440))
    assert x.shape == (1 + 16000 // 160, 80) and x.dtype == torch.float32
    assert features(tone(440, 0.5)).shape == (1 + 8000 // 160, 80)
    assert features(tone(440), n_mels=40).shape[1] == 40


def test_cmvn_gives_zero_mean_unit_variance_per_bin():
    x = features(noisy_speechlike())
    assert x.mean(0).abs().max() < 1e-4
    assert torch.allclose(x.std(0, unbiased=False), torch.ones(80), atol=1e-3)


def test_a_constant_bin_becomes_zero_not_nan():
    x = features(np.zeros(4000, np.float32))  # silence: every bin constant
    assert torch.isfinite(x).all() and x.abs().max() < 1e-5


def test_a_pure_tone_peaks_in_its_mel_bin():
    fb = mel_filterbank(512, 80, SR)
    centres = mel_to_hz(torch.linspace(0, float(hz_to_mel(torch.tensor(8000.0))), 82))[1:-1]
    for freq in (300.0, 1000.0, 3000.0, 6000.0):
        peak = int(log_mel(tone(freq)).mean(0).argmax())
        nearest = int((centres - freq).abs().argmin())
        assert abs(peak - nearest) <= 1, (freq, peak, nearest)
    assert fb.shape == (257, 80) and (fb >= 0).all() and fb.max() <= 1.0


def test_specaugment_with_nothing_on_is_the_identity():
    x = features(noisy_speechlike())
    gen = torch.Generator().manual_seed(0)
    cfg = SpecAugmentConfig(freq_width=27, time_width=100)  # widths set, counts zero
    assert torch.equal(spec_augment(x, cfg, gen), x)
    assert torch.equal(time_warp(x, 0, gen), x)


def test_masks_are_bands_and_spans_of_zeros():
    x = features(noisy_speechlike()) + 10.0  # no zero anywhere before masking
    cfg = SpecAugmentConfig(freq_masks=1, freq_width=10, time_masks=0)
    for seed in range(20):
        y = spec_augment(x, cfg, torch.Generator().manual_seed(seed))
        cols = torch.nonzero((y == 0).all(0)).flatten().tolist()
        assert (
            len(cols) <= 10 and cols == list(range(cols[0], cols[0] + len(cols))) if cols else True
        )
        assert ((y == 0) | (y == x)).all() and not (
            y[:, [c for c in range(80) if c not in cols]] == 0
        ).any()
    cfg = SpecAugmentConfig(time_masks=2, time_width=15, time_ratio=0.05)  # p caps it at 6
    for seed in range(20):
        y = spec_augment(x, cfg, torch.Generator().manual_seed(seed))
        rows = (y == 0).all(1)
        assert rows.sum() <= 12 and ((y == 0).any(1) == rows).all()
    assert torch.equal(x, features(noisy_speechlike()) + 10.0)  # the input is not changed


def test_masks_repeat_with_the_same_seed():
    x = features(noisy_speechlike())
    cfg = SpecAugmentConfig(time_warp=5, freq_masks=2, time_masks=2, time_width=20)
    a = spec_augment(x, cfg, torch.Generator().manual_seed(3))
    b = spec_augment(x, cfg, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(a, x)


def test_time_warp_keeps_the_ends_and_moves_the_middle():
    T = 100
    x = torch.arange(T, dtype=torch.float32)[:, None].repeat(1, 3)  # (T, 3) value = frame index
    for seed in range(10):
        y = time_warp(x, 10, torch.Generator().manual_seed(seed))
        assert y.shape == x.shape and y[0, 0] == 0 and y[-1, 0] == T - 1
        assert (y[1:, 0] >= y[:-1, 0]).all()  # monotonic: a warp, not a shuffle
        assert (y[:, 0] - x[:, 0]).abs().max() <= 10 + 1e-4


@pytest.mark.parametrize("bad", [{"freq_masks": -1}, {"time_ratio": 1.5}])
def test_bad_settings_name_the_key(bad):
    with pytest.raises(ValueError, match="data.speech.specaugment"):
        SpecAugmentConfig(**bad)


# -- global CMVN ---------------------------------------------------------------------------


def test_global_stats_are_the_mean_and_std_of_the_concatenated_frames():
    parts = [log_mel(noisy_speechlike(s, seed=i)) for i, s in enumerate((0.4, 1.1, 0.7))]
    stats = cmvn_stats(parts)
    joined = torch.cat(parts).double()  # (sum T, F)
    assert torch.allclose(torch.tensor(stats["mean"]).double(), joined.mean(0), atol=1e-5)
    std = joined.std(0, unbiased=False)
    assert torch.allclose(torch.tensor(stats["std"]).double(), std, rtol=1e-5, atol=1e-6)
    assert all(isinstance(v, float) for v in stats["mean"] + stats["std"])  # plain lists
    x = global_cmvn(torch.cat(parts), stats)
    assert torch.allclose(x.mean(0), torch.zeros(80), atol=1e-4)
    assert torch.allclose(x.std(0, unbiased=False), torch.ones(80), atol=1e-4)
    assert torch.equal(features(noisy_speechlike(0.4, seed=0), stats=stats), x[: len(parts[0])])


WIN, HOP = 400, 160  # 25 ms window and 10 ms hop at 16 kHz


@pytest.mark.parametrize("n", [4000, 4321, 8160, 12345])
def test_global_features_of_a_prefix_are_the_prefix_of_the_features(n):
    """Frame t reads samples t*hop - win/2 .. t*hop + win/2 - 1, so of a prefix of n samples
    the frames t with t*hop + win/2 <= n are final; the next frame reads zero padding."""
    wave = noisy_speechlike(2.0)
    stats = cmvn_stats([log_mel(wave)])
    whole, prefix = features(wave, stats=stats), features(wave[:n], stats=stats)
    final = (n - WIN // 2) // HOP + 1  # frames 0 .. final - 1
    assert len(prefix) == 1 + n // HOP and final < len(prefix)
    assert torch.allclose(prefix[:final], whole[:final], atol=1e-5, rtol=0)  # FFT rounding
    assert not torch.allclose(prefix[final], whole[final], atol=1e-2)  # the bound is tight
    # per-utterance CMVN: the prefix's own statistics change every frame (the test can fail)
    assert not torch.allclose(features(wave[:n])[:final], features(wave)[:final], atol=1e-2)


@pytest.mark.parametrize("n", [4000, 8000, 12345])
def test_streamed_log_mels_are_the_whole_s_and_read_no_later_audio(n):
    wave = noisy_speechlike(2.0)[:n]
    chunks = list(stream_log_mels(wave, 24))
    assert [len(c) for c in chunks[:-1]] == [24] * (len(chunks) - 1)
    # equal but for float rounding: the FFT of a batch of 24 frames may round otherwise
    assert torch.allclose(torch.cat(chunks), log_mel(wave), atol=1e-5, rtol=0)
    first_end = 23 * HOP + WIN // 2  # the first chunk's last frame reads samples < this
    later = wave.copy()
    later[first_end:] = np.random.default_rng(1).standard_normal(n - first_end)
    assert torch.equal(next(iter(stream_log_mels(later, 24))), chunks[0])
    later[first_end - 1] += 1.0  # a sample its window does read
    assert not torch.equal(next(iter(stream_log_mels(later, 24))), chunks[0])
