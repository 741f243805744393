"""The dashboard's filters, and filtering the engine tables by them.

The engine (analytics.engine.tables.prepare) builds its working tables on a connection;
`apply_filters` then keeps only the rows of the selected site / drug / pump model /
indication in the three fact tables every figure is computed from: pq_refills (a fill
goes to the values in force at the fill), pq_exposure (a pump-day to the values in
force that day) and pq_reports (a report to its own site, else the values in force on
its date). These are exactly the groups of `monthly_metrics(by=...)`, so a filtered
figure equals the figure of that group (tests/test_dashboard_views.py checks it).

Values are bound as parameters; column and table names come from the fixed tuples
below, never from the user.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from analytics.config import DEFAULT, Config
from analytics.engine.complications import Period
from analytics.engine.tables import FILTERED_TABLES, narrow, prepare
from analytics.vocabulary import BY_IDS, DIMENSION, UNKNOWN_GROUP

DIMENSIONS: tuple[str, ...] = BY_IDS
"""The filter dimensions (the `--by` groups of `pumpqi metrics`), a fixed allow-list."""

DIMENSION_LABELS: dict[str, str] = {d: DIMENSION[d].label for d in BY_IDS}
UNKNOWN = UNKNOWN_GROUP
"""A missing value is the group `unknown`, as in `pumpqi metrics --by`."""


@dataclass(frozen=True)
class Filters:
    """What the user selected: a period of whole months, one value per dimension (None:
    all) and whether the view is for sharing outside the QI committee."""

    month_from: str | None = None
    month_to: str | None = None
    site: str | None = None
    drug: str | None = None
    pump_model: str | None = None
    indication: str | None = None
    sharing: bool = False

    def selected(self) -> dict[str, str]:
        """The dimensions with a value, in DIMENSIONS order."""
        out: dict[str, str] = {}
        for dim in DIMENSIONS:
            value = getattr(self, dim)
            if value is not None:
                out[dim] = str(value)
        return out

    @property
    def period(self) -> Period:
        return Period(self.month_from, self.month_to)

    def describe(self) -> str:
        """'site A, drug baclofen' or 'all patients'."""
        parts = [f"{DIMENSION_LABELS[d].lower()} {v}" for d, v in self.selected().items()]
        return ", ".join(parts) if parts else "all patients"


@dataclass(frozen=True)
class FilterOptions:
    """What the sidebar may offer: the months with data and the values of each dimension."""

    as_of: dt.date
    months: tuple[str, ...]
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)


def apply_filters(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    config: Config = DEFAULT,
    as_of: dt.date | None = None,
) -> dt.date:
    """Prepare the engine tables and keep only the filtered groups; return the as_of used.

    Call once per connection, before any analytics function, with the same as_of and
    config those functions get (they then reuse the filtered tables).
    """
    try:
        con.execute("SELECT 1 FROM pq_view_filter").fetchall()
        con.execute("DROP TABLE IF EXISTS pq_prepared")  # filtered before: rebuild first
    except duckdb.CatalogException:
        pass
    as_of = prepare(con, as_of, config)
    for dim, value in filters.selected().items():
        narrow(con, _dimension(dim), value, UNKNOWN)
    con.execute("CREATE OR REPLACE TEMP TABLE pq_view_filter AS SELECT 1 AS applied")
    return as_of


def _dimension(name: str) -> str:
    if name not in DIMENSIONS:
        raise ValueError(f"not a filter dimension: {name!r}")
    return name


def filter_options(
    con: duckdb.DuckDBPyConnection, config: Config = DEFAULT, as_of: dt.date | None = None
) -> FilterOptions:
    """Months (first month with a pump-day to as_of) and the values of each dimension
    found in fills, pump-days or reports (missing values as 'unknown')."""
    from analytics.engine.metrics import monthly_metrics

    as_of = prepare(con, as_of, config)
    months = tuple(monthly_metrics(con, as_of, None, None, None, config)["month"])
    values: dict[str, tuple[str, ...]] = {}
    for dim in DIMENSIONS:
        column = _dimension(dim)
        rows = con.execute(
            " UNION ".join(
                f"SELECT DISTINCT coalesce({column}, '{UNKNOWN}') AS v FROM {t}"
                for t in FILTERED_TABLES
            )
            + " ORDER BY v"
        ).fetchall()
        values[dim] = tuple(str(r[0]) for r in rows)
    return FilterOptions(as_of, months, values)
