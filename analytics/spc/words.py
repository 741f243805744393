"""Signals in plain words, for the dashboard and the monthly report.

    "Mar 2026: above the upper limit"
    "an unusually long run of 9 months below the centre line ending Jun 2026"
    "too few crossings of the centre line (5, expected at least 8)"

With monthly x the points are named "Mar 2026" and counted in months; with other
dates "3 Mar 2026"; otherwise "point 17" (numbers) or the label itself. On the
rare-event charts (g, t) each point is the gap between two events, so a point
outside the limits also says what it means: "above the upper limit (an unusually
long spell without events)".
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.spc.anhoej import Run
from analytics.spc.core import PartSummary, SpcResult
from analytics.spc.inputs import XKind
from analytics.spc.options import RARE_EVENT_CHARTS

#: What a point outside the limits means on a chart of gaps between events.
GAP_MEANINGS: dict[str, str] = {
    "above": " (an unusually long spell without events)",
    "below": " (events unusually close together)",
}

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def point_label(x: Any, kind: XKind) -> str:
    """How a point is named in a sentence: 'Mar 2026', '3 Mar 2026', 'point 17' or the label."""
    if kind == "quarter":
        ts = pd.Timestamp(x)
        return f"Q{(ts.month - 1) // 3 + 1} {ts.year}"
    if kind in ("month", "date"):
        ts = pd.Timestamp(x)
        month = f"{MONTHS[ts.month - 1]} {ts.year}"
        return month if kind == "month" else f"{ts.day} {month}"
    if kind == "number":
        value = float(x)
        return f"point {int(value) if value.is_integer() else value:g}"
    return str(x)


def _unit(kind: XKind, count: int) -> str:
    if kind in ("month", "quarter"):
        return kind if count == 1 else kind + "s"
    return "point" if count == 1 else "points"


def sigma_sentences(result: SpcResult) -> list[str]:
    """One sentence per point strictly outside its limits."""
    t = result.table
    y, ucl = t["y"].to_numpy(dtype=float), t["ucl"].to_numpy(dtype=float)
    gaps = result.options.chart in RARE_EVENT_CHARTS
    out: list[str] = []
    for pos in map(int, (t["sigma_signal"].to_numpy(dtype=bool)).nonzero()[0]):
        side = "above" if y[pos] > ucl[pos] else "below"
        where = "above the upper" if side == "above" else "below the lower"
        meaning = GAP_MEANINGS[side] if gaps else ""
        out.append(f"{point_label(t['x'].iat[pos], result.x_kind)}: {where} limit{meaning}")
    return out


def _run_sentence(result: SpcResult, run: Run, part: PartSummary) -> str:
    end_x = result.table["x"].iat[part.start + run.end]
    side = "above" if run.side > 0 else "below"
    ending = point_label(end_x, result.x_kind)
    if result.x_kind == "number":
        ending = f"at {ending}"
    return (
        f"an unusually long run of {run.length} {_unit(result.x_kind, run.length)} "
        f"{side} the centre line ending {ending}"
    )


def runs_sentences(result: SpcResult) -> list[str]:
    """Sentences for the run rules of every part (prefixed by the part when there are several)."""
    out: list[str] = []
    for part in result.parts:
        r = part.runs
        found = [_run_sentence(result, run, part) for run in r.long_runs]
        if r.crossings_signal:
            found.append(
                f"too few crossings of the centre line ({r.n_crossings}, "
                f"expected at least {r.n_crossings_min})"
            )
        if len(result.parts) > 1:
            start = point_label(result.table["x"].iat[part.start], result.x_kind)
            found = [f"part {part.part} (from {start}): {s}" for s in found]
        out.extend(found)
    return out


def signal_sentences(result: SpcResult) -> list[str]:
    """Every signal of the chart in plain words: points outside the limits first, then runs."""
    return sigma_sentences(result) + runs_sentences(result)


def summary_sentence(result: SpcResult) -> str:
    """One line: 'no signals: …' or how many signals, for a report heading."""
    sigma = result.sigma_signals
    if not sigma and not result.runs_signal:
        return "no signals: the variation looks like chance alone (common cause)"
    bits = []
    if sigma:
        bits.append(f"{sigma} point{'s' if sigma != 1 else ''} outside the limits")
    if result.runs_signal:
        bits.append("a non-random pattern of runs")
    return "signals: " + " and ".join(bits)
