"""The API's argument checks, in one place: what `Translator` and `seq2seq.load` accept.

A wrong type raises `InputTypeError` (a `TypeError`), an unusable value `InputValueError`
(a `ValueError`); both are `UserError`s, so the CLI prints them as one line.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Iterable
from pathlib import Path

from .config import DecodeConfig
from .errors import InputTypeError, InputValueError

_DECODE_TYPES = {f.name: f.type for f in dataclasses.fields(DecodeConfig)}


def _kind(value) -> str:
    return type(value).__name__


def sentences(value, name: str = "sentences") -> list[str]:
    """A list (or other iterable) of str; one str is refused, not read as characters."""
    if isinstance(value, str):
        raise InputTypeError(
            f"{name}: one str, not a list of sentences; wrap it: translate([{value[:20]!r}])"
        )
    if isinstance(value, bytes | bytearray) or not isinstance(value, Iterable):
        raise InputTypeError(f"{name}: expected a list of str, got {_kind(value)}")
    items = list(value)
    for i, s in enumerate(items):
        if not isinstance(s, str):
            raise InputTypeError(f"{name}[{i}]: expected a str, got {_kind(s)}")
    return items


def pairs(value, name: str = "pairs") -> list[tuple[str, str]]:
    """A list of (source, target) str pairs."""
    if isinstance(value, str | bytes | bytearray) or not isinstance(value, Iterable):
        raise InputTypeError(
            f"{name}: expected a list of (source, target) pairs, got {_kind(value)}"
        )
    items = list(value)
    for i, p in enumerate(items):
        if not (isinstance(p, tuple | list) and len(p) == 2 and all(isinstance(x, str) for x in p)):
            raise InputTypeError(
                f"{name}[{i}]: expected a (source, target) pair of str, got {p!r:.60}"
            )
    return [(s, t) for s, t in items]


def model_paths(value) -> list[str | Path]:
    """A run directory or checkpoint path, or a non-empty list of them (an ensemble)."""
    paths = [value] if isinstance(value, str | Path) else value
    if not isinstance(paths, list | tuple) or not paths:
        raise InputTypeError(
            f"model: expected a run directory or checkpoint path (or a list of them), got {value!r:.60}"
        )
    for p in paths:
        if not isinstance(p, str | Path) or not str(p):
            raise InputTypeError(f"model: expected a path, got {p!r:.60}")
    return list(paths)


def decode_options(options: dict) -> dict:
    """Keyword overrides of `decode` settings, each of its setting's type (None = unset)."""
    given = {k: v for k, v in options.items() if v is not None}
    for key, value in given.items():
        kind = _DECODE_TYPES.get(key)
        if kind is None:
            raise InputTypeError(
                f"unknown decoding option {key!r}; the options are {', '.join(_DECODE_TYPES)}"
            )
        if kind not in ("int", "float", "bool"):  # a choice, or a list of tokens
            given[key] = _decode_value(key, value)
            continue
        ok = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
        }[kind]
        if not ok:
            raise InputTypeError(
                f"decoding option {key}={value!r}: expected {kind}, got {_kind(value)}"
            )
        if kind == "float" and not math.isfinite(value):
            raise InputValueError(f"decoding option {key}={value!r}: expected a finite number")
    return given


def _decode_value(key: str, value):
    """A `decode` setting of a Literal type (one of its choices) or of tuple[str, ...] (one
    str, or a list of them)."""
    hint = typing.get_type_hints(DecodeConfig)[key]
    if typing.get_origin(hint) is typing.Literal:
        if value not in typing.get_args(hint):
            choices = ", ".join(map(repr, typing.get_args(hint)))
            raise InputValueError(f"decoding option {key}={value!r}: expected one of {choices}")
        return value
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
        raise InputTypeError(f"decoding option {key}={value!r}: expected a str or a list of str")
    return tuple(items)
