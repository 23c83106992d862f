"""CTC search: greedy, prefix beam search, and the CTC prefix scorer of joint CTC/attention
decoding (Watanabe et al., 2017).

Inputs are CTC log-probabilities (B, T, V) with per-row frame counts; the blank is
`vocab.BLANK_ID` (<pad>'s column); <s> and </s> are never labels (the model gives them -inf).

- `ctc_greedy`: the best path (the most probable token per frame), repeats merged, blanks
  dropped. Its score is that path's log-probability, not the labelling's.
- `ctc_prefix_beam_search`: the labellings with the highest total probability (summed over
  their paths), each frame extending every kept prefix by its `beam` most probable labels.
  A score is exact (the CTC forward log-probability of the output) when no prefix the output
  goes through was pruned. Beam 1 is not greedy in general (it keeps the best prefix, summed
  over paths, not the best path); on peaked distributions, as a trained model's, they agree.
- `CTCPrefixScorer`: wraps a model with a speller and a CTC head into the step protocol,
  each step's log-probabilities being (1 - lambda) log P_att(c | h) + lambda (log
  psi(h + c) - log psi(h)), psi the CTC prefix probability (of all paths whose labels start
  with h + c; for </s>, of h itself over the whole utterance); so the existing beam search
  does joint decoding unchanged, and a finished hypothesis's CTC part sums to log P_ctc(h).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..models.base import DecoderState, EncoderOutput
from ..vocab import BLANK_ID, BOS_ID, EOS_ID
from .search import Hypothesis

LOG_ZERO = -1e10  # a finite log 0 (as ESPnet's logzero): 0 * LOG_ZERO is 0, not nan


@torch.no_grad()
def ctc_greedy(log_probs: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
    """Best path decoding of (B, T, V) log-probabilities; one hypothesis per row."""
    best, ids = log_probs.max(-1)  # (B, T)
    hyps = []
    for b, n in enumerate(lengths.tolist()):
        path = ids[b, :n].tolist()
        tokens = [t for i, t in enumerate(path) if t != BLANK_ID and (i == 0 or t != path[i - 1])]
        score = float(best[b, :n].sum())
        hyps.append(Hypothesis(tokens, score, score))
    return hyps


def ctc_prefix_beam_search(
    log_probs: torch.Tensor, lengths: torch.Tensor, *, beam: int = 5, nbest: int = 1
) -> list[list[Hypothesis]]:
    """The `nbest` most probable labellings of each row of (B, T, V), best first; a score is
    the log of the labelling's total probability over its paths, as the search summed it."""
    lp = log_probs.float().cpu()
    return [_prefix_beam(lp[b, :n], beam, nbest) for b, n in enumerate(lengths.tolist())]


def _lse(a: float, b: float) -> float:
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def _add(beams: dict, prefix: tuple[int, ...], pb: float, pnb: float) -> None:
    ob, onb = beams.get(prefix, (LOG_ZERO, LOG_ZERO))
    beams[prefix] = (_lse(ob, pb), _lse(onb, pnb))


