"""Real-valued series from CSV: a time column and value columns, checked row by row.

Every mistake a user can fix is a one-line `UserError` naming the file, the line and the
column, and the fix: a missing column, a row with the wrong number of fields, an empty cell or
a missing time step (a gap), a cell that is not a number, times out of order. A time column
holds numbers (1700, 1701, ...) or dates (`YYYY-MM-DD`, or `YYYY-MM` for monthly data); the
step between rows is inferred (the smallest one) and every row must follow the one before by
exactly that step, except for daily market data with `trading_days` (closed days skipped).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from .io import read_lines

MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "."}  # cells that mean "no value"
TRADING_MAX_DAYS = 7  # trading days: a market closed for longer than a week is a gap


@dataclass(frozen=True)
class Clock:
    """How the time column steps: unit `number` (by `step`), `month` (by `step` months:
    1 monthly, 3 quarterly, 12 yearly), `day` (by `step` days) or `trading` (weekdays);
    `fmt` is how a time is written (`num`, `ym` or `ymd`)."""

    unit: str
    step: float
    fmt: str

    def after(self, last: str, n: int) -> list[str]:
        """The `n` times that follow `last`, written as the column writes them."""
        if self.unit == "number":
            return [_number_text(float(last) + k * self.step) for k in range(1, n + 1)]
        day = _date(last)
        if self.unit == "month":
            index = day.year * 12 + day.month - 1
            days = [
                dt.date(
                    (index + k * int(self.step)) // 12, (index + k * int(self.step)) % 12 + 1, 1
                )
                for k in range(1, n + 1)
            ]
        elif self.unit == "day":
            days = [day + dt.timedelta(days=k * int(self.step)) for k in range(1, n + 1)]
        else:  # trading: the next weekdays (holidays are not known)
            days = []
            while len(days) < n:
                day += dt.timedelta(days=1)
                if day.weekday() < 5:
                    days.append(day)
        return [d.isoformat()[:7] if self.fmt == "ym" else d.isoformat() for d in days]

    def calendar(self, times: list[str]) -> np.ndarray:
        """Calendar covariates (T, C): month of the year as a point on a circle (sin, cos),
        and for daily data the weekday too; none for a numeric time."""
        if self.unit == "number":
            return np.zeros((len(times), 0))
        days = [_date(t) for t in times]
        angle = [2 * math.pi * (d.month - 1) / 12 for d in days]
        cols = [np.sin(angle), np.cos(angle)]
        if self.unit in ("day", "trading"):
            wday = [2 * math.pi * d.weekday() / 7 for d in days]
            cols += [np.sin(wday), np.cos(wday)]
        return np.stack(cols, axis=1)


@dataclass(frozen=True)
class Series:
    """One series: its name (the column, or the columns joined by `+`), its times and its
    values (T, D): D = 1, or the number of columns of a joint (multivariate) series."""

    name: str
    columns: tuple[str, ...]
    times: tuple[str, ...]
    values: np.ndarray
    clock: Clock


def read_series(
    path: str,
    *,
    time: str = "",
    columns: tuple[str, ...] = (),
    joint: bool = False,
    trading_days: bool = False,
) -> list[Series]:
    """The series of a CSV file: one per value column, or one joint series of them all."""
    rows, header = _rows(path)
    t_col = _column_index(header, time or header[0], path, "data.series.time")
    names = columns or tuple(h for i, h in enumerate(header) if i != t_col)
    if not names:
        raise UserError(
            f"{path}: no value column besides the time column {header[t_col]!r}; "
            "add one, or name it in data.series.columns"
        )
    idx = [_column_index(header, c, path, "data.series.columns") for c in names]
    times = [r[t_col].strip() for _, r in rows]
    values = np.array(
        [
            [_number(r[i], header[i], path, n, times[k]) for i in idx]
            for k, (n, r) in enumerate(rows)
        ]
    )
    clock = infer_clock(times, [n for n, _ in rows], path, trading_days=trading_days)
    names = tuple(names)
    if joint:
        return [Series("+".join(names), names, tuple(times), values, clock)]
    return [Series(c, (c,), tuple(times), values[:, [j]], clock) for j, c in enumerate(names)]


def _rows(path: str) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """(line number, fields) of each data row, and the header's names."""
    lines = read_lines(path)
    parsed = [(n, row) for n, row in enumerate(csv.reader(lines), 1) if any(c.strip() for c in row)]
    if not parsed:
        raise UserError(f"{path}: an empty file; give a CSV with a header row and one row per time")
    (_, header), body = parsed[0], parsed[1:]
    header = [h.strip() for h in header]
    if not body:
        raise UserError(f"{path}: a header but no rows; give one row per time step")
    for n, row in body:
        if len(row) != len(header):
            raise UserError(
                f"{path}:{n}: {len(row)} fields, but the header has {len(header)}; "
                "every row needs one cell per column"
            )
    return body, header


