"""Complications page data: the u-chart, rates by category and code, by group with a
funnel plot, time from surgery to report, serious events and reports outside episodes."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.complications import (
    funnel,
    funnel_limits,
    outside_episode_reports,
    rates_by_category,
    serious_events,
    severity_table,
    time_since_surgery,
)
from analytics.engine.metrics import complication_rate, monthly_metrics
from analytics.figures.common import COMPLICATIONS, ChartData, monthly_chart, share, share_groups
from analytics.figures.disclosure import Rules
from analytics.figures.filters import DIMENSIONS, Filters
from analytics.figures.overview import PageBase, page_base

FUNNEL_BY: tuple[str, ...] = ("site", "clinician")
RATE_RULES = Rules(
    counts=("reports", "serious"),
    derived={"rate_per_1000": ("reports",), "ci_low": ("reports",), "ci_high": ("reports",)},
)
GROUP_RULES = Rules(
    counts=("complications",),
    derived={
        "complication_rate_per_1000": ("complications",),
        "rate_ci_low": ("complications",),
        "rate_ci_high": ("complications",),
    },
)
FUNNEL_RULES = Rules(
    counts=("reports",), derived={"rate_per_1000": ("reports",), "signal": ("reports",)}
)
REPORT_RULES = Rules(counts=("reports",), derived={"share": ("reports",)})


@dataclass(frozen=True)
class FunnelData:
    """Each group's rate against the pooled rate, and the funnel curves to draw."""

    by: str
    table: pd.DataFrame
    curve: pd.DataFrame  # pump_days, lower_95, upper_95, lower_998, upper_998
    pooled_rate_per_1000: float | None


@dataclass(frozen=True)
class ComplicationsData:
    base: PageBase
    chart: ChartData | None
    categories: pd.DataFrame
    codes: pd.DataFrame
    by_group: dict[str, pd.DataFrame]
    funnels: dict[str, FunnelData]
    time_since_surgery: pd.DataFrame
    severity: pd.DataFrame
    serious: pd.DataFrame  # list (empty in sharing mode)
    serious_count: str
    outside: pd.DataFrame  # reports outside any therapy episode, by context
    outside_list: pd.DataFrame  # list (empty in sharing mode)


def complications_page(
    con: duckdb.DuckDBPyConnection, filters: Filters, config: Config = DEFAULT
) -> ComplicationsData:
    """Everything the Complications page shows, for the filters."""
    base, metrics = page_base(con, filters, config)
    e = pd.DataFrame()
    if base.message:
        return ComplicationsData(base, None, e, e, {}, {}, e, e, e, "0", e, e)
    as_of, period = base.as_of, filters.period
    chart = monthly_chart(
        metrics, COMPLICATIONS, base.notes, base.metrics if filters.sharing else None
    )
    extra = ["group", "events", "count_unit"]  # per report until the page says which
    cats = rates_by_category(con, as_of, None, period, 0.95, config, per="report")
    cats = cats.drop(columns=extra)
    codes = rates_by_category(con, as_of, None, period, 0.95, config, codes=True, per="report")
    codes = codes.drop(columns=extra).sort_values(
        ["reports", "complication"], ascending=[False, True]
    )
    serious = serious_events(con, as_of, period, config)
    outside = outside_episode_reports(con, as_of, period, config)
    by_context = (
        outside.groupby("context", as_index=False).size().rename(columns={"size": "reports"})
    )
    tss = time_since_surgery(con, as_of, period, config)
    return ComplicationsData(
        base=base,
        chart=chart,
        categories=share(cats, RATE_RULES, filters, config),
        codes=share(codes.reset_index(drop=True), RATE_RULES, filters, config),
        by_group={
            d: share_groups(
                _group_table(con, base, filters, config, d), GROUP_RULES, filters, config
            )
            for d in DIMENSIONS
        },
        funnels={b: _funnel(con, base, filters, config, b) for b in FUNNEL_BY},
        time_since_surgery=share(
            tss[tss["reports"] > 0].reset_index(drop=True), REPORT_RULES, filters, config
        ),
        severity=share(severity_table(con, as_of, period, config), REPORT_RULES, filters, config),
        serious=pd.DataFrame() if filters.sharing else serious.reset_index(drop=True),
        serious_count=_count(len(serious), filters, config),
        outside=share(by_context, REPORT_RULES, filters, config),
        outside_list=pd.DataFrame() if filters.sharing else outside.reset_index(drop=True),
    )


def _group_table(
    con: duckdb.DuckDBPyConnection, base: PageBase, filters: Filters, config: Config, by: str
) -> pd.DataFrame:
    m = monthly_metrics(
        con, base.as_of, by, filters.month_from, filters.month_to, config, per="report"
    )
    g = m.groupby("group", as_index=False)[["complications", "pump_days"]].sum()
    g = g[g["pump_days"] > 0].reset_index(drop=True)
    rate, lo, hi = complication_rate(g["complications"], g["pump_days"])
    return g.assign(complication_rate_per_1000=rate, rate_ci_low=lo, rate_ci_high=hi)


def _funnel(
    con: duckdb.DuckDBPyConnection, base: PageBase, filters: Filters, config: Config, by: str
) -> FunnelData:
    table = funnel(con, base.as_of, by, filters.period, None, config)
    if table.empty or table["pump_days"].sum() == 0:
        return FunnelData(by, table, pd.DataFrame(), None)
    pooled = float(table["reports"].sum() / table["pump_days"].sum())
    top = float(table["pump_days"].max()) * 1.1
    low = max(1.0, float(table["pump_days"].min()) * 0.3)
    grid = np.unique(np.geomspace(low, top, 150).round())
    lo95, hi95 = funnel_limits(pooled, grid, 0.025, 0.975)
    lo998, hi998 = funnel_limits(pooled, grid, 0.001, 0.999)
    curve = pd.DataFrame(
        {
            "pump_days": grid,
            "lower_95": lo95,
            "upper_95": hi95,
            "lower_998": lo998,
            "upper_998": hi998,
        }
    )
    return FunnelData(by, share(table, FUNNEL_RULES, filters, config), curve, pooled * 1000)


def _count(n: int, filters: Filters, config: Config) -> str:
    if filters.sharing and 1 <= n < config.suppress_below:
        return f"<{config.suppress_below}"
    return f"{n:,}"
