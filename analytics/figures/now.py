"""The patients now: pumps that have run dry (computed) and are not refilled, pumps past
their alarm date, and those that may have fallen due since the data's end — whatever
month their due date fell in, judged on the cut-off's `today` (the day the list is made:
today on the dashboard, the month's last day in the pack).

This is the safety headline of the Overview and of the pack, and the worklist's counts.
A month's "refills due that ran dry" is an adherence figure (by due month); this is not.

A shared view leaves the patients now out (`NOT_SHARED`): they change from one day to the
next, and two days' counts subtracted would tell what happened to one pump.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from analytics.engine.worklist import worklist_counts
from analytics.figures.memo import memo
from analytics.figures.model import Column, FigureTable
from analytics.figures.scope import Cutoff, Scope
from analytics.vocabulary import WORKLIST_STATUSES

STATUS_IDS: tuple[str, ...] = tuple(s.id for s in WORKLIST_STATUSES)
ALL_SITES = "all sites"
NOT_SHARED = (
    "The patients now (the safety headline, the worklist and its counts, the coming weeks' "
    "refill workload and the battery plan) change from one day to the next, so two days' "
    "figures could be subtracted: they are for the QI committee and the clinic team, not "
    "in a shared view."
)


@dataclass(frozen=True)
class Headline:
    """The safety headline: its counts and its sentence (for the committee only)."""

    today: dt.date
    data_end: dt.date
    ran_dry: int
    alarm_passed: int
    check: int
    sentence: str

    @property
    def alarming(self) -> bool:
        return any(v != 0 for v in (self.ran_dry, self.alarm_passed))


def now_table(cut: Cutoff, scope: Scope, within: int | None = None) -> FigureTable:
    """Open therapies needing a refill on the cut-off's today, by site and status, with
    the totals (all sites; every status). Not in a shared view (`NOT_SHARED`)."""
    assert not scope.shared, "the patients now are not in a shared view"

    def compute() -> pd.DataFrame:
        long = worklist_counts(cut.ready(), cut.today, within, cut.config, scope.selection)
        wide = long.pivot_table(
            index="site", columns="status_code", values="fills", aggfunc="sum", fill_value=0
        ).reindex(columns=list(STATUS_IDS), fill_value=0)
        wide["total"] = wide.sum(axis=1)
        total = wide.sum().to_frame().T.assign(site=ALL_SITES).set_index("site")
        frame = pd.concat([wide, total]).reset_index().rename(columns={"index": "site"})
        return frame.astype(dict.fromkeys((*STATUS_IDS, "total"), "int64"))

    frame = memo(cut, ("now", cut.today, within, scope.selection), compute)
    columns = (
        Column("site", "Site"),
        *(Column(s.id, s.label.capitalize(), "count", s.meaning) for s in WORKLIST_STATUSES),
        Column("total", "Total", "count"),
    )
    days = cut.config.worklist_days if within is None else within
    caption = f"Pumps needing a refill on {cut.today:%d %b %Y}, by site"
    note = (
        f"Whatever month the due date fell in: these are the patients now. Due soon: within "
        f"{days} days. Data up to {cut.data_end:%d %b %Y}."
    )
    return FigureTable("worklist_counts", caption, frame, columns, note, total_row=True)


def headline(cut: Cutoff, scope: Scope) -> Headline | None:
    """The safety headline from the worklist counts (the all-sites row); None in a shared
    view (see `NOT_SHARED`)."""
    if scope.shared:
        return None
    total = now_table(cut, scope).frame.iloc[-1]
    dry, alarm, check = int(total["missed"]), int(total["overdue"]), int(total["check"])
    age = max(0, (cut.today - cut.data_end).days)
    when = f"on {cut.today:%d %b %Y}"
    parts = [
        "no pump has run dry (computed) without a refill"
        if dry == 0
        else f"{_count(dry, 'pump')} {'has' if dry == 1 else 'have'} run dry (computed) "
        "and not been refilled",
        "no pump is past its alarm date"
        if alarm == 0
        else f"{_count(alarm, 'pump')} {'is' if alarm == 1 else 'are'} past the alarm date",
    ]
    if check != 0:
        parts.append(
            f"{_count(check, 'pump')} may have fallen due since the data's end (the data is "
            f"{age} day{'s' if age != 1 else ''} old: check)"
        )
    sentence = "; ".join(parts) + f", {when}."
    sentence = sentence[0].upper() + sentence[1:]
    return Headline(cut.today, cut.data_end, dry, alarm, check, sentence)


WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _count(n: int, noun: str) -> str:
    number = WORDS[n] if n < len(WORDS) else f"{n:,}"
    return f"{number} {noun if n == 1 else noun + 's'}"
