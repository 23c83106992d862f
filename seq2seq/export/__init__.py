"""Export a trained run for production engines: CTranslate2 (Transformer) and ONNX (encoder
and one decoder step, for LSTM and Transformer), and translate with the exported folders.

Every exported folder also holds `seq2seq.json` (the run's config, its vocabularies) and the
sentencepiece models, so translating from it reads and writes text exactly as the run does
(`bundle.py`). The engines are the optional extra `export`: importing this package loads none
of them; each format's module imports its engine when used.
"""

from __future__ import annotations

from pathlib import Path

FORMATS = ("ctranslate2", "onnx")
ENGINES = ("torch", *FORMATS)


def export(model: str | Path, fmt: str, out: str | Path) -> Path:
    """Write the run (or checkpoint) `model` to the folder `out` in format `fmt`."""
    from .. import checkpoints
    from ..config import copies
    from ..errors import UserError
    from .bundle import check_out

    check_out(out)  # before any work
    ckpt = checkpoints.read(model)
    if copies(ckpt.config):
        raise UserError(
            f"{model}: a copying model (model.copy) has no {fmt} export: its output ids past "
            "the vocabulary are read from each source sentence; translate it with the torch engine"
        )
    if fmt == "ctranslate2":
        from .ctranslate2 import export_ctranslate2

        return export_ctranslate2(ckpt, out)
    from .onnx import export_onnx

    return export_onnx(ckpt, out)


def load(folder: str | Path, engine: str, *, device: str | None = None, precision: str = "auto"):
    """A translator over an exported folder: the `Translator` API (translate, translate_nbest)."""
    if engine == "ctranslate2":
        from .ctranslate2 import CT2Translator

        return CT2Translator.load(folder, device=device, precision=precision)
    from .onnx_runtime import load_onnx_translator

    return load_onnx_translator(folder, device=device, precision=precision)


__all__ = ["ENGINES", "FORMATS", "export", "load"]
