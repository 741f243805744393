"""The options of a control chart, as one small frozen value."""

from __future__ import annotations

import datetime as dt
import math
import numbers
from dataclasses import dataclass
from typing import Literal, get_args

from analytics.errors import PumpqiError

ChartType = Literal["run", "i", "p", "pp", "u", "up", "g", "t"]
CHART_TYPES: tuple[str, ...] = get_args(ChartType)

#: Charts whose y is a count over a denominator n (plotted as y / n).
RATIO_CHARTS: frozenset[str] = frozenset({"p", "pp", "u", "up"})
#: Charts of proportions: the count cannot exceed n and limits stay inside [0, 1].
PROPORTION_CHARTS: frozenset[str] = frozenset({"p", "pp"})
#: Rare-event charts: y is the opportunities (g) or days (t) between two events; no n.
RARE_EVENT_CHARTS: frozenset[str] = frozenset({"g", "t"})
#: Charts whose centre line is a median (the g chart's limits still come from the mean).
MEDIAN_CHARTS: frozenset[str] = frozenset({"run", "g"})

CHART_LABELS: dict[str, str] = {
    "run": "run chart (centre line: median)",
    "i": "I chart (individual values)",
    "p": "P chart (proportions)",
    "pp": "Laney P′ chart (proportions, large denominators)",
    "u": "U chart (rates)",
    "up": "Laney U′ chart (rates, large denominators)",
    "g": "G chart (opportunities between rare events)",
    "t": "T chart (days between rare events)",
}

Freeze = int | dt.date


@dataclass(frozen=True)
class SpcOptions:
    """How to draw one chart.

    chart:      run | i | p | pp | u | up | g | t.
    multiply:   scales y, centre line and limits last (e.g. 100 for percent,
                1000 for a rate per 1,000 pump-days); signals do not change.
    freeze:     the baseline: the first k points (int) or the points dated on or
                before a date. The centre and limits are computed from the baseline
                and held for the rest of the chart (within each part); the run
                rules still look at every point.
    screen_mr:  for i, pp, up and t charts, drop moving ranges >= 3.267 × their
                average once before the sigma is computed (qicharts2's default).
    """

    chart: ChartType = "run"
    multiply: float = 1.0
    freeze: Freeze | None = None
    screen_mr: bool = True

    def __post_init__(self) -> None:
        if self.chart not in CHART_TYPES:
            raise PumpqiError(
                f"chart '{self.chart}' is not known; use one of {', '.join(CHART_TYPES)}"
            )
        if isinstance(self.multiply, bool) or not (
            isinstance(self.multiply, numbers.Real) and math.isfinite(self.multiply)
        ):
            raise PumpqiError(f"multiply must be a number, not {self.multiply!r}")
        if self.multiply <= 0:
            raise PumpqiError(f"multiply must be greater than 0, not {self.multiply}")
        if isinstance(self.freeze, bool) or not (
            self.freeze is None or isinstance(self.freeze, int | dt.date)
        ):
            raise PumpqiError(f"freeze must be a number of points or a date, not {self.freeze!r}")

    @property
    def needs_n(self) -> bool:
        """True for the charts of counts over a denominator (p, pp, u, up)."""
        return self.chart in RATIO_CHARTS
