"""Everything the monthly pack shows, taken from the figures layer (analytics.figures):
the same functions, the same cut-off object and the same disclosure rules as the
dashboard, so that the pack and the dashboard cannot disagree.

For the QI committee the pack reports the month (cut-off: its last day) beside the
12 months ending with it. A pack for sharing reports the last calendar quarter ended by
the month (a fixed period: two shared packs never overlap), with small counts hidden.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics.config import Config
from analytics.engine.metrics import METRIC_COLUMNS
from analytics.engine.tables import data_end
from analytics.errors import PumpqiError
from analytics.figures import (
    ChartFigure,
    FigureTable,
    Funnel,
    Headline,
    OverviewFigures,
    Scope,
    open_cutoff,
    overview,
)
from analytics.figures.base import cells, chart_window, notes, with_rates
from analytics.figures.complications import report_lists, site_funnel
from analytics.figures.model import shown_or_nonzero
from analytics.figures.now import headline, now_table
from analytics.figures.outcomes import OutcomesFigures, outcomes_figures
from analytics.figures.planning import PlanningFigures, planning_figures
from analytics.figures.refills import fill_lists
from analytics.figures.scope import Cutoff
from analytics.figures.survival import SurvivalFigures, survival_figures
from analytics.figures.tables import (
    categories,
    codes,
    count_of,
    excluded,
    refill_quality,
    refills_by_group,
    severity,
    surgery_times,
)
from analytics.report.period import AVERAGE_MONTHS, CHART_MONTHS, ReportMonth
from analytics.report.sources import data_quality, ingest_manifest
from analytics.spc import Annotation
from analytics.store import package_version
from analytics.vocabulary import DEFAULT_COUNT_UNIT


@dataclass(frozen=True)
class Meta:
    """The cover: what was reported, from which data, by which version and settings."""

    programme: str
    month: ReportMonth
    period_label: str
    data_end: dt.date
    generated_at: dt.datetime
    version: str
    config_digest: str
    config_rows: tuple[tuple[str, str, str], ...]
    suppress_below: int | None


@dataclass(frozen=True, eq=False)
class Content:
    """The pack's figures. `long` tables cover the 12 months (None in a shared pack)."""

    meta: Meta
    scope: Scope
    long_scope: Scope | None
    manifest: pd.DataFrame
    headline: Headline | None  # None in a shared pack (the patients now: NOT_SHARED)
    overview: OverviewFigures
    history: pd.DataFrame  # the metrics rows of the charts' months (as shown)
    long_totals: pd.Series | None  # the 12 months' counts and rates
    on_time: ChartFigure
    complications: ChartFigure
    by_site: FigureTable
    excluded: FigureTable
    quality: FigureTable
    worklist: FigureTable | None  # None in a shared pack
    categories: FigureTable
    categories_long: FigureTable | None
    codes: FigureTable
    funnel: Funnel
    surgery: FigureTable
    severity: FigureTable
    missed: FigureTable | None
    serious: FigureTable | None
    serious_count: object
    missed_count: object
    data_quality: FigureTable
    annotations: tuple[Annotation, ...]
    outcomes: OutcomesFigures
    survival: SurvivalFigures
    planning: PlanningFigures

    @property
    def shared(self) -> bool:
        return self.meta.suppress_below is not None

    @property
    def lists_hidden(self) -> bool:
        return self.missed is None


def check_month(con: duckdb.DuckDBPyConnection, month: ReportMonth) -> dt.date:
    """The data's last date, after refusing a month after it."""
    end = data_end(con)
    if end is None:
        raise PumpqiError("the database holds no visits yet; ingest a visits file first")
    if month.first_day > end:
        raise PumpqiError(
            f"--month {month.month}: after the end of the data (latest record {end.isoformat()}); "
            f"the last month with data is {end.strftime('%Y-%m')}"
        )
    return end


def shared_quarter(month: ReportMonth) -> str:
    """The last calendar quarter that has ended by the end of the month."""
    q = pd.Period(month.month, "M").asfreq("Q")
    if pd.Period(month.month, "M") != q.asfreq("M", "end"):
        q -= 1
    return f"{q.year}Q{q.quarter}"


def _scopes(month: ReportMonth, threshold: int | None) -> tuple[Scope, Scope | None]:
    if threshold:
        return Scope.quarter(shared_quarter(month), threshold), None
    first, last = month.window(AVERAGE_MONTHS)
    return Scope.months(month.month, month.month), Scope.months(first, last)


