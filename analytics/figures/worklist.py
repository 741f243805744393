"""Worklist page: the pumps needing a refill on today, most at risk first (for the QI
committee only: it names patients), and their counts by site and status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from analytics.engine.worklist import worklist
from analytics.figures.memo import memo
from analytics.figures.model import Column, FigureTable
from analytics.figures.now import now_table
from analytics.figures.scope import Cutoff, Scope

C = Column
ITEM_COLUMNS: tuple[Column, ...] = (
    C("patient_id", "Patient (pseudonym)"),
    C("status", "Status"),
    C("risk_class", "Risk class", "number", "1: baclofen (abrupt withdrawal can be fatal); "
      "2: opioids and clonidine (withdrawal syndromes); 3: the rest"),
    C("days_to_empty", "Days to empty (computed)", "number"),
    C("days_to_due", "Days to due date", "number", "negative: days past the due date"),
    C("due_date", "Due date", "date"),
    C("empty_date", "Runs dry on (computed)", "date"),
    C("drug", "Drug"),
    C("site", "Site"),
    C("pump_model", "Pump model"),
    C("fill_date", "Last fill", "date"),
    C("fill_visit_id", "Fill visit id"),
)  # fmt: skip


@dataclass(frozen=True)
class WorklistFigures:
    today: dt.date
    data_end: dt.date
    data_age_days: int
    within: int
    counts: FigureTable | None  # None in a shared view (the patients now: NOT_SHARED)
    items: FigureTable | None  # None in a shared view


def worklist_figures(cut: Cutoff, scope: Scope, within: int | None = None) -> WorklistFigures:
    """The list on the cut-off's today (the period does not apply: it is about the
    patients now), ordered by risk class then days to the empty date, and its counts."""
    days = cut.config.worklist_days if within is None else int(within)
    age = max(0, (cut.today - cut.data_end).days)
    if scope.shared:
        return WorklistFigures(cut.today, cut.data_end, age, days, None, None)
    counts = now_table(cut, scope, days)
    items = memo(
        cut,
        ("worklist", cut.today, days, scope.selection),
        lambda: worklist(cut.ready(), cut.today, days, cut.config, scope.selection),
    )
    caption = f"Pumps needing a refill on {cut.today:%d %b %Y}, most at risk first"
    note = (
        f"Data up to {cut.data_end:%d %b %Y} ({age} day{'s' if age != 1 else ''} old). "
        "Order: risk class, then days to the computed empty date."
    )
    table = FigureTable(
        "worklist", caption, items[[c.key for c in ITEM_COLUMNS]], ITEM_COLUMNS, note
    )
    return WorklistFigures(cut.today, cut.data_end, age, days, counts, table)
