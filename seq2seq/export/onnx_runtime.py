"""ONNX Runtime behind the model protocol: `OnnxModel` runs the exported encoder and decoder
step (`onnx.py`) and keeps `encode`, `init_state` and `step`, so our greedy and beam search,
forced scoring and the whole `Translator` API run on it unchanged. Tensors cross between
torch and ONNX Runtime as numpy arrays without copies; ONNX Runtime runs on the CPU, in fp32.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import UserError
from ..models.base import DecoderState
from ..translator import Translator
from . import bundle


@dataclass(frozen=True)
class OnnxEncoding:
    """What `OnnxModel.encode` returns and `init_state` reads (the protocol's EncoderOutput)."""

    state: dict[str, torch.Tensor]
    sentence_vector: torch.Tensor  # (B, D)


class OnnxModel:
    """The model protocol over two ONNX Runtime sessions (`encoder.onnx`, `step.onnx`)."""

    def __init__(self, folder: str | Path, meta: dict, threads: int = 0):
        ort = bundle.engine("onnxruntime", "--engine onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.log_severity_level = 3  # errors only

        def session(name: str):
            return ort.InferenceSession(
                str(Path(folder) / name), options, providers=["CPUExecutionProvider"]
            )

        self.encoder, self.decoder = session("encoder.onnx"), session("step.onnx")
        self.dims: dict[str, int] = meta["state"]
        self.encoder_outputs: list[str] = meta["encoder_outputs"]
        self.empty: dict[str, list[int]] = meta["empty"]
        self.step_outputs: list[str] = meta["step_outputs"]
        # the graphs' own inputs: the exporter drops unread ones (a Transformer's src_len)
        self.encoder_inputs = [i.name for i in self.encoder.get_inputs()]
        self.step_inputs = [i.name for i in self.decoder.get_inputs() if i.name != "tokens"]

    def eval(self) -> OnnxModel:
        return self

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> OnnxEncoding:
        feed = {"src": src.cpu().numpy(), "src_len": src_len.cpu().numpy()}
        vector, *state = self.encoder.run(None, {n: feed[n] for n in self.encoder_inputs})
        tensors = {n: torch.from_numpy(a) for n, a in zip(self.encoder_outputs, state)}
        return OnnxEncoding(tensors, torch.from_numpy(vector))

    def init_state(self, enc: OnnxEncoding) -> DecoderState:
        B = enc.sentence_vector.size(0)
        tensors = dict(enc.state)
        for name, shape in self.empty.items():  # state that starts empty: the caches
            tensors[name] = torch.zeros([B if d == -1 else d for d in shape])
        return DecoderState({n: tensors[n] for n in self.dims}, self.dims)

    def step(self, tokens: torch.Tensor, state: DecoderState):
        feed = {n: state[n].numpy() for n in self.step_inputs}
        outputs = self.decoder.run(None, {"tokens": tokens.cpu().numpy(), **feed})
        named = dict(zip(self.step_outputs, (torch.from_numpy(a) for a in outputs)))
        new = {n[len("new_") :]: t for n, t in named.items() if n.startswith("new_")}
        return named["log_probs"], state.replace(**new), named.get("attention")


def load_onnx_translator(
    folder: str | Path, *, device: str | None = None, precision: str = "auto"
) -> Translator:
    """A `Translator` whose model is an `OnnxModel` (CPU, fp32)."""
    if device not in (None, "cpu"):
        raise UserError(f"--device {device}: --engine onnx runs on the CPU; use --device cpu")
    if precision not in ("auto", "fp32"):
        raise UserError(f"--precision {precision}: --engine onnx runs in fp32; use fp32 or auto")
    bundle.engine("onnxruntime", "--engine onnx")
    meta, cfg, processor = bundle.read(folder, "onnx")
    model = OnnxModel(folder, meta)
    return Translator(model, processor, cfg, device="cpu", precision="fp32")


__all__ = ["OnnxModel", "OnnxEncoding", "load_onnx_translator"]