def _column_index(header: list[str], name: str, path: str, key: str) -> int:
    if name not in header:
        raise UserError(
            f"{path}: no column {name!r} (the header has {', '.join(map(repr, header))}); "
            f"fix {key} or the file's header"
        )
    return header.index(name)


def _number(cell: str, column: str, path: str, line: int, time: str) -> float:
    text = cell.strip()
    if text.lower() in MISSING:
        raise UserError(
            f"{path}:{line}: no value in column {column!r} at {time} (a gap); fill the cell "
            "(e.g. interpolate between its neighbours) or drop the rows before it"
        )
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UserError(
            f"{path}:{line}: {text!r} in column {column!r} is not a finite number; fix the cell"
        )
    return value


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text + "-01" if len(text) == 7 else text[:10])


def _number_text(x: float) -> str:
    return str(int(round(x))) if abs(x - round(x)) < 1e-9 else f"{x:.10g}"


def _parse_times(times: list[str], lines: list[int], path: str) -> tuple[str, list]:
    """('num', floats) or ('ym' / 'ymd', dates): one kind for the whole column."""
    try:
        return "num", [float(t) for t in times]
    except ValueError:
        pass
    fmt = "ym" if all(len(t) == 7 for t in times) else "ymd"
    parsed = []
    for t, n in zip(times, lines):
        try:
            parsed.append(_date(t))
        except ValueError:
            raise UserError(
                f"{path}:{n}: time {t!r} is neither a number nor a date (YYYY-MM-DD or "
                "YYYY-MM); fix the time column (data.series.time names it)"
            ) from None
    return fmt, parsed


def infer_clock(times: list[str], lines: list[int], path: str, *, trading_days: bool) -> Clock:
    """The time column's step, and a one-line error at the first row out of order or after
    a gap (a missing time step)."""
    fmt, parsed = _parse_times(times, lines, path)
    if fmt == "num":
        unit, pos = "number", parsed
    elif fmt == "ym" or all(d.day == 1 for d in parsed):
        unit, pos = "month", [d.year * 12 + d.month - 1 for d in parsed]
    else:
        unit, pos = ("trading" if trading_days else "day"), [d.toordinal() for d in parsed]
    diffs = [b - a for a, b in zip(pos, pos[1:])]
    for k, d in enumerate(diffs):
        if d <= 0:
            raise UserError(
                f"{path}:{lines[k + 1]}: time {times[k + 1]} does not come after {times[k]}; "
                "sort the rows by time and drop repeated times"
            )
    step = min(diffs) if diffs else 1
    for k, d in enumerate(diffs):
        if unit == "trading":
            if parsed[k + 1].weekday() > 4 or d > TRADING_MAX_DAYS:
                _gap(path, lines[k + 1], times[k], times[k + 1], "a weekday within a week", "")
        elif abs(d - step) > 1e-9 * max(1.0, abs(step)):
            what = f"{step:g} {'months' if unit == 'month' else 'days' if unit == 'day' else ''}"
            hint = (
                ", or set data.series.trading_days: true for market data" if unit == "day" else ""
            )
            _gap(path, lines[k + 1], times[k], times[k + 1], f"a step of {what.strip()}", hint)
    return Clock(unit, float(step), fmt)


def _gap(path: str, line: int, before: str, time: str, expected: str, hint: str) -> None:
    raise UserError(
        f"{path}:{line}: time {time} follows {before}, where the series expects {expected}: "
        f"rows are missing (a gap); add them with their values (e.g. interpolated){hint}"
    )
