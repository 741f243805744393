"""Turning a tidy table (or plain arrays) into a checked series for a chart.

Errors are `PumpqiError`s with one line saying which column, which row and what
to do. `row_label` lets the caller say where a row is (e.g. "line 7" of a CSV).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.errors import PumpqiError
from analytics.spc.charts import FloatArray
from analytics.spc.options import PROPORTION_CHARTS, RARE_EVENT_CHARTS, RATIO_CHARTS

XKind = Literal["month", "quarter", "date", "number", "label"]
"""How points are named; "quarter" is never inferred: a caller charting by quarter (x = the
quarter's first day) declares it on the result so sentences say "Q3 2026"."""
RowLabel = Callable[[int], str]

_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def data_row(i: int) -> str:
    """The default place of row i (0-based): 'row 1' is the first row."""
    return f"row {i + 1}"


@dataclass(frozen=True, eq=False)
class SpcSeries:
    """One checked, ordered series: x (dates, numbers or labels), y, n and part labels.

    y holds the plotted value for run and i charts, the numerator count for p and
    u charts, the opportunities (g) or days (t) between two events; n is the
    denominator (None for run and i charts without one, and for g and t charts).
    """

    x: pd.Series
    y: FloatArray
    n: FloatArray | None
    part: pd.Series | None
    x_kind: XKind

    def __len__(self) -> int:
        return int(self.y.size)


def _numbers(values: pd.Series, name: str, row_label: RowLabel) -> FloatArray:
    raw = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_bool_dtype(raw):
        raise PumpqiError(f"column '{name}' holds true/false values, not numbers")
    if pd.api.types.is_numeric_dtype(raw):
        nums = raw.astype(float)
        text = nums.map(lambda v: "" if pd.isna(v) else str(v)).astype("string")
    else:
        text = raw.astype("string").str.strip()
        nums = pd.to_numeric(text, errors="coerce")
    for i in range(len(raw)):
        if pd.isna(text.iloc[i]) or text.iloc[i] == "":
            raise PumpqiError(f"column '{name}', {row_label(i)}: the value is empty")
        if pd.isna(nums.iloc[i]) or not np.isfinite(float(nums.iloc[i])):
            raise PumpqiError(f"column '{name}', {row_label(i)}: '{text.iloc[i]}' is not a number")
    return np.asarray(nums, dtype=np.float64)


def _parse_x(x: pd.Series) -> tuple[pd.Series, XKind]:
    """Dates (ISO YYYY-MM-DD or YYYY-MM), numbers, or labels kept in their order."""
    x = x.reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(x):
        dates = pd.to_datetime(x)
    elif pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
        if x.isna().any():
            raise PumpqiError("column x has an empty value; every point needs an x")
        return x, "number"
    else:
        text = x.astype("string").str.strip()
        if text.isna().any():
            raise PumpqiError("column x has an empty value; every point needs an x")
        if text.str.match(_MONTH).all():
            dates = pd.to_datetime(text + "-01", format="%Y-%m-%d", errors="coerce")
        elif text.str.match(_DATE).all():
            dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        else:
            nums = pd.to_numeric(text, errors="coerce")
            if nums.notna().all():
                whole = bool((nums == nums.round()).all())
                return nums.astype("int64" if whole else float), "number"
            return text.astype(object), "label"
        if dates.isna().any():
            raise PumpqiError("column x: some dates are not real dates (YYYY-MM-DD)")
    if dates.isna().any():
        raise PumpqiError("column x has an empty date; every point needs an x")
    dates = pd.Series(dates.to_numpy(dtype="datetime64[ns]"))
    monthly = bool((dates.dt.day == 1).all() and dates.dt.to_period("M").is_unique)
    return dates, ("month" if monthly else "date")


def _check_unique(x: pd.Series, row_label: RowLabel) -> None:
    dup = x.duplicated(keep=False)
    if dup.any():
        rows = list(np.flatnonzero(dup.to_numpy())[:2])
        raise PumpqiError(
            f"x value '{x.iloc[rows[0]]}' appears twice ({row_label(rows[0])} and "
            f"{row_label(rows[1])}); give one row per point (filter to one group first)"
        )


def _check_counts(
    chart: str, y: FloatArray, n: FloatArray, names: tuple[str, str], row_label: RowLabel
) -> None:
    y_name, n_name = names
    for i in range(y.size):
        if n[i] <= 0:
            raise PumpqiError(
                f"column '{n_name}', {row_label(i)}: the denominator must be greater than 0, "
                f"not {n[i]:g}; drop the rows with nothing to count"
            )
        if y[i] < 0:
            raise PumpqiError(f"column '{y_name}', {row_label(i)}: a count cannot be negative")
        if chart in PROPORTION_CHARTS and y[i] > n[i]:
            raise PumpqiError(
                f"{row_label(i)}: '{y_name}' ({y[i]:g}) is greater than '{n_name}' ({n[i]:g});"
                " a proportion cannot exceed 1"
            )


def _check_gaps(chart: str, y: FloatArray, name: str, row_label: RowLabel) -> None:
    """g: opportunities between events, >= 0; t: days between events, > 0."""
    bad = np.flatnonzero(y <= 0) if chart == "t" else np.flatnonzero(y < 0)
    if bad.size:
        i = int(bad[0])
        need = (
            "days between events must be greater than 0"
            if chart == "t"
            else "a count of opportunities between events cannot be negative"
        )
        raise PumpqiError(f"column '{name}', {row_label(i)}: {need}, not {y[i]:g}")


def column(df: pd.DataFrame, col: str, role: str) -> pd.Series:
    """The column `col` of df, or a PumpqiError listing the columns there are."""
    if col not in df.columns:
        known = ", ".join(map(str, df.columns))
        raise PumpqiError(f"no column '{col}' for {role} (columns: {known})")
    return df[col]


@dataclass(frozen=True, eq=False)
class Skipped:
    """Rows of a table left out of a chart: the positions kept and those skipped
    (0-based, in the table's order)."""

    kept: npt.NDArray[np.int64]
    skipped: npt.NDArray[np.int64]


def skip_zero_denominators(
    df: pd.DataFrame, chart: str, y: str, n: str | None, row_label: RowLabel = data_row
) -> tuple[pd.DataFrame, Skipped]:
    """For p, pp, u and up charts, the rows whose denominator is 0 and count is 0 left out
    (a month with no refills due has no rate to chart); other charts keep every row.

    A non-zero count over a zero denominator is a fault of the data, not a point to skip:
    PumpqiError. Values that are not numbers are left for `series_from_frame` to report.
    """
    everything = Skipped(np.arange(len(df), dtype=np.int64), np.zeros(0, dtype=np.int64))
    if chart not in RATIO_CHARTS or n is None or n not in df.columns or y not in df.columns:
        return df, everything
    den = pd.to_numeric(df[n].astype("string").str.strip(), errors="coerce").to_numpy(float)
    num = pd.to_numeric(df[y].astype("string").str.strip(), errors="coerce").to_numpy(float)
    zero = den == 0
    counted = zero & np.isfinite(num) & (num != 0)
    if counted.any():
        i = int(np.flatnonzero(counted)[0])
        raise PumpqiError(
            f"{row_label(i)}: '{y}' is {num[i]:g} but '{n}' is 0; a count needs a denominator "
            "(check the columns given to --y and --n)"
        )
    if not zero.any():
        return df, everything
    kept = np.flatnonzero(~zero).astype(np.int64)
    skipped = Skipped(kept, np.flatnonzero(zero).astype(np.int64))
    return df.iloc[kept].reset_index(drop=True), skipped


def series_from_frame(
    df: pd.DataFrame,
    chart: str,
    y: str,
    n: str | None = None,
    x: str | None = None,
    part: str | None = None,
    row_label: RowLabel = data_row,
) -> SpcSeries:
    """Check and order the columns of a tidy table for one chart (see `make_series`)."""
    return make_series(
        chart,
        column(df, y, "y"),
        None if n is None else column(df, n, "n"),
        None if x is None else column(df, x, "x"),
        None if part is None else column(df, part, "part"),
        names=(y, n or "n"),
        row_label=row_label,
    )


def _as_series(values: Any, length: int | None, name: str) -> pd.Series:
    s = values.reset_index(drop=True) if isinstance(values, pd.Series) else pd.Series(values)
    if length is not None and len(s) != length:
        raise PumpqiError(f"{name} has {len(s)} values but y has {length}")
    return s


def make_series(
    chart: str,
    y: Sequence[Any] | pd.Series | np.ndarray,
    n: Sequence[Any] | pd.Series | np.ndarray | None = None,
    x: Sequence[Any] | pd.Series | np.ndarray | None = None,
    part: Sequence[Any] | pd.Series | np.ndarray | None = None,
    names: tuple[str, str] = ("y", "n"),
    row_label: RowLabel = data_row,
) -> SpcSeries:
    """Check y (numbers; >= 0 for g, > 0 for t), n (> 0 for p/u charts; y <= n for p
    charts; none for g/t), x (unique) and
    order the points by x when x are dates or numbers. At least 2 points are needed."""
    y_s = _as_series(y, None, "y")
    if len(y_s) < 2:
        raise PumpqiError(f"a chart needs at least 2 points, got {len(y_s)}")
    y_arr = _numbers(y_s, names[0], row_label)
    n_arr = None if n is None else _numbers(_as_series(n, len(y_s), "n"), names[1], row_label)
    if chart in RATIO_CHARTS:
        if n_arr is None:
            raise PumpqiError(f"chart '{chart}' needs n, the denominator column")
        _check_counts(chart, y_arr, n_arr, names, row_label)
    elif chart in RARE_EVENT_CHARTS:
        if n_arr is not None:
            raise PumpqiError(
                f"chart '{chart}' takes no n: y is already the "
                f"{'opportunities' if chart == 'g' else 'days'} between two events"
            )
        _check_gaps(chart, y_arr, names[0], row_label)
    elif n_arr is not None and (n_arr <= 0).any():
        i = int(np.flatnonzero(n_arr <= 0)[0])
        raise PumpqiError(f"column '{names[1]}', {row_label(i)}: n must be greater than 0")
    x_s = pd.Series(np.arange(1, len(y_s) + 1)) if x is None else _as_series(x, len(y_s), "x")
    x_parsed, kind = _parse_x(x_s)
    _check_unique(x_parsed, row_label)
    part_s = None if part is None else _as_series(part, len(y_s), "part")
    if part_s is not None and part_s.isna().any():
        raise PumpqiError("part has an empty value; give every point a part")
    order = (
        np.arange(len(y_s)) if kind == "label" else np.argsort(x_parsed.to_numpy(), kind="stable")
    )
    return SpcSeries(
        x=x_parsed.iloc[order].reset_index(drop=True),
        y=y_arr[order],
        n=None if n_arr is None else n_arr[order],
        part=None if part_s is None else part_s.iloc[order].reset_index(drop=True),
        x_kind=kind,
    )
