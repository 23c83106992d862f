"""Speech features in plain torch: 80-dim log-mel filterbanks with mean and variance
normalisation (per utterance, or by global statistics), and SpecAugment (Park et al., 2019)
as a pure function.

Log-mel: a periodic Hann window of 25 ms (400 samples at 16 kHz) zero-padded to the next
power of two (512), a 10 ms hop (160 samples), frames centred on t * hop (`torch.stft`,
`center=True`, zero padding), so N samples give 1 + N // hop frames; the power spectrum
through `n_mels` triangular filters equally spaced on the HTK mel scale
(mel = 2595 log10(1 + f / 700)) from 0 Hz to the Nyquist frequency, not area-normalised (as
Kaldi's fbank); then log(energy + 1e-6). No dithering, no pre-emphasis. CMVN: each mel bin
minus its mean over the utterance, divided by its standard deviation (a bin constant over
the utterance becomes 0). Global CMVN (`data.speech.cmvn: global`): each bin minus a fixed
mean, divided by a fixed standard deviation, both measured once over a training set's
log-mel frames (`cmvn_stats`); a frame's features then depend on its own audio only, so the
features of a prefix of a waveform are the prefix of its features: frame t (centred on
sample t * hop) reads samples t * hop - win / 2 .. t * hop + win / 2 - 1, so with N samples
heard the frames t with t * hop + win / 2 <= N are final (the later ones read the zero
padding), to float rounding. Output (T, n_mels) float32.

SpecAugment on one utterance's (T, F) features, in this order: time warp (a random point of
the time axis moved by up to W frames, the two sides stretched linearly), then `freq_masks`
bands of f ~ U[0, F] bins set to 0 (the normalised mean), then `time_masks` spans of
t ~ U[0, T] frames, t <= p * length, set to 0. Every draw comes from the `torch.Generator`
passed in, so a run that seeds it from (seed, step) repeats its masks on resume. All counts
zero (and W = 0) is the identity.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import torch

from ..config import SpecAugmentConfig

LOG_FLOOR = 1e-6


def hz_to_mel(f: torch.Tensor) -> torch.Tensor:
    return 2595.0 * torch.log10(1.0 + f / 700.0)


def mel_to_hz(m: torch.Tensor) -> torch.Tensor:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


@functools.lru_cache(maxsize=8)
def mel_filterbank(n_fft: int, n_mels: int, sample_rate: int) -> torch.Tensor:
    """(n_fft // 2 + 1, n_mels) triangular filters, equally spaced on the HTK mel scale."""
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    top = hz_to_mel(torch.tensor(sample_rate / 2, dtype=torch.float64))
    edges = mel_to_hz(torch.linspace(0, float(top), n_mels + 2, dtype=torch.float64))
    lo, mid, hi = edges[:-2], edges[1:-1], edges[2:]  # (M,) each
    up = (freqs[:, None] - lo) / (mid - lo)  # (K, M)
    down = (hi - freqs[:, None]) / (hi - mid)  # (K, M)
    return torch.clamp(torch.minimum(up, down), min=0.0).float()


def frame_params(sample_rate: int, window_ms: float, hop_ms: float) -> tuple[int, int, int]:
    """(win_length, hop_length, n_fft) in samples."""
    win = int(round(sample_rate * window_ms / 1000))
    hop = int(round(sample_rate * hop_ms / 1000))
    return win, hop, 1 << math.ceil(math.log2(win))


def n_frames(n_samples: int, sample_rate: int = 16000, hop_ms: float = 10.0) -> int:
    return 1 + n_samples // int(round(sample_rate * hop_ms / 1000))


def log_mel(
    wave,
    sample_rate: int = 16000,
    *,
    n_mels: int = 80,
    window_ms: float = 25.0,
    hop_ms=10.0,
    center: bool = True,
) -> torch.Tensor:
    """(N,) waveform (array or tensor) -> (T, n_mels) float32 log mel energies, T = 1 + N // hop
    (`center` False: frames start at sample 0 with no padding, T = 1 + (N - n_fft) // hop)."""
    x = torch.as_tensor(wave, dtype=torch.float32)
    win, hop, n_fft = frame_params(sample_rate, window_ms, hop_ms)
    spec = torch.stft(
        x,
        n_fft,
        hop_length=hop,
        win_length=win,
        window=torch.hann_window(win),
        center=center,
        pad_mode="constant",
        return_complex=True,
    )  # (K, T)
    power = spec.real.square() + spec.imag.square()  # (K, T)
    mel = power.T @ mel_filterbank(n_fft, n_mels, sample_rate)  # (T, M)
    return torch.log(mel + LOG_FLOOR)


def stream_log_mels(
    wave, chunk_frames: int, sample_rate: int = 16000, *, n_mels=80, window_ms=25.0, hop_ms=10.0
) -> Iterator[torch.Tensor]:
    """(N,) waveform -> its log-mels, `chunk_frames` frames at a time, each chunk computed
    from the samples up to its last frame's window only (as they would arrive): frames
    t..u-1 read samples t * hop - n_fft / 2 .. (u - 1) * hop + n_fft / 2 - 1 of the waveform
    zero-padded as `log_mel` pads it (the taps past win / 2 from a centre are 0). Joined,
    the chunks are `log_mel(wave)` (to float rounding: the FFT batches differ)."""
    x = torch.as_tensor(wave, dtype=torch.float32)
    win, hop, n_fft = frame_params(sample_rate, window_ms, hop_ms)
    padded = torch.nn.functional.pad(x, (n_fft // 2, n_fft // 2))  # (N + n_fft,)
    T = 1 + x.shape[0] // hop
    for start in range(0, T, chunk_frames):
        end = min(start + chunk_frames, T)
        part = padded[start * hop : (end - 1) * hop + n_fft]  # what frames start..end-1 read
        yield log_mel(
            part, sample_rate, n_mels=n_mels, window_ms=window_ms, hop_ms=hop_ms, center=False
        )  # (end - start, F)


def cmvn(feats: torch.Tensor) -> torch.Tensor:
    """(T, F) -> per-bin zero mean, unit variance over the utterance's frames."""
    mean = feats.mean(0, keepdim=True)  # (1, F)
    std = feats.std(0, unbiased=False, keepdim=True)  # (1, F)
    return (feats - mean) / torch.where(std > 1e-5, std, torch.ones_like(std))


def cmvn_stats(parts) -> dict:
    """(T_i, F) log-mel frames of many utterances -> {"mean": [F floats], "std": [F floats]}:
    each bin's mean and (population) standard deviation over all the frames together,
    summed in float64. Plain lists, so a checkpoint holding them loads with weights_only."""
    n, total, squares = 0, 0.0, 0.0
    for p in parts:
        d = p.double()  # (T, F)
        n, total, squares = n + d.shape[0], total + d.sum(0), squares + d.square().sum(0)
    if n == 0:
        raise ValueError("cmvn_stats needs at least one frame")
    mean = total / n  # (F,)
    std = (squares / n - mean.square()).clamp(min=0.0).sqrt()  # (F,)
    return {"mean": mean.float().tolist(), "std": std.float().tolist()}


def global_cmvn(feats: torch.Tensor, stats: dict) -> torch.Tensor:
    """(T, F) -> each bin minus the global mean over the global std (`cmvn_stats`); frame by
    frame, so a chunk is normalised as it arrives."""
    mean = torch.tensor(stats["mean"], dtype=torch.float32)  # (F,)
    std = torch.tensor(stats["std"], dtype=torch.float32)  # (F,)
    return (feats - mean) / torch.where(std > 1e-5, std, torch.ones_like(std))


def normalise(feats: torch.Tensor, stats: dict | None = None) -> torch.Tensor:
    """(T, F) log-mels -> per-utterance CMVN when `stats` is None, else global CMVN."""
    return cmvn(feats) if stats is None else global_cmvn(feats, stats)


def features(
    wave,
    sample_rate: int = 16000,
    *,
    n_mels: int = 80,
    window_ms=25.0,
    hop_ms=10.0,
    stats: dict | None = None,
):
    """(N,) waveform -> (T, n_mels) normalised log-mel features, float32: per-utterance
    CMVN, or global CMVN by `stats` (`cmvn_stats`) when given."""
    x = log_mel(wave, sample_rate, n_mels=n_mels, window_ms=window_ms, hop_ms=hop_ms)
    return normalise(x, stats)


def _randint(low: int, high: int, gen: torch.Generator) -> int:
    """Uniform integer in [low, high] (inclusive)."""
    return int(torch.randint(low, high + 1, (1,), generator=gen))


def time_warp(x: torch.Tensor, width: int, gen: torch.Generator) -> torch.Tensor:
    """(T, F): a point w0 in (W, T - 1 - W) moves to w0 + w, w ~ U[-W, W], the frames on
    either side stretched linearly (the first and last frame stay); W is capped so that
    both sides keep at least one frame."""
    T = x.shape[0]
    W = min(width, (T - 4) // 2)
    if W < 1:
        return x
    w0, w = _randint(W + 1, T - W - 2, gen), _randint(-W, W, gen)
    if w == 0:
        return x
    t = torch.arange(T, dtype=torch.float32)
    left = t * (w0 / (w0 + w))
    right = w0 + (t - (w0 + w)) * ((T - 1 - w0) / (T - 1 - w0 - w))
    src = torch.where(t < w0 + w, left, right).clamp(0, T - 1)  # (T,) source positions
    lo = src.floor().long()
    hi = (lo + 1).clamp(max=T - 1)
    frac = (src - lo)[:, None]  # (T, 1)
    return x[lo] * (1 - frac) + x[hi] * frac


def spec_augment(x: torch.Tensor, cfg: SpecAugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """(T, F) normalised features -> augmented copy (time warp, frequency and time masks)."""
    if not (cfg.time_warp or cfg.freq_masks or cfg.time_masks):
        return x
    T, F = x.shape
    x = time_warp(x, cfg.time_warp, gen) if cfg.time_warp else x.clone()
    for _ in range(cfg.freq_masks):
        f = _randint(0, min(cfg.freq_width, F), gen)
        f0 = _randint(0, F - f, gen)
        x[:, f0 : f0 + f] = 0.0
    longest = min(cfg.time_width, int(cfg.time_ratio * T))
    for _ in range(cfg.time_masks):
        t = _randint(0, longest, gen)
        t0 = _randint(0, T - t, gen)
        x[t0 : t0 + t, :] = 0.0
    return x
