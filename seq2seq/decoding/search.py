"""Greedy and batched beam search over the model protocol (`encode`, `init_state`, `step`).

Shapes: B sentences still being decoded, K beams each, rows ordered (sentence, beam) in a
(B*K) batch. Sentences whose search is over leave the batch, so late steps run on fewer
rows. A hypothesis may hold at most `max_len` tokens; the step after that is forced to
</s>, so every returned score includes the </s> log-probability, exactly as forced decoding
scores it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .. import kernels
from ..kernels.topk import row_topk
from ..vocab import BOS_ID, EOS_ID, PAD_ID
from .constraints import ConstraintMask, Constraints, build_mask


@dataclass
class Hypothesis:
    tokens: list[int]  # without <s> and </s>
    score: float  # sum of log-probabilities, </s> included
    norm_score: float  # score / (len(tokens) + 1) ** length_penalty
    attention: torch.Tensor | None = None  # (len(tokens) + 1, S) when the model returns it


def length_normalize(score: float, length: int, alpha: float) -> float:
    """Divide by length**alpha (length counts </s>); alpha 0 keeps the raw log-probability."""
    return score / (length**alpha) if alpha else score


def max_lengths(src_len: torch.Tensor, a: float, b: int) -> torch.Tensor:
    """Per-sentence cap on hypothesis length: a * source length + b (at least 1)."""
    return (src_len.float() * a + b).ceil().long().clamp(min=1)


def _mask_(logp: torch.Tensor, eos_only: torch.Tensor | None) -> torch.Tensor:
    """In place (a step's log-probabilities are fresh): <pad> and <s> are never outputs; rows
    in `eos_only` (at their length cap) may only end. In place because full-vocabulary copies
    per step cost as much as the output layer."""
    logp[:, PAD_ID] = -math.inf
    logp[:, BOS_ID] = -math.inf
    if eos_only is not None:
        eos = logp[eos_only, EOS_ID]
        logp[eos_only] = -math.inf
        logp[eos_only, EOS_ID] = eos
    return logp


def _at_cap(t: int, caps: list[int], alive: list[int], K: int, device) -> torch.Tensor | None:
    """Which rows (K per active sentence) reached their length cap at step t; None when none
    did (the usual case)."""
    flags = [t >= caps[i] for i in alive]
    return torch.tensor(flags, device=device).repeat_interleave(K) if any(flags) else None


@dataclass(frozen=True)
class _Masks:
    """What a step may not output: <pad> and <s>; past a sentence's cap, anything but </s>;
    and what its constraints forbid."""

    caps: list[int]  # per sentence: the most tokens a hypothesis may hold
    K: int  # rows per active sentence
    constraints: ConstraintMask | None

    @classmethod
    def build(cls, src_len, a: float, b: int, K: int, constraints, device) -> _Masks:
        mask = build_mask(constraints, device)
        caps = max_lengths(src_len, a, b).tolist()
        return cls(mask.caps(caps) if mask is not None else caps, K, mask)

    def apply_(self, logp: torch.Tensor, t: int, ids: list[int], sent: torch.Tensor):
        """Mask step t's log-probabilities (n*K, V) in place; `ids`/`sent`: the active
        sentences' original indices as a list and as a tensor."""
        _mask_(logp, _at_cap(t, self.caps, ids, self.K, logp.device))
        if self.constraints is not None:
            rows = sent if self.K == 1 else sent.repeat_interleave(self.K)
            self.constraints.apply_(logp, t, rows)
        return logp


def top_candidates(scores: torch.Tensor, logp: torch.Tensor):
    """The 2K best extensions of each sentence's K beams: (score, beam, token), each (n, 2K).

    They are among the 2K best tokens of each beam, so a top-k per row and one over K * 2K
    replace adding the beam scores to, and sorting, all K * V candidates.
    """
    n, K = scores.shape
    k2 = min(2 * K, logp.size(-1))
    row_lp, row_tok = row_topk(logp, k2) if kernels.enabled() else logp.topk(k2)  # (n*K, k2)
    cand = (scores.unsqueeze(-1) + row_lp.view(n, K, k2)).view(n, K * k2)
    top_scores, top_idx = cand.topk(min(2 * K, K * k2), dim=-1)
    return top_scores, top_idx // k2, row_tok.view(n, K * k2).gather(1, top_idx)


def argmax_pick(logp: torch.Tensor) -> torch.Tensor:
    """Greedy search's choice: the most probable token of each row."""
    return logp.argmax(dim=-1)


@torch.no_grad()
def greedy_search(
    model,
    src,
    src_len,
    *,
    max_len_a: float = 2.0,
    max_len_b: int = 10,
    constraints: list[Constraints | None] | None = None,
) -> list[Hypothesis]:
    """Most probable next token at every step; one hypothesis per sentence."""
    return one_best_search(
        model,
        src,
        src_len,
        argmax_pick,
        max_len_a=max_len_a,
        max_len_b=max_len_b,
        constraints=constraints,
    )


@torch.no_grad()
def one_best_search(
    model,
    src,
    src_len,
    pick,
    *,
    max_len_a: float = 2.0,
    max_len_b: int = 10,
    constraints: list[Constraints | None] | None = None,
) -> list[Hypothesis]:
    """One token per step chosen by `pick(log_probs (n, V)) -> tokens (n,)` (greedy: the
    argmax; sampling: a draw), after the masks; a hypothesis's score is the model's
    log-probability of its tokens, </s> included."""
    B, device = src.size(0), src.device
    masks = _Masks.build(src_len, max_len_a, max_len_b, 1, constraints, device)
    T = max(masks.caps) + 1
    state = model.init_state(model.encode(src, src_len))
    alive = torch.arange(B, device=device)  # original index of each row still decoding
    alive_ids = list(range(B))
    last = torch.full((B,), BOS_ID, dtype=torch.long, device=device)
    out = torch.full((B, T), EOS_ID, dtype=torch.long, device=device)  # (B, T)
    scores = torch.zeros(B, device=device)
    attn = None  # (B, T, S)
    for t in range(T):
        logp, state, att = model.step(last, state)  # (n, V)
        best = pick(masks.apply_(logp, t, alive_ids, alive))  # (n,)
        out[alive, t] = best
        scores[alive] += logp.gather(1, best.unsqueeze(1)).squeeze(1)
        if att is not None:
            attn = att.new_zeros(B, T, att.size(-1)) if attn is None else attn
            attn[alive, t] = att
        keep = (best != EOS_ID).nonzero().squeeze(1)
        if keep.numel() == 0:
            break
        last = best
        if keep.numel() < alive.numel():
            alive, state, (last,) = _drop_finished(keep, 1, alive, state, best)
            alive_ids = alive.tolist()
    hyps = []
    for i, (row, sc) in enumerate(zip(out.tolist(), scores.tolist())):
        n = row.index(EOS_ID)
        hyps.append(Hypothesis(row[:n], sc, sc, attn[i, : n + 1] if attn is not None else None))
    return hyps


def _drop_finished(keep: torch.Tensor, K: int, sent: torch.Tensor, state, *per_row):
    """Only the active sentences at `keep` go on: their original indices (`sent`), their K
    rows of the decoder state and of each per-row tensor (a None stays None)."""
    rows = keep if K == 1 else (keep.unsqueeze(1) * K + torch.arange(K, device=keep.device))
    rows = rows.view(-1)  # (len(keep)*K,)
    return sent[keep], state.select(rows), [None if x is None else x[rows] for x in per_row]


@dataclass(frozen=True)
class _Rules:
    """What a beam search keeps and when a sentence's search is over."""

    K: int  # beam size
    nbest: int
    early_stop: bool
    length_penalty: float

    def collect(self, finished, sent_ids, candidates, history, attn_hist) -> None:
        """Candidates (score, parent row, is </s>), each (n, 2K), that end in </s> among each
        sentence's K best join that sentence's finished hypotheses, up to K of them."""
        top_scores, rows, is_eos = candidates
        ending = is_eos.clone()
        ending[:, self.K :] = False
        ending &= torch.isfinite(top_scores)
        for i, j in ending.nonzero().tolist():
            s = sent_ids[i]
            if len(finished[s]) < self.K:
                r = int(rows[i, j])
                toks = history[r].tolist()
                a = attn_hist[r] if attn_hist is not None else None
                sc = float(top_scores[i, j])
                normed = length_normalize(sc, len(toks) + 1, self.length_penalty)
                finished[s].append(Hypothesis(toks, sc, normed, a))

    def done(self, finished, sent_ids, scores: torch.Tensor, next_length: int) -> torch.Tensor:
        """Per active sentence: K finished hypotheses; with `early_stop`, an `nbest`-th best
        finished one at least as good as the best live one (`scores` (n, K), best first)
        would be if it ended at the next step; or no live hypothesis left."""
        full = [len(finished[s]) >= self.K for s in sent_ids]
        if self.early_stop:
            live = scores[:, 0].tolist()
            full = [
                f
                or (
                    len(finished[s]) >= self.nbest
                    and _nth_best(finished[s], self.nbest)
                    >= length_normalize(b, next_length, self.length_penalty)
                )
                for f, s, b in zip(full, sent_ids, live)
            ]
        return torch.tensor(full, device=scores.device) | ~torch.isfinite(scores).any(dim=1)


def _nth_best(hyps: list[Hypothesis], n: int) -> float:
    return sorted((h.norm_score for h in hyps), reverse=True)[n - 1]


@torch.no_grad()
def beam_search(
    model,
    src: torch.Tensor,
    src_len: torch.Tensor,
    *,
    beam: int = 5,
    nbest: int = 1,
    length_penalty: float = 1.0,
    max_len_a: float = 2.0,
    max_len_b: int = 10,
    early_stop: bool = False,
    constraints: list[Constraints | None] | None = None,
) -> list[list[Hypothesis]]:
    """Batched beam search; returns the `nbest` best hypotheses per sentence, best first.

    Each step keeps the 2K best candidates per sentence: those ending in </s> among the
    first K are finished, and the K best others go on. A sentence is done once it has K
    finished hypotheses, or with `early_stop` once its `nbest`-th best finished hypothesis
    scores at least as well as its best live one would if it ended at the next step (exact when
    length_penalty is 0, since log-probabilities only fall; a heuristic otherwise, as
    OpenNMT-py's default). `constraints`: one per sentence (`constraints.py`), or None.
    """
    K, device, B = beam, src.device, src.size(0)
    rules = _Rules(K, nbest, early_stop, length_penalty)
    masks = _Masks.build(src_len, max_len_a, max_len_b, K, constraints, device)
    state = model.init_state(model.encode(src, src_len)).repeat(K)  # (B*K) rows
    sent = torch.arange(B, device=device)  # original index of each active sentence
    sent_ids = list(range(B))
    scores = torch.full((B, K), -math.inf, device=device)  # one live beam per sentence at first
    scores[:, 0] = 0.0
    history = torch.empty((B * K, 0), dtype=torch.long, device=device)  # (n*K, t)
    attn_hist = None  # (n*K, t, S)
    last = torch.full((B * K,), BOS_ID, dtype=torch.long, device=device)
    finished: list[list[Hypothesis]] = [[] for _ in range(B)]
    for t in range(max(masks.caps) + 1):
        logp, state, att = model.step(last, state)  # (n*K, V)
        masks.apply_(logp, t, sent_ids, sent)
        top_scores, from_beam, tok = top_candidates(scores, logp)  # (n, 2K) each
        rows = torch.arange(sent.numel(), device=device).unsqueeze(1) * K + from_beam  # parents
        if att is not None:  # attention of step t belongs to the parent row's history
            step_att = att.unsqueeze(1)  # (n*K, 1, S)
            attn_hist = step_att if attn_hist is None else torch.cat([attn_hist, step_att], 1)
        is_eos = tok == EOS_ID
        rules.collect(finished, sent_ids, (top_scores, rows, is_eos), history, attn_hist)
        scores, pick = top_scores.masked_fill(is_eos, -math.inf).topk(K, dim=-1)  # (n, K)
        parent = rows.gather(1, pick).view(-1)  # (n*K,)
        last = tok.gather(1, pick).view(-1)
        history = torch.cat([history[parent], last.unsqueeze(1)], dim=1)
        attn_hist = attn_hist[parent] if attn_hist is not None else None
        state = state.select(parent)
        done = rules.done(finished, sent_ids, scores, next_length=t + 2)  # live: t + 1 tokens
        if bool(done.all()):
            break
        if bool(done.any()):
            keep = (~done).nonzero().squeeze(1)
            sent, state, (last, history, attn_hist) = _drop_finished(
                keep, K, sent, state, last, history, attn_hist
            )
            scores, sent_ids = scores[keep], sent.tolist()
    return [sorted(f, key=lambda h: h.norm_score, reverse=True)[:nbest] for f in finished]
