"""What the dashboard's sidebar may offer: the months with data, the complete calendar
quarters (the periods of a shared view) and the values of each grouping."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from analytics.engine.metrics import monthly_metrics
from analytics.engine.selection import FACT_TABLES
from analytics.figures.cells import complete_quarters
from analytics.figures.scope import Cutoff
from analytics.vocabulary import BY_IDS, DIMENSION, UNKNOWN_GROUP


@dataclass(frozen=True)
class FilterOptions:
    as_of: dt.date
    data_end: dt.date
    months: tuple[str, ...]
    quarters: tuple[str, ...]
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)


def filter_options(cut: Cutoff) -> FilterOptions:
    """Months (first month with a pump-day to the cut-off), complete quarters, and the
    values of each grouping found in fills, pump-days or reports ('unknown' for none)."""
    con = cut.ready()
    months = tuple(monthly_metrics(con, cut.as_of, None, None, None, cut.config)["month"])
    values: dict[str, tuple[str, ...]] = {}
    for dim in BY_IDS:
        column = DIMENSION[dim].column  # from the vocabulary's fixed allow-list
        union = " UNION ".join(
            f"SELECT DISTINCT coalesce({column}, '{UNKNOWN_GROUP}') AS v FROM {t}"
            for t in FACT_TABLES.values()
        )
        values[dim] = tuple(str(r[0]) for r in con.execute(union + " ORDER BY v").fetchall())
    quarters = tuple(complete_quarters(cut, months[0])) if months else ()
    return FilterOptions(cut.as_of, cut.data_end, months, quarters, values)
