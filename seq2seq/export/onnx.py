"""The encoder and one decoder step of a model as two ONNX graphs (LSTM/GRU with or without
attention, Transformer), with every piece of decoder state an explicit input and output.

- `encoder.onnx`: `src` (B, S) int64, `src_len` (B,) int64 -> `sentence_vector` and the
  decoder's first state, one output per `DecoderState` tensor (LSTM h, c (L, B, H); attention
  memory, keys, mask; input feeding; the Transformer's cross-attention keys/values per layer,
  its source mask and position). State that starts empty (the Transformer's self-attention
  cache, (B, heads, 0, d)) is made by the runner from the shape in `seq2seq.json`.
- `step.onnx`: `tokens` (N,) int64 and the state -> `log_probs` (N, V), `attention` (N, S)
  where the model has it, and `new_<name>` for each state tensor the step changes (h, c,
  feed; the Transformer's caches grow by one position per step, a dynamic axis).

Exported with torch's TorchScript exporter (`dynamo=False`, still in torch 2.13; it traces
the eval-mode graph with plain torch calls, so no kernel of `seq2seq.kernels` is in it), in
float32. The runner (`onnx_runtime.py`) keeps the model protocol, so our own greedy and beam
search drive ONNX Runtime.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import warnings
from pathlib import Path

import torch
from torch import nn

from ..checkpoints import Checkpoint, load_model
from ..models.base import DecoderState
from ..vocab import BOS_ID
from . import bundle

OPSET = 17
SEQUENCE_DIMS = {  # state name (digits stripped) -> its dynamic axes besides the batch
    "memory": {1: "src"},
    "keys": {1: "src"},
    "mask": {1: "src"},
    "ck": {2: "src"},
    "cv": {2: "src"},
    "sk": {2: "cache"},
    "sv": {2: "cache"},
}


def _axes(name: str, batch_dim: int, *, grown: bool = False) -> dict[int, str]:
    axes = {batch_dim: "batch", **SEQUENCE_DIMS.get(re.sub(r"\d+$", "", name), {})}
    return {d: ("cache_next" if grown and a == "cache" else a) for d, a in axes.items()}


def positions(pos: torch.Tensor, dim: int) -> torch.Tensor:
    """(N, dim) sinusoids at each row's position `pos` (N,): `models.transformer.sinusoids`
    with the offset a tensor, so the traced graph reads it instead of baking it in."""
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float) * (-math.log(10000.0) / dim))
    angle = pos.float().unsqueeze(1) * freq  # (N, dim / 2)
    return torch.stack([angle.sin(), angle.cos()], -1).reshape(pos.size(0), dim)


class Encoder(nn.Module):
    """(src, src_len) -> sentence vector and the named tensors of the first decoder state."""

    def __init__(self, model, names: list[str]):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, src, src_len):
        enc = self.model.encode(src, src_len)
        state = self.model.init_state(enc)
        return (enc.sentence_vector, *(state[n] for n in self.names))


class Step(nn.Module):
    """(tokens, state...) -> log-probabilities, attention, and the state tensors it changes."""

    def __init__(self, model, dims: dict[str, int], changed: list[str], attention: bool):
        super().__init__()
        self.model, self.dims, self.changed, self.attention = model, dims, changed, attention

    def forward(self, tokens, *tensors):
        state = DecoderState(dict(zip(self.dims, tensors)), self.dims)
        if "pos" in self.dims:  # the Transformer: its step reads the position as a number
            logp, new, att = self._transformer_step(tokens, state)
        else:
            logp, new, att = self.model.step(tokens, state)
        return (logp, *([att] if self.attention else []), *(new[n] for n in self.changed))

    def _transformer_step(self, tokens, state):
        m = self.model
        x = m.tgt_emb(tokens) * math.sqrt(m.cfg.d_model) + positions(state["pos"], m.cfg.d_model)
        y, new, att = m._decoder(x.unsqueeze(1), state, cache=True)  # (N, 1, D)
        logp = torch.log_softmax(m.out(y.squeeze(1)).float(), -1)  # (N, V)
        return logp, state.replace(**new, pos=state["pos"] + 1), att.squeeze(1)


def _example(model, vocab_size: int):
    """A batch of 3 padded sources and the decoder state after two steps (a non-empty cache)."""
    torch.manual_seed(0)
    src_len = torch.tensor([7, 5, 2])
    src = torch.randint(4, max(5, vocab_size), (3, 7))
    for i, n in enumerate(src_len.tolist()):
        src[i, n:] = 0
    state = model.init_state(model.encode(src, src_len))
    tokens = torch.full((3,), BOS_ID)
    for _ in range(2):
        _, state, _ = model.step(tokens, state)
    return src, src_len, state


@contextlib.contextmanager
def _quiet():
    """No Python warnings (the TorchScript exporter's deprecation notice, tracer notes) and
    nothing from the C++ side on stderr (its shape-inference notes on packed sequences)."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _export(module, args, path: Path, inputs: list[str], outputs: list[str], axes) -> None:
    with _quiet():
        warnings.simplefilter(
            "ignore"
        )  # the TorchScript exporter's deprecation notice, tracer notes
        torch.onnx.export(
            module,
            args,
            str(path),
            dynamo=False,
            opset_version=OPSET,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
        )


def export_onnx(ckpt: Checkpoint, out: str | Path) -> Path:
    """Write `encoder.onnx`, `step.onnx` and the run's `seq2seq.json` to the folder `out`."""
    bundle.engine("onnx", "--format onnx")
    model = load_model(ckpt, "cpu").eval()
    with torch.no_grad():
        src, src_len, state = _example(model, len(ckpt.processor["src_vocab"]))
        first = model.init_state(model.encode(src, src_len))
        logp, after, att = model.step(torch.full((3,), BOS_ID), state)
    dims = state.batch_dims
    empty = {n: list(t.shape) for n, t in first.tensors.items() if t.numel() == 0}
    names = [n for n in dims if n not in empty]
    changed = [n for n in dims if after.tensors[n] is not state.tensors[n]]
    with bundle.output_folder(out) as tmp, torch.no_grad():
        _export(
            Encoder(model, names),
            (src, src_len),
            tmp / "encoder.onnx",
            ["src", "src_len"],
            ["sentence_vector", *names],
            {
                "src": {0: "batch", 1: "src"},
                "src_len": {0: "batch"},
                "sentence_vector": {0: "batch"},
                **{n: _axes(n, dims[n]) for n in names},
            },
        )
        outputs = [
            "log_probs",
            *(["attention"] if att is not None else []),
            *(f"new_{n}" for n in changed),
        ]
        _export(
            Step(model, dims, changed, att is not None),
            (torch.full((3,), BOS_ID), *state.tensors.values()),
            tmp / "step.onnx",
            ["tokens", *dims],
            outputs,
            {
                "tokens": {0: "batch"},
                "log_probs": {0: "batch"},
                "attention": {0: "batch", 1: "src"},
                **{n: _axes(n, dims[n]) for n in dims},
                **{f"new_{n}": _axes(n, dims[n], grown=True) for n in changed},
            },
        )
        for n in empty:
            empty[n][dims[n]] = -1  # the batch
        bundle.write(
            tmp,
            ckpt,
            "onnx",
            state=dims,
            encoder_outputs=names,
            empty=empty,
            step_outputs=outputs,
            opset=OPSET,
        )
    return Path(out)
