"""Training speech recognition (`data.dataset: speech`, `model.type: speech`): the same loop
as text (`loop.Trainer`: atomic checkpoints, exact resume, Ctrl-C / SIGTERM saves `last.pt`,
early stopping, validation by `asr_wer` / `asr_cer`), with log-mel features in the place of
source ids.

The loss is joint CTC/attention (Watanabe et al., 2017): (1 - lambda) CE(speller, label
smoothing) + lambda CTC, lambda = `model.ctc_weight`; both summed over the batch and, as
for text, divided by its target tokens. SpecAugment (`data.speech.specaugment`) is applied
to training batches only, its draws from a generator seeded by (train.seed, step): the
step counter, which `last.pt` keeps, is its whole state, so a resumed run draws the same
masks as an uninterrupted one. Validation decodes the dev set greedily with the model's
own CTC weight (`decoding.speech`). One process: torchrun is refused.

Global CMVN (`data.speech.cmvn: global`): a fresh run measures the statistics on its
training set and keeps them in its processor (so in every checkpoint, as plain lists); a
run that starts from weights holding some (resume, `init_from`) normalises by those, train
and dev alike; `vocab_from` takes no statistics (a fresh model measures its own).
"""

from __future__ import annotations

import torch

from ..data import Processor, inference_batches
from ..data.speech import (
    collate_speech,
    load_speech_set,
    sampler_lengths,
    speech_batch,
    speech_processor,
    training_indices,
)
from ..decoding.speech import SpeechSearch, decode_speech
from ..errors import UserError
from ..evaluation import score
from ..models.speech import ctc_loss_sum
from ..vocab import PAD_ID
from .loop import Trainer
from .loss import token_loss


class SpeechTrainer(Trainer):
    """`Trainer` over utterances: features (B, T, F) in, transcripts' token ids out."""

    def _build_data(self, start_state: dict | None) -> dict:
        cfg, sp = self.cfg, self.cfg.data.speech
        if cfg.model.type != "speech":
            raise UserError(
                f"`data.dataset: speech` trains `model.type: speech`, not {cfg.model.type!r}: "
                "set model.type: speech (configs/asr-*.yaml)"
            )
        if self.dist.enabled:
            raise UserError("speech training runs on one process; run it without torchrun")
        # weights trained on normalised features keep their statistics (not vocab_from's)
        weights = start_state is not None and "model" in start_state
        kept = start_state["processor"].get("cmvn") if weights else None
        self.train_set = load_speech_set(sp, sp.train, "train", stats=kept)
        self.dev_set = load_speech_set(sp, sp.dev, "dev", stats=self.train_set.cmvn)
        self.processor = (
            Processor.from_state(cfg.data, start_state["processor"])
            if start_state
            else speech_processor(cfg.data, self.train_set.texts)
        )
        self.processor.cmvn = self.train_set.cmvn  # None with per-utterance CMVN
        encode = self.processor.encode_tgt
        self.train_targets = [encode(t) for t in self.train_set.texts]
        self.dev_targets = [encode(t) for t in self.dev_set.texts]
        self.dev_examples = list(range(len(self.dev_set)))  # validation reads them all
        # the kept utterances (indices into train_set): what the sampler batches
        self.train_examples, dropped = training_indices(
            self.train_set, self.train_targets, cfg.data
        )
        if not self.train_examples:
            raise UserError(
                f"{sp.train}: no training utterance left; raise data.speech.max_frames or "
                "data.max_tgt_len"
            )
        if dropped:
            self.log(f"{dropped:,} training utterance(s) too long dropped")
        return {}  # nothing derived to write into the run

    def model_sizes(self) -> tuple[int, int]:
        """The features per frame and the target vocabulary's size."""
        return self.cfg.data.speech.n_mels, len(self.processor.tgt_vocab)

    def example_lengths(self) -> list[tuple[int, int]]:
        """(frames, target tokens) of each training utterance."""
        return sampler_lengths(self.train_set, self.train_targets, self.train_examples)

    def batch(self, indices: list[int]):
        """The training batch of these (sampler) indices, SpecAugmented."""
        gen = torch.Generator().manual_seed(self.cfg.train.seed * 1_000_003 + self.counters["step"])
        return speech_batch(
            self.train_set,
            self.train_targets,
            [self.train_examples[i] for i in indices],
            reverse=self.cfg.data.reverse_source,
            augment=self.cfg.data.speech.specaugment,
            generator=gen,
        )

    def _loss_sum(self, batch, label_smoothing: float = 0.0, net=None, soft=None):
        """(1 - lambda) summed CE + lambda summed CTC loss of the batch."""
        dev, w = self.device, self.cfg.model.ctc_weight
        targets = batch.tgt_out.to(dev)
        keep = targets != PAD_ID
        with self._autocast():
            out = self.model.outputs(batch.src.to(dev), batch.src_len, batch.tgt_in.to(dev), keep)
        loss = torch.zeros((), device=dev)
        if out.logits is not None:
            loss = loss + (1 - w) * token_loss(out.logits, targets[keep], label_smoothing)
        if out.ctc_log_probs is not None:
            loss = loss + w * ctc_loss_sum(out.ctc_log_probs.float(), out.out_len, targets)
        return loss

    # -- validation ----------------------------------------------------------------------

    def _dev_batches(self, n: int, size: int = 32):
        frames = self.dev_set.frames()[:n]
        for idx in inference_batches(frames, size):
            items = [(self.dev_set.features(i), self.dev_targets[i]) for i in idx]
            yield idx, collate_speech(items, reverse=self.cfg.data.reverse_source)

    @torch.no_grad()
    def dev_loss(self) -> tuple[float, int]:
        self.model.eval()
        total, n = 0.0, 0
        for _, batch in self._dev_batches(len(self.dev_set)):
            total += float(self._loss_sum(batch))
            n += batch.n_tgt_tokens
        return total, n

    @torch.no_grad()
    def dev_metric(self) -> dict:
        n = self.cfg.train.valid_max_sentences or len(self.dev_set)
        self.model.eval()
        d = self.cfg.decode
        search = SpeechSearch(max_len_a=d.max_len_a, max_len_b=d.max_len_b)
        texts: dict[int, str] = {}
        for idx, batch in self._dev_batches(n):
            with self._autocast():
                hyps = decode_speech(self.model, batch.src.to(self.device), batch.src_len, search)
            for i, h in zip(idx, hyps):
                texts[i] = self.processor.decode_tgt(h[0].tokens)
        refs = self.dev_set.texts[:n]
        return score(self.cfg.train.metric, [texts[i] for i in range(n)], [[r] for r in refs])
