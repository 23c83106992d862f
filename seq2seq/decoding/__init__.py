"""Search over the `init_state` / `step` protocol: greedy and batched beam search."""

from .search import Hypothesis, beam_search, greedy_search
from .state import DecoderState

__all__ = ["DecoderState", "Hypothesis", "beam_search", "greedy_search"]
