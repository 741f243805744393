"""Survival page (and the pack's survival section): Kaplan–Meier event-free survival of
pumps, per endpoint (device, pump, catheter), like the manufacturers' product performance
reports: the curves with their 95 % bands and the pumps at risk (QI committee), and the
1- and 5-year figures (shared when the numbers behind them are not small)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analytics.engine.survival import ENDPOINTS, pump_periods, summary_at, survival_curve
from analytics.figures.memo import memo
from analytics.figures.model import Column, FigureTable, small_mark
from analytics.figures.scope import Cutoff, Scope

C = Column
AT_RISK_DAYS: tuple[int, ...] = (0, 365, 730, 1095, 1461, 1826)


@dataclass(frozen=True)
class EndpointSurvival:
    endpoint: str
    label: str
    curve: pd.DataFrame | None  # group, time_days, survival, ci_low, ci_high (committee)
    at_risk: FigureTable | None
    summary: FigureTable
    untimed: int  # pumps in place when the data begins, without a usable implant date


@dataclass(frozen=True)
class SurvivalFigures:
    by: str | None
    endpoints: tuple[EndpointSurvival, ...]


def _periods(cut: Cutoff, endpoint: str, by: str | None) -> pd.DataFrame:
    return memo(cut, ("pump_periods", endpoint, by),
                lambda: pump_periods(cut.ready(), cut.as_of, endpoint, by, keep_untimed=True,
                                     ordered=False))  # fmt: skip


def _summary(periods: pd.DataFrame, scope: Scope, endpoint: str) -> FigureTable:
    s = summary_at(periods)
    s["years"] = (s["days"] // 365).astype("int64")
    events = periods[periods["timed"].astype(bool) & periods["in_curve"]]
    counts = events.groupby("group")["event"].sum()
    s["events"] = s["group"].map(counts).fillna(0).astype("int64")
    if scope.sharing is not None:
        n = scope.sharing
        small = (s["n_risk"] < n) | (s["events"].between(1, n - 1))
        for col in ("survival", "ci_low", "ci_high"):
            s[col] = s[col].astype(object).where(~small, None)
        s["n_risk"] = s["n_risk"].astype(object).where(s["n_risk"] >= n, small_mark(n))
        s["events"] = (
            s["events"].astype(object).where(~s["events"].between(1, n - 1), small_mark(n))
        )
    cols = (
        C("group", "Group"), C("years", "Years after implant", "number"),
        C("survival", "Event-free", "pct"), C("ci_low", "95 % CI low", "pct"),
        C("ci_high", "95 % CI high", "pct"), C("n_risk", "Pumps still followed", "count"),
        C("events", "Events (all follow-up)", "count"),
    )  # fmt: skip
    note = (
        "Kaplan–Meier with late entry (pumps implanted before the data enter when their "
        "implant date is recorded), Greenwood variance, log-log 95 % interval; blank where "
        "no pump was followed that long."
    )
    return FigureTable(
        f"survival_{endpoint}", "Event-free survival at 1 and 5 years", s, cols, note
    )


def _at_risk(periods: pd.DataFrame, endpoint: str) -> FigureTable:
    timed = periods[periods["timed"].astype(bool) & periods["in_curve"]]
    rows = []
    for group, part in timed.groupby("group"):
        row: dict[str, object] = {"group": group}
        for t in AT_RISK_DAYS:
            row[f"d{t}"] = int(
                ((part["entry_days"] < max(t, 1)) & (part["exit_days"] >= max(t, 1))).sum()
            )
        rows.append(row)
    cols = (C("group", "Group"),
            *(C(f"d{t}", f"{t // 365} y" if t else "start", "count") for t in AT_RISK_DAYS))  # fmt: skip
    return FigureTable(
        "survival_at_risk", "Pumps at risk", pd.DataFrame(rows, columns=[c.key for c in cols]), cols
    )


def survival_figures(cut: Cutoff, scope: Scope, by: str | None = None) -> SurvivalFigures:
    """Per endpoint: the curve and the pumps at risk (committee), and the summary."""
    out = []
    for e in ENDPOINTS:
        periods = _periods(cut, e.id, by)
        untimed = int((~periods["timed"].astype(bool)).sum())
        summary = _summary(periods, scope, e.id)
        if scope.shared:
            out.append(EndpointSurvival(e.id, e.label, None, None, summary, untimed))
            continue
        curve = survival_curve(periods)
        out.append(
            EndpointSurvival(e.id, e.label, curve, _at_risk(periods, e.id), summary, untimed)
        )
    return SurvivalFigures(by, tuple(out))
