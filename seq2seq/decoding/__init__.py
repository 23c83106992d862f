"""Search over the `init_state` / `step` protocol: greedy and batched beam search."""

from ..models.base import DecoderState
from .search import Hypothesis, beam_search, greedy_search

__all__ = ["DecoderState", "Hypothesis", "beam_search", "greedy_search"]
