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

from ..vocab import BOS_ID, EOS_ID, PAD_ID


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


def _allowed(logp: torch.Tensor, eos_only: torch.Tensor) -> torch.Tensor:
    """<pad> and <s> are never outputs; rows in `eos_only` (at their length cap) may only end."""
    logp = logp.index_fill(1, torch.tensor([PAD_ID, BOS_ID], device=logp.device), -math.inf)
    ended = torch.full_like(logp, -math.inf)
    ended[:, EOS_ID] = logp[:, EOS_ID]
    return torch.where(eos_only.unsqueeze(-1), ended, logp)


@torch.no_grad()
def greedy_search(
    model, src, src_len, *, max_len_a: float = 2.0, max_len_b: int = 10
) -> list[Hypothesis]:
    """Most probable next token at every step; one hypothesis per sentence."""
    B, device = src.size(0), src.device
    caps = max_lengths(src_len, max_len_a, max_len_b).to(device)
    T = int(caps.max()) + 1
    state = model.init_state(model.encode(src, src_len))
    alive = torch.arange(B, device=device)  # original index of each row still decoding
    last = torch.full((B,), BOS_ID, dtype=torch.long, device=device)
    out = torch.full((B, T), EOS_ID, dtype=torch.long, device=device)  # (B, T)
    scores = torch.zeros(B, device=device)
    attn = None  # (B, T, S)
    for t in range(T):
        logp, state, att = model.step(last, state)  # (n, V)
        logp = _allowed(logp, t >= caps[alive])
        best_lp, best = logp.max(dim=-1)  # (n,)
        out[alive, t] = best
        scores[alive] += best_lp
        if att is not None:
            attn = att.new_zeros(B, T, att.size(-1)) if attn is None else attn
            attn[alive, t] = att
        keep = (best != EOS_ID).nonzero().squeeze(1)
        if keep.numel() == 0:
            break
        if keep.numel() < alive.numel():
            alive, state = alive[keep], state.select(keep)
        last = best[keep]
    hyps = []
    for i, (row, sc) in enumerate(zip(out.tolist(), scores.tolist())):
        n = row.index(EOS_ID)
        hyps.append(Hypothesis(row[:n], sc, sc, attn[i, : n + 1] if attn is not None else None))
    return hyps


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
) -> list[list[Hypothesis]]:
    """Batched beam search; returns the `nbest` best hypotheses per sentence, best first.

    Each step keeps the 2K best candidates per sentence: those ending in </s> among the
    first K are finished, and the K best others go on. A sentence is done once it has K
    finished hypotheses.
    """
    K, device = beam, src.device
    B = src.size(0)
    caps = max_lengths(src_len, max_len_a, max_len_b).to(device)
    state = model.init_state(model.encode(src, src_len)).repeat(K)  # (B*K) rows
    sent = torch.arange(B, device=device)  # original index of each active sentence
    scores = torch.full((B, K), -math.inf, device=device)
    scores[:, 0] = 0.0  # at the start only the first beam is real
    history = torch.empty((B * K, 0), dtype=torch.long, device=device)  # (n*K, t)
    attn_hist = None  # (n*K, t, S)
    last = torch.full((B * K,), BOS_ID, dtype=torch.long, device=device)
    finished: list[list[Hypothesis]] = [[] for _ in range(B)]
    for t in range(int(caps.max()) + 1):
        n = sent.numel()
        logp, state, att = model.step(last, state)  # (n*K, V)
        V = logp.size(-1)
        logp = _allowed(logp, (t >= caps[sent]).repeat_interleave(K))
        cand = (scores.unsqueeze(-1) + logp.view(n, K, V)).view(n, K * V)
        top_scores, top_idx = cand.topk(min(2 * K, K * V), dim=-1)  # (n, 2K)
        from_beam, tok = top_idx // V, top_idx % V
        rows = torch.arange(n, device=device).unsqueeze(1) * K + from_beam  # (n, 2K) parent rows
        if att is not None:  # attention of step t belongs to the parent row's history
            step_att = att.unsqueeze(1)  # (n*K, 1, S)
            attn_hist = step_att if attn_hist is None else torch.cat([attn_hist, step_att], 1)
        is_eos = tok == EOS_ID
        ending = is_eos.clone()
        ending[:, K:] = False
        ending &= torch.isfinite(top_scores)
        for i, j in ending.nonzero().tolist():
            s = int(sent[i])
            if len(finished[s]) < K:
                r = int(rows[i, j])
                toks = history[r].tolist()
                a = attn_hist[r] if attn_hist is not None else None
                sc = float(top_scores[i, j])
                finished[s].append(
                    Hypothesis(toks, sc, length_normalize(sc, len(toks) + 1, length_penalty), a)
                )
        scores, pick = top_scores.masked_fill(is_eos, -math.inf).topk(K, dim=-1)  # (n, K)
        parent = rows.gather(1, pick).view(-1)  # (n*K,)
        last = tok.gather(1, pick).view(-1)
        history = torch.cat([history[parent], last.unsqueeze(1)], dim=1)
        if attn_hist is not None:
            attn_hist = attn_hist[parent]
        state = state.select(parent)
        done = torch.tensor(
            [len(finished[s]) >= K for s in sent.tolist()], device=device
        ) | ~torch.isfinite(scores).any(dim=1)
        if bool(done.all()):
            break
        if bool(done.any()):
            keep = (~done).nonzero().squeeze(1)
            keep_rows = (keep.unsqueeze(1) * K + torch.arange(K, device=device)).view(-1)
            sent, scores, last = sent[keep], scores[keep], last[keep_rows]
            history, state = history[keep_rows], state.select(keep_rows)
            if attn_hist is not None:
                attn_hist = attn_hist[keep_rows]
    return [sorted(f, key=lambda h: h.norm_score, reverse=True)[:nbest] for f in finished]
