"""Sampling: a search of its own over the model protocol, beside greedy and beam search.

Each step draws the next token from the model's distribution, reshaped by a temperature and
cut to the `top_k` most probable tokens and/or the smallest set holding `top_p` of the
probability (nucleus sampling, Holtzman et al. 2020), after the same masks as the other
searches (length caps, constraints). A `torch.Generator` makes it repeatable: the same seed,
model and batch give the same output. A hypothesis's score is the model's own
log-probability of its tokens, not the reshaped one, so it ranks with beam search's.
"""

from __future__ import annotations

import math

import torch

from ..vocab import EOS_ID
from .constraints import Constraints
from .search import Hypothesis, argmax_pick, one_best_search


def filter_logits(
    logp: torch.Tensor, *, top_k: int = 0, top_p: float = 1.0, temperature: float = 1.0
) -> torch.Tensor:
    """The log-weights (n, V) sampling draws from: logp / temperature, with every token
    outside the top_k (0 = no cut) and past the top_p mass (1.0 = no cut) at -inf.

    The nucleus keeps tokens in order of probability while the mass before them is under
    top_p, so it always keeps the most probable one and holds at least top_p in all."""
    x = logp / temperature
    if top_k and top_k < x.size(-1):
        vals, idx = x.topk(top_k, dim=-1)  # (n, k)
        x = torch.full_like(x, -math.inf).scatter_(1, idx, vals)
    if top_p < 1.0:
        sorted_x, order = x.sort(dim=-1, descending=True)  # (n, V)
        probs = sorted_x.softmax(dim=-1)
        before = probs.cumsum(dim=-1) - probs  # the mass of the tokens ranked above each
        cut = before >= top_p
        x = x.scatter(1, order, sorted_x.masked_fill(cut, -math.inf))
    return x


class Sampler:
    """`pick` for `one_best_search`: one draw per row from the filtered distribution."""

    def __init__(
        self,
        generator: torch.Generator,
        *,
        top_k: int = 0,
        top_p: float = 1.0,
        temperature: float = 1.0,
    ):
        self.generator, self.top_k, self.top_p, self.temperature = (
            generator,
            top_k,
            top_p,
            temperature,
        )

    def __call__(self, logp: torch.Tensor) -> torch.Tensor:
        if self.temperature == 0:  # the limit of temperature -> 0
            return argmax_pick(logp)
        x = filter_logits(
            logp.float(), top_k=self.top_k, top_p=self.top_p, temperature=self.temperature
        )
        dead = ~torch.isfinite(x).any(dim=-1)  # a row its masks left nothing: it ends
        if bool(dead.any()):
            x[dead, EOS_ID] = 0.0
        draw = torch.multinomial(x.softmax(dim=-1), 1, generator=self.generator)  # (n, 1)
        return draw.squeeze(1)


def make_generator(seed: int, device: torch.device | str) -> torch.Generator:
    return torch.Generator(device=torch.device(device)).manual_seed(seed)


@torch.no_grad()
def sample_search(
    model,
    src: torch.Tensor,
    src_len: torch.Tensor,
    *,
    generator: torch.Generator,
    top_k: int = 0,
    top_p: float = 1.0,
    temperature: float = 1.0,
    max_len_a: float = 2.0,
    max_len_b: int = 10,
    constraints: list[Constraints | None] | None = None,
) -> list[Hypothesis]:
    """One sampled hypothesis per sentence (top_k 1 or temperature 0: greedy search's)."""
    sampler = Sampler(generator, top_k=top_k, top_p=top_p, temperature=temperature)
    return one_best_search(
        model,
        src,
        src_len,
        sampler,
        max_len_a=max_len_a,
        max_len_b=max_len_b,
        constraints=constraints,
    )
