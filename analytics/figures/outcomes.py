"""Complications as clinicians count them (the Complications page's second half and the
pack): surgical outcomes per 100 procedures in their windows, a chart per category of
complication, and the rare-event charts (refills between refill errors: g-chart; days
between deep infections: t-chart)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from analytics.engine.breakdowns import breakdown_counts
from analytics.engine.complications import Period
from analytics.engine.funnels import binomial_funnel
from analytics.engine.refill_errors import refills_between_errors
from analytics.engine.surgical import surgical_outcomes
from analytics.figures.base import cells, chart_window
from analytics.figures.charts import ChartFigure, gap_chart, measure_chart
from analytics.figures.disclosure import Rules, suppress_table
from analytics.figures.memo import memo
from analytics.figures.model import Column, FigureTable, shown_or_nonzero
from analytics.figures.scope import Cutoff, Scope
from analytics.vocabulary import CATEGORY_LABELS, OUTCOME_WINDOWS, Measure, label

C = Column
CHARTED_CATEGORIES: tuple[str, ...] = (
    "infection", "wound", "catheter", "device", "medication",
)  # fmt: skip
"""The categories with a chart of their own (refill errors: the g-chart of refills
between errors instead, a monthly rate of so rare an event being nearly always 0)."""
SURGICAL_RULES = Rules(
    counts=("procedures", "with_outcome", "window_open"),
    derived=dict.fromkeys(("rate_per_100", "ci_low", "ci_high"), ("procedures", "with_outcome")),
    column_total=("group", "all sites", ()),
)


def _surgical_measure(window_id: str) -> Measure:
    w = next(w for w in OUTCOME_WINDOWS if w.id == window_id)
    return Measure(
        f"surgical_{w.id}", f"Procedures with {w.label}", f"{w.label.capitalize()}",
        "with_outcome", "procedures", 1.0, "%", "p", False,
        f"Procedures (implant, replacement, revision) with a report of {w.label} in the "
        "window after it, per 100 procedures whose window has ended.",
        y_title="% of procedures",
    )  # fmt: skip


@dataclass(frozen=True)
class SurgicalWindow:
    window_id: str
    label: str
    chart: ChartFigure
    by_site: FigureTable
    by_type: FigureTable | None  # by procedure type (QI committee)
    funnel: pd.DataFrame  # group, procedures, with_outcome, rate, limits (committee only)


@dataclass(frozen=True)
class OutcomesFigures:
    surgical: tuple[SurgicalWindow, ...]
    categories: tuple[ChartFigure, ...]
    refill_errors: ChartFigure | None  # rare-event charts: QI committee only
    deep_infections: ChartFigure | None


def _quarter_id(p: str) -> str:
    return p.replace("-Q", "Q")


def _surgical(cut: Cutoff, by: str | None, period: str, months: Period) -> pd.DataFrame:
    return memo(cut, ("surgical", by, period, months.month_from, months.month_to),
                lambda: surgical_outcomes(cut.ready(), cut.as_of, by, period, months,
                                          config=cut.config))  # fmt: skip


def surgical_windows(cut: Cutoff, scope: Scope) -> tuple[SurgicalWindow, ...]:
    """Per outcome window: a p-chart by quarter of procedure (the chart's window), the
    period's figures by site (with all sites) and, for the committee, by procedure type
    and a funnel of sites."""
    first, last = chart_window(scope)
    series = _surgical(cut, None, "quarter", Period(first, last))
    by_site = _surgical(cut, "site", "all", scope.period)
    total = _surgical(cut, None, "all", scope.period).assign(group="all sites")
    out = []
    for w in OUTCOME_WINDOWS:
        s = series[series["outcome_window"] == w.id].rename(columns={"period": "quarter"})
        s = s.assign(period=s["quarter"].map(_quarter_id))[["period", "with_outcome", "procedures"]]
        if scope.sharing is not None:
            small = Rules(counts=("with_outcome", "procedures"))
            s = suppress_table(s.reset_index(drop=True), small, scope.sharing)
        measure = _surgical_measure(w.id)
        chart = measure_chart(
            measure, s[shown_or_nonzero(s["procedures"])].reset_index(drop=True), (), "quarter"
        )
        table = pd.concat([by_site[by_site["outcome_window"] == w.id], total[total["outcome_window"] == w.id]],
                          ignore_index=True)  # fmt: skip
        funnel = pd.DataFrame()
        if scope.sharing is not None:
            table = suppress_table(table.reset_index(drop=True), SURGICAL_RULES, scope.sharing)
        else:
            sites = table[table["group"] != "all sites"]
            if len(sites) and int(sites["procedures"].sum()) > 0:
                funnel = binomial_funnel(
                    sites, events="with_outcome", trials="procedures", group="group"
                )
        cols = (
            C("group", "Site"), C("procedures", "Procedures (window ended)", "count"),
            C("with_outcome", "With the outcome", "count"),
            C("rate_per_100", "per 100 procedures", "rate1"),
            C("ci_low", "95 % CI low", "rate1"), C("ci_high", "95 % CI high", "rate1"),
            C("window_open", "Window still open", "count"),
        )  # fmt: skip
        note = (
            f"{w.label.capitalize()}: day 0 is the procedure (implant, replacement, revision); "
            "a procedure whose window has not ended is counted apart. Exact (Clopper–Pearson) "
            "intervals."
        )
        site_table = FigureTable(f"surgical_{w.id}_by_site", f"Procedures with {w.label}, {scope.label()}",
                                 table[[c.key for c in cols]], cols, note, total_row=True)  # fmt: skip
        by_type = None
        if not scope.shared:
            bt = _surgical(cut, "procedure_type", "all", scope.period)
            bt = bt[bt["outcome_window"] == w.id].assign(
                group=lambda d: d["group"].map(lambda v: label("visit_type", v))
            )
            type_cols = (C("group", "Procedure"), *cols[1:])
            by_type = FigureTable(f"surgical_{w.id}_by_type", f"Procedures with {w.label}, by procedure",
                                  bt[[c.key for c in type_cols]], type_cols)  # fmt: skip
        out.append(SurgicalWindow(w.id, w.label, chart, site_table, by_type, funnel))
    return tuple(out)


def category_charts(cut: Cutoff, scope: Scope) -> tuple[ChartFigure, ...]:
    """A u-chart of complications (events) per 1,000 pump-days for each charted category:
    by month for the committee; by quarter in a shared view (from the protected cells)."""
    first, last = chart_window(scope)
    charts = []
    if scope.shared:
        c = cells(cut, scope, "quarter")
        quarters = sorted(
            {q for q in c.frame["period"] if "Q" in str(q) and first[:4] <= q[:4] <= last[:4]}
        )
        quarters = [q for q in quarters if _in_window(q, first, last)]
        for cat in CHARTED_CATEGORIES:
            s = c.series("quarter", quarters, [f"category|{cat}"])
            charts.append(_category_chart(cat, s, "quarter"))
        return tuple(charts)
    start = dt.date.fromisoformat(first + "-01")
    end = min((pd.Timestamp(last + "-01") + pd.offsets.MonthEnd(0)).date(), cut.as_of)
    counts = memo(cut, ("category_months", first, last, scope.selection),
                  lambda: breakdown_counts(cut.ready(), start, end, "month", scope.selection))  # fmt: skip
    months = cells(cut, Scope.months(first, last, scope.selection), "month")
    series = months.series(
        "month", [p.strftime("%Y-%m") for p in pd.period_range(first, last, freq="M")], []
    )
    for cat in CHARTED_CATEGORIES:
        part = counts[counts["count"] == f"category|{cat}"].set_index("period")["value"]
        s = series.assign(
            **{f"category|{cat}": series["period"].map(part).fillna(0).astype("int64")}
        )
        charts.append(_category_chart(cat, s, "month"))
    return tuple(charts)


def _in_window(quarter: str, first: str, last: str) -> bool:
    q = pd.Period(quarter, "Q")
    return pd.Period(first, "M").asfreq("Q") <= q <= pd.Period(last, "M").asfreq("Q")


def _category_chart(category: str, series: pd.DataFrame, unit: str) -> ChartFigure:
    name = f"category|{category}"
    measure = Measure(
        f"category_{category}", f"{CATEGORY_LABELS[category]} complications per 1,000 pump-days",
        CATEGORY_LABELS[category], name, "pump_days", 1000.0, "per 1,000 pump-days", "u", False,
        f"{CATEGORY_LABELS[category]} complications (events) per 1,000 pump-days.",
        y_title="per 1,000 pump-days",
    )  # fmt: skip
    s = series[series["pump_days"] > 0].reset_index(drop=True)
    return measure_chart(measure, s, (), unit)


def rare_event_charts(cut: Cutoff, scope: Scope) -> tuple[ChartFigure, ChartFigure]:
    """Refills between refill errors (g-chart) and days between deep infections (t-chart),
    over the chart's window (QI committee only: each point is one event)."""
    first, last = chart_window(scope)
    gaps = refills_between_errors(cut.ready(), cut.as_of, None, Period(first, last), cut.config)
    gaps = gaps[gaps["after_previous"]]
    g = gap_chart("Refills between refill errors", "g", gaps["report_date"], gaps["refills_between"],
                  "refills between errors")  # fmt: skip
    start = dt.date.fromisoformat(first + "-01")
    deep = (
        cut.ready()
        .execute(
            "SELECT event_date FROM pq_reports WHERE in_episode AND event_start "
            "AND complication IN ('infection_deep', 'meningitis') AND event_date BETWEEN $s AND $e "
            "ORDER BY event_date",
            {"s": start, "e": cut.as_of},
        )
        .df()
    )
    dates = pd.to_datetime(deep["event_date"])
    days = dates.diff().dt.days
    t = gap_chart(
        "Days between deep infections or meningitis", "t", dates, days, "days between events"
    )
    return g, t


def outcomes_figures(cut: Cutoff, scope: Scope) -> OutcomesFigures:
    """Everything of the surgical-outcome, per-category and rare-event charts."""
    rare = None if scope.shared else rare_event_charts(cut, scope)
    return OutcomesFigures(
        surgical=surgical_windows(cut, scope),
        categories=category_charts(cut, scope),
        refill_errors=rare[0] if rare else None,
        deep_infections=rare[1] if rare else None,
    )
