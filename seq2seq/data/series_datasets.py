"""Built-in real series, from data that registry packages ship (no network at run time):
`seq2seq data NAME` writes OUT/NAME.csv, a time column and value columns, as a series
config reads it (`data.series.csv`).

From statsmodels (`statsmodels.datasets`, the `forecast` extra):
- `sunspots`: yearly mean sunspot numbers, 1700-2008 (309 values).
- `co2`: Mauna Loa CO2 (ppm), the weekly readings of 1958-03 .. 2001-12 averaged by month;
  the 5 months without a reading are interpolated linearly between their neighbours.
- `elnino`: monthly sea surface temperature of the Nino 1+2 region (deg C), 1950-2010.
- `macrodata`: US quarterly macroeconomic series, 1959Q1-2009Q3 (real GDP, consumption,
  investment, CPI, unemployment, ...); the quarter's first month stands for it.
- `nile`: yearly Nile flow at Aswan (10^8 m^3), 1871-1970.

From pmdarima (its bundled `msft.csv`, read without importing pmdarima):
- `msft`: daily Microsoft share prices (close, split-adjusted), 1986-03-13 .. 2017-11-10,
  trading days only (a series config sets `trading_days: true`).
"""

from __future__ import annotations

import importlib.util
import io
import tarfile
from pathlib import Path

from ..errors import UserError
from .io import write_text

SERIES = {
    "sunspots": "statsmodels",
    "co2": "statsmodels",
    "elnino": "statsmodels",
    "macrodata": "statsmodels",
    "nile": "statsmodels",
    "msft": "pmdarima",
}
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _need(package: str, name: str) -> None:
    if importlib.util.find_spec(package) is None:
        extra = "forecast" if package == "statsmodels" else "stocks"
        raise UserError(
            f"the {name} series ships with {package}, which is not installed: "
            f"pip install 'seq2seq[{extra}]' (or pip install {package})"
        )


def _csv(header: list[str], rows) -> str:
    return ",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)


def _num(x: float) -> str:
    return f"{x:.10g}"


def _statsmodels_csv(name: str) -> str:
    from statsmodels import datasets

    if name == "sunspots":
        df = datasets.sunspots.load_pandas().data
        return _csv(["year", "sunspots"], ((int(y), _num(v)) for y, v in df.values))
    if name == "nile":
        df = datasets.nile.load_pandas().data
        return _csv(["year", "volume"], ((int(y), _num(v)) for y, v in df.values))
    if name == "co2":
        monthly = datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
        rows = ((t.strftime("%Y-%m"), _num(round(v, 3))) for t, v in monthly.items())
        return _csv(["month", "co2"], rows)
    if name == "elnino":
        df = datasets.elnino.load_pandas().data
        rows = [
            (f"{int(r['YEAR'])}-{k + 1:02d}", _num(r[m]))
            for _, r in df.iterrows()
            for k, m in enumerate(MONTHS)
        ]
        return _csv(["month", "sst"], rows)
    df = datasets.macrodata.load_pandas().data  # macrodata
    cols = [c for c in df.columns if c not in ("year", "quarter")]
    rows = [
        [f"{int(r['year'])}-{3 * int(r['quarter']) - 2:02d}", *(_num(r[c]) for c in cols)]
        for _, r in df.iterrows()
    ]
    return _csv(["quarter", *cols], rows)


def _msft_csv() -> str:
    spec = importlib.util.find_spec("pmdarima")  # finds the package without importing it
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "msft.tar.gz"
    if not path.is_file():
        raise UserError(f"{path}: not found; this pmdarima does not ship msft.csv (2.x does)")
    with tarfile.open(path) as tar:
        text = tar.extractfile("msft.csv").read().decode("utf-8")
    lines = list(io.StringIO(text))
    header = lines[0].strip().split(",")
    date, close = header.index("Date"), header.index("Close")
    rows = (line.strip().split(",") for line in lines[1:] if line.strip())
    return _csv(["date", "close"], ((r[date], r[close]) for r in rows))


def write_series(name: str, out: str | Path) -> Path:
    """Write the built-in series `name` as OUT/NAME.csv; returns its path."""
    if name not in SERIES:
        raise UserError(f"unknown series {name!r}; choose one of {', '.join(SERIES)}")
    _need(SERIES[name], name)
    text = _msft_csv() if name == "msft" else _statsmodels_csv(name)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.csv"
    write_text(path, text, "--out")
    return path
