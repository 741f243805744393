"""What the page figures share: the cells of a scope, rates from shown counts, the
charts of a scope and the process-change notes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from analytics.engine.metrics import add_rates
from analytics.figures.cells import ALL, Cells, Level, scope_cells, shared_cells
from analytics.figures.charts import ChartFigure, measure_chart, too_sparse
from analytics.figures.disclosure import METRICS_RULES
from analytics.figures.memo import memo
from analytics.figures.model import is_hidden, shown_or_nonzero
from analytics.figures.scope import Cutoff, Scope, quarter_months
from analytics.spc import Annotation, list_annotations
from analytics.vocabulary import Measure

CHART_QUARTERS = 8
"""A shared chart shows the 8 quarters (24 months) ending with the shared quarter."""
RATE_SOURCES = METRICS_RULES.derived
"""Each rate of the metrics table and the counts it is computed from."""


def cells(cut: Cutoff, scope: Scope, per: Level, dims: Sequence[str] = (ALL,)) -> Cells:
    """The counts of the scope: for the committee, of its months and selection; for a
    shared view, the jointly protected cells of every complete quarter (memoised)."""
    if scope.sharing is not None:
        threshold = scope.sharing
        return memo(cut, ("shared_cells", threshold), lambda: shared_cells(cut, threshold))
    key = ("scope_cells", scope.first, scope.last, per, tuple(dims), scope.selection)
    return memo(
        cut, key, lambda: scope_cells(cut, scope.first, scope.last, per, dims, scope.selection)
    )


def period_id(scope: Scope) -> tuple[Level, str]:
    """The level and period of the scope's own cells: its quarter when shared, else the
    whole period."""
    return ("quarter", scope.quarter_id) if scope.shared else ("period", "period")


def with_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """The metrics rates of each row from its counts as shown; a rate whose count is
    hidden is blank (never computed from a hidden count)."""
    numeric = frame.copy()
    for col in frame.columns:
        if col in ("period", "group", "month"):
            continue
        numeric[col] = pd.to_numeric(frame[col].where(~frame[col].map(is_hidden)), errors="coerce")
    needed = {c for srcs in RATE_SOURCES.values() for c in srcs} | {"pump_days"}
    filled = numeric.assign(
        **{c: numeric[c].fillna(0) if c in numeric else 0 for c in needed}
    )  # a count the frame does not have gives no rate (below)
    rated = add_rates(filled)
    out = frame.copy()
    for col, sources in RATE_SOURCES.items():
        if not all(s in frame for s in sources):
            continue
        blank = np.zeros(len(frame), dtype=bool)
        for s in sources:
            if s in frame:
                blank |= frame[s].map(is_hidden).to_numpy(dtype=bool)
        out[col] = rated[col].astype(object).where(~blank, None)
    return out


def notes(cut: Cutoff) -> tuple[Annotation, ...]:
    """The process changes logged up to the cut-off (drawn on the charts)."""
    return tuple(a for a in list_annotations(cut.con) if a.change_date <= cut.as_of)


def chart_window(scope: Scope) -> tuple[str, str]:
    """The months a chart of the scope covers: the scope's own months; for a shared view
    the 8 quarters ending with its quarter."""
    if not scope.shared:
        return scope.first, scope.last
    last = pd.Period(scope.quarter_id, "Q")
    first = last - (CHART_QUARTERS - 1)
    return quarter_months(f"{first.year}Q{first.quarter}")[0], scope.last


def chart(cut: Cutoff, scope: Scope, measure: Measure) -> ChartFigure:
    """The measure's control chart for the scope (by quarter when a shared series is too
    sparse by month)."""
    assert measure.denominator is not None
    series, unit = window_series(
        cut, scope, [measure.numerator, measure.denominator], lambda s: too_sparse(s, measure)
    )
    series = series[shown_or_nonzero(series[measure.denominator])]
    return measure_chart(measure, series.reset_index(drop=True), notes(cut), unit)


def window_series(
    cut: Cutoff,
    scope: Scope,
    counts: list[str],
    sparse: Callable[[pd.DataFrame], bool],
) -> tuple[pd.DataFrame, str]:
    """The counts over the chart window by month, or by quarter ("quarter") when the
    scope is shared and `sparse` says the monthly series hides too much."""
    first, last = chart_window(scope)
    months = [
        p.strftime("%Y-%m") for p in pd.period_range(pd.Period(first, "M"), pd.Period(last, "M"))
    ]
    c = cells(cut, scope, "month")
    series = c.series("month", months, counts)
    if not (scope.shared and sparse(series)):
        return series, "month"
    quarters = sorted(
        {f"{p.year}Q{p.quarter}" for p in pd.PeriodIndex(months, freq="M").asfreq("Q")}
    )
    return c.series("quarter", quarters, counts), "quarter"
