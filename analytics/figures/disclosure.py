"""Small-cell suppression for outputs shared outside the QI committee (METRICS.md).

Every count from 1 to `threshold - 1` is shown as `<threshold` (zero may be shown), every
figure derived from a suppressed count is blanked, and where a suppressed cell could be
worked out from a visible total and the other visible cells of its row or column, the
smallest other non-zero cell is suppressed too, or, when there is none, the total.
Vectorised over rows; the loops run over the (few) constraints, not the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analytics.engine.metrics import COUNT_COLUMNS


@dataclass(frozen=True)
class Rules:
    """What to suppress in one table.

    counts: columns holding counts of people or events.
    derived: column -> the count columns it was computed from (blanked with them).
    row_totals: total column -> its component columns in the same row.
    column_total: (key column, total value, partition columns): rows whose key equals the
        total value are the totals of the other rows of the same partition.
    """

    counts: Sequence[str]
    derived: Mapping[str, Sequence[str]] = field(default_factory=dict)
    row_totals: Mapping[str, Sequence[str]] = field(default_factory=dict)
    column_total: tuple[str, str, Sequence[str]] | None = None


def small_mask(values: pd.Series, threshold: int) -> pd.Series:
    v = pd.to_numeric(values, errors="coerce")
    return (v >= 1) & (v < threshold)


def _protect_rows(df: pd.DataFrame, mask: pd.DataFrame, total: str, parts: Sequence[str]) -> bool:
    """One pass of complementary suppression for a row constraint; True if it masked more."""
    parts = [p for p in parts if p in df.columns]
    if total not in df.columns or not parts:
        return False
    vals = df[parts].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(dtype=float)
    m = mask[parts].to_numpy()
    exposed = (~mask[total].to_numpy()) & (m.sum(axis=1) == 1)
    if not exposed.any():
        return False
    candidates = np.where(~m & (vals > 0), vals, np.inf)
    best = candidates.argmin(axis=1)
    has = np.isfinite(candidates.min(axis=1))
    changed = False
    for j, col in enumerate(parts):
        rows = exposed & has & (best == j)
        if rows.any():
            mask.loc[rows, col] = True
            changed = True
    rows = exposed & ~has
    if rows.any():
        mask.loc[rows, total] = True
        changed = True
    return changed


def _protect_columns(
    df: pd.DataFrame,
    mask: pd.DataFrame,
    counts: Sequence[str],
    key: str,
    total_value: str,
    partition: Sequence[str],
) -> bool:
    """Complementary suppression down a column, within each partition with a total row."""
    changed = False
    is_total = df[key].astype(str) == total_value
    groups = (
        df.groupby(list(partition), sort=False).indices if partition else {(): np.arange(len(df))}
    )
    for idx in groups.values():
        idx = np.asarray(idx)
        tot = idx[is_total.to_numpy()[idx]]
        members = idx[~is_total.to_numpy()[idx]]
        if len(tot) != 1 or len(members) == 0:
            continue
        for col in counts:
            m = mask[col].to_numpy()
            if m[tot[0]] or m[members].sum() != 1:
                continue
            vals = pd.to_numeric(df[col], errors="coerce").fillna(0).to_numpy(dtype=float)
            cand = [i for i in members if not m[i] and vals[i] > 0]
            target = min(cand, key=lambda i: vals[i]) if cand else tot[0]
            mask.loc[mask.index[target], col] = True
            changed = True
    return changed


def suppression_mask(df: pd.DataFrame, rules: Rules, threshold: int) -> pd.DataFrame:
    """Boolean frame: True where a count cell must be hidden."""
    counts = [c for c in rules.counts if c in df.columns]
    mask = pd.DataFrame({c: small_mask(df[c], threshold) for c in counts}, index=df.index)
    for _ in range(50):  # each pass only adds cells; converges quickly
        changed = False
        for total, parts in rules.row_totals.items():
            changed |= _protect_rows(df, mask, total, parts)
        if rules.column_total is not None:
            key, total_value, partition = rules.column_total
            changed |= _protect_columns(df, mask, counts, key, total_value, partition)
        if not changed:
            break
    return mask


def suppress_table(df: pd.DataFrame, rules: Rules, threshold: int) -> pd.DataFrame:
    """A copy of `df` with small counts shown as `<threshold` and dependent figures blanked."""
    if threshold <= 1 or df.empty:
        return df.copy()
    mask = suppression_mask(df, rules, threshold)
    out = df.copy()
    label = f"<{threshold}"
    for col in mask.columns:
        if mask[col].any():
            out[col] = out[col].astype(object)
            out.loc[mask[col], col] = label
    for col, sources in rules.derived.items():
        if col not in out.columns:
            continue
        hidden = np.zeros(len(out), dtype=bool)
        for s in sources:
            if s in mask.columns:
                hidden |= mask[s].to_numpy()
        if hidden.any():
            out[col] = out[col].astype(object)
            out.loc[hidden, col] = None
    return out


METRICS_RULES = Rules(
    # every count but pump-days (days of therapy, not people or events)
    counts=tuple(c for c in COUNT_COLUMNS if c != "pump_days"),
    derived={
        "on_time_rate": ("on_time", "refills_due"),
        "complication_rate_per_1000": ("complications",),
        "rate_ci_low": ("complications",),
        "rate_ci_high": ("complications",),
        "refill_error_rate_per_10000": ("refill_errors", "percutaneous_refills"),
        "refill_error_rate_per_100": ("refill_errors", "fills"),
    },
    row_totals={"refills_due": ("on_time", "late", "missed", "overdue")},
)
"""Rules for the `pumpqi metrics` table (one row per month and group)."""

COMPLICATION_RULES = Rules(
    counts=("events", "reports", "serious"),
    # the rate counts events or reports (count_unit): blanked when either is hidden
    derived=dict.fromkeys(("rate_per_1000", "ci_low", "ci_high"), ("events", "reports")),
)
"""Rules for the `pumpqi complications` table (one row per group and category or code)."""

SURGICAL_RULES = Rules(
    counts=("procedures", "with_outcome", "window_open"),
    derived=dict.fromkeys(("rate_per_100", "ci_low", "ci_high"), ("procedures", "with_outcome")),
)
"""Rules for the `pumpqi complications --surgical` table (one row per period, group and
outcome window)."""


def suppress_groups(
    groups: pd.DataFrame,
    rules: Rules,
    threshold: int,
    totals: pd.DataFrame | None = None,
    key: str = "group",
    partition: Sequence[str] = (),
) -> pd.DataFrame:
    """Suppress a by-group table whose all-groups totals are shown elsewhere (the same
    command without --by, the dashboard's overall figures): a group hidden alone under a
    visible total could be worked out by subtraction, so another group is hidden too.

    `totals` holds one row per partition (e.g. month) with the same count columns; by
    default the sum of the groups (right for counts where each item is in one group).
    Returns the group rows only.
    """
    if threshold <= 1 or groups.empty:
        return groups.copy()
    if totals is None:
        counts = [c for c in rules.counts if c in groups.columns]
        if partition:
            totals = groups.groupby(list(partition), as_index=False)[counts].sum()
        else:
            totals = groups[counts].sum().to_frame().T
    marker = "\x00all"
    combined = pd.concat(
        [groups.assign(**{key: groups[key].astype(str)}), totals.assign(**{key: marker})],
        ignore_index=True,
    )
    column_total = (key, marker, tuple(partition))
    out = suppress_table(combined, replace(rules, column_total=column_total), threshold)
    return out[out[key] != marker].reset_index(drop=True)
