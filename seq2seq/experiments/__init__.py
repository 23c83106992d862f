"""Studies built on the library, each a package of its own: its grid, its measurements and its
report template. Layer 7: it imports any layer below; only the faces (cli.py) import it.

EXPERIMENTS names each study's run function, as `seq2seq reproduce NAME` calls it; an explicit
dict, so a study is added by a line here, never by an import-time registry.
"""

from __future__ import annotations

from collections.abc import Callable

from . import sutskever2014

EXPERIMENTS: dict[str, Callable[..., dict]] = {"sutskever2014": sutskever2014.run}
