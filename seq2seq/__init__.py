"""seq2seq: sequence to sequence learning with neural networks (Sutskever et al., 2014)."""

from .translator import Translation, Translator, load

__version__ = "0.1.0"
__all__ = ["Translation", "Translator", "load", "__version__"]
