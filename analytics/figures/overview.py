"""Overview page data: KPI tiles for the selected month against the month before, and
the two main control charts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.metrics import monthly_metrics
from analytics.figures.common import (
    COMPLICATIONS,
    ON_TIME,
    ChartData,
    monthly_chart,
    shared_metrics,
)
from analytics.figures.filters import Filters, apply_filters
from analytics.figures.labels import month_label
from analytics.spc import Annotation, list_annotations
from analytics.vocabulary import MEASURE as BY_ID

HIDDEN = "–"
"""A rate hidden in sharing mode (its detail line says why)."""
TILE_LABELS: dict[str, str] = {
    "missed": "Missed refills",
    "complication_rate_per_1000": "Complication rate",
}
"""Shorter labels where the registry's label does not fit a tile (the help shows it)."""


@dataclass(frozen=True)
class Kpi:
    """One tile: the value as shown, the change against the previous month, a detail
    line, the control-chart signal of the month ('' when none) and a help text."""

    key: str
    label: str
    value: str
    delta: str | None
    delta_color: str
    detail: str
    signal: str
    help: str
    raw: float | None


@dataclass(frozen=True)
class PageBase:
    """What every page with monthly figures shares: the cut-off, the months shown, the
    metrics table as displayed (suppressed in sharing mode) and a message when empty."""

    as_of: dt.date
    metrics: pd.DataFrame
    notes: tuple[Annotation, ...]
    message: str | None


@dataclass(frozen=True)
class OverviewData:
    base: PageBase
    month: str | None
    previous_month: str | None
    kpis: tuple[Kpi, ...]
    on_time: ChartData | None
    complications: ChartData | None


def page_base(
    con: duckdb.DuckDBPyConnection, filters: Filters, config: Config = DEFAULT
) -> tuple[PageBase, pd.DataFrame]:
    """Filter the engine tables; return the page base and the unsuppressed metrics."""
    as_of = apply_filters(con, filters, config)
    metrics = monthly_metrics(
        con, as_of, None, filters.month_from, filters.month_to, config, per="report"
    )
    notes = tuple(list_annotations(con))
    message = None
    if metrics.empty or (metrics["pump_days"].sum() == 0 and metrics["fills"].sum() == 0):
        message = (
            f"No data for {filters.describe()} in this period. "
            "Widen the period or clear a filter in the sidebar."
        )
    base = PageBase(as_of, shared_metrics(metrics, filters, config), notes, message)
    return base, metrics


def overview(
    con: duckdb.DuckDBPyConnection, filters: Filters, config: Config = DEFAULT
) -> OverviewData:
    """KPI values of the selected month (the period's last month) and the month before,
    and the on-time p-chart and complication u-chart over the period."""
    base, metrics = page_base(con, filters, config)
    if base.message:
        return OverviewData(base, None, None, (), None, None)
    on_time = monthly_chart(metrics, ON_TIME, base.notes, base.metrics if filters.sharing else None)
    compl = monthly_chart(
        metrics, COMPLICATIONS, base.notes, base.metrics if filters.sharing else None
    )
    months = list(metrics["month"])
    month = months[-1]
    previous = months[-2] if len(months) > 1 else None
    shown = base.metrics.set_index("month")
    now = shown.loc[month]
    before = shown.loc[previous] if previous else None
    kpis = _kpis(now, before, previous, on_time, compl, month)
    return OverviewData(base, month, previous, kpis, on_time, compl)


def _num(row: pd.Series | None, col: str) -> float | None:
    if row is None:
        return None
    value = row[col]
    if isinstance(value, str) or value is None or pd.isna(value):
        return None
    return float(value)


def _shown_count(row: pd.Series, col: str) -> str:
    value = row[col]
    return value if isinstance(value, str) else f"{int(value):,}"


def _delta(now: float | None, before: float | None, fmt: str, prev: str | None) -> str | None:
    if now is None or before is None or prev is None:
        return None
    if fmt.format(now - before).lstrip("+-").strip("0.,") == "":
        return f"no change vs {month_label(prev)}"
    return f"{fmt.format(now - before)} vs {month_label(prev)}"