def _history(cut: Cutoff, scope: Scope, month: ReportMonth) -> pd.DataFrame:
    """The metrics rows of the charts' months (counts as shown, rates from them)."""
    if scope.shared:
        first, last = chart_window(scope)
    else:
        first, last = month.window(CHART_MONTHS)
    chart_scope = scope if scope.shared else Scope.months(first, last)
    months = [
        p.strftime("%Y-%m") for p in pd.period_range(pd.Period(first, "M"), pd.Period(last, "M"))
    ]
    counts = ["active_patients", "fills", "refills_due", "on_time", "late", "missed",
              "overdue", "complications", "refill_errors", "percutaneous_refills"]  # fmt: skip
    series = cells(cut, chart_scope, "month").series("month", months, counts)
    has_data = (
        shown_or_nonzero(series["fills"])
        | shown_or_nonzero(series["complications"])
        | (series["pump_days"] > 0)
    )
    rows = with_rates(series[has_data].rename(columns={"period": "month"}).reset_index(drop=True))
    rows.insert(1, "group", "all")
    rows["count_unit"] = DEFAULT_COUNT_UNIT  # the figures count complications per event
    return rows[[c for c in METRIC_COLUMNS if c in rows.columns]]


def _require_data(cut: Cutoff, scope: Scope, month: ReportMonth) -> None:
    fills, reports = count_of(cut, scope, "fills"), count_of(cut, scope, "complications")
    days = cells(cut, scope, "period" if not scope.shared else "quarter").pump_days
    if fills == 0 and reports == 0 and int(days["pump_days"].sum()) == 0:
        raise PumpqiError(
            f"--month {month.month}: no pump therapy, fills or reports in {scope.label()}; "
            "choose a month inside the data"
        )


def _long_totals(cut: Cutoff, long_scope: Scope) -> pd.Series:
    counts = ["active_patients", "fills", "refills_due", "on_time", "late", "missed",
              "overdue", "complications", "refill_errors", "percutaneous_refills"]  # fmt: skip
    table = cells(cut, long_scope, "period").series("period", ["period"], counts)
    row = with_rates(table).iloc[0]
    row["months"] = len(long_scope.month_list())
    return row


def gather(
    con: duckdb.DuckDBPyConnection,
    month: ReportMonth,
    config: Config,
    programme: str,
    generated_at: dt.datetime,
    suppress_below: int | None = None,
) -> Content:
    """Every figure of the pack for `month` (cut-off: its last day)."""
    end = check_month(con, month)
    cut = open_cutoff(con, month.as_of, config, today=month.as_of)
    scope, long_scope = _scopes(month, suppress_below)
    if scope.shared and pd.Period(scope.last, "M").end_time.date() > cut.as_of:
        raise PumpqiError(f"--month {month.month}: no calendar quarter has ended by then")
    _require_data(cut, scope, month)
    span = long_scope or scope
    chart_scope = scope if scope.shared else Scope.months(*month.window(CHART_MONTHS))
    over = overview(cut, chart_scope)
    assert over.on_time is not None and over.complications is not None, "checked above"
    lists = None if scope.shared else (fill_lists(cut, scope), report_lists(cut, scope))
    meta = Meta(
        programme, month, scope.label(), end, generated_at, package_version(), config.digest(),
        tuple(config.table()), suppress_below,
    )  # fmt: skip
    return Content(
        meta=meta,
        scope=scope,
        long_scope=long_scope,
        manifest=ingest_manifest(con),
        headline=headline(cut, scope),
        overview=over,
        history=_history(cut, scope, month),
        long_totals=_long_totals(cut, long_scope) if long_scope else None,
        on_time=over.on_time,
        complications=over.complications,
        by_site=refills_by_group(cut, scope, "site"),
        excluded=excluded(cut, scope),
        quality=refill_quality(cut, scope),
        worklist=None if scope.shared else now_table(cut, scope),
        categories=categories(cut, scope),
        categories_long=categories(cut, long_scope) if long_scope else None,
        codes=codes(cut, span),
        funnel=site_funnel(cut, span, "site"),
        surgery=surgery_times(cut, span),
        severity=severity(cut, scope),
        missed=lists[0][0] if lists else None,
        serious=lists[1][0] if lists else None,
        serious_count=count_of(cut, scope, "serious"),
        missed_count=count_of(cut, scope, "missed"),
        data_quality=data_quality(con, cut, scope),
        annotations=notes(cut),
        outcomes=outcomes_figures(cut, span),
        survival=survival_figures(cut, scope),
        planning=planning_figures(cut, span),
    )
