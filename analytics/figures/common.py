"""Pieces every page uses: monthly control charts and small-cell suppression.

The charts are the analytics.spc charts of the monthly metrics (METRICS.md "Control
charts"): the on-time refill rate as a p-chart and complication reports per 1,000
pump-days as a u-chart, split into parts at process changes marked `rebase`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.config import Config
from analytics.errors import PumpqiError
from analytics.figures.disclosure import METRICS_RULES, Rules, suppress_groups, suppress_table
from analytics.figures.filters import Filters
from analytics.spc import (
    Annotation,
    SpcResult,
    how_to_read,
    parts_from_annotations,
    qic,
    signal_sentences,
    summary_sentence,
)
from analytics.vocabulary import MEASURE, Measure

ON_TIME = MEASURE["on_time_rate"]
COMPLICATIONS = MEASURE["complication_rate_per_1000"]
MIN_POINTS = 3
"""Fewer months with a denominator than this: no chart. In sharing mode, a chart with
more than a third of its months hidden is not drawn either (the rest would mislead)."""


@dataclass(frozen=True)
class ChartData:
    """A computed control chart and its words; `result` is None when there is too
    little data (then `message` says why). `hidden` counts months left out in sharing
    mode because their numbers are small."""

    measure: Measure
    result: SpcResult | None
    caption: str = ""
    summary: str = ""
    signals: tuple[str, ...] = ()
    hidden: int = 0
    message: str | None = None
    notes: tuple[Annotation, ...] = ()

    def month_signal(self, month: str) -> str:
        """'outside the limits', 'run pattern' or '' for a month (YYYY-MM)."""
        if self.result is None:
            return ""
        t = self.result.table
        row = t[pd.to_datetime(t["x"]).dt.strftime("%Y-%m") == month]
        if len(row) and bool(row["sigma_signal"].iloc[0]):
            return "outside the limits"
        if len(row) and bool(row["runs_signal"].iloc[0]):
            return "run pattern"
        return ""


def share(df: pd.DataFrame, rules: Rules, filters: Filters, config: Config) -> pd.DataFrame:
    """The table as shown: small counts suppressed in sharing mode, unchanged otherwise."""
    if not filters.sharing:
        return df
    return suppress_table(df, rules, config.suppress_below)


def share_groups(df: pd.DataFrame, rules: Rules, filters: Filters, config: Config) -> pd.DataFrame:
    """A by-group table as shown: like `share`, and no group hidden alone can be worked
    out from the page's overall figures (complementary suppression across the groups)."""
    if not filters.sharing:
        return df
    return suppress_groups(df, rules, config.suppress_below)


def shared_metrics(metrics: pd.DataFrame, filters: Filters, config: Config) -> pd.DataFrame:
    return share(metrics, METRICS_RULES, filters, config)


def monthly_chart(
    metrics: pd.DataFrame,
    measure: Measure,
    notes: Sequence[Annotation],
    shown: pd.DataFrame | None = None,
) -> ChartData:
    """The control chart of a measure over the months of `metrics` (one row per month).

    `shown` is the table as displayed (suppressed in sharing mode): months whose rate is
    blank there are hidden from the chart (their value and limits are not drawn).
    """
    rows = metrics[metrics[measure.denominator] > 0].reset_index(drop=True)
    if len(rows) < MIN_POINTS:
        return ChartData(
            measure,
            None,
            message=f"Not enough data for a chart: {len(rows)} month(s) with "
            f"{'refills due' if measure.denominator == 'refills_due' else 'pump-days'} in this selection "
            f"(at least {MIN_POINTS} needed).",
        )
    x = pd.to_datetime(rows["month"] + "-01")
    parts = parts_from_annotations(x, notes)
    result = _qic(rows, x, measure, parts)
    hidden = 0
    if shown is not None:
        blank = shown.set_index("month")[measure.id].isna()
        mask = np.array(rows["month"].map(blank).fillna(False), dtype=bool)
        hidden = int(mask.sum())
        if hidden * 3 > len(rows):
            return ChartData(
                measure,
                None,
                hidden=hidden,
                message=f"Sharing mode: {hidden} of {len(rows)} months have small numbers, too "
                "many to draw a fair chart. Widen the filters, or turn sharing mode off for "
                "use inside the QI committee.",
            )
        if hidden:
            result = _hide(result, mask)
    return ChartData(
        measure,
        result,
        caption=how_to_read(result),
        summary=summary_sentence(result),
        signals=tuple(signal_sentences(result)),
        hidden=hidden,
        notes=tuple(notes),
    )


def _qic(rows: pd.DataFrame, x: pd.Series, measure: Measure, parts: list[int]) -> SpcResult:
    assert measure.chart is not None and measure.denominator is not None
    y, n = rows[measure.numerator], rows[measure.denominator]
    if len(set(parts)) > 1:
        try:
            return qic(
                y=y, n=n, x=x, part=parts, chart=measure.chart, multiply=measure.chart_multiply
            )
        except PumpqiError:
            pass  # e.g. a process change in the last month: a part needs 2 points
    return qic(y=y, n=n, x=x, chart=measure.chart, multiply=measure.chart_multiply)


def _hide(result: SpcResult, mask: np.ndarray) -> SpcResult:
    table = result.table.copy()
    for col in ("y", "n", "lcl", "ucl", "lcl_95", "ucl_95"):
        table.loc[mask, col] = np.nan
    table.loc[mask, "sigma_signal"] = False
    return dataclasses.replace(result, table=table)


def period_months(months: Sequence[str], filters: Filters) -> list[str]:
    """The months of the period (inclusive), from the months with data."""
    return [
        m
        for m in months
        if (filters.month_from is None or m >= filters.month_from)
        and (filters.month_to is None or m <= filters.month_to)
    ]
