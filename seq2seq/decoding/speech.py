"""Decoding a speech model's batch of features: which search runs for which model and CTC
weight, in one place (training's validation and the Transcriber both call it).

- A CTC-only model (no speller), or a CTC weight of 1: CTC greedy (beam 1) or CTC prefix
  beam search (`ctc.py`).
- A weight of 0, or a model without a CTC head: the speller's greedy or beam search.
- Between: joint CTC/attention decoding, the same greedy / beam search over
  `CTCPrefixScorer`, CTC-scoring the speller's best `ctc_candidates` tokens a step.

The weight is the model's `ctc_weight` unless given. Length caps: `max_len_a` counts
output tokens per listener frame (2**pyramid_levels input frames), so the default 2.0 with
an 8x listener allows 25 tokens a second of audio at the 10 ms hop.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import InputValueError
from .ctc import CTCPrefixScorer, ctc_greedy, ctc_prefix_beam_search
from .search import Hypothesis, beam_search, greedy_search


@dataclass(frozen=True)
class SpeechSearch:
    beam: int = 1  # 1 = greedy
    nbest: int = 1
    ctc_weight: float | None = None  # None = the model's own `ctc_weight`
    length_penalty: float = 1.0
    max_len_a: float = 2.0  # per listener output frame
    max_len_b: int = 10
    # joint decoding: CTC-score each step only the speller's best N tokens of a hypothesis
    # (ESPnet's pre-beam); 0 = 2 * beam, at least 10
    ctc_candidates: int = 0


def search_weight(model, ctc_weight: float | None) -> float:
    """The CTC weight a search uses, refused in one line when the model cannot use it."""
    w = model.cfg.ctc_weight if ctc_weight is None else ctc_weight
    if not 0.0 <= w <= 1.0:
        raise InputValueError(f"--ctc-weight {w}: must be in [0, 1]")
    if w > 0 and not model.has_ctc:
        raise InputValueError(
            f"--ctc-weight {w}: this model has no CTC head (trained with model.ctc_weight 0); use 0"
        )
    if w < 1 and not model.has_speller:
        return 1.0  # a CTC-only model: CTC search whatever the weight asked
    return w


@torch.no_grad()
def decode_speech(
    model, src: torch.Tensor, src_len: torch.Tensor, search: SpeechSearch
) -> list[list[Hypothesis]]:
    """Frames (B, T, F) with their counts -> the `nbest` hypotheses of each utterance."""
    w = search_weight(model, search.ctc_weight)
    if w == 1.0:
        enc = model.encode(src, src_len)
        lp, out_len = model.ctc_log_probs(enc), enc.src_mask.sum(1)
        if search.beam == 1:
            return [[h] for h in ctc_greedy(lp, out_len)]
        return ctc_prefix_beam_search(lp, out_len, beam=search.beam, nbest=search.nbest)
    k = search.ctc_candidates or max(2 * search.beam, 10)
    scorer = model if w == 0.0 else CTCPrefixScorer(model, w, candidates=k)
    caps = {
        "max_len_a": search.max_len_a / model.cfg.reduction,
        "max_len_b": search.max_len_b,
    }
    if search.beam == 1:
        return [[h] for h in greedy_search(scorer, src, src_len, **caps)]
    return beam_search(
        scorer,
        src,
        src_len,
        beam=search.beam,
        nbest=search.nbest,
        length_penalty=search.length_penalty,
        **caps,
    )