def _prefix_beam(lp: torch.Tensor, beam: int, nbest: int) -> list[Hypothesis]:
    """One utterance (T, V). Each prefix keeps (log P ending in blank, log P ending in its
    last label) over the frames so far."""
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, LOG_ZERO)}
    labels = lp.clone()
    labels[:, [BLANK_ID, BOS_ID, EOS_ID]] = -math.inf
    top = labels.topk(min(beam, lp.size(1) - 1), dim=-1).indices.tolist()  # (T, k)
    for t, x in enumerate(lp.tolist()):
        cand = [c for c in top[t] if x[c] > LOG_ZERO]
        nxt: dict[tuple[int, ...], tuple[float, float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = _lse(pb, pnb)
            _add(nxt, prefix, total + x[BLANK_ID], LOG_ZERO)
            if prefix:  # the last label again, merged into it
                _add(nxt, prefix, LOG_ZERO, pnb + x[prefix[-1]])
            for c in cand:  # a repeated label needs a blank in between
                base = pb if prefix and c == prefix[-1] else total
                _add(nxt, (*prefix, c), LOG_ZERO, base + x[c])
        ranked = sorted(nxt.items(), key=lambda kv: _lse(*kv[1]), reverse=True)
        beams = dict(ranked[:beam])
    ranked = sorted(((p, _lse(*s)) for p, s in beams.items()), key=lambda ps: -ps[1])
    return [Hypothesis(list(p), s, s) for p, s in ranked[:nbest]]


# -- joint CTC/attention decoding: a step wrapper ------------------------------------------


@dataclass(frozen=True)
class JointState:
    """The wrapped model's own state, and the CTC prefix state: `x` (N, T, V) the frames'
    log-probabilities (padding frames: blank certain); `r` (N, T, 2, V) for every
    extension h + c of the row's prefix h, log P of its paths up to frame t ending in a
    label (0) or a blank (1); `psi` (N, V) their prefix scores. Reordered together."""

    inner: object
    ctc: DecoderState

    def select(self, index: torch.Tensor) -> JointState:
        return JointState(self.inner.select(index), self.ctc.select(index))

    def repeat(self, k: int) -> JointState:
        return JointState(self.inner.repeat(k), self.ctc.repeat(k))


class CTCPrefixScorer:
    """A model with a speller and a CTC head, decoded with joint scores (`weight` = lambda:
    0 = the speller alone, 1 = CTC prefix scores alone). `candidates` > 0: each step scores
    by CTC only each row's `candidates` most probable tokens under the speller (ESPnet's
    pre-beam), and the others get log 0 from CTC; 0 = every token. The state then holds
    (N, T, 2, candidates) instead of (N, T, 2, V): what makes a sentencepiece vocabulary
    affordable."""

    def __init__(self, model, weight: float, *, candidates: int = 0):
        if not 0.0 <= weight <= 1.0:
            raise ValueError("the CTC weight must be in [0, 1]")
        self.model, self.weight, self.candidates = model, weight, candidates

    def eval(self) -> CTCPrefixScorer:
        self.model.eval()
        return self

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> EncoderOutput:
        return self.model.encode(src, src_len)

    def init_state(self, enc: EncoderOutput) -> JointState:
        x = ctc_frames(self.model.ctc_log_probs(enc), enc.src_mask.sum(1))  # (N, T, V)
        N, T, V = x.shape
        k = min(self.candidates, V) if self.candidates else V
        r = x.new_full((N, T, 2), LOG_ZERO)
        r[:, :, 1] = x[:, :, BLANK_ID].cumsum(1)  # the empty prefix: blanks only
        ctc = {
            "x": x,
            "r": r.unsqueeze(-1).expand(N, T, 2, k),  # <s> finds the empty prefix anywhere
            "psi": x.new_zeros(N, k),
            "cand": torch.full((N, k), BOS_ID, device=x.device),
        }
        return JointState(self.model.init_state(enc), DecoderState(ctc, dict.fromkeys(ctc, 0)))

    def step(self, tokens: torch.Tensor, state: JointState):
        logp, inner, att = self.model.step(tokens, state.inner)  # (N, V)
        ctc, rows = state.ctc, torch.arange(tokens.size(0), device=tokens.device)
        pos = (ctc["cand"] == tokens.unsqueeze(1)).int().argmax(1)  # (N,) the token's column
        r = ctc["r"][rows, :, :, pos]  # (N, T, 2): the prefix h the row now holds
        psi = ctc["psi"][rows, pos]  # (N,)
        cand = self._candidates(logp)  # (N, k)
        x = ctc["x"]
        xc = x.gather(2, cand.unsqueeze(1).expand(-1, x.size(1), -1))  # (N, T, k)
        repeat = cand == tokens.unsqueeze(1)  # (N, k): c is h's last label
        r_next, psi_c = extend_prefixes(xc, x[..., BLANK_ID], r, repeat, tokens == BOS_ID)
        psi_next = torch.full_like(logp, LOG_ZERO).scatter(1, cand, psi_c)  # (N, V)
        psi_next[:, EOS_ID] = torch.logaddexp(r[:, -1, 0], r[:, -1, 1])  # h is the whole output
        psi_next[:, BLANK_ID] = LOG_ZERO
        delta = psi_next - psi.unsqueeze(1)  # (N, V)
        joint = (1.0 - self.weight) * logp + self.weight * delta
        new = ctc.replace(r=r_next, psi=psi_c, cand=cand)
        return joint, JointState(inner, new), att

    def _candidates(self, logp: torch.Tensor) -> torch.Tensor:
        """(N, k) token ids whose CTC prefix scores this step computes."""
        N, V = logp.shape
        if not self.candidates or self.candidates >= V:
            return torch.arange(V, device=logp.device).expand(N, V)
        lp = logp.clone()
        lp[:, [BLANK_ID, BOS_ID, EOS_ID]] = -math.inf  # never labels (</s>: scored apart)
        return lp.topk(self.candidates, dim=-1).indices


def ctc_frames(log_probs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(N, T, V) log-probabilities with LOG_ZERO for impossible, and past each row's length
    frames where the blank is certain, so every row may be read to the batch's last frame."""
    x = log_probs.float().clamp(min=LOG_ZERO)
    pad = torch.arange(x.size(1), device=x.device).unsqueeze(0) >= lengths.unsqueeze(1)  # (N, T)
    x = x.masked_fill(pad.unsqueeze(-1), LOG_ZERO)
    x[..., BLANK_ID] = x[..., BLANK_ID].masked_fill(pad, 0.0)
    return x


def extend_prefixes(
    x: torch.Tensor, blank: torch.Tensor, r: torch.Tensor, repeat: torch.Tensor, empty
):
    """The CTC prefix recursion for one-label extensions h + c of each row's prefix h.

    x (N, T, K) the frames' log-probabilities of the K labels c, blank (N, T) the blank's,
    r (N, T, 2) h's (label, blank) path log-probs, repeat (N, K) whether c is h's last label,
    empty (N,) whether h is empty. Returns r (N, T, 2, K) of each h + c and psi (N, K) = log
    sum_t phi(t - 1) x_t(c), with phi(t) = h's probability up to t, less its paths ending in
    c itself when c repeats h's last label (they would merge).
    """
    N, T, V = x.shape
    rn_h, rb_h = r[..., 0], r[..., 1]  # (N, T)
    repeat = repeat.unsqueeze(1)  # (N, 1, K)
    phi = torch.where(repeat, rb_h.unsqueeze(-1), torch.logaddexp(rn_h, rb_h).unsqueeze(-1))
    rn = x.new_full((N, T, V), LOG_ZERO)
    rb = x.new_full((N, T, V), LOG_ZERO)
    empty = empty.unsqueeze(1)  # (N, 1): only h = () starts with label c at frame 0
    rn[:, 0] = torch.where(empty, x[:, 0], torch.full_like(x[:, 0], LOG_ZERO))
    for t in range(1, T):
        rn[:, t] = torch.logaddexp(rn[:, t - 1], phi[:, t - 1]) + x[:, t]
        rb[:, t] = torch.logaddexp(rb[:, t - 1], rn[:, t - 1]) + blank[:, t].unsqueeze(-1)
    starts = torch.cat([rn[:, :1], phi[:, :-1] + x[:, 1:]], 1)  # (N, T, V)
    return torch.stack([rn, rb], 2), torch.logsumexp(starts, 1)  # (N, T, 2, V), (N, V)
