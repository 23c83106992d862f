"""BucketSampler: coverage, token budget, determinism, exact mid-epoch resume; collate."""

from __future__ import annotations

import random

import torch

from seq2seq.data.batching import BucketSampler, collate, inference_batches, pad
from seq2seq.vocab import BOS_ID, EOS_ID, PAD_ID


def _lengths(n: int = 200, seed: int = 0) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    return [(rng.randint(1, 30), rng.randint(1, 30)) for _ in range(n)]


def test_every_example_exactly_once_per_epoch():
    lengths = _lengths()
    sampler = BucketSampler(lengths, batch_tokens=120, seed=3)
    for _ in range(3):
        seen = [i for batch in sampler for i in batch]
        assert sorted(seen) == list(range(len(lengths)))
    assert sampler.epoch == 3


def test_token_budget_respected_unless_single_example():
    lengths = _lengths() + [(80, 5)]  # one example longer than the whole budget
    budget = 64
    batches = BucketSampler(lengths, batch_tokens=budget, seed=1).epoch_batches(0)
    assert [len(b) for b in batches if any(i == len(lengths) - 1 for i in b)] == [1]
    for batch in batches:
        cost = len(batch) * max(max(lengths[i]) + 1 for i in batch)
        assert cost <= budget or len(batch) == 1
    assert max(len(b) for b in batches) > 1


def test_fixed_batch_size():
    batches = BucketSampler(_lengths(50), batch_size=8, seed=1).epoch_batches(0)
    assert sorted(len(b) for b in batches) == [2] + [8] * 6


def test_deterministic_for_a_seed_and_different_across_seeds_and_epochs():
    lengths = _lengths()
    a = BucketSampler(lengths, batch_tokens=120, seed=5)
    b = BucketSampler(lengths, batch_tokens=120, seed=5)
    assert a.epoch_batches(0) == b.epoch_batches(0)
    assert a.epoch_batches(0) != a.epoch_batches(1)
    assert a.epoch_batches(0) != BucketSampler(lengths, batch_tokens=120, seed=6).epoch_batches(0)


def test_resume_from_mid_epoch_state_yields_the_same_remaining_batches():
    lengths = _lengths()
    ref = BucketSampler(lengths, batch_tokens=120, seed=2)
    list(ref)  # epoch 0
    it = iter(ref)  # epoch 1
    head = [next(it) for _ in range(4)]
    state = ref.state_dict()
    assert state["epoch"] == 1 and state["position"] == 4
    remaining = list(it)
    next_epoch = list(ref)

    resumed = BucketSampler(lengths, batch_tokens=120, seed=999)
    resumed.load_state_dict(state)
    assert list(resumed) == remaining
    assert list(resumed) == next_epoch
    assert head + remaining == ref.epoch_batches(1)


def test_pad_and_collate_shapes():
    src, src_len = pad([[5, 6, 7], [8]])
    assert src.tolist() == [[5, 6, 7], [8, PAD_ID, PAD_ID]]
    assert src_len.tolist() == [3, 1]
    batch = collate([([5, 6], [9]), ([7], [10, 11])])
    assert batch.tgt_in.tolist() == [[BOS_ID, 9, PAD_ID], [BOS_ID, 10, 11]]
    assert batch.tgt_out.tolist() == [[9, EOS_ID, PAD_ID], [10, 11, EOS_ID]]
    assert batch.n_tgt_tokens == 5
    assert batch.src.dtype == torch.long


def test_inference_batches_cover_all_sorted_by_length():
    lengths = [3, 9, 1, 7, 7, 2]
    batches = inference_batches(lengths, 4)
    assert sorted(i for b in batches for i in b) == list(range(6))
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(lengths, reverse=True)
    assert [len(b) for b in batches] == [4, 2]
