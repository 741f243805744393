"""Worklist page: the open therapies needing a refill, most urgent first (for the QI
committee only: it names patients), and their counts by site and status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from analytics.figures.model import Column, FigureTable
from analytics.figures.now import now_table, open_fills
from analytics.figures.scope import Cutoff, Scope
from analytics.vocabulary import label

C = Column
ITEM_COLUMNS: tuple[Column, ...] = (
    C("patient_id", "Patient (pseudonym)"),
    C("status", "Status"),
    C("when", "When"),
    C("days_to_due", "Days to due date", "number", "negative: days past the due date"),
    C("due_date", "Due date", "date"),
    C("empty_date", "Runs dry on (computed)", "date"),
    C("drug", "Drug"),
    C("site", "Site"),
    C("pump_model", "Pump model"),
    C("fill_date", "Last fill", "date"),
    C("fill_visit_id", "Fill visit id"),
)


@dataclass(frozen=True)
class WorklistFigures:
    as_of: dt.date
    days: int
    counts: FigureTable
    items: FigureTable | None  # None in a shared view


def when(days_to_due: int) -> str:
    """'due today', 'due in 3 days', '12 days past the due date'."""
    if days_to_due == 0:
        return "due today"
    if days_to_due > 0:
        return f"due in {days_to_due} day{'s' if days_to_due != 1 else ''}"
    late = -days_to_due
    return f"{late} day{'s' if late != 1 else ''} past the due date"


def worklist_figures(cut: Cutoff, scope: Scope, days: int | None = None) -> WorklistFigures:
    """The list (the period does not apply: it is about the patients now) and its counts."""
    days = cut.config.worklist_days if days is None else int(days)
    counts = now_table(cut, scope, days)
    if scope.shared:
        return WorklistFigures(cut.as_of, days, counts, None)
    wl = open_fills(cut, scope, days)
    wl["days_to_due"] = wl["days_left"].fillna(-wl["days_late"]).astype("Int64")
    wl["when"] = [when(int(d)) for d in wl["days_to_due"]]
    wl["status"] = wl["status"].map(lambda s: label("status", s))
    caption = f"Pumps needing a refill as of {cut.as_of:%d %b %Y}, most urgent first"
    items = FigureTable("worklist", caption, wl[[c.key for c in ITEM_COLUMNS]], ITEM_COLUMNS)
    return WorklistFigures(cut.as_of, days, counts, items)
