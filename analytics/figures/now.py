"""The patients now: pumps that have run dry (computed) and are not refilled, pumps past
their alarm date, and refills due soon — whatever month their due date fell in.

This is the safety headline of the Overview and of the pack, and the worklist's counts.
A month's missed and late counts are adherence figures (by due month); this is not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from analytics.engine.refills import worklist
from analytics.figures.disclosure import Rules, suppress_table
from analytics.figures.model import Column, FigureTable, is_hidden
from analytics.figures.scope import Cutoff, Scope
from analytics.vocabulary import STATUS, WORKLIST_STATUS_IDS

NOW_RULES = Rules(
    counts=(*WORKLIST_STATUS_IDS, "total"),
    row_totals={"total": WORKLIST_STATUS_IDS},
    column_total=("site", "all sites", ()),
)


@dataclass(frozen=True)
class Headline:
    """The safety headline: counts as shown (a mark when hidden) and its sentence."""

    as_of: dt.date
    ran_dry: object
    alarm_passed: object
    due_soon: object
    within_days: int
    sentence: str

    @property
    def alarming(self) -> bool:
        return any(v != 0 for v in (self.ran_dry, self.alarm_passed))


def open_fills(cut: Cutoff, scope: Scope, days: int | None = None) -> pd.DataFrame:
    """The worklist at the cut-off: the latest fill of each open therapy that has run dry,
    is past its alarm date or is due within `days` (default: the configuration's)."""
    return worklist(cut.ready(), cut.as_of, days, cut.config, scope.selection)


def now_table(cut: Cutoff, scope: Scope, days: int | None = None) -> FigureTable:
    """Open therapies needing a refill at the cut-off, by site and status, with totals."""
    items = open_fills(cut, scope, days)
    sites = sorted(items["site"].fillna("unknown").unique().tolist())
    rows = []
    for site in [*sites, "all sites"]:
        part = items if site == "all sites" else items[items["site"].fillna("unknown") == site]
        counts = {s: int((part["status"] == s).sum()) for s in WORKLIST_STATUS_IDS}
        rows.append({"site": site, **counts, "total": int(len(part))})
    frame = pd.DataFrame(rows, columns=["site", *WORKLIST_STATUS_IDS, "total"])
    if scope.sharing is not None:
        frame = suppress_table(frame, NOW_RULES, scope.sharing)
    within = cut.config.worklist_days if days is None else days
    columns = (
        Column("site", "Site"),
        *(
            Column(s, _status_heading(s, within), "count", STATUS[s].meaning)
            for s in WORKLIST_STATUS_IDS
        ),
        Column("total", "Total", "count"),
    )
    caption = f"Pumps needing a refill as of {cut.as_of:%d %b %Y}, by site"
    note = "Whatever month the due date fell in: these are the patients now."
    return FigureTable("worklist_counts", caption, frame, columns, note, total_row=True)


def _status_heading(status: str, within: int) -> str:
    if status == "pending":
        return f"Due within {within} days"
    return STATUS[status].label.capitalize()


def headline(cut: Cutoff, scope: Scope) -> Headline:
    """The safety headline from the worklist counts (all sites row)."""
    table = now_table(cut, scope)
    total = table.frame.iloc[-1]
    ran_dry, alarm, soon = total["missed"], total["overdue"], total["pending"]
    when = f"as of {cut.as_of:%d %b %Y}"
    dry = (
        "no pump has run dry (computed) without a refill"
        if ran_dry == 0
        else f"{_count(ran_dry, 'pump')} {'has' if ran_dry == 1 else 'have'} run dry (computed) "
        "and not been refilled"
    )
    past = (
        "no pump is past its alarm date"
        if alarm == 0
        else f"{_count(alarm, 'pump')} {'is' if alarm == 1 else 'are'} past the alarm date"
    )
    sentence = f"{dry}; {past}, {when}."
    sentence = sentence[0].upper() + sentence[1:]
    return Headline(cut.as_of, ran_dry, alarm, soon, cut.config.worklist_days, sentence)


WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _count(value: object, noun: str) -> str:
    if is_hidden(value):
        return f"{value} {noun}s"
    n = int(value)  # type: ignore[call-overload]
    number = WORDS[n] if n < len(WORDS) else f"{n:,}"
    return f"{number} {noun if n == 1 else noun + 's'}"
