"""Control charts of the measures, by month (or by quarter), for the dashboard and the pack.

A chart is computed from the points it shows and nothing else: in a shared view a month
whose count is hidden has no point, and the centre line and limits are computed from
the shown points only, so no hidden count can be worked out from them. When more than a
third of the months would be hidden, the chart is drawn by quarter; when fewer points
than the measure's minimum remain, there is no chart and no claim about signals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from analytics.errors import PumpqiError
from analytics.figures.model import is_hidden
from analytics.spc import (
    Annotation,
    SpcResult,
    how_to_read,
    parts_from_annotations,
    qic,
    signal_sentences,
    summary_sentence,
)
from analytics.vocabulary import Measure


@dataclass(frozen=True)
class ChartFigure:
    """A measure's control chart and its words; `result` is None when there is too little
    to draw (then `message` says why). `hidden`: points left out (small numbers)."""

    measure: Measure
    unit: str  # "month" or "quarter"
    result: SpcResult | None
    caption: str = ""
    summary: str = ""
    signals: tuple[str, ...] = ()
    hidden: int = 0
    message: str | None = None
    notes: tuple[Annotation, ...] = ()

    @property
    def title(self) -> str:
        if self.unit == "event":
            return self.measure.label
        return f"{self.measure.label}, by {self.unit}"

    def point_signal(self, period: str) -> str:
        """'above the upper limit', 'below the lower limit', 'runs signal' (joined by
        '; '), 'none', or '' when the chart has no point for the period (YYYY-MM, or
        YYYYQn on a chart by quarter)."""
        if self.result is None:
            return ""
        t = self.result.table
        x = pd.to_datetime(t["x"])
        by_quarter = "Q" in period
        if by_quarter != (self.unit == "quarter"):
            return (
                ""  # a quarter is not one point of a monthly chart, nor a month of one by quarter
            )
        key = (
            x.dt.year.astype(str) + "Q" + x.dt.quarter.astype(str)
            if by_quarter
            else x.dt.strftime("%Y-%m")
        )
        rows = t[key == period]
        if rows.empty:
            return ""
        row = rows.iloc[0]
        bits = []
        if bool(row["sigma_signal"]):
            bits.append(
                "above the upper limit" if row["y"] > row["ucl"] else "below the lower limit"
            )
        if bool(row["runs_signal"]):
            bits.append("runs signal")
        return "; ".join(bits) or "none"


def _x(periods: pd.Series) -> pd.Series:
    """Month 'YYYY-MM' or quarter 'YYYYQn' -> the first day of it."""
    return periods.map(lambda p: pd.Period(p, "Q" if "Q" in p else "M").start_time)


def measure_chart(
    measure: Measure,
    series: pd.DataFrame,
    notes: Sequence[Annotation] = (),
    unit: str = "month",
) -> ChartFigure:
    """The chart of `measure` over `series` (one row per period: `period`, the measure's
    numerator and denominator as shown — a mark where hidden)."""
    assert measure.chart is not None and measure.denominator is not None
    num, den = series[measure.numerator], series[measure.denominator]
    hidden = num.map(is_hidden) | den.map(is_hidden)
    with_den = hidden | (pd.to_numeric(den, errors="coerce").fillna(0) > 0)
    rows = series[with_den & ~hidden].reset_index(drop=True)
    n_hidden = int(hidden.sum())
    noun = (
        "refills due"
        if measure.denominator == "refills_due"
        else measure.denominator.replace("_", "-")
    )
    if len(rows) < measure.min_points:
        why = f"{len(rows)} {unit}(s) with {noun} in this selection"
        if n_hidden:
            why += f" shown ({n_hidden} hidden: small numbers)"
        return ChartFigure(
            measure, unit, None, hidden=n_hidden,
            message=f"Not enough to draw a chart: {why}; at least {measure.min_points} "
            "are needed. No statement about signals can be made.",
        )  # fmt: skip
    x = _x(rows["period"])
    y, n = rows[measure.numerator].astype(float), rows[measure.denominator].astype(float)
    parts = parts_from_annotations(x, notes)
    result = None
    if len(set(parts)) > 1:
        try:
            result = qic(
                y=y, n=n, x=x, part=parts, chart=measure.chart, multiply=measure.chart_multiply
            )
        except PumpqiError:
            result = None  # e.g. a process change at the last point: a part needs 2 points
    if result is None:
        result = qic(y=y, n=n, x=x, chart=measure.chart, multiply=measure.chart_multiply)
    if unit == "quarter":
        result = replace(result, x_kind="quarter")  # sentences say "Q3 2026"
    return ChartFigure(
        measure, unit, result,
        caption=how_to_read(result),
        summary=summary_sentence(result),
        signals=tuple(signal_sentences(result)),
        hidden=n_hidden,
        notes=tuple(notes),
    )  # fmt: skip


def too_sparse(series: pd.DataFrame, measure: Measure) -> bool:
    """More than a third of the periods with a denominator have hidden numbers."""
    assert measure.denominator is not None
    hidden = series[measure.numerator].map(is_hidden) | series[measure.denominator].map(is_hidden)
    den = pd.to_numeric(series[measure.denominator], errors="coerce").fillna(0)
    total = int((hidden | (den > 0)).sum())
    return total > 0 and int(hidden.sum()) * 3 > total


def gap_chart(
    title: str,
    chart_kind: str,
    dates: pd.Series,
    gaps: pd.Series,
    y_title: str,
    min_points: int = 3,
) -> ChartFigure:
    """A rare-event chart: the gap before each event (refills between errors: a g-chart;
    days between events: a t-chart), one point per event in date order."""
    measure = Measure(
        f"{chart_kind}_gap", title, title, "gap", None, 1.0, y_title, chart_kind,  # type: ignore[arg-type]
        True, "", y_title=y_title, min_points=min_points,
    )  # fmt: skip
    keep = gaps.notna() & (gaps >= (1 if chart_kind == "t" else 0))
    x, y = pd.to_datetime(dates[keep]).reset_index(drop=True), gaps[keep].astype(float)
    if len(y) < min_points:
        return ChartFigure(
            measure, "event", None,
            message=f"Not enough to draw a chart: {len(y)} event gap(s); at least "
            f"{min_points} are needed. No statement about signals can be made.",
        )  # fmt: skip
    result = qic(y=y.reset_index(drop=True), x=x, chart=chart_kind)  # type: ignore[arg-type]
    return ChartFigure(
        measure, "event", result, caption=how_to_read(result), summary=summary_sentence(result),
        signals=tuple(signal_sentences(result)),
    )  # fmt: skip
