"""Overview: the safety headline (the patients now), the tiles of the scope's last month
(for the committee) or quarter (shared) against the one before, and the two main charts.
The pack's key figures and summary read the same tiles and headline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from analytics.figures.base import cells, chart, with_rates
from analytics.figures.cells import Level
from analytics.figures.charts import ChartFigure
from analytics.figures.model import is_hidden
from analytics.figures.now import Headline, headline
from analytics.figures.scope import Cutoff, Scope, month_label, quarter_label
from analytics.vocabulary import MEASURE

TILE_MEASURES: tuple[str, ...] = (
    "on_time_rate",
    "missed",
    "complication_rate_per_1000",
    "active_patients",
    "pump_days",
)
TILE_COUNTS: tuple[str, ...] = (
    "refills_due", "on_time", "late", "missed", "overdue", "complications", "fills",
    "refill_errors", "percutaneous_refills", "active_patients",
)  # fmt: skip


@dataclass(frozen=True)
class Tile:
    """One tile: value as shown, change against the previous period, a detail line, the
    chart's signal for the period ('' when none) and a help text from the vocabulary."""

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
class OverviewFigures:
    as_of: dt.date
    period: str | None  # the tiles' month (YYYY-MM) or quarter (YYYYQn)
    period_label: str
    previous_label: str | None
    headline: Headline | None
    tiles: tuple[Tile, ...]
    on_time: ChartFigure | None
    complications: ChartFigure | None
    message: str | None = None
    rows: pd.DataFrame | None = None  # the tiles' counts and rates as shown, by period
    previous: str | None = None


def tile_rows(cut: Cutoff, scope: Scope) -> tuple[str, pd.DataFrame]:
    """(period, the counts and rates as shown of the period and the one before)."""
    if scope.shared:
        q = pd.Period(scope.quarter_id, "Q")
        periods = [f"{p.year}Q{p.quarter}" for p in (q - 1, q)]
        c = cells(cut, scope, "quarter")
        level: Level = "quarter"
    else:
        m = pd.Period(scope.last, "M")
        periods = [(m - 1).strftime("%Y-%m"), scope.last]
        c = cells(cut, Scope.months(periods[0], periods[1], scope.selection), "month")
        level = "month"
    return periods[1], with_rates(c.series(level, periods, TILE_COUNTS)).set_index("period")


def overview(cut: Cutoff, scope: Scope) -> OverviewFigures:
    """Everything the Overview shows for the scope."""
    on_time = chart(cut, scope, MEASURE["on_time_rate"])
    compl = chart(cut, scope, MEASURE["complication_rate_per_1000"])
    period, rows = tile_rows(cut, scope)
    previous = _previous(period)
    now = row_of(rows, period)
    before = row_of(rows, previous) if previous in rows.index else None
    if _empty(now):
        return OverviewFigures(
            cut.as_of, None, scope.label(), None, headline(cut, scope), (), None, None,
            message=f"No data for {scope.describe()} in {_label(period)}. Widen the period "
            "or clear a filter.",
        )  # fmt: skip
    tiles = _tiles(now, before, previous, on_time, compl, period)
    return OverviewFigures(
        cut.as_of, period, _label(period), _label(previous), headline(cut, scope), tiles,
        on_time, compl, None, rows, previous,
    )  # fmt: skip


def row_of(rows: pd.DataFrame, period: str) -> pd.Series:
    """One period's row of a table indexed by period."""
    row = rows.loc[period]
    assert isinstance(row, pd.Series)
    return row


def _empty(row: pd.Series) -> bool:
    values = [row[c] for c in ("pump_days", "fills", "complications")]
    return all(not is_hidden(v) and int(v) == 0 for v in values)


def _label(period: str) -> str:
    return quarter_label(period) if "Q" in period else month_label(period)


def _previous(period: str) -> str:
    if "Q" in period:
        q = pd.Period(period, "Q") - 1
        return f"{q.year}Q{q.quarter}"
    return (pd.Period(period, "M") - 1).strftime("%Y-%m")


