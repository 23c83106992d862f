"""N models -> one step function: the average of their per-step log-probabilities.

An `Ensemble` keeps the model protocol (`encode`, `init_state`, `step`), so greedy and
beam search, scoring and rescoring take it wherever they take one model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .state import DecoderState


@dataclass(frozen=True)
class EnsembleState:
    """One state per member; reordered together."""

    members: tuple[DecoderState, ...]

    def select(self, index: torch.Tensor) -> EnsembleState:
        return EnsembleState(tuple(s.select(index) for s in self.members))

    def repeat(self, k: int) -> EnsembleState:
        return EnsembleState(tuple(s.repeat(k) for s in self.members))


class Ensemble:
    def __init__(self, models: list):
        if not models:
            raise ValueError("an ensemble needs at least one model")
        self.models = models

    def eval(self) -> Ensemble:
        for m in self.models:
            m.eval()
        return self

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple:
        return tuple(m.encode(src, src_len) for m in self.models)

    def init_state(self, enc: tuple) -> EnsembleState:
        return EnsembleState(tuple(m.init_state(e) for m, e in zip(self.models, enc)))

    def step(self, tokens: torch.Tensor, state: EnsembleState):
        outs = [m.step(tokens, s) for m, s in zip(self.models, state.members)]
        logp = torch.stack([lp for lp, _, _ in outs]).mean(0)  # (N, V)
        atts = [a for _, _, a in outs if a is not None]
        att = torch.stack(atts).mean(0) if atts else None
        return logp, EnsembleState(tuple(s for _, s, _ in outs)), att
