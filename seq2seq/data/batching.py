"""Batches of similar-length sentences under a token budget, with exact-resume state.

An epoch's batches are a pure function of (seed, epoch), so the sampler's whole state is
the epoch and the position inside it; resuming replays the same batches in the same order.
With several processes (DDP), every rank builds the same list and takes every n-th batch.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from ..vocab import BOS_ID, EOS_ID, PAD_ID


@dataclass
class Batch:
    src: torch.Tensor  # (B, S) padded source ids
    src_len: torch.Tensor  # (B,)
    tgt_in: torch.Tensor  # (B, T) <s> y1 .. yn
    tgt_out: torch.Tensor  # (B, T) y1 .. yn </s>
    n_tgt_tokens: int  # non-padding target tokens (including </s>)

    def to(self, device) -> Batch:
        return Batch(
            self.src.to(device, non_blocking=True),
            self.src_len,  # lengths stay on the CPU (pack_padded_sequence wants them there)
            self.tgt_in.to(device, non_blocking=True),
            self.tgt_out.to(device, non_blocking=True),
            self.n_tgt_tokens,
        )


def pad(seqs: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """List of id lists -> (B, L) padded tensor and (B,) lengths."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    out = torch.full((len(seqs), int(lengths.max())), PAD_ID, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out, lengths


def collate(pairs: Sequence[tuple[list[int], list[int]]]) -> Batch:
    src, src_len = pad([s for s, _ in pairs])
    return Batch(src, src_len, *target_tensors([t for _, t in pairs]))


def target_tensors(tgts: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Target id lists -> the decoder's input `<s> y` (B, T), its output `y </s>` (B, T)
    and the count of output tokens: the target side of every batch (text or speech)."""
    tgt_in, _ = pad([[BOS_ID, *t] for t in tgts])
    tgt_out, _ = pad([[*t, EOS_ID] for t in tgts])
    return tgt_in, tgt_out, sum(len(t) + 1 for t in tgts)


class BucketSampler:
    """Groups examples of similar length into batches; shuffles batch order each epoch."""

    def __init__(
        self,
        lengths: Sequence[tuple[int, int]],
        *,
        batch_tokens: int = 4096,
        batch_size: int = 0,
        seed: int = 1,
        rank: int = 0,
        world_size: int = 1,
    ):
        self.lengths = list(lengths)
        self.batch_tokens, self.batch_size, self.seed = batch_tokens, batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.epoch, self.position = 0, 0  # position = batches of this epoch already consumed
        self._len: int | None = None

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        """All ranks' batches of `epoch` (a pure function of seed and epoch)."""
        rng = random.Random(self.seed * 1_000_003 + epoch)
        order = list(range(len(self.lengths)))
        rng.shuffle(order)  # ties in length end up in random order
        order.sort(key=lambda i: (self.lengths[i][1], self.lengths[i][0]))
        batches, cur, longest = [], [], 0
        for i in order:
            size = max(self.lengths[i]) + 1
            longest_if = max(longest, size)
            full = (
                len(cur) >= self.batch_size
                if self.batch_size
                else longest_if * (len(cur) + 1) > self.batch_tokens
            )
            if cur and full:
                batches.append(cur)
                cur, longest_if = [], size
            cur.append(i)
            longest = longest_if
        if cur:
            batches.append(cur)
        rng.shuffle(batches)
        usable = len(batches) - len(batches) % self.world_size
        return batches[:usable] if self.world_size > 1 else batches

    def __len__(self) -> int:
        """Batches per epoch for this rank, counted on epoch 0 (later epochs may differ slightly)."""
        if self._len is None:
            self._len = len(self.epoch_batches(0)) // self.world_size
        return self._len

    def __iter__(self) -> Iterator[list[int]]:
        """This rank's remaining batches of the current epoch; then moves to the next."""
        mine = self.epoch_batches(self.epoch)[self.rank :: self.world_size]
        while self.position < len(mine):
            self.position += 1
            yield mine[self.position - 1]
        self.epoch, self.position = self.epoch + 1, 0

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position, self.seed = state["epoch"], state["position"], state["seed"]


def inference_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices sorted by length (less padding), cut into batches; callers restore the order."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
