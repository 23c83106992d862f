"""Speech corpora: readers, transcript normalisation, features computed once and cached, and
the batches a speech model trains on.

Two layouts (`data.speech.layout`):

- `tsv`: a manifest, one utterance a line, `AUDIO<TAB>TRANSCRIPT`; a relative audio path is
  read against the manifest's folder. Blank lines are skipped; `#` starts no comment.
- `librispeech`: a folder searched recursively for `*.trans.txt` files, each line
  `ID TRANSCRIPT`, the audio `ID.flac` beside it (as the corpus ships: speaker/chapter/).

Transcripts are normalised for recognition (`evaluation.normalize_transcript`, which
scoring applies too): Unicode NFKC,
lower-cased, curly apostrophes made straight, every character that is not a letter, a
digit or an apostrophe becomes a space, apostrophes not inside a word are dropped, and
spaces are collapsed. "Don't STOP -- it's 5 o'clock!" -> "don't stop it's 5 o'clock".

`load_speech_set` reads every file of a split and computes its features before training
starts (with a progress bar), so a bad file stops the run with one line naming it instead
of crashing an epoch. The features are cached in one file per split,
`<cache>/<manifest or folder name>-<key>.pt` (default cache folder: `.features/` beside the
manifest, or inside a LibriSpeech folder; a newer key replaces the older file), holding float16 features of all utterances concatenated
(`feats` (sum T, F)) and their `offsets` (N + 1,); the key hashes the feature parameters
and, per utterance, the audio's resolved path, size and modification time, so any change
recomputes. The cache is written atomically (temporary file, fsync, rename); a broken one
is recomputed.

The cache holds normalised features, as training reads them. `data.speech.cmvn: utterance`
(the default) keeps the key and the content of caches from before the setting existed.
`global` adds the mode to the key: the training split (loaded without `stats`) measures
each bin's mean and std over its own log-mel frames in the same pass (`cmvn_stats`),
normalises by them and keeps them in its cache (`cmvn`) and in `SpeechSet.cmvn`; every
other split is loaded with those `stats`, whose digest is part of its key, so new
training statistics recompute dev and test. A split loaded with the very statistics its own
measuring pass cached (a resumed run's training set; a dev set that is the training
manifest) reads that cache. (Caching raw log-mels and normalising on read
would keep one cache for both modes, but float16 log-mels lose more than float16
normalised features, and float32 doubles the cache.)

The batch contract (`speech_batch`, `collate_speech`): `Batch.src` (B, T, F) float32
features zero-padded, `src_len` (B,) long frame counts, `tgt_in` / `tgt_out` /
`n_tgt_tokens` exactly as for text (targets cut by `data.tgt_tokenizer`, `speech_processor`).
`BucketSampler` takes `sampler_lengths` (frames, target tokens): its `batch_tokens` budget
then counts frames of the longest utterance times the batch size (100 frames = 1 s at the
10 ms hop, so `batch_tokens: 30000` is about 5 minutes of audio a batch).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from ..config import DataConfig, SpecAugmentConfig, SpeechConfig, TokenizerConfig
from ..errors import UserError
from ..evaluation import normalize_transcript
from ..vocab import SPECIALS, Vocabulary
from .audio import read_audio
from .batching import Batch, target_tensors
from .features import cmvn_stats, log_mel, normalise, spec_augment
from .io import decode_lines
from .processor import Processor, _vocabulary
from .tokenizers import Tokenizer

CACHE_VERSION = 1
KEY_CHARS = 20  # hex digits of the cache key in a cache file's name


@dataclass(frozen=True)
class Utterance:
    audio: Path
    text: str  # normalised
    where: str  # "manifest:line", for messages


def read_manifest(path: str | Path) -> list[Utterance]:
    """A TSV manifest -> utterances; a bad row or a missing file is a one-line UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: speech manifest not found; check data.speech's path")
    lines = decode_lines(path.read_bytes(), str(path))
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        audio, sep, text = line.partition("\t")
        where = f"{path}:{n}"
        if not sep or not audio.strip() or "\t" in text:
            raise UserError(f"{where}: expected AUDIO_PATH<TAB>TRANSCRIPT (one tab); fix the row")
        out.append(_utterance(path.parent / audio.strip(), text, where))
    if not out:
        raise UserError(f"{path}: no utterances; write AUDIO_PATH<TAB>TRANSCRIPT lines")
    return out


