"""LSTM weights applied once per time step, with their gradients computed once per batch.

Replaces `x_t @ W` at each step of a written-out recurrence (the reference: the plain
product, whose backward takes T small weight-gradient products, inner size = the batch, and T
additions of a weight-sized buffer) and, in `lstm_layer`, one direction of one `nn.LSTM`
layer over a packed batch. `StepWeight` keeps each step's x_t and dG_t and forms the weight
and bias gradients after backward has passed every step, as one product
[x_1; ...; x_T]^T @ [dG_1; ...; dG_T] (inner size T x batch). It also casts the weight to
the autocast dtype once per batch rather than once per step. Inputs still get their
gradients step by step; the weight's gradient is the same sum, taken in one product.
Gain: the written-out input-feeding loop +12-16 % training tokens/s, the packed encoder
layer +2-11 % (bench/README.md).
"""

from __future__ import annotations

import torch
from torch import nn


class StepWeight:
    """`W` (In, Out) and optional bias (Out,) for `step(x, add)` = add + x @ W + bias.

    Without gradients (decoding, validation) it is the plain product of the cast weight."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None = None):
        dtype = torch.get_autocast_dtype(weight.device.type)
        dtype = dtype if torch.is_autocast_enabled(weight.device.type) else weight.dtype
        self.steps = _Steps(dtype, bias is not None)
        self.grad = torch.is_grad_enabled()
        if self.grad:
            self.weight, self.bias = _Gather.apply(
                weight, bias if bias is not None else weight.new_empty(0), self.steps
            )
        else:
            self.weight = weight.to(dtype)
            self.bias = bias.to(dtype) if bias is not None else None

    def step(self, x: torch.Tensor, add: torch.Tensor | None = None) -> torch.Tensor:
        """add (N, Out) or None + x (N, In) @ W + bias, in the autocast dtype."""
        s = self.steps
        if self.grad:
            return _Step.apply(x.to(s.dtype), self.weight, self.bias, add, s, len(s.xs))
        x = x.to(s.dtype)
        out = (
            torch.mm(x, self.weight)
            if self.bias is None
            else torch.addmm(self.bias, x, self.weight)
        )
        return out if add is None else out + add.to(out.dtype)


def lstm_cell(
    gates: torch.Tensor, c: torch.Tensor, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """LSTM gates (N, 4H) and cell state (N, H) -> new (h in `dtype`, c in fp32). The cell
    state stays in fp32 under autocast, as a fused kernel keeps its accumulator."""
    i, f, g, o = gates.float().chunk(4, 1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return (torch.sigmoid(o) * torch.tanh(c)).to(dtype), c


class _Steps:
    """What the autograd nodes share: each step's input and output gradient. It holds no
    tensor with a graph, so graph and buffers are freed together (a node's context that
    referred back to the weight it produced would make a cycle the collector cannot see)."""

    def __init__(self, dtype: torch.dtype, has_bias: bool):
        self.dtype, self.has_bias = dtype, has_bias
        self.xs: list[torch.Tensor] = []
        self.grads: dict[int, torch.Tensor] = {}


class _Gather(torch.autograd.Function):
    """Casts W and b once; in backward, their gradients from every step's saved x and dG."""

    @staticmethod
    def forward(ctx, weight, bias, steps: _Steps):
        ctx.steps = steps
        ctx.set_materialize_grads(False)
        return weight.to(steps.dtype, copy=True), bias.to(steps.dtype, copy=True)

    @staticmethod
    def backward(ctx, *_):
        s: _Steps = ctx.steps
        ts = [t for t in range(len(s.xs)) if t in s.grads]  # the steps backward reached
        if not ts:
            return None, None, None
        xs = torch.cat([s.xs[t] for t in ts])  # (T*N, In)
        gs = torch.cat([s.grads[t] for t in ts])  # (T*N, Out)
        dw = torch.mm(xs.t(), gs).float()  # (In, Out)
        db = gs.float().sum(0) if s.has_bias else None
        return dw, db, None


class _Step(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, add, steps: _Steps, t: int):
        steps.xs.append(x.detach())
        ctx.steps, ctx.t, ctx.has_add = steps, t, add is not None
        ctx.save_for_backward(weight)
        out = torch.mm(x, weight)
        if steps.has_bias:
            out = out + bias
        return out + add.to(out.dtype) if add is not None else out

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved_tensors
        ctx.steps.grads[ctx.t] = grad
        dadd = grad if ctx.has_add and ctx.needs_input_grad[3] else None
        return torch.mm(grad, weight.t()), None, None, dadd, None, None


def lstm_layer(
    data: torch.Tensor,
    batch_sizes: list[int],
    h0: torch.Tensor,
    c0: torch.Tensor,
    weights: list[torch.Tensor],
    reverse: bool = False,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """One direction of one LSTM layer over a packed batch, cells written out for training.

    `data` (N, In) is time-major and sorted by length as in a PackedSequence: step t holds
    the first `batch_sizes[t]` sequences. `weights` are torch's [W_ih, W_hh, b_ih, b_hh];
    h0, c0 (B, H) are in sorted order. Returns the outputs in the same packed layout and
    the final (h, c) (B, H), the cell state in fp32. The input projection of all steps is one
    product, the recurrent weight a `StepWeight`; torch's packed CPU path instead takes
    each step's weight gradients in their own small products.
    """
    w_ih, w_hh, b_ih, b_hh = weights
    sw = StepWeight(w_hh.t())
    dtype = sw.steps.dtype
    inputs = nn.functional.linear(data, w_ih, b_ih + b_hh).split(batch_sizes)  # T x (n_t, 4H)
    outs: list[torch.Tensor] = [data] * len(batch_sizes)
    h, c = h0[:0].to(dtype), c0[:0].float()  # the rows running at the current step
    done_h, done_c = [], []  # forward: rows that ended, shortest last
    order = reversed(range(len(batch_sizes))) if reverse else range(len(batch_sizes))
    for t in order:
        n = batch_sizes[t]
        if n > h.size(0):  # sequences start: all at t = 0 forward, at their ends in reverse
            h = torch.cat([h, h0[h.size(0) : n].to(dtype)])
            c = torch.cat([c, c0[c.size(0) : n].float()])
        elif n < h.size(0):  # forward: the shortest sequences have ended
            done_h.append(h[n:])
            done_c.append(c[n:])
            h, c = h[:n], c[:n]
        h, c = lstm_cell(sw.step(h, inputs[t]), c, dtype)
        outs[t] = h
    final = (torch.cat([h, *done_h[::-1]]), torch.cat([c, *done_c[::-1]]))
    return torch.cat(outs), final
