"""Refills page (and the pack's refill section): the on-time p-chart, refills due by
month and status, how late, by group, fills left out of the rate, early refills, residual
checks, and — for the QI committee only — the lists of patients behind them."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analytics.engine.refills import refills
from analytics.figures.base import chart, window_series
from analytics.figures.charts import ChartFigure
from analytics.figures.model import Column, FigureTable, is_hidden
from analytics.figures.scope import Cutoff, Scope
from analytics.figures.tables import (
    count_of,
    days_late,
    excluded,
    refill_quality,
    refills_by_group,
)
from analytics.vocabulary import BY_IDS, DUE_STATUS_IDS, MEASURE, STATUS

C = Column
LIST_COLUMNS: tuple[Column, ...] = (
    C("patient_id", "Patient (pseudonym)"),
    C("site", "Site"),
    C("drug", "Drug"),
    C("fill_date", "Filled", "date"),
    C("due_date", "Due", "date"),
    C("empty_date", "Empty (computed)", "date"),
    C("next_fill_date", "Next fill", "date"),
)


@dataclass(frozen=True)
class RefillsFigures:
    chart: ChartFigure
    by_period: pd.DataFrame  # period, label, status (words), refills (a mark when hidden)
    by_period_unit: str  # "month", or "quarter" where a shared view would hide most months
    excluded: FigureTable
    days_late: FigureTable
    by_group: dict[str, FigureTable]
    early_count: object
    early_days: int
    quality: FigureTable
    missed: FigureTable | None  # lists: None in a shared view
    early: FigureTable | None
    residual_flags: FigureTable | None


def statuses_by_period(cut: Cutoff, scope: Scope) -> tuple[pd.DataFrame, str]:
    """Refills due in each month of the chart's window (each quarter in a shared view
    where more than a third of the months hide a status), by status (shown values):
    period (id), label (what the axis says), status (words), refills (a mark when hidden)."""

    def sparse(s: pd.DataFrame) -> bool:
        hidden = s[list(DUE_STATUS_IDS)].map(is_hidden).any(axis=1)
        return int(hidden.sum()) * 3 > len(s)

    series, unit = window_series(cut, scope, list(DUE_STATUS_IDS), sparse)
    long = series.melt(
        id_vars=["period"], value_vars=list(DUE_STATUS_IDS), var_name="status", value_name="refills"
    )
    long["status"] = long["status"].map(lambda s: STATUS[s].label)
    if unit == "quarter":  # "Q3 2026": a category on the axis; months stay dates
        long.insert(1, "label", long["period"].map(lambda q: f"Q{q[-1]} {q[:4]}"))
    else:
        long.insert(1, "label", long["period"])
    return long, unit


def fill_lists(cut: Cutoff, scope: Scope) -> tuple[FigureTable, FigureTable, FigureTable]:
    """The patients behind the figures (QI committee only): fills due in the period that
    ran dry; early refills; refills with a residual discrepancy."""
    start, end = scope.period.bounds(cut.as_of)
    detail = refills(cut.ready(), cut.as_of, cut.config, True, (start, end), scope.selection)
    due_in = detail["due_date"].between(pd.Timestamp(start), pd.Timestamp(end))
    filled_in = detail["fill_date"].between(pd.Timestamp(start), pd.Timestamp(end))
    missed = detail[due_in & (detail["status"] == "missed")].sort_values(
        ["due_date", "site", "patient_id"]
    )
    missed_cols = (*LIST_COLUMNS, C("dry_days", "Dry days", "number"))
    early = detail[due_in & detail["early"]]
    flags = detail[filled_in & detail["residual_flag"].fillna(False).astype(bool)]
    flag_cols = (
        *LIST_COLUMNS[:4],
        C("fill_type", "Fill"),
        C("residual_diff_ml", "Actual − expected residual (mL)", "rate1"),
        C("residual_diff_pct", "Difference (% of expected)", "rate1"),
    )

    def table(
        key: str, caption: str, df: pd.DataFrame, cols: tuple[Column, ...], note: str = ""
    ) -> FigureTable:
        return FigureTable(
            key, caption, df[[c.key for c in cols]].reset_index(drop=True), cols, note
        )

    return (
        table("missed_fills", f"Refills due in {scope.label()} that ran dry (computed)",
              missed, missed_cols, "Next fill empty: no refill yet at the cut-off."),
        table("early_refills", f"Early refills ({cut.config.early_days}+ days before the due date)",
              early, LIST_COLUMNS),
        table("residual_flags", "Refills with a residual discrepancy", flags, flag_cols),
    )  # fmt: skip


def refills_figures(cut: Cutoff, scope: Scope) -> RefillsFigures:
    """Everything the Refills page shows for the scope."""
    lists = None if scope.shared else fill_lists(cut, scope)
    by_period, unit = statuses_by_period(cut, scope)
    return RefillsFigures(
        chart=chart(cut, scope, MEASURE["on_time_rate"]),
        by_period=by_period,
        by_period_unit=unit,
        excluded=excluded(cut, scope),
        days_late=days_late(cut, scope),
        by_group={dim: refills_by_group(cut, scope, dim) for dim in BY_IDS},
        early_count=count_of(cut, scope, "early"),
        early_days=cut.config.early_days,
        quality=refill_quality(cut, scope),
        missed=lists[0] if lists else None,
        early=lists[1] if lists else None,
        residual_flags=lists[2] if lists else None,
    )
