"""Command line: each subcommand is a thin shim over a library function.

Mistakes a user can fix end as one line on stderr and exit code 2, never a traceback.
`args.py` declares the subcommands' arguments, `commands.py` (and `study.py`, `speech.py`) run them;
starting the CLI imports neither torch nor the library until a command needs it.
"""

from __future__ import annotations

import os
import sys

from ..errors import Interrupted, UserError
from ..kernels.memory import keep_freed_memory
from .args import build_parser

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_utf8_args(sys.argv[1:] if argv is None else argv))
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    keep_freed_memory()
    _utf8_streams()
    try:
        return _handler(args.command)(args) or 0
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Interrupted as e:
        print(str(e), file=sys.stderr)
        return 128 + e.signum  # 130 after Ctrl-C, 143 after SIGTERM
    except KeyboardInterrupt:
        print("aborted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _handler(command: str):
    """`cmd_<command>` from the first of the command modules that has it."""
    import importlib

    for name in ("commands", "study", "speech"):
        module = importlib.import_module(f".{name}", __name__)
        if hasattr(module, f"cmd_{command}"):
            return getattr(module, f"cmd_{command}")
    raise AssertionError(f"no function runs the {command!r} command")


def _utf8_args(argv: list[str]) -> list[str]:
    """Command-line words as the UTF-8 they were typed in: under a C locale Python decodes
    them as ASCII with surrogate escapes, so `generate 床前明月光` would read mangled text."""
    out = []
    for word in argv:
        try:
            out.append(os.fsencode(word).decode("utf-8"))
        except UnicodeDecodeError:  # not UTF-8 bytes: leave the word as Python read it
            out.append(word)
    return out


def _utf8_streams() -> None:
    """What the CLI prints is UTF-8 whatever the locale (as the files it writes are), so
    Chinese output is neither refused nor mangled under a C or Latin-1 locale."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
        if encoding not in ("utf-8", "utf8") and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")
