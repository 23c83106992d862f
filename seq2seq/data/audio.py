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

A file's bytes (an upload to `seq2seq serve`) are read by the same rules; the messages name
it `audio` and their fixes speak to the sender, not to a manifest.
"""

from __future__ import annotations

import io
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


def read_audio(
    source: str | Path | bytes, sample_rate: int = 16000, *, min_seconds: float = 0.025
) -> np.ndarray:
    """A file (its path, or its bytes) -> (N,) float32 in [-1, 1] at `sample_rate`; every bad
    file a one-line UserError naming it (a path, or `audio` for bytes) and the fix."""
    sf = _soundfile()
    if isinstance(source, (bytes, bytearray)):
        name, drop, opened = "audio", "send a longer recording", io.BytesIO(source)
        if not source:
            raise UserError("audio: empty (0 bytes); send a WAV, FLAC or OGG file's bytes")
    else:
        path = Path(source)
        name, drop, opened = str(path), "remove it from the manifest", str(path)
        if not path.is_file():
            raise UserError(f"{path}: audio file not found; fix the path in the manifest")
    try:
        wave, rate = sf.read(opened, dtype="float32", always_2d=True)  # (N, C)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        # libsndfile's own words ("Format not recognised."), not its "Error opening <object>"
        reason = getattr(e, "error_string", None) or str(e) or type(e).__name__
        reason = reason.splitlines()[0].rstrip(".")
        raise UserError(
            f"{name}: not readable audio ({reason}); convert it to 16-bit WAV or FLAC"
        ) from None
    _check(wave, rate, name, drop, sample_rate=sample_rate, min_seconds=min_seconds)
    return resample(wave[:, 0], rate, sample_rate)


def _check(wave: np.ndarray, rate: int, name: str, drop: str, *, sample_rate, min_seconds):
    """The rules of the module's docstring for samples (N, C) read from `name`."""
    if wave.shape[1] != 1:
        raise UserError(
            f"{name}: {wave.shape[1]} channels, speech input must be mono; "
            f"downmix it, e.g. sox IN.wav -c 1 OUT.wav"
        )
    if wave.shape[0] == 0:
        raise UserError(f"{name}: no samples (zero-length audio); {drop}")
    if rate < MIN_RATE:
        raise UserError(
            f"{name}: sample rate {rate} Hz is below {MIN_RATE} Hz, too low for speech "
            f"features; use a recording at {sample_rate} Hz"
        )
    if wave.shape[0] < min_seconds * rate:
        raise UserError(
            f"{name}: {wave.shape[0] / rate * 1000:.1f} ms of audio, shorter than one "
            f"{min_seconds * 1000:.0f} ms frame; {drop}"
        )
    if not np.isfinite(wave).all():
        raise UserError(f"{name}: samples that are NaN or infinite; re-export the file")


def write_wav(path: str | Path, wave: np.ndarray, sample_rate: int = 16000) -> None:
    """(N,) float in [-1, 1] -> 16-bit PCM WAV."""
    _soundfile().write(str(path), np.clip(wave, -1.0, 1.0), sample_rate, subtype="PCM_16")