def _signal(chart: ChartData, month: str) -> str:
    found = chart.month_signal(month)
    if found == "outside the limits":
        return "⚠ Signal: this month is outside the control limits"
    if found == "run pattern":
        return "⚠ Signal: a non-random run pattern in the chart"
    if chart.result is None:
        return ""
    return "No signal: chance variation"


def _kpis(
    now: pd.Series,
    before: pd.Series | None,
    prev: str | None,
    on_time: ChartData,
    compl: ChartData,
    month: str,
) -> tuple[Kpi, ...]:
    rate, rate_b = _num(now, "on_time_rate"), _num(before, "on_time_rate")
    crate, crate_b = (
        _num(now, "complication_rate_per_1000"),
        _num(before, "complication_rate_per_1000"),
    )
    lo, hi = _num(now, "rate_ci_low"), _num(now, "rate_ci_high")
    hidden = HIDDEN
    tiles: list[dict[str, Any]] = [
        dict(
            key="on_time_rate",
            value=f"{rate * 100:.1f} %" if rate is not None else _blank(now, "refills_due"),
            delta=_delta(
                None if rate is None else rate * 100,
                None if rate_b is None else rate_b * 100,
                "{:+.1f} points",
                prev,
            ),
            detail=f"{_shown_count(now, 'on_time')} of {_shown_count(now, 'refills_due')} refills due",
            signal=_signal(on_time, month),
            raw=rate,
        ),
        dict(
            key="missed",
            value=_shown_count(now, "missed"),
            delta=_delta(_num(now, "missed"), _num(before, "missed"), "{:+.0f}", prev),
            detail=f"pumps that ran dry · {_shown_count(now, 'overdue')} more overdue",
            signal="",
            raw=_num(now, "missed"),
        ),
        dict(
            key="complication_rate_per_1000",
            value=f"{crate:.2f}" if crate is not None else hidden,
            delta=_delta(crate, crate_b, "{:+.2f}", prev),
            detail=(
                f"per 1,000 pump-days · 95 % CI {lo:.2f} to {hi:.2f} · "
                f"{_shown_count(now, 'complications')} reports"
                if lo is not None and hi is not None
                else f"per 1,000 pump-days · {_shown_count(now, 'complications')} reports"
            ),
            signal=_signal(compl, month),
            raw=crate,
        ),
        dict(
            key="active_patients",
            value=_shown_count(now, "active_patients"),
            delta=_delta(
                _num(now, "active_patients"), _num(before, "active_patients"), "{:+.0f}", prev
            ),
            detail="with a pump in place on at least one day",
            signal="",
            raw=_num(now, "active_patients"),
        ),
        dict(
            key="pump_days",
            value=_shown_count(now, "pump_days"),
            delta=_delta(_num(now, "pump_days"), _num(before, "pump_days"), "{:+,.0f}", prev),
            detail="days with a pump in place in this selection",
            signal="",
            raw=_num(now, "pump_days"),
        ),
    ]
    return tuple(_tile(**t) for t in tiles)


def _tile(**fields: Any) -> Kpi:
    """A tile whose label, help text and colour of change come from the measure registry."""
    m = BY_ID[fields["key"]]
    better = {True: "Higher is better.", False: "Lower is better.", None: ""}[m.higher_is_better]
    colour = {True: "normal", False: "inverse", None: "off"}[m.higher_is_better]
    if fields["delta"] and fields["delta"].startswith("no change"):
        colour = "off"
    if fields["value"] == HIDDEN:
        fields["detail"] = f"hidden in sharing mode (small numbers) · {fields['detail']}"
    label = TILE_LABELS.get(m.id, m.label)
    return Kpi(
        label=label, help=f"{m.label}: {m.help} {better}".strip(), delta_color=colour, **fields
    )


def _blank(row: pd.Series, den: str) -> str:
    value = row[den]
    if not isinstance(value, str) and int(value) == 0:
        return "none due"
    return HIDDEN
