"""Refills page data: the on-time p-chart, statuses by month, how late, by group,
early refills and residual-volume discrepancies."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.complications import refill_quality
from analytics.engine.metrics import monthly_metrics, on_time_rate
from analytics.engine.refills import DUE_STATUSES, refills
from analytics.figures.common import ON_TIME, ChartData, monthly_chart, share, share_groups
from analytics.figures.disclosure import Rules
from analytics.figures.filters import DIMENSIONS, Filters
from analytics.figures.labels import STATUS_LABELS
from analytics.figures.overview import PageBase, page_base

LATE_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("1-7 days", 1, 7),
    ("8-14 days", 8, 14),
    ("15-30 days", 15, 30),
    ("31-60 days", 31, 60),
    ("over 60 days", 61, 10**9),
)
GROUP_RULES = Rules(
    counts=("refills_due", "on_time", "late", "missed", "overdue", "early"),
    derived={"on_time_rate": ("on_time", "refills_due")},
    row_totals={"refills_due": ("on_time", "late", "missed", "overdue")},
)
COUNT_RULES = Rules(counts=("refills",))
QUALITY_RULES = Rules(
    counts=("fills", "refills_with_residuals", "residual_flags", "refill_errors"),
    derived={
        "residual_flags_per_100": ("residual_flags", "refills_with_residuals"),
        "refill_error_rate_per_100": ("refill_errors", "fills"),
    },
)


@dataclass(frozen=True)
class RefillsData:
    base: PageBase
    chart: ChartData | None
    statuses: pd.DataFrame  # month, status, refills (NaN when hidden), shown
    excluded: pd.DataFrame  # status, refills: pending / not_due / unknown in the period
    days_late: pd.DataFrame  # bucket, status, refills
    by_group: dict[str, pd.DataFrame]  # dimension -> group, counts, on_time_rate
    early: pd.DataFrame  # refills flagged early (list; empty in sharing mode)
    early_count: str
    early_days: int
    residual_summary: pd.DataFrame
    residual_flags: pd.DataFrame  # flagged refills (list; empty in sharing mode)


def refills_page(
    con: duckdb.DuckDBPyConnection, filters: Filters, config: Config = DEFAULT
) -> RefillsData:
    """Everything the Refills page shows, for the filters (refills by due month)."""
    base, metrics = page_base(con, filters, config)
    empty = pd.DataFrame()
    if base.message:
        return RefillsData(
            base, None, empty, empty, empty, {}, empty, "0", config.early_days, empty, empty
        )
    chart = monthly_chart(metrics, ON_TIME, base.notes, base.metrics if filters.sharing else None)
    detail = refills(con, base.as_of, config, detail=True)
    start, end = filters.period.bounds(base.as_of)
    due_in = detail[detail["due_date"].between(pd.Timestamp(start), pd.Timestamp(end))]
    filled_in = detail[detail["fill_date"].between(pd.Timestamp(start), pd.Timestamp(end))]
    early = due_in[due_in["early"]]
    flagged = filled_in[filled_in["residual_flag"].fillna(False).astype(bool)]
    quality = refill_quality(con, base.as_of, None, filters.period, config)
    return RefillsData(
        base=base,
        chart=chart,
        statuses=_statuses(base.metrics),
        excluded=share(_excluded(detail, start, end), COUNT_RULES, filters, config),
        days_late=share(_days_late(due_in), COUNT_RULES, filters, config),
        by_group={
            dim: share_groups(
                _group_table(con, base, filters, config, dim), GROUP_RULES, filters, config
            )
            for dim in DIMENSIONS
        },
        early=_rows(early, filters, ["due_date", "next_fill_date"]),
        early_count=_count_text(len(early), filters, config),
        early_days=config.early_days,
        residual_summary=share(
            quality[
                [
                    "fills",
                    "refills_with_residuals",
                    "residual_flags",
                    "residual_flags_per_100",
                    "refill_errors",
                    "refill_error_rate_per_100",
                ]
            ],
            QUALITY_RULES,
            filters,
            config,
        ),
        residual_flags=_rows(
            flagged, filters, ["fill_type", "residual_diff_ml", "residual_diff_pct"]
        ),
    )


def _statuses(shown: pd.DataFrame) -> pd.DataFrame:
    long = shown.melt(
        id_vars=["month"], value_vars=list(DUE_STATUSES), var_name="status", value_name="shown"
    )
    long["refills"] = pd.to_numeric(long["shown"], errors="coerce")
    long["status"] = long["status"].map(STATUS_LABELS)
    long["shown"] = long["shown"].astype(str)
    return long[["month", "status", "refills", "shown"]]


def _excluded(detail: pd.DataFrame, start: object, end: object) -> pd.DataFrame:
    in_period = detail["fill_date"].between(pd.Timestamp(start), pd.Timestamp(end))  # type: ignore[arg-type]
    rows = []
    for status in ("pending", "not_due", "unknown"):
        n = int(((detail["status"] == status) & in_period).sum())
        rows.append({"status": STATUS_LABELS[status], "refills": n})
    return pd.DataFrame(rows)


def _days_late(due_in: pd.DataFrame) -> pd.DataFrame:
    late = due_in[due_in["status"].isin(["late", "missed", "overdue"])]
    days = late["days_late"].astype(float).to_numpy()
    rows = []
    for label, lo, hi in LATE_BUCKETS:
        for status in ("late", "overdue", "missed"):
            sel = (days >= lo) & (days <= hi) & (late["status"] == status).to_numpy()
            rows.append(
                {"bucket": label, "status": STATUS_LABELS[status], "refills": int(np.sum(sel))}
            )
    return pd.DataFrame(rows)


def _group_table(
    con: duckdb.DuckDBPyConnection, base: PageBase, filters: Filters, config: Config, by: str
) -> pd.DataFrame:
    m = monthly_metrics(con, base.as_of, by, filters.month_from, filters.month_to, config)
    cols = ["refills_due", "on_time", "late", "missed", "overdue"]
    g = m.groupby("group", as_index=False)[cols].sum()
    g = g[g["refills_due"] > 0].reset_index(drop=True)
    g["on_time_rate"] = on_time_rate(g["on_time"], g["refills_due"])
    return g


def _rows(df: pd.DataFrame, filters: Filters, extra: list[str]) -> pd.DataFrame:
    """Row-level lists are for the QI committee only: empty in sharing mode."""
    if filters.sharing:
        return pd.DataFrame()
    cols = ["patient_id", "fill_date", *extra, "site", "drug", "pump_model"]
    return df[cols].reset_index(drop=True)


def _count_text(n: int, filters: Filters, config: Config) -> str:
    if filters.sharing and 1 <= n < config.suppress_below:
        return f"<{config.suppress_below}"
    return f"{n:,}"
