"""A trained speech model, loaded from its run: transcribes audio files or waveforms.

`Transcriber.load(RUN)` reads the checkpoint; `transcribe(items)` takes file paths, files'
bytes (an upload), 1-D waveforms (numpy or torch, mono, at `sample_rate`, by default the
run's) or a mix, computes features as training did (`data.speech`), batches them by length
and decodes with the search `decoding.speech` picks for the model and CTC weight: greedy
(beam 1) or beam; CTC greedy / prefix beam for a CTC-only model or a weight of 1; joint
CTC/attention between.

Streaming (`model.encoder: streaming`): `stream(item)` encodes `model.chunk_frames` frames
at a time, carrying the listener's state, and after each chunk yields the text of
everything heard so far (the search re-runs over the listener outputs so far; the
encoder never re-reads audio). `latency(items)` measures the look-ahead and the real-time
factor of either kind of model.

Normalisation (`data.speech.cmvn`): a `global` run keeps its training set's statistics in
its processor, and the stream computes each chunk's log-mels from the samples its frames
read (`stream_log_mels`: up to half a window past its last frame's centre) and normalises
them by those statistics as they arrive, so nothing it yields depends on later audio. An `utterance` run (every run from before the setting)
normalises by the whole file's statistics: its stream reads the whole file before the
first chunk, and `latency` says so (`whole_utterance`, a look-ahead of the utterance).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import checkpoints
from .data import Processor, inference_batches
from .data.features import normalise, stream_log_mels
from .data.speech import collate_speech, file_wave, wave_log_mels
from .decoding.speech import SpeechSearch, decode_speech, search_weight
from .errors import InputTypeError, UserError

Audio = str | Path | bytes | np.ndarray | torch.Tensor


@dataclass
class Transcript:
    text: str
    score: float  # the search's log-probability (joint: the weighted sum of both)
    tokens: list[int]


@dataclass
class Partial:
    """What a stream has said after a chunk: the text so far and the audio heard so far."""

    text: str
    seconds: float


class Transcriber:
    def __init__(self, ckpt: checkpoints.Checkpoint, device: str = "cpu"):
        if ckpt.config.data.dataset != "speech":
            raise UserError(
                f"{ckpt.source}: not a speech model; pass a run trained with data.dataset: speech"
            )
        self.source, self.cfg = ckpt.source, ckpt.config
        self.processor = Processor.from_state(self.cfg.data, ckpt.processor)
        self.device = torch.device(device)
        self.model = checkpoints.load_model(ckpt, self.device).eval()
        self.stats = self.processor.cmvn if self.cfg.data.speech.cmvn == "global" else None
        if self.cfg.data.speech.cmvn == "global" and self.stats is None:
            raise UserError(f"{ckpt.source}: a global-CMVN run without its statistics")

    @classmethod
    def load(cls, run: str | Path, device: str | None = None) -> Transcriber:
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        return cls(checkpoints.read(run), device)

    @property
    def hop_seconds(self) -> float:
        return self.cfg.data.speech.hop_ms / 1000

    def features(self, item: Audio, sample_rate: int | None = None) -> torch.Tensor:
        """One file (path or bytes) or 1-D waveform -> (T, F) features, as training computed
        them."""
        return normalise(self.log_mels(item, sample_rate), self.stats)  # (T, F)

    def log_mels(self, item: Audio, sample_rate: int | None = None) -> torch.Tensor:
        """One file (path or bytes) or 1-D waveform -> (T, F) log-mels, not yet normalised."""
        return wave_log_mels(self.waveform(item, sample_rate), self.cfg.data.speech)

    def waveform(self, item: Audio, sample_rate: int | None = None) -> torch.Tensor:
        """One file (path or bytes) or 1-D waveform -> (N,) float32 samples at the run's
        rate; a bad file is a one-line UserError (data.audio's rules)."""
        sp = self.cfg.data.speech
        if isinstance(item, (str, Path, bytes)):
            return torch.as_tensor(file_wave(item, sp), dtype=torch.float32)
        if not isinstance(item, (np.ndarray, torch.Tensor)) or item.ndim != 1:
            raise InputTypeError(
                "transcribe takes audio file paths, files' bytes or 1-D waveforms (numpy or "
                "torch arrays)"
            )
        wave = torch.as_tensor(item, dtype=torch.float32)
        rate = sample_rate or sp.sample_rate
        if rate != sp.sample_rate:
            raise UserError(
                f"a waveform at {rate} Hz: the model reads {sp.sample_rate} Hz; resample it "
                "or pass a file"
            )
        return wave

    def search_weight(self, ctc_weight: float | None = None) -> float:
        """The CTC weight a search uses (the model's unless given), or a one-line error when
        the model cannot use the one given (`decoding.speech.search_weight`)."""
        return search_weight(self.model, ctc_weight)

    def search(self, beam: int | None = None, ctc_weight: float | None = None, nbest: int = 1):
        d = self.cfg.decode
        return SpeechSearch(
            beam=d.beam if beam is None else beam,
            nbest=nbest,
            ctc_weight=ctc_weight,
            length_penalty=d.length_penalty,
            max_len_a=d.max_len_a,
            max_len_b=d.max_len_b,
        )

    @torch.no_grad()
    def transcribe(
        self,
        items: Sequence[Audio],
        *,
        beam: int | None = None,
        ctc_weight: float | None = None,
        nbest: int = 1,
        sample_rate: int | None = None,
        batch_size: int | None = None,
    ) -> list[list[Transcript]]:
        """The `nbest` transcripts of each item, best first, in the items' order, searched in
        batches of `batch_size` utterances (default: the run's decode.batch_size)."""
        if isinstance(items, (str, Path, bytes, np.ndarray, torch.Tensor)):
            raise InputTypeError("transcribe takes a list of items; wrap one item in a list")
        feats = [self.features(x, sample_rate) for x in items]
        search = self.search(beam, ctc_weight, nbest)
        out: list[list[Transcript]] = [[] for _ in feats]
        size = batch_size or self.cfg.decode.batch_size
        for idx in inference_batches([len(f) for f in feats], size):
            batch = collate_speech([(feats[i], []) for i in idx], reverse=self._reverse)
            hyps = decode_speech(self.model, batch.src.to(self.device), batch.src_len, search)
            for i, nb in zip(idx, hyps):
                out[i] = [self._transcript(h.tokens, h.score) for h in nb]
        return out

    @property
    def _reverse(self) -> bool:
        return self.cfg.data.reverse_source

    def _transcript(self, tokens: list[int], score: float) -> Transcript:
        return Transcript(self.processor.decode_tgt(tokens), score, tokens)

    # -- streaming -----------------------------------------------------------------------

    @torch.no_grad()
    def stream(
        self, item: Audio, *, beam: int = 1, ctc_weight: float | None = None
    ) -> Iterator[Partial]:
        """The text so far after each chunk of `model.chunk_frames` frames. Global CMVN:
        each chunk normalised on its own; per-utterance CMVN: by the whole file's stats."""
        if self.cfg.model.encoder != "streaming" or self._reverse:
            raise UserError(f"{self.source}: streaming needs a `model.encoder: streaming` model")
        search = self.search(beam, ctc_weight)
        state, memory, heard = None, [], 0
        for chunk in self._chunks(item):  # (C, F) each
            out, state = self.model.encode_chunk(chunk.unsqueeze(0).to(self.device), state)
            memory.append(out)
            heard += len(chunk)
            yield Partial(
                self._decode_memory(torch.cat(memory, 1), heard, search), heard * self.hop_seconds
            )

    def _chunks(self, item: Audio) -> Iterator[torch.Tensor]:
        """The stream's (C, F) feature chunks. Global CMVN: each computed from the samples
        its frames read and normalised by the run's statistics, as the audio arrives;
        per-utterance CMVN: the whole file's features, cut up (not a live stream)."""
        sp, C = self.cfg.data.speech, self.cfg.model.chunk_frames
        if self.stats is None:
            x = self.features(item)  # (T, F), normalised by the whole utterance
            yield from (x[start : start + C] for start in range(0, len(x), C))
            return
        kw = {"n_mels": sp.n_mels, "window_ms": sp.window_ms, "hop_ms": sp.hop_ms}
        for raw in stream_log_mels(self.waveform(item), C, sp.sample_rate, **kw):
            yield normalise(raw, self.stats)  # (C, F)

    def _decode_memory(self, memory: torch.Tensor, frames: int, search: SpeechSearch) -> str:
        """The best transcript of listener outputs (1, T', D) of the `frames` heard so far
        (which set the length caps, as for the whole utterance)."""
        enc = self.model.encoder_output(memory)
        hyps = decode_speech(_Encoded(self.model, enc), memory, torch.tensor([frames]), search)
        return self.processor.decode_tgt(hyps[0][0].tokens)

    def latency(self, items: Sequence[Audio]) -> dict:
        """Look-ahead (seconds of audio a listener output waits for beyond its own frames:
        the whole rest of the utterance for a full-context model or per-utterance CMVN,
        reported as the mean utterance length with `whole_utterance` True; else a chunk
        plus half a window, which the chunk's last frame reads past its centre) and the
        real-time factor (decoding seconds / audio seconds, features included) over
        `items`, decoded as `transcribe` (full context) or `stream` (streaming) does."""
        streaming = self.cfg.model.encoder == "streaming"
        whole = not streaming or self.stats is None
        audio = sum(len(self.features(x)) for x in items) * self.hop_seconds
        t0 = time.perf_counter()
        if streaming:
            for x in items:
                for _ in self.stream(x):
                    pass
        else:
            self.transcribe(list(items), beam=1)
        seconds = time.perf_counter() - t0
        chunk = self.cfg.model.chunk_frames * self.hop_seconds
        half_window = self.cfg.data.speech.window_ms / 2000
        lookahead = audio / max(1, len(items)) if whole else chunk + half_window
        return {
            "lookahead_s": lookahead,
            "whole_utterance": whole,
            "rtf": seconds / audio,
            "audio_s": audio,
        }


class _Encoded:
    """A model whose encoding is already done (a stream's listener outputs so far): its
    `encode` returns that encoding, whatever it is given; everything else is the model."""

    def __init__(self, model, enc):
        self._model, self._enc = model, enc

    def __getattr__(self, name):
        return getattr(self._model, name)

    def encode(self, src, src_len):
        return self._enc
