"""A weight applied once per time step, with its gradient computed once per batch.

Backpropagation through a written-out recurrence gives each step's product x_t @ W its own
weight gradient x_t^T @ dG_t: T small matrix products (inner size = the batch) and T
additions of a full weight-sized buffer. `StepWeight` keeps each step's x_t and dG_t
instead and forms the weight and bias gradients after backward has passed every step, as
one product [x_1; ...; x_T]^T @ [dG_1; ...; dG_T] (inner size T x batch), which runs near
the matrix unit's peak. It also casts the weight to the autocast dtype once per batch
rather than once per step. Inputs still get their gradients step by step, so the
recurrence is unchanged; the weight's gradient is the same sum, taken in one product.
"""

from __future__ import annotations

import torch


class StepWeight:
    """`W` (In, Out) and optional bias (Out,) for `step(x, add)` = add + x @ W + bias."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None = None):
        dtype = torch.get_autocast_dtype(weight.device.type)
        self.dtype = dtype if torch.is_autocast_enabled(weight.device.type) else weight.dtype
        self.xs: list[torch.Tensor] = []
        self.grads: dict[int, torch.Tensor] = {}
        self.has_bias = bias is not None
        self.weight, self.bias = _Gather.apply(
            weight, bias if bias is not None else weight.new_empty(0), self
        )

    def step(self, x: torch.Tensor, add: torch.Tensor | None = None) -> torch.Tensor:
        """add (N, Out) or None + x (N, In) @ W + bias, in the autocast dtype."""
        return _Step.apply(x.to(self.dtype), self.weight, self.bias, add, self, len(self.xs))


class _Gather(torch.autograd.Function):
    """Casts W and b once; in backward, their gradients from every step's saved x and dG."""

    @staticmethod
    def forward(ctx, weight, bias, sw: StepWeight):
        ctx.sw = sw
        ctx.set_materialize_grads(False)
        return weight.to(sw.dtype, copy=True), bias.to(sw.dtype, copy=True)

    @staticmethod
    def backward(ctx, *_):
        sw: StepWeight = ctx.sw
        xs = torch.cat([sw.xs[t] for t in range(len(sw.xs)) if t in sw.grads])  # (T*N, In)
        gs = torch.cat([sw.grads[t] for t in range(len(sw.xs)) if t in sw.grads])  # (T*N, Out)
        sw.xs, sw.grads = [], {}  # each batch's buffers go with its backward
        dw = torch.mm(xs.t(), gs).float()  # (In, Out)
        db = gs.float().sum(0) if sw.has_bias else None
        return dw, db, None


class _Step(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, add, sw: StepWeight, t: int):
        sw.xs.append(x.detach())
        ctx.sw, ctx.t, ctx.has_add = sw, t, add is not None
        ctx.save_for_backward(weight)
        out = torch.mm(x, weight)
        if sw.has_bias:
            out = out + bias
        return out + add.to(out.dtype) if add is not None else out

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved_tensors
        ctx.sw.grads[ctx.t] = grad
        dadd = grad if ctx.has_add and ctx.needs_input_grad[3] else None
        return torch.mm(grad, weight.t()), None, None, dadd, None, None
