"""What a figure is about: the cut-off (explicit, passed to every figure) and the scope
(the months, the selected groups, and whether the view is shared).

    with reader(db) as con:
        cut = open_cutoff(con)                       # as of the data's end
        scope = Scope.months("2026-01", "2026-06")   # for the QI committee
        shared = Scope.quarter("2026Q2", 11)         # for sharing: one calendar quarter
        figures = overview(cut, shared)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics.config import DEFAULT, MIN_THRESHOLD, Config
from analytics.engine.complications import Period
from analytics.engine.selection import Selection, check_selection, describe
from analytics.engine.tables import data_end, prepare
from analytics.errors import PumpqiError


@dataclass(frozen=True, eq=False)
class Cutoff:
    """The data as known on `as_of`, with the configuration in force, on a connection.

    The engine's working tables for (as_of, config) live on `con`; `ready()` makes sure
    they are the ones in place before a figure reads them (cheap when they are)."""

    con: duckdb.DuckDBPyConnection
    as_of: dt.date
    config: Config
    data_end: dt.date
    today: dt.date

    def ready(self) -> duckdb.DuckDBPyConnection:
        prepare(self.con, self.as_of, self.config)
        return self.con

    @property
    def data_age_days(self) -> int:
        """Days from the data's last record to today."""
        return max(0, (self.today - self.data_end).days)


def open_cutoff(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    config: Config = DEFAULT,
    today: dt.date | None = None,
) -> Cutoff:
    """The cut-off for figures: `as_of` (default: the data's last record)."""
    end = data_end(con)
    if end is None:
        raise PumpqiError("the database holds no visits yet; ingest a visits file first")
    as_of = prepare(con, as_of, config)
    return Cutoff(con, as_of, config, end, today or dt.date.today())


_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$")


def quarter_of(month: str) -> str:
    """'2026-05' -> '2026Q2'."""
    year, m = int(month[:4]), int(month[5:7])
    return f"{year}Q{(m - 1) // 3 + 1}"


def quarter_months(quarter: str) -> tuple[str, str, str]:
    """'2026Q2' -> ('2026-04', '2026-05', '2026-06')."""
    match = _QUARTER.match(quarter)
    if not match:
        raise PumpqiError(f"'{quarter}' is not a quarter (YYYYQn)")
    year, q = int(match.group(1)), int(match.group(2))
    first = 3 * (q - 1) + 1
    return tuple(f"{year}-{m:02d}" for m in range(first, first + 3))  # type: ignore[return-value]


def quarter_label(quarter: str) -> str:
    """'2026Q2' -> 'Q2 2026 (Apr–Jun)'."""
    months = quarter_months(quarter)
    a = pd.Timestamp(months[0] + "-01").strftime("%b")
    b = pd.Timestamp(months[-1] + "-01").strftime("%b")
    return f"Q{quarter[-1]} {quarter[:4]} ({a}–{b})"


def month_label(month: str) -> str:
    """'2026-10' -> 'Oct 2026'."""
    return pd.Timestamp(month + "-01").strftime("%b %Y")


@dataclass(frozen=True)
class Scope:
    """The months a figure covers (inclusive, YYYY-MM), the selected groups, and for a
    shared view the suppression threshold (None: for the QI committee, full figures).

    A shared view covers one whole calendar quarter and selects no group: two shared
    views never overlap, so one cannot be subtracted from another (breakdowns by group
    are tables of their own, protected with the total they add up to)."""

    first: str
    last: str
    selection: Selection = ()
    sharing: int | None = None

    @classmethod
    def months(cls, first: str, last: str, selection: Selection = ()) -> Scope:
        return cls(first, last, check_selection(selection))

    @classmethod
    def quarter(cls, quarter: str, threshold: int) -> Scope:
        months = quarter_months(quarter)
        return cls(months[0], months[-1], (), threshold)

    def __post_init__(self) -> None:
        for value in (self.first, self.last):
            if not re.fullmatch(r"\d{4}-\d{2}", value):
                raise PumpqiError(f"'{value}' is not a month (YYYY-MM)")
        if self.first > self.last:
            raise PumpqiError(f"the period starts ({self.first}) after it ends ({self.last})")
        if self.sharing is not None:
            if self.sharing < MIN_THRESHOLD:
                raise PumpqiError(f"the suppression threshold must be at least {MIN_THRESHOLD}")
            if self.selection:
                raise PumpqiError("a shared view shows the whole programme: clear the filters")
            months = quarter_months(quarter_of(self.first))
            if (self.first, self.last) != (months[0], months[-1]):
                raise PumpqiError("a shared view covers one whole calendar quarter")

    @property
    def shared(self) -> bool:
        return self.sharing is not None

    @property
    def period(self) -> Period:
        return Period(self.first, self.last)

    @property
    def quarter_id(self) -> str:
        return quarter_of(self.first)

    def label(self) -> str:
        """'Q2 2026 (Apr–Jun)', 'Oct 2026' or 'Jan 2026 to Jun 2026'."""
        if self.shared:
            return quarter_label(self.quarter_id)
        if self.first == self.last:
            return month_label(self.first)
        return f"{month_label(self.first)} to {month_label(self.last)}"

    def describe(self) -> str:
        return describe(self.selection)

    def month_list(self) -> list[str]:
        """Every month of the scope, YYYY-MM."""
        return [
            p.strftime("%Y-%m")
            for p in pd.period_range(pd.Period(self.first, "M"), pd.Period(self.last, "M"))
        ]
