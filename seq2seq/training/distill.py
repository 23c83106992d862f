"""Token-level ensemble distillation (Hinton et al., 2015; Sun et al., 2019 for G2P).

The student learns from the teachers' whole next-token distribution, not only from the
reference token: `loss = (1 - w) * CE(reference) + w * CE(teacher distribution)`. The
teachers (an ensemble, combined as in ensemble decoding: mean log-probabilities,
renormalised) run once, teacher-forced over the training set before training starts; each
target position keeps only their top-k tokens (renormalised), so the cache is small
(examples x tokens x k) and a training step costs what it costs without distillation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext

import torch
from tqdm import tqdm

from .. import checkpoints
from ..config import Config
from ..data import collate
from ..vocab import PAD_ID


class TeacherTargets:
    """Per training example: the teachers' top-k token ids and probabilities per position."""

    def __init__(self, ids: list[torch.Tensor], probs: list[torch.Tensor]):
        self.ids, self.probs = ids, probs  # example i: (len(target) + 1, k) each

    def gather(self, indices: Sequence[int], device) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, k) ids and probabilities for a batch's real target tokens, in `keep` order."""
        ids = torch.cat([self.ids[i] for i in indices]).to(device, torch.long)
        probs = torch.cat([self.probs[i] for i in indices]).to(device, torch.float32)
        return ids, probs


def load_teachers(paths: Sequence[str], cfg: Config, processor_state: dict, device) -> list:
    """The teacher models, after checking they read and write tokens as the student does."""
    student = checkpoints.Checkpoint("this run", cfg, processor_state)
    teachers = [checkpoints.read(path) for path in paths]
    for teacher in teachers:
        checkpoints.check_compatible(student, teacher)
    return [checkpoints.load_model(t, device) for t in teachers]


@torch.no_grad()
def teacher_targets(
    teachers: list,
    examples: Sequence[tuple[list[int], list[int]]],
    *,
    k: int,
    device,
    autocast: Callable | None = None,
    batch_size: int = 256,
    progress: bool = True,
) -> TeacherTargets:
    """Run the teachers teacher-forced over `examples`; keep the top-k of their distribution."""
    for t in teachers:
        t.eval()
    order = sorted(range(len(examples)), key=lambda i: len(examples[i][1]))  # little padding
    ids: list = [None] * len(examples)
    probs: list = [None] * len(examples)
    bar = tqdm(total=len(examples), desc="teachers", unit="ex", disable=not progress)
    for s in range(0, len(order), batch_size):
        chunk = order[s : s + batch_size]
        batch = collate([examples[i] for i in chunk])
        tgt_out = batch.tgt_out.to(device)
        keep = tgt_out != PAD_ID
        args = (batch.src.to(device), batch.src_len, batch.tgt_in.to(device), keep)
        with autocast() if autocast else nullcontext():
            logp = torch.stack([torch.log_softmax(t(*args).float(), -1) for t in teachers])
        q = torch.softmax(logp.mean(0), -1)  # the ensemble's distribution, as in decoding
        top_p, top_i = q.topk(min(k, q.size(-1)), dim=-1)
        top_p = top_p / top_p.sum(-1, keepdim=True)
        rows = keep.sum(1).tolist()  # real tokens per example, row-major like `keep`
        for i, a, b in zip(chunk, top_i.cpu().split(rows), top_p.cpu().split(rows)):
            ids[i], probs[i] = a.to(torch.int32), b.to(torch.float16)
        bar.update(len(chunk))
    bar.close()
    return TeacherTargets(ids, probs)


def soft_loss(logits: torch.Tensor, ids: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy of (N, V) logits against the teachers' sparse distributions."""
    logp = torch.log_softmax(logits.float(), -1)
    return -(probs * logp.gather(1, ids)).sum()
