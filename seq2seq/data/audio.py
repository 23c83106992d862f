"""Audio files -> mono float32 waveforms at one sample rate, or one clear line naming the file.

Read with `soundfile` (libsndfile: WAV, FLAC, OGG, ...), resampled with `soxr` (its "HQ"
quality) when the file's rate differs from the one asked for. The rules, each a one-line
`UserError` that names the file and the fix:

- a missing file, a file libsndfile cannot read, a file with no samples;
- more than one channel: refused, not downmixed (a silent downmix hides a wrong file, e.g.
  a stereo interview with one speaker per channel); the fix is named
  (`sox IN.wav -c 1 OUT.wav` or `ffmpeg -i IN -ac 1 OUT`);
- a sample rate below `MIN_RATE` (8 kHz, telephone speech): upsampling cannot bring back
  the missing band, so the 80 mel bands up to 8 kHz would be half empty;
- a file shorter than one analysis window (25 ms) is "too short", as it gives no frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UserError

MIN_RATE = 8000
INSTALL = "install the speech extra: pip install -e '.[speech]'"


def _soundfile():
    try:
        import soundfile
    except (ImportError, OSError):  # OSError: the package is there but libsndfile is not
        raise UserError(f"reading audio needs the soundfile package; {INSTALL}") from None
    return soundfile


def resample(wave: np.ndarray, rate: int, target: int) -> np.ndarray:
    """(N,) float32 at `rate` -> (M,) float32 at `target` (soxr, HQ); unchanged if equal."""
    if rate == target:
        return wave
    try:
        import soxr
    except ImportError:
        raise UserError(f"resampling audio needs the soxr package; {INSTALL}") from None
    return soxr.resample(wave, rate, target, quality="HQ").astype(np.float32, copy=False)


def read_audio(path: str | Path, sample_rate: int = 16000, *, min_seconds: float = 0.025):
    """A file -> (N,) float32 in [-1, 1] at `sample_rate`; every bad file a one-line UserError."""
    sf = _soundfile()
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: audio file not found; fix the path in the manifest")
    try:
        wave, rate = sf.read(str(path), dtype="float32", always_2d=True)  # (N, C)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise UserError(
            f"{path}: not readable audio ({reason}); convert it to 16-bit WAV or FLAC"
        ) from None
    if wave.shape[1] != 1:
        raise UserError(
            f"{path}: {wave.shape[1]} channels, speech input must be mono; "
            f"downmix it, e.g. sox IN.wav -c 1 OUT.wav"
        )
    if wave.shape[0] == 0:
        raise UserError(f"{path}: no samples (zero-length audio); remove it from the manifest")
    if rate < MIN_RATE:
        raise UserError(
            f"{path}: sample rate {rate} Hz is below {MIN_RATE} Hz, too low for speech "
            f"features; use a recording at {sample_rate} Hz"
        )
    if wave.shape[0] < min_seconds * rate:
        raise UserError(
            f"{path}: {wave.shape[0] / rate * 1000:.1f} ms of audio, shorter than one "
            f"{min_seconds * 1000:.0f} ms frame; remove it from the manifest"
        )
    if not np.isfinite(wave).all():
        raise UserError(f"{path}: samples that are NaN or infinite; re-export the file")
    return resample(wave[:, 0], rate, sample_rate)


def write_wav(path: str | Path, wave: np.ndarray, sample_rate: int = 16000) -> None:
    """(N,) float in [-1, 1] -> 16-bit PCM WAV."""
    _soundfile().write(str(path), np.clip(wave, -1.0, 1.0), sample_rate, subtype="PCM_16")
