"""The counts behind every figure, as cells keyed by (period, dim, group, count), and
the relations among them.

For the QI committee, `scope_cells` gives the counts of any scope (months, selection).
For a shared view, `shared_cells` gives every count any shared view can show at a
cut-off — each complete calendar quarter, by group and broken down, and each of its
months for the whole programme — and protects them jointly (figures/disclosure.py), so
that no hidden count can be worked out from all of them together: not from a total and
its parts, a quarter and its months, all sites and each site, nor from a neighbouring
quarter (quarters never overlap). Pump-days are exposure, not people or events: shown,
never hidden, in no relation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analytics.engine.breakdowns import Per, breakdown_counts
from analytics.engine.metrics import COUNT_COLUMNS, monthly_metrics
from analytics.engine.selection import Selection, with_facts
from analytics.figures.disclosure import Relation, protect
from analytics.figures.model import COMPLEMENT, small_mark
from analytics.figures.scope import Cutoff, quarter_months, quarter_of
from analytics.vocabulary import (
    BY_IDS,
    CODES,
    DIMENSION,
    DUE_STATUS_IDS,
    LATE_BUCKETS,
    SURGERY_BUCKETS,
    WORDS,
)

ALL = "all"
METRIC_COUNTS: tuple[str, ...] = tuple(c for c in COUNT_COLUMNS if c != "pump_days")
"""The counts of the metrics table (pump-days are exposure: kept beside, never hidden)."""
NOT_ADDITIVE_IN_TIME: frozenset[str] = frozenset({"active_patients"})
"""A patient active in two months is one patient of the quarter."""
Level = Literal["month", "quarter", "period"]


@dataclass(frozen=True, eq=False)
class Cells:
    """Counts by (level, period, dim, group, count): `value`, and `shown` (the value, or
    a mark in a shared view); pump-days by (level, period, dim, group)."""

    frame: pd.DataFrame
    pump_days: pd.DataFrame
    threshold: int | None = None

    def _rows(self, level: Level, period: str, dim: str) -> pd.DataFrame:
        f = self.frame
        return f[(f["level"] == level) & (f["period"] == period) & (f["dim"] == dim)]

    def table(self, level: Level, period: str, dim: str, counts: Sequence[str]) -> pd.DataFrame:
        """One row per group (the whole programme: group 'all'), one column per count
        (shown values; a count with no cell is 0), and pump_days."""
        counts = [c for c in counts if c != "pump_days"]
        rows = self._rows(level, period, dim)
        days = self.pump_days
        days = days[(days["level"] == level) & (days["period"] == period) & (days["dim"] == dim)]
        groups = sorted(set(rows["group"]) | set(days["group"]) | ({ALL} if dim == ALL else set()))
        out = pd.DataFrame({"group": groups})
        for c in counts:
            shown = rows[rows["count"] == c].set_index("group")["shown"]
            out[c] = pd.Series([shown.get(g, 0) for g in groups], dtype=object)
        pump = days.set_index("group")["pump_days"]
        out["pump_days"] = pd.Series([int(pump.get(g, 0)) for g in groups], dtype="int64")
        return out

    def series(self, level: Level, periods: Sequence[str], counts: Sequence[str]) -> pd.DataFrame:
        """One row per period of the whole programme: the counts (shown) and pump_days."""
        counts = [c for c in counts if c != "pump_days"]
        frames = [self.table(level, p, ALL, counts).assign(period=p) for p in periods]
        if not frames:
            return pd.DataFrame(columns=["period", *counts, "pump_days"])
        out = pd.concat(frames, ignore_index=True)
        out = out[out["group"] == ALL] if "group" in out else out
        return out.drop(columns=["group"]).reset_index(drop=True)[["period", *counts, "pump_days"]]

    def value(self, level: Level, period: str, dim: str, group: str, count: str) -> object:
        f = self._rows(level, period, dim)
        hit = f[(f["group"] == group) & (f["count"] == count)]
        return hit["shown"].iloc[0] if len(hit) else 0


# --- counts of a scope -------------------------------------------------------------


def _period_key(month: pd.Series, per: Level) -> pd.Series:
    if per == "month":
        return month
    if per == "quarter":
        return month.map(quarter_of)
    return pd.Series("period", index=month.index)


_ACTIVE_SQL = """
SELECT {key} AS period, coalesce({g}, 'unknown') AS "group", count(DISTINCT patient_id) AS value
FROM {exposure}
WHERE pump_days > 0 AND month_start BETWEEN $first AND $last
GROUP BY ALL
"""


def _active(
    cut: Cutoff, first: str, last: str, dim: str, per: Level, sel: Selection
) -> pd.DataFrame:
    """Active patients per quarter or whole period (not the sum of the months')."""
    key = {
        "quarter": "CAST(year(month_start) AS VARCHAR) || 'Q' || CAST(quarter(month_start) AS VARCHAR)",
        "period": "'period'",
        "month": "strftime(month_start, '%Y-%m')",
    }[per]
    g = "'all'" if dim == ALL else DIMENSION[dim].column
    sql, params = with_facts(_ACTIVE_SQL.replace("{key}", key).replace("{g}", g), sel)
    bounds = {
        "first": dt.date.fromisoformat(first + "-01"),
        "last": dt.date.fromisoformat(last + "-01"),
    }
    return cut.ready().execute(sql, {**bounds, **params}).df()


def metric_cells(
    cut: Cutoff, first: str, last: str, per: Level, dims: Iterable[str], sel: Selection = ()
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Metrics counts per period (month, quarter or the whole range) and group, from the
    metrics table (monthly_metrics: the CLI's own figures, summed over months)."""
    cells, days = [], []
    for dim in dims:
        by = None if dim == ALL else dim
        m = monthly_metrics(cut.ready(), cut.as_of, by, first, last, cut.config, selection=sel)
        m = m.assign(period=_period_key(m["month"], per), dim=dim)
        sums = m.groupby(["period", "dim", "group"], as_index=False)[list(COUNT_COLUMNS)].sum()
        if per != "month":
            active = _active(cut, first, last, dim, per, sel)
            sums = sums.drop(columns=["active_patients"]).merge(
                active.rename(columns={"value": "active_patients"}),
                on=["period", "group"],
                how="left",
            )
            sums["active_patients"] = sums["active_patients"].fillna(0).astype("int64")
        days.append(sums[["period", "dim", "group", "pump_days"]])
        long = sums.melt(
            id_vars=["period", "dim", "group"], value_vars=list(METRIC_COUNTS),
            var_name="count", value_name="value",
        )  # fmt: skip
        cells.append(long)
    frame = pd.concat(cells, ignore_index=True).assign(level=per)
    pump_days = pd.concat(days, ignore_index=True).assign(level=per)
    return frame, pump_days


def breakdown_cells(
    cut: Cutoff, first: str, last: str, per: Per, sel: Selection = ()
) -> pd.DataFrame:
    """The breakdown counts (engine/breakdowns.py) per period of the whole selection, with
    the derived totals `reports_all` (reports in and outside episodes) and `serious`."""
    start = dt.date.fromisoformat(first + "-01")
    end = (pd.Timestamp(last + "-01") + pd.offsets.MonthEnd(0)).date()
    df = breakdown_counts(cut.ready(), start, min(end, cut.as_of), per, sel)
    extra = []
    for period, part in df.groupby("period"):
        sev = part[part["count"].str.startswith("severity|")]["value"].sum()
        ser = part[part["count"].str.startswith("serious|")]["value"].sum()
        extra += [(period, "reports_all", int(sev)), (period, "serious", int(ser))]
    df = pd.concat(
        [df, pd.DataFrame(extra, columns=["period", "count", "value"])], ignore_index=True
    )
    return df.assign(level=per, dim=ALL, group=ALL)


# --- relations ---------------------------------------------------------------------


def breakdown_parts() -> dict[str, list[str]]:
    """total count -> its parts, within one period and group (the breakdowns' sums)."""
    parts: dict[str, list[str]] = {"refills_due": list(DUE_STATUS_IDS)}
    cats = list(WORDS["category"])
    parts["complications"] = [f"category|{c}" for c in cats]
    for c in cats:
        parts[f"category|{c}"] = [f"code|{code.id}" for code in CODES if code.category == c]
    for c in cats:
        parts[f"category|{c}#surgery"] = [f"surgery|{c}|{b[0]}" for b in SURGERY_BUCKETS]
    severities = [*WORDS["severity"], "unknown"]
    parts["reports_all"] = [f"severity|{s}" for s in severities]
    parts["serious"] = [f"serious|{s}" for s in severities]
    for status in ("late", "missed", "overdue"):
        parts[status] = [f"{status}|{b[0]}" for b in LATE_BUCKETS]
    return parts


def relations(frame: pd.DataFrame) -> list[Relation]:
    """Every linear relation among the cells of `frame` (row positions): totals and their
    parts within a cell group, all groups and each group of a dimension, a quarter and
    its months."""
    f = frame.reset_index(drop=True)
    index = {
        k: i
        for i, k in enumerate(
            zip(f["level"], f["period"], f["dim"], f["group"], f["count"], strict=True)
        )
    }
    out: list[Relation] = []

    def add(total: tuple[str, ...], parts: Sequence[tuple[str, ...]]) -> None:
        if total in index:
            members = [index[p] for p in parts if p in index]
            if members:
                out.append((index[total], members))

    keys = f[["level", "period", "dim", "group"]].drop_duplicates().itertuples(index=False)
    for level, period, dim, group in keys:
        for total, parts in breakdown_parts().items():
            name = total.split("#")[0]
            add((level, period, dim, group, name), [(level, period, dim, group, p) for p in parts])
    alls = f[(f["dim"] == ALL) & f["count"].isin(METRIC_COUNTS)]
    groups = f[f["dim"] != ALL][["level", "period", "dim", "group"]].drop_duplicates()
    by_dim = groups.groupby(["level", "period", "dim"])["group"].apply(list).to_dict()
    for level, period, _, _, count in alls[["level", "period", "dim", "group", "count"]].itertuples(
        index=False
    ):
        for dim in BY_IDS:
            members = by_dim.get((level, period, dim), [])
            add((level, period, ALL, ALL, count), [(level, period, dim, g, count) for g in members])
    quarters = f[f["level"] == "quarter"]
    for _, period, dim, group, count in quarters[
        ["level", "period", "dim", "group", "count"]
    ].itertuples(index=False):
        if count in NOT_ADDITIVE_IN_TIME:
            continue
        months = [("month", m, dim, group, count) for m in quarter_months(period)]
        add(("quarter", period, dim, group, count), months)
    return out


# --- the two kinds of cells ----------------------------------------------------------


def scope_cells(
    cut: Cutoff, first: str, last: str, per: Level, dims: Iterable[str], sel: Selection = ()
) -> Cells:
    """Counts for the QI committee (nothing hidden)."""
    metrics, days = metric_cells(cut, first, last, per, dims, sel)
    breakdown = breakdown_cells(cut, first, last, per, sel) if per != "month" else None
    frame = pd.concat([metrics, breakdown], ignore_index=True) if breakdown is not None else metrics
    return Cells(frame.assign(shown=frame["value"].astype(object)), days)


def complete_quarters(cut: Cutoff, first_month: str) -> list[str]:
    """Calendar quarters from the data's first month whose last day is on or before the
    cut-off (a quarter still running is never shared: its figures would change)."""
    first_q = pd.Period(first_month, "M").asfreq("Q")
    last_q = pd.Period(cut.as_of, "Q")
    if pd.Period(cut.as_of, "D") != last_q.asfreq("D", "end"):
        last_q -= 1
    if last_q < first_q:
        return []
    return [f"{q.year}Q{q.quarter}" for q in pd.period_range(first_q, last_q, freq="Q")]


def shared_cells(cut: Cutoff, threshold: int) -> Cells:
    """Every count a shared view can show, protected jointly (see the module docstring)."""
    first = monthly_metrics(cut.ready(), cut.as_of, None, None, None, cut.config)["month"]
    quarters = complete_quarters(cut, str(first.iloc[0])) if len(first) else []
    if not quarters:
        empty = pd.DataFrame(columns=["level", "period", "dim", "group", "count", "value", "shown"])
        return Cells(
            empty, pd.DataFrame(columns=["level", "period", "dim", "group", "pump_days"]), threshold
        )
    lo, hi = quarter_months(quarters[0])[0], quarter_months(quarters[-1])[-1]
    months, month_days = metric_cells(cut, lo, hi, "month", [ALL])
    qs, q_days = metric_cells(cut, lo, hi, "quarter", [ALL, *BY_IDS])
    frame = pd.concat([months, qs, breakdown_cells(cut, lo, hi, "quarter")], ignore_index=True)
    frame = frame.reset_index(drop=True)
    prot = protect(
        frame["value"].to_numpy(dtype=float), relations(frame), threshold, cell_weights(frame)
    )
    shown = frame["value"].astype(object).to_numpy().copy()
    shown[prot.primary] = small_mark(threshold)
    shown[prot.complement] = COMPLEMENT
    frame = frame.assign(shown=shown)
    return Cells(frame, pd.concat([month_days, q_days], ignore_index=True), threshold)


def cell_weights(frame: pd.DataFrame) -> np.ndarray:
    """How much hiding a cell costs the reader, per unit: the whole programme's headline
    counts most, then groups' counts; totals made only to tie breakdowns together (all
    reports by severity, serious events) least."""
    w = np.ones(len(frame))
    headline = (frame["dim"] == ALL) & frame["count"].isin(METRIC_COUNTS)
    w[headline.to_numpy()] = 4.0
    w[frame["count"].isin(["reports_all", "serious"]).to_numpy()] = 0.25
    return w


def hidden_mask(values: pd.Series) -> np.ndarray:
    """True where a shown value is a mark."""
    return values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
