"""Complications page (and the pack's complication section): the u-chart, reports by
category and code, by group, the funnel of sites (and clinicians, for the committee),
time from surgery, severity and serious events, reports outside episodes, and — for the
QI committee only — the lists behind them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.engine.complications import (
    funnel,
    funnel_limits,
    outside_episode_reports,
    serious_events,
)
from analytics.figures.base import chart
from analytics.figures.charts import ChartFigure
from analytics.figures.model import Column, FigureTable, is_hidden
from analytics.figures.scope import Cutoff, Scope
from analytics.figures.tables import (
    EVENTS_HELP,
    categories,
    codes,
    complications_by_group,
    count_of,
    outside,
    scope_cells_for,
    severity,
    surgery_times,
)
from analytics.vocabulary import BY_IDS, DIMENSION, FUNNEL_IDS, MEASURE, label

C = Column


@dataclass(frozen=True)
class Funnel:
    """Each group's rate against its pump-days, inside exact Poisson limits around the
    pooled rate (None when the pooled rate cannot be shown)."""

    by: str
    table: FigureTable
    curve: pd.DataFrame  # pump_days, lower_95, upper_95, lower_998, upper_998
    pooled_rate_per_1000: float | None


@dataclass(frozen=True)
class ComplicationsFigures:
    chart: ChartFigure
    categories: FigureTable
    codes: FigureTable
    by_group: dict[str, FigureTable]
    funnels: dict[str, Funnel]
    surgery: FigureTable
    severity: FigureTable
    serious_count: object
    outside: FigureTable
    serious: FigureTable | None  # lists: None in a shared view
    outside_list: FigureTable | None


def funnel_curve(pooled_per_day: float, days: np.ndarray) -> pd.DataFrame:
    """The 95 % and 99.8 % limits around a pooled rate over a range of pump-days."""
    top = float(days.max()) * 1.1
    low = max(1.0, float(days.min()) * 0.3)
    grid = np.unique(np.geomspace(low, top, 150).round())
    lo95, hi95 = funnel_limits(pooled_per_day, grid, 0.025, 0.975)
    lo998, hi998 = funnel_limits(pooled_per_day, grid, 0.001, 0.999)
    return pd.DataFrame({"pump_days": grid, "lower_95": lo95, "upper_95": hi95,
                         "lower_998": lo998, "upper_998": hi998})  # fmt: skip


FUNNEL_COLUMNS: tuple[Column, ...] = (
    C("group", "Group"),
    C("complications", "Complications", "count", EVENTS_HELP),
    C("pump_days", "Pump-days", "number"),
    C("rate_per_1000", "per 1,000 pump-days", "rate2"),
    C("lower_998", "99.8 % limit low", "rate2"),
    C("upper_998", "99.8 % limit high", "rate2"),
    C("signal", "Outside the funnel"),
)


def site_funnel(cut: Cutoff, scope: Scope, by: str = "site") -> Funnel:
    """The funnel of the period. For the committee from the engine's funnel table; in a
    shared view from the protected cells: a group whose count is hidden has no point and
    the pooled line is drawn only when the all-groups count it rests on is shown."""
    caption = f"Complication rate by {DIMENSION[by].label.lower()} (funnel), {scope.label()}"
    if not scope.shared:
        t = funnel(cut.ready(), cut.as_of, by, scope.period, None, cut.config, scope.selection)
        pooled = float(t["pooled_rate_per_1000"].iloc[0]) if len(t) else None
        curve = (
            funnel_curve(pooled / 1000, t["pump_days"].to_numpy(float))
            if pooled is not None and len(t)
            else pd.DataFrame()
        )
        return Funnel(by, FigureTable(f"funnel_by_{by}", caption, t, FUNNEL_COLUMNS), curve, pooled)
    c, level, period = scope_cells_for(cut, scope)
    groups = c.table(level, period, by, ["complications"])
    groups = groups[groups["pump_days"] > 0]
    total = c.value(level, period, "all", "all", "complications")
    days = float(groups["pump_days"].sum())
    pooled = None if is_hidden(total) or days == 0 else float(total) / days  # type: ignore[arg-type]
    shown = ~groups["complications"].map(is_hidden)
    rate = (
        pd.to_numeric(groups["complications"].where(shown), errors="coerce")
        / groups["pump_days"]
        * 1000
    )
    groups = groups.assign(rate_per_1000=rate.astype(object).where(shown, None))
    if pooled is not None:
        for name, lo_q, hi_q in (("95", 0.025, 0.975), ("998", 0.001, 0.999)):
            lo, hi = funnel_limits(pooled, groups["pump_days"].to_numpy(float), lo_q, hi_q)
            groups[f"lower_{name}"], groups[f"upper_{name}"] = lo, hi
        groups["signal"] = [
            _signal(r, lo95, hi95, lo998, hi998) if ok else ""
            for r, lo95, hi95, lo998, hi998, ok in zip(
                rate, groups["lower_95"], groups["upper_95"], groups["lower_998"], groups["upper_998"], shown, strict=True
            )
        ]  # fmt: skip
    else:
        for col in ("lower_95", "upper_95", "lower_998", "upper_998"):
            groups[col] = None
        groups["signal"] = ""
    curve = (
        funnel_curve(pooled, groups["pump_days"].to_numpy(float))
        if pooled is not None and len(groups)
        else pd.DataFrame()
    )
    table = FigureTable(f"funnel_by_{by}", caption, groups.reset_index(drop=True), FUNNEL_COLUMNS,
                        "Pooled rate: all sites' complications over all sites' pump-days.")  # fmt: skip
    return Funnel(by, table, curve, None if pooled is None else pooled * 1000)


def _signal(rate: float, lo95: float, hi95: float, lo998: float, hi998: float) -> str:
    if rate > hi998:
        return "above 99.8 % limit"
    if rate < lo998:
        return "below 99.8 % limit"
    if rate > hi95:
        return "above 95 % limit"
    if rate < lo95:
        return "below 95 % limit"
    return ""


def report_lists(cut: Cutoff, scope: Scope) -> tuple[FigureTable, FigureTable]:
    """The serious events and the reports outside any episode (QI committee only)."""
    con, period = cut.ready(), scope.period
    serious = serious_events(con, cut.as_of, period, cut.config, scope.selection)
    out = outside_episode_reports(con, cut.as_of, period, cut.config, scope.selection)
    for df in (serious, out):
        df["complication"] = df["complication"].map(lambda v: label("complication", v))
        df["severity"] = df["severity"].map(lambda v: label("severity", v))
        if "action" in df:
            df["action"] = df["action"].map(lambda v: label("action", v))
    serious_cols = (
        C("report_date", "Date", "date"), C("patient_id", "Patient (pseudonym)"), C("site", "Site"),
        C("drug", "Drug"), C("complication", "Complication"), C("severity", "Severity"),
        C("action", "Action"),
    )  # fmt: skip
    outside_cols = (
        C("report_date", "Date", "date"), C("patient_id", "Patient (pseudonym)"),
        C("complication", "Complication"), C("severity", "Severity"), C("context", "Context"),
    )  # fmt: skip
    return (
        FigureTable("serious_events", f"Serious events reported in {scope.label()}",
                    serious[[c.key for c in serious_cols]], serious_cols),
        FigureTable("outside_list", "Reports outside any therapy episode",
                    out[[c.key for c in outside_cols]], outside_cols),
    )  # fmt: skip


def complications_figures(cut: Cutoff, scope: Scope) -> ComplicationsFigures:
    """Everything the Complications page shows for the scope."""
    lists = None if scope.shared else report_lists(cut, scope)
    funnel_by = ("site",) if scope.shared else FUNNEL_IDS
    return ComplicationsFigures(
        chart=chart(cut, scope, MEASURE["complication_rate_per_1000"]),
        categories=categories(cut, scope),
        codes=codes(cut, scope),
        by_group={dim: complications_by_group(cut, scope, dim) for dim in BY_IDS},
        funnels={by: site_funnel(cut, scope, by) for by in funnel_by},
        surgery=surgery_times(cut, scope),
        severity=severity(cut, scope),
        serious_count=count_of(cut, scope, "serious"),
        outside=outside(cut, scope),
        serious=lists[0] if lists else None,
        outside_list=lists[1] if lists else None,
    )
