"""Control charts of the report's measures, from the measure registry and analytics.spc.

Every measure of `analytics.vocabulary.MEASURES` with a chart type gets `qic()` over the
report's months (unsuppressed counts: the limits rest on the whole programme), split
into parts at the rebase annotations. Months with a zero denominator have no point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from analytics.spc import Annotation, SpcResult, parts_from_annotations, qic
from analytics.vocabulary import MEASURES, Measure


def chart_of(
    history: pd.DataFrame, measure: Measure, annotations: Sequence[Annotation]
) -> SpcResult | None:
    """The measure's chart over the months with a denominator; None with < 2 such months."""
    if measure.chart not in ("p", "u") or measure.denominator is None:
        return None
    data = history[history[measure.denominator] > 0]
    if len(data) < 2:
        return None
    data = data.assign(x=data["month"] + "-01")
    part = parts_from_annotations(data["x"], annotations)
    return qic(
        data,
        y=measure.numerator,
        n=measure.denominator,
        x="x",
        part=part,
        chart=measure.chart,
        multiply=measure.chart_multiply,
    )


def control_charts(
    history: pd.DataFrame, annotations: Sequence[Annotation]
) -> dict[str, SpcResult]:
    """{measure id: chart} for every charted measure with enough months."""
    out: dict[str, SpcResult] = {}
    for measure in MEASURES:
        result = chart_of(history, measure, annotations)
        if result is not None:
            out[measure.id] = result
    return out


def point_signal(charts: Mapping[str, SpcResult], measure_id: str, month: str) -> str:
    """This month's signal in words ('above the upper limit', 'runs signal', 'none');
    empty when the measure has no chart or no point that month."""
    result = charts.get(measure_id)
    if result is None:
        return ""
    t = result.table
    rows = t[pd.to_datetime(t["x"]).dt.strftime("%Y-%m") == month]
    if rows.empty:
        return ""
    row = rows.iloc[0]
    bits = []
    if bool(row["sigma_signal"]):
        bits.append("above the upper limit" if row["y"] > row["ucl"] else "below the lower limit")
    if bool(row["runs_signal"]):
        bits.append("runs signal")
    return "; ".join(bits) or "none"
