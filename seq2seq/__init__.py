"""seq2seq: sequence to sequence learning with neural networks (Sutskever et al., 2014).

`seq2seq.load(RUN_DIR).translate(["a sentence"])`. The package face is lazy: importing
`seq2seq` (as every CLI start does) loads neither torch nor the translator until used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["Translation", "Translator", "load", "__version__"]

if TYPE_CHECKING:
    from .translator import Translation, Translator, load


def __getattr__(name: str):
    if name in ("Translation", "Translator", "load"):
        from . import translator

        return getattr(translator, name)
    raise AttributeError(f"module 'seq2seq' has no attribute {name!r}")
