"""Worklist page data: the nurse manager's list of fills due soon, overdue or missed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.refills import worklist
from analytics.figures.common import share
from analytics.figures.disclosure import Rules
from analytics.figures.filters import Filters, apply_filters
from analytics.figures.labels import STATUS_LABELS

WORKLIST_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "status",
    "when",
    "days_to_due",
    "days_left",
    "days_late",
    "due_date",
    "empty_date",
    "drug",
    "site",
    "pump_model",
    "fill_date",
    "fill_visit_id",
)
COUNT_RULES = Rules(counts=("fills",))


@dataclass(frozen=True)
class WorklistData:
    """The list as of `as_of` (empty in sharing mode: it names patients) and the number
    of fills per status (suppressed in sharing mode)."""

    as_of: dt.date
    days: int
    table: pd.DataFrame
    counts: pd.DataFrame


def _when(days_to_due: int) -> str:
    """'due today', 'due in 3 days', '12 days late'."""
    if days_to_due == 0:
        return "due today"
    if days_to_due > 0:
        return f"due in {days_to_due} day{'s' if days_to_due != 1 else ''}"
    late = -days_to_due
    return f"{late} day{'s' if late != 1 else ''} late"


def worklist_page(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    days: int | None = None,
    config: Config = DEFAULT,
) -> WorklistData:
    """`analytics.engine.refills.worklist` for the filtered groups (the period does not apply:
    the worklist is about today), most urgent first, with readable statuses."""
    as_of = apply_filters(con, filters, config)
    days = config.worklist_days if days is None else int(days)
    wl = worklist(con, as_of, days, config)
    wl["days_to_due"] = wl["days_left"].fillna(-wl["days_late"]).astype("Int64")
    wl["when"] = [_when(int(d)) for d in wl["days_to_due"]]
    table = wl[list(WORKLIST_COLUMNS)].copy()
    order = ("missed", "overdue", "pending")
    counts = pd.DataFrame(
        {
            "status": [STATUS_LABELS[s] for s in order],
            "fills": [int((table["status"] == s).sum()) for s in order],
        }
    )
    table["status"] = table["status"].map(STATUS_LABELS)
    if filters.sharing:
        table = table.iloc[0:0]
    return WorklistData(
        as_of, days, table.reset_index(drop=True), share(counts, COUNT_RULES, filters, config)
    )
