"""N models -> one step function: the average of their per-step log-probabilities.

An `Ensemble` keeps the model protocol (`encode`, `init_state`, `step`), so greedy and
beam search, scoring and rescoring take it wherever they take one model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..models.base import DecoderState, EncoderOutput, Seq2SeqModel


@dataclass(frozen=True)
class EnsembleState:
    """One state per member; reordered together."""

    members: tuple[DecoderState, ...]

    def select(self, index: torch.Tensor) -> EnsembleState:
        return EnsembleState(tuple(s.select(index) for s in self.members))

    def repeat(self, k: int) -> EnsembleState:
        return EnsembleState(tuple(s.repeat(k) for s in self.members))


class Ensemble:
    members: tuple[Seq2SeqModel, ...]  # the models, in the order they were given

    def __init__(self, members: list[Seq2SeqModel] | tuple[Seq2SeqModel, ...]):
        if not members:
            raise ValueError("an ensemble needs at least one model")
        self.members = tuple(members)

    def eval(self) -> Ensemble:
        for m in self.members:
            m.eval()
        return self

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> EncoderOutput:
        """The first member's encoding speaks for the ensemble (its sentence vector, its
        memory); every member's own is in `parts`, which `init_state` reads."""
        parts = tuple(m.encode(src, src_len) for m in self.members)
        first = parts[0]
        return EncoderOutput(
            first.final, first.sentence_vector, first.memory, first.src_mask, parts
        )

    def init_state(self, enc: EncoderOutput) -> EnsembleState:
        return EnsembleState(tuple(m.init_state(e) for m, e in zip(self.members, enc.parts)))

    def step(self, tokens: torch.Tensor, state: EnsembleState):
        outs = [m.step(tokens, s) for m, s in zip(self.members, state.members)]
        logp = torch.stack([lp for lp, _, _ in outs]).mean(0)  # (N, V)
        atts = [a for _, _, a in outs if a is not None]
        att = torch.stack(atts).mean(0) if atts else None
        return logp, EnsembleState(tuple(s for _, s, _ in outs)), att
