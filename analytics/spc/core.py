"""qic(): control-chart figures for a series, like qicharts2's qic(return.data = TRUE).

Steps, for each part of the chart (a part starts where the `part` label changes):

1. values = y (run, i, g, t) or y / n (p, pp, u, up);
2. the baseline: the points up to the freeze (all points when there is none, or
   when the part starts after the freeze);
3. centre line and limits from the baseline (`charts.py`), held for the whole part;
4. Anhøj run rules on every point of the part against its own centre line;
5. sigma signal: a value strictly above the upper or below the lower limit;
6. y, centre line and limits × multiply, last.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import PumpqiError
from analytics.spc.anhoej import RunsResult, runs_analysis
from analytics.spc.charts import CHART_LINES, BoolArray, FloatArray, Lines, PartData
from analytics.spc.inputs import SpcSeries, XKind, column, make_series
from analytics.spc.options import ChartType, Freeze, SpcOptions

#: The columns `pumpqi spc` prints, in order.
CLI_COLUMNS: tuple[str, ...] = (
    "x", "y", "n", "cl", "lcl", "ucl", "sigma_signal", "runs_signal",
    "longest_run", "longest_run_max", "n_crossings", "n_crossings_min",
)  # fmt: skip
#: Extra columns of the library table.
EXTRA_COLUMNS: tuple[str, ...] = ("lcl_95", "ucl_95", "part", "baseline", "n_useful")
_LINE_COLUMNS = ("cl", "lcl", "ucl", "lcl_95", "ucl_95")
_RUN_COLUMNS = ("longest_run", "longest_run_max", "n_crossings", "n_crossings_min")


@dataclass(frozen=True)
class PartSummary:
    """One part of a chart: its number (1, 2, …), the positions [start, stop) of its
    points in the table, and its runs analysis."""

    part: int
    start: int
    stop: int
    runs: RunsResult


@dataclass(frozen=True, eq=False)
class SpcResult:
    """A computed chart.

    table: one row per point with the CLI columns (x, y, n, cl, lcl, ucl,
    sigma_signal, runs_signal, longest_run, longest_run_max, n_crossings,
    n_crossings_min; the last five describe the point's part) and lcl_95, ucl_95
    (2-sigma lines), part, baseline (point used for the centre and limits), n_useful.
    """

    table: pd.DataFrame
    options: SpcOptions
    parts: tuple[PartSummary, ...]
    x_kind: XKind

    def cli_table(self) -> pd.DataFrame:
        """Exactly the columns of `pumpqi spc`."""
        out = self.table.loc[:, list(CLI_COLUMNS)].copy()
        n = out["n"]
        if n.notna().all() and bool((n == n.round()).all()):
            out["n"] = n.astype("int64")
        return out

    @property
    def runs_signal(self) -> bool:
        """True when the run rules fired in any part."""
        return any(p.runs.runs_signal for p in self.parts)

    @property
    def sigma_signals(self) -> int:
        """How many points lie outside their limits."""
        return int(self.table["sigma_signal"].sum())


_FREEZE_MONTH = re.compile(r"^\d{4}-\d{2}$")


def parse_freeze(value: str | int | dt.date | None) -> Freeze | None:
    """A freeze given as text: a whole number of points, an ISO date or a YYYY-MM month
    (the baseline then runs to the first day of that month, i.e. includes it for
    monthly series)."""
    if value is None or isinstance(value, dt.date):
        return value
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        if _FREEZE_MONTH.match(text):
            return dt.date.fromisoformat(text + "-01")
        return dt.date.fromisoformat(text)
    except ValueError:
        raise PumpqiError(
            f"freeze '{value}' is neither a number of points nor a date (YYYY-MM-DD)"
        ) from None


def _baseline(series: SpcSeries, freeze: Freeze | None) -> BoolArray:
    size = len(series)
    if freeze is None:
        return np.ones(size, dtype=bool)
    if isinstance(freeze, int):
        if not 2 <= freeze <= size:
            raise PumpqiError(f"freeze {freeze}: give between 2 and {size} baseline points")
        return np.arange(size) < freeze
    if series.x_kind not in ("month", "date"):
        raise PumpqiError(f"freeze {freeze.isoformat()}: a date needs x to be dates")
    base = (series.x <= pd.Timestamp(freeze)).to_numpy()
    if base.sum() < 2:
        raise PumpqiError(
            f"freeze {freeze.isoformat()}: fewer than 2 points on or before that date"
        )
    return base


def _x_text(series: SpcSeries, pos: int) -> str:
    value = series.x.iloc[pos]
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else str(value)


def _part_ids(series: SpcSeries) -> np.ndarray:
    if series.part is None:
        return np.ones(len(series), dtype=int)
    labels = series.part
    changed = labels.ne(labels.shift()).to_numpy()
    return np.cumsum(changed)


def _part_base(series: SpcSeries, idx: slice, baseline: BoolArray, part: int) -> BoolArray:
    base = baseline[idx]
    if not base.any():
        return np.ones(base.size, dtype=bool)
    if base.sum() < 2:
        raise PumpqiError(
            f"part {part} (from {_x_text(series, idx.start)}) has fewer than 2 baseline "
            "points; move the freeze or the process change"
        )
    return base


def _compute_part(
    values: FloatArray, series: SpcSeries, idx: slice, base: BoolArray, options: SpcOptions
) -> Lines:
    counts = series.y[idx]
    n = np.full(counts.size, np.nan) if series.n is None else series.n[idx]
    data = PartData(values[idx], counts, n, base, options.screen_mr)
    return CHART_LINES[options.chart](data)


def compute(series: SpcSeries, options: SpcOptions) -> SpcResult:
    """The figures of a chart for a checked series (see the module docstring)."""
    values = series.y / series.n if series.n is not None else series.y.copy()
    baseline = _baseline(series, options.freeze)
    part_ids = _part_ids(series)
    size = len(series)
    cols: dict[str, Any] = {c: np.full(size, np.nan) for c in _LINE_COLUMNS}
    cols["baseline"] = np.zeros(size, dtype=bool)
    parts: list[PartSummary] = []
    for part in np.unique(part_ids):
        positions = np.flatnonzero(part_ids == part)
        idx = slice(int(positions[0]), int(positions[-1]) + 1)
        if positions.size < 2:
            raise PumpqiError(
                f"part {part} (from {_x_text(series, idx.start)}) has only 1 point; "
                "a part needs at least 2"
            )
        base = _part_base(series, idx, baseline, int(part))
        lines = _compute_part(values, series, idx, base, options)
        for c in _LINE_COLUMNS:
            cols[c][idx] = getattr(lines, c)
        cols["baseline"][idx] = base
        parts.append(
            PartSummary(int(part), idx.start, idx.stop, runs_analysis(values[idx], lines.cl))
        )
    table = _table(series, values, cols, part_ids, parts, options.multiply)
    return SpcResult(table, options, tuple(parts), series.x_kind)


def _table(
    series: SpcSeries,
    values: FloatArray,
    cols: dict[str, Any],
    part_ids: np.ndarray,
    parts: list[PartSummary],
    multiply: float,
) -> pd.DataFrame:
    with np.errstate(invalid="ignore"):
        sigma = (values > cols["ucl"]) | (values < cols["lcl"])
    k = float(multiply)
    df = pd.DataFrame({"x": series.x, "y": values * k})
    df["n"] = np.nan if series.n is None else series.n
    for c in ("cl", "lcl", "ucl"):
        df[c] = cols[c] * k
    df["sigma_signal"] = sigma
    per_point: dict[str, list[Any]] = {c: [] for c in ("runs_signal", "n_useful", *_RUN_COLUMNS)}
    for p in parts:
        r = p.runs
        row = {"runs_signal": r.runs_signal, "n_useful": r.n_useful, "longest_run": r.longest_run,
               "longest_run_max": r.longest_run_max, "n_crossings": r.n_crossings,
               "n_crossings_min": r.n_crossings_min}  # fmt: skip
        for c, v in row.items():
            per_point[c].extend([v] * (p.stop - p.start))
    df["runs_signal"] = np.asarray(per_point["runs_signal"], dtype=bool)
    for c in _RUN_COLUMNS:
        df[c] = pd.array(per_point[c], dtype="Int64")
    df["lcl_95"] = cols["lcl_95"] * k
    df["ucl_95"] = cols["ucl_95"] * k
    df["part"] = part_ids.astype(int)
    df["baseline"] = cols["baseline"]
    df["n_useful"] = pd.array(per_point["n_useful"], dtype="Int64")
    return df


def qic(
    data: pd.DataFrame | None = None,
    *,
    y: str | Sequence[Any] | np.ndarray | pd.Series,
    n: str | Sequence[Any] | np.ndarray | pd.Series | None = None,
    x: str | Sequence[Any] | np.ndarray | pd.Series | None = None,
    part: str | Sequence[Any] | np.ndarray | pd.Series | None = None,
    chart: ChartType = "run",
    multiply: float = 1.0,
    freeze: int | dt.date | str | None = None,
    screen_mr: bool = True,
) -> SpcResult:
    """Control-chart figures, like qicharts2's qic().

    y, n, x and part are columns of `data` (by name) or the values themselves.
    x: dates (ISO or YYYY-MM), numbers (1..N when omitted) or labels; points are
    ordered by x. part: a label per point; a new part starts where it changes, each
    with its own centre, limits and run rules. freeze: the first k points or a date
    (see `SpcOptions`). Bad input raises PumpqiError with one line saying where.
    """
    options = SpcOptions(chart, multiply, parse_freeze(freeze), screen_mr)
    series = make_series(
        chart,
        _resolve(data, y, "y"),
        _resolve(data, n, "n"),
        _resolve(data, x, "x"),
        _resolve(data, part, "part"),
        names=(y if isinstance(y, str) else "y", n if isinstance(n, str) else "n"),
    )
    return compute(series, options)


def _resolve(data: pd.DataFrame | None, value: Any, role: str) -> Any:
    """A column of `data` when value is a name, else the values themselves."""
    if not isinstance(value, str):
        return value
    if data is None:
        raise PumpqiError(f"{role} '{value}' is a column name but no table was given")
    return column(data, value, role)