def _num(row: pd.Series | None, col: str) -> float | None:
    if row is None:
        return None
    value = row[col]
    if value is None or is_hidden(value) or pd.isna(value):
        return None
    return float(value)


def _shown(row: pd.Series, col: str) -> str:
    value = row[col]
    return value if isinstance(value, str) else f"{int(value):,}"


def _delta(now: float | None, before: float | None, fmt: str, prev: str) -> str | None:
    if now is None or before is None:
        return None
    text = fmt.format(now - before)
    if text.lstrip("+-").strip("0.,") == "":
        return None  # no change: no arrow
    return text


def _signal(chart_: ChartFigure, period: str) -> str:
    found = chart_.point_signal(period)
    if "upper" in found or "lower" in found:
        return "⚠ Signal: outside the control limits"
    if "runs" in found:
        return "⚠ Signal: a non-random run pattern in the chart"
    if found == "none":
        return "No signal: chance variation"
    return ""


def _tiles(
    now: pd.Series,
    before: pd.Series | None,
    prev: str,
    on_time: ChartFigure,
    compl: ChartFigure,
    period: str,
) -> tuple[Tile, ...]:
    rate, crate = _num(now, "on_time_rate"), _num(now, "complication_rate_per_1000")
    lo, hi = _num(now, "rate_ci_low"), _num(now, "rate_ci_high")
    due = _shown(now, "refills_due")
    rate_text = f"{rate * 100:.1f} %" if rate is not None else ("none due" if due == "0" else "–")
    ci = f" · 95 % CI {lo:.2f} to {hi:.2f}" if lo is not None and hi is not None else ""
    rate_before = _num(before, "on_time_rate")
    values = {
        "on_time_rate": (
            rate_text,
            _delta(
                None if rate is None else rate * 100,
                None if rate_before is None else rate_before * 100,
                "{:+.1f} points",
                prev,
            ),
            f"{_shown(now, 'on_time')} of {due} refills due",
            _signal(on_time, period),
            rate,
        ),
        "missed": (
            _shown(now, "missed"),
            _delta(_num(now, "missed"), _num(before, "missed"), "{:+.0f}", prev),
            f"of the refills due in {_label(period)} · {_shown(now, 'overdue')} past the alarm date",
            "",
            _num(now, "missed"),
        ),
        "complication_rate_per_1000": (
            f"{crate:.2f}" if crate is not None else "–",
            _delta(crate, _num(before, "complication_rate_per_1000"), "{:+.2f}", prev),
            f"per 1,000 pump-days{ci} · {_shown(now, 'complications')} complications",
            _signal(compl, period),
            crate,
        ),
        "active_patients": (
            _shown(now, "active_patients"),
            _delta(_num(now, "active_patients"), _num(before, "active_patients"), "{:+,.0f}", prev),
            "with a pump in place on at least one day",
            "",
            _num(now, "active_patients"),
        ),
        "pump_days": (
            _shown(now, "pump_days"),
            _delta(_num(now, "pump_days"), _num(before, "pump_days"), "{:+,.0f}", prev),
            "days with a pump in place",
            "",
            _num(now, "pump_days"),
        ),
    }
    return tuple(_tile(key, *values[key]) for key in TILE_MEASURES)


def _tile(
    key: str, value: str, delta: str | None, detail: str, signal: str, raw: float | None
) -> Tile:
    """A tile whose label, help text and colour of change come from the vocabulary."""
    m = MEASURE[key]
    better = {True: "Higher is better.", False: "Lower is better.", None: ""}[m.higher_is_better]
    colour = {True: "normal", False: "inverse", None: "off"}[m.higher_is_better]
    if delta is None:
        colour = "off"
    if value == "–":
        detail = f"hidden (small numbers) · {detail}"
    return Tile(
        key,
        m.short_label,
        value,
        delta,
        colour,
        detail,
        signal,
        f"{m.label}: {m.help} {better}".strip(),
        raw,
    )