def read_librispeech(folder: str | Path) -> list[Utterance]:
    """A LibriSpeech-style folder (recursive `*.trans.txt`, `ID.flac` beside) -> utterances."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: LibriSpeech folder not found; check data.speech's path")
    out = []
    for trans in sorted(folder.rglob("*.trans.txt")):
        for n, line in enumerate(decode_lines(trans.read_bytes(), str(trans)), 1):
            if not line.strip():
                continue
            uid, _, text = line.strip().partition(" ")
            out.append(_utterance(trans.parent / f"{uid}.flac", text, f"{trans}:{n}"))
    if not out:
        raise UserError(f"{folder}: no *.trans.txt files inside; is it a LibriSpeech folder?")
    return out


def _utterance(audio: Path, text: str, where: str) -> Utterance:
    if not audio.is_file():
        raise UserError(f"{where}: audio file {audio} not found; fix the path or the row")
    norm = normalize_transcript(text)
    if not norm:
        raise UserError(f"{where}: empty transcript for {audio}; give its words or drop it")
    return Utterance(audio, norm, where)


def read_speech_split(layout: str, path: str | Path) -> list[Utterance]:
    return read_manifest(path) if layout == "tsv" else read_librispeech(path)


@dataclass
class SpeechSet:
    """One split: transcripts and the features of every utterance, computed once."""

    name: str
    utterances: list[Utterance]
    feats: torch.Tensor  # (sum T, F) float16, the utterances' features one after the other
    offsets: torch.Tensor  # (N + 1,) long: utterance i is feats[offsets[i] : offsets[i + 1]]
    cmvn: dict | None = None  # global CMVN statistics it was normalised by (`cmvn_stats`)

    def __len__(self) -> int:
        return len(self.utterances)

    @property
    def texts(self) -> list[str]:
        return [u.text for u in self.utterances]

    def frames(self) -> list[int]:
        return (self.offsets[1:] - self.offsets[:-1]).tolist()

    def features(self, i: int) -> torch.Tensor:
        """(T, F) float32 features of utterance i."""
        return self.feats[int(self.offsets[i]) : int(self.offsets[i + 1])].float()

    def hours(self, hop_ms: float = 10.0) -> float:
        return len(self.feats) * hop_ms / 1000 / 3600


def _params(cfg: SpeechConfig, stats: dict | None = None) -> dict:
    """The feature parameters; with global CMVN, the mode and whose statistics: the split's
    own ("measured", a training split) or the digest of the `stats` given."""
    params = {
        "version": CACHE_VERSION,
        "sample_rate": cfg.sample_rate,
        "n_mels": cfg.n_mels,
        "window_ms": cfg.window_ms,
        "hop_ms": cfg.hop_ms,
    }
    if cfg.cmvn != "utterance":  # absent for utterance: caches from before stay valid
        digest = hashlib.sha256(json.dumps(stats).encode()).hexdigest()[:16] if stats else ""
        params.update(cmvn=cfg.cmvn, stats=digest or "measured")
    return params


def cache_key(utts: Sequence[Utterance], cfg: SpeechConfig, stats: dict | None = None) -> str:
    """Hash of the feature parameters (`_params`) and each audio file's path, size, mtime."""
    h = hashlib.sha256(json.dumps(_params(cfg, stats), sort_keys=True).encode())
    for u in utts:
        try:
            st = u.audio.stat()
        except OSError:
            raise UserError(f"{u.where}: audio file {u.audio} not found; fix the row") from None
        h.update(f"{u.audio.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:KEY_CHARS]


def cache_path(cfg: SpeechConfig, split_path: str | Path, key: str) -> Path:
    """`<cache>/<manifest or folder name>-<key>.pt`; cache "" = `.features/` beside a
    manifest, inside a LibriSpeech folder."""
    split_path = Path(split_path)
    if cfg.cache:
        folder = Path(cfg.cache)
    else:
        folder = (split_path if split_path.is_dir() else split_path.parent) / ".features"
    stem = split_path.name.split(".")[0] or "split"
    return folder / f"{stem}-{key}.pt"


def wave_log_mels(wave, cfg: SpeechConfig) -> torch.Tensor:
    """(N,) waveform at cfg.sample_rate -> (T, n_mels) float32 log-mels, not normalised."""
    return log_mel(
        wave, cfg.sample_rate, n_mels=cfg.n_mels, window_ms=cfg.window_ms, hop_ms=cfg.hop_ms
    )  # (T, F)


def file_wave(path: str | Path | bytes, cfg: SpeechConfig):
    """One audio file (its path or its bytes) -> its (N,) waveform at cfg.sample_rate, as
    features read it; a bad file is a one-line UserError naming it."""
    return read_audio(path, cfg.sample_rate, min_seconds=cfg.window_ms / 1000)


def file_log_mels(path: str | Path, cfg: SpeechConfig) -> torch.Tensor:
    """One audio file -> (T, n_mels) float32 log-mels, not normalised."""
    return wave_log_mels(file_wave(path, cfg), cfg)


def file_features(path: str | Path, cfg: SpeechConfig, stats: dict | None = None):
    """One audio file -> (T, n_mels) float32 features, as training computed them (the
    input of transcription): per-utterance CMVN, or global CMVN by the run's `stats`."""
    return normalise(file_log_mels(path, cfg), stats)  # (T, F)


def compute_features(
    utts: Sequence[Utterance],
    cfg: SpeechConfig,
    *,
    desc: str = "features",
    stats: dict | None = None,
):
    """Every utterance read, checked and turned into features -> (feats, offsets, stats).
    With `cmvn: global` and no `stats`, the statistics are measured over these utterances'
    log-mels in the same pass (held in float32 until then) and returned; else `stats`."""
    from tqdm import tqdm

    measure = cfg.cmvn == "global" and stats is None
    parts, offsets = [], [0]
    bar = tqdm(utts, desc=desc, unit="utt", file=sys.stderr, disable=len(utts) < 50)
    for u in bar:
        try:
            x = file_log_mels(u.audio, cfg)  # (T, F)
        except UserError as e:
            raise UserError(f"{e} (listed at {u.where})") from None
        parts.append(x if measure else normalise(x, stats).half())
        offsets.append(offsets[-1] + x.shape[0])
    if measure and parts:
        stats = cmvn_stats(parts)
        parts = [normalise(x, stats).half() for x in parts]
    feats = torch.cat(parts) if parts else torch.zeros(0, cfg.n_mels, dtype=torch.float16)
    return feats, torch.tensor(offsets, dtype=torch.long), stats


def _load_cache(path: Path, key: str, n: int):
    if not path.is_file():
        return None
    try:
        obj = torch.load(path, weights_only=True, map_location="cpu")
    except Exception:  # a broken cache is only a cache: compute again
        return None
    if not isinstance(obj, dict) or obj.get("key") != key:
        return None
    feats, offsets = obj.get("feats"), obj.get("offsets")
    if not isinstance(offsets, torch.Tensor) or len(offsets) != n + 1:
        return None
    if not isinstance(feats, torch.Tensor) or len(feats) != int(offsets[-1]):
        return None
    return feats, offsets, obj.get("cmvn")


def _save_cache(path: Path, obj: dict) -> None:
    """Atomic: a temporary file beside the target, fsynced, then renamed over it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        stem = path.name[: -len("-") - KEY_CHARS - len(".pt")]
        for stale in path.parent.glob(f"{stem}-*.pt"):
            older = stale.name[len(stem) + 1 : -3]  # the same split under an older key
            if stale != path and len(older) == KEY_CHARS and "-" not in older:
                stale.unlink(missing_ok=True)
    except OSError as e:
        raise UserError(
            f"{path.parent}: cannot write the feature cache ({e.strerror}); "
            f"set data.speech.cache to a writable folder"
        ) from None


def load_speech_set(
    cfg: SpeechConfig,
    path: str | Path,
    name: str,
    *,
    cache: bool = True,
    stats: dict | None = None,
):
    """A split (manifest or LibriSpeech folder) -> SpeechSet, its features from the cache
    when the audio and the feature parameters are unchanged, else computed and cached.
    With `cmvn: global`: `stats` None measures the statistics on this split (the training
    set); given, normalises by them (dev, test, a resumed run's training set)."""
    stats = stats if cfg.cmvn == "global" else None
    utts = read_speech_split(cfg.layout, path)
    key = cache_key(utts, cfg, stats)
    where = cache_path(cfg, path, key)
    hit = _cached(cfg, path, utts, stats) if cache else None
    if hit is None:
        feats, offsets, stats = compute_features(utts, cfg, desc=f"{name} features", stats=stats)
        if cache:
            obj = {"key": key, "params": _params(cfg, stats), "feats": feats, "offsets": offsets}
            _save_cache(where, {**obj, "cmvn": stats} if stats else obj)
    else:
        feats, offsets, stats = hit
    return SpeechSet(name, utts, feats, offsets, stats)


def _cached(cfg: SpeechConfig, path, utts: Sequence[Utterance], stats: dict | None):
    """The cache's (feats, offsets, stats), or None; with global `stats` given, also the
    split's own measuring pass when it measured exactly those (a resumed run's train set)."""
    keys = [cache_key(utts, cfg, stats)]
    if stats is not None:
        keys.append(cache_key(utts, cfg))
    for key in keys:
        hit = _load_cache(cache_path(cfg, path, key), key, len(utts))
        if hit is not None and (cfg.cmvn == "utterance" or _stats_ok(hit[2], stats, cfg.n_mels)):
            return hit
    return None


def _stats_ok(found, stats: dict | None, n_mels: int) -> bool:
    """Cached statistics of the right shape, and the ones asked for (if any)."""
    shaped = isinstance(found, dict) and all(
        isinstance(found.get(k), list) and len(found[k]) == n_mels for k in ("mean", "std")
    )
    return shaped and (stats is None or found == stats)


def speech_splits(cfg: SpeechConfig) -> dict[str, str]:
    """Split name -> path for every split configured: train, dev, test, then `more_tests`
    named by their file (or folder) name without the extension."""
    named = {"train": cfg.train, "dev": cfg.dev, "test": cfg.test}
    out = {k: v for k, v in named.items() if v}
    for extra in cfg.more_tests:
        stem = Path(extra).name.split(".")[0]
        if stem in out:
            raise UserError(f"data.speech.more_tests: {extra} has the name {stem!r} twice")
        out[stem] = extra
    return out


def speech_processor(
    cfg: DataConfig, transcripts: Sequence[str], cmvn: dict | None = None
) -> Processor:
    """A Processor whose target side is fitted on the transcripts (`data.tgt_tokenizer`);
    its source side is unused by speech (a vocabulary of the special tokens only); `cmvn`:
    the global CMVN statistics the run keeps (`data.speech.cmvn: global`)."""
    tgt_tok = Tokenizer(cfg.tgt_tokenizer).fit(transcripts)
    tgt_vocab = _vocabulary([tgt_tok.tokenize(t) for t in transcripts], cfg.tgt_tokenizer)
    src_tok = Tokenizer(TokenizerConfig(kind="word"))
    return Processor(cfg, src_tok, tgt_tok, Vocabulary(list(SPECIALS)), tgt_vocab, cmvn=cmvn)


def training_indices(
    data: SpeechSet, targets: Sequence[Sequence[int]], cfg: DataConfig
) -> tuple[list[int], int]:
    """Utterances training keeps (frames <= data.speech.max_frames, 1..max_tgt_len target
    tokens) and how many it drops."""
    frames = data.frames()
    keep = [
        i
        for i, t in enumerate(targets)
        if frames[i] <= cfg.speech.max_frames and 0 < len(t) <= cfg.max_tgt_len
    ]
    return keep, len(targets) - len(keep)


def sampler_lengths(
    data: SpeechSet, targets: Sequence[Sequence[int]], indices: Sequence[int]
) -> list[tuple[int, int]]:
    """(frames, target tokens) per kept utterance: what `BucketSampler` sorts and budgets by."""
    frames = data.frames()
    return [(frames[i], len(targets[i])) for i in indices]


def collate_speech(
    items: Sequence[tuple[torch.Tensor, Sequence[int]]], *, reverse: bool = False
) -> Batch:
    """[(features (T_i, F), target ids)] -> Batch: src (B, T, F) zero-padded, src_len (B,);
    `reverse` (data.reverse_source) flips each utterance's frames."""
    lengths = torch.tensor([x.shape[0] for x, _ in items], dtype=torch.long)
    F = items[0][0].shape[1]
    src = torch.zeros(len(items), int(lengths.max()), F, dtype=torch.float32)  # (B, T, F)
    for b, (x, _) in enumerate(items):
        src[b, : x.shape[0]] = x.flip(0) if reverse else x
    return Batch(src, lengths, *target_tensors([t for _, t in items]))


def speech_batch(
    data: SpeechSet,
    targets: Sequence[Sequence[int]],
    indices: Sequence[int],
    *,
    reverse: bool = False,
    augment: SpecAugmentConfig | None = None,
    generator: torch.Generator | None = None,
) -> Batch:
    """The batch of utterances `indices`; SpecAugment each utterance when `augment` is given
    (training only), its draws from `generator` (seed it from the step for exact resume)."""
    items = []
    for i in indices:
        x = data.features(i)  # (T, F)
        if augment is not None:
            x = spec_augment(x, augment, generator or torch.default_generator)
        items.append((x, targets[i]))
    return collate_speech(items, reverse=reverse)
