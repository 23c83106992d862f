"""Strict loading: YAML + `--set` overrides -> a validated Config (unknown key = error with
a "did you mean"), and saving it back as YAML."""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from ..errors import UserError
from .run import Config


def load_config(path: str | Path, overrides: list[str] = ()) -> Config:
    """YAML file + `a.b=value` overrides -> validated Config (UserError on any problem)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: config file not found; check the path")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UserError(
            f"{path}: not valid YAML ({str(e).splitlines()[0]}); fix the syntax"
        ) from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: the top level must be a mapping of sections")
    return config_from_dict(apply_overrides(raw, overrides), source=str(path))


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """`train.lr=0.5` style overrides; values are parsed as YAML scalars."""
    raw = dict(raw)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--set {item!r}: expected KEY=VALUE, e.g. --set train.lr=0.5")
        node = raw
        *parents, leaf = key.strip().split(".")
        for p in parents:
            node[p] = dict(node.get(p) or {})
            node = node[p]
        node[leaf] = yaml.safe_load(value)
    return raw


def config_from_dict(raw: dict, *, source: str = "config") -> Config:
    return _build(Config, raw, prefix="", source=source)


def config_to_dict(cfg: Any) -> dict:
    """Plain dict (lists for tuples) that YAML and `torch.load(weights_only=True)` accept."""

    def plain(v):
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(cfg))


def save_config(cfg: Config, path: str | Path) -> None:
    """Write as YAML, whole or not at all (a temp file `NAME.tmp` renamed over `path`)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False), encoding="utf-8")
    os.replace(tmp, path)


def _build(cls, raw: Any, *, prefix: str, source: str):
    where = prefix.rstrip(".") or "the top level"
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError(f"{source}: `{where}` must be a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in raw.items():
        if key not in hints:
            close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
            hint = (
                f"did you mean `{prefix}{close[0]}`?"
                if close
                else f"valid keys: {', '.join(names)}"
            )
            raise UserError(f"{source}: unknown key `{prefix}{key}`; {hint}")
        kwargs[key] = _coerce(hints[key], value, name=f"{prefix}{key}", source=source)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as e:
        raise UserError(f"{source}: {e}") from None


def _coerce(tp, value, *, name: str, source: str):
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) > 1:  # dataclasses discriminated by their `type` field
            kinds = {typing.get_args(typing.get_type_hints(a)["type"])[0]: a for a in options}
            kind = value.get("type", next(iter(kinds))) if isinstance(value, dict) else None
            if kind not in kinds:
                raise UserError(
                    f"{source}: `{name}.type` must be one of {', '.join(map(repr, kinds))}, got {kind!r}"
                )
            options = [kinds[kind]]
        return _coerce(options[0], value, name=name, source=source)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, prefix=name + ".", source=source)
    if origin is Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise UserError(f"{source}: `{name}` must be one of {choices}, got {value!r}")
        return value
    if origin is tuple and args[-1:] == (Ellipsis,):  # any number of one type
        if isinstance(value, str):  # `--set train.distill_from=a.pt` or a YAML list
            value = [value]
        if not isinstance(value, list | tuple):
            raise UserError(f"{source}: `{name}` must be a list, got {value!r}")
        return tuple(_coerce(args[0], v, name=name, source=source) for v in value)
    if origin is tuple:
        if not isinstance(value, list | tuple) or len(value) != len(args):
            raise UserError(f"{source}: `{name}` must be a list of {len(args)} values")
        return tuple(_coerce(a, v, name=name, source=source) for a, v in zip(args, value))
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        str: isinstance(value, str),
    }.get(tp)
    if ok is None:
        raise TypeError(f"config type {tp} of {name} is not supported")
    if not ok:
        kind = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[tp]
        raise UserError(f"{source}: `{name}` must be {kind}, got {value!r}")
    return float(value) if tp is float else value
