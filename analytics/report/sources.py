"""Small views of library outputs for the report: lists and counts, never new metrics.

Each function takes a table the library returned (or the database's own logs,
ingest_log and quarantine, whose raw rows are never read) and selects, sorts or
counts rows of it for one table of the report.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.engine.complications import TIME_BUCKETS
from analytics.engine.refills import episodes
from analytics.report.period import ReportMonth

WORKLIST_STATUSES: tuple[str, ...] = ("missed", "overdue", "pending")
NOT_IN_RATE: tuple[tuple[str, str], ...] = (
    ("pending", "due in the month, not refilled yet and not yet past due + grace"),
    ("not_due", "due in the month, but the episode ended before the due date + grace"),
    ("unknown", "dated in the month, due date unknown (see data quality)"),
)


def ingest_manifest(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The input files behind the database: name, table, content hash, when loaded."""
    return con.execute(
        """
        SELECT ingest_id, table_name, file_name, content_hash, rows_loaded,
               strftime(ingested_at, '%Y-%m-%d %H:%M:%S') AS ingested_at, package_version
        FROM ingest_log ORDER BY ingest_id, table_name, file_name
        """
    ).df()


def _in_month(dates: pd.Series, month: ReportMonth) -> pd.Series:
    return pd.to_datetime(dates).dt.strftime("%Y-%m") == month.month


def not_in_rate(fills: pd.DataFrame, month: ReportMonth) -> pd.DataFrame:
    """Fills of the month left out of the on-time rate: pending and not_due (by due month),
    unknown (by fill month)."""
    rows = []
    for status, meaning in NOT_IN_RATE:
        when = fills["fill_date"] if status == "unknown" else fills["due_date"]
        count = int(((fills["status"] == status) & _in_month(when, month)).sum())
        rows.append({"status": status, "fills": count, "meaning": meaning})
    return pd.DataFrame(rows)


def missed_fills(fills: pd.DataFrame, month: ReportMonth) -> pd.DataFrame:
    """Fills due in the month whose pump ran dry (status missed), by due date."""
    rows = fills[(fills["status"] == "missed") & _in_month(fills["due_date"], month)]
    cols = ["patient_id", "site", "drug", "fill_date", "due_date", "empty_date",
            "next_fill_date", "dry_days"]  # fmt: skip
    rows = rows.sort_values(["due_date", "site", "patient_id", "fill_visit_id"])
    out = rows[cols].reset_index(drop=True)
    out["drug"] = out["drug"].fillna("unknown drug")
    return out


def list_counts(missed: pd.DataFrame, serious: pd.DataFrame) -> pd.DataFrame:
    """How many rows the two lists of the month hold (shown instead of them when suppressed)."""
    return pd.DataFrame(
        {"list": ["missed fills", "serious events"], "count": [len(missed), len(serious)]}
    ).astype({"count": "int64"})


def worklist_counts(items: pd.DataFrame) -> pd.DataFrame:
    """The worklist at the cut-off, counted by site and status, with an 'all' row."""
    sites = sorted(items["site"].fillna("unknown").unique().tolist())
    rows = []
    for site in [*sites, "all"]:
        part = items if site == "all" else items[items["site"].fillna("unknown") == site]
        counts = {s: int((part["status"] == s).sum()) for s in WORKLIST_STATUSES}
        rows.append({"site": site, **counts, "total": int(len(part))})
    return pd.DataFrame(rows, columns=["site", *WORKLIST_STATUSES, "total"])


def surgery_pivot(table: pd.DataFrame) -> pd.DataFrame:
    """Reports per category (rows) and time since surgery (columns), with a total;
    categories without reports are left out."""
    wide = table.pivot(index="category", columns="time_since_surgery", values="reports")
    wide = wide.reindex(columns=list(TIME_BUCKETS)).fillna(0).astype("int64")
    wide.columns = [c.replace(" ", "_") for c in wide.columns]
    wide["total"] = wide.sum(axis=1)
    wide = wide[wide["total"] > 0].sort_index()
    return wide.reset_index().rename_axis(columns=None)


def _quarantine(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        """
        SELECT 'quarantined rows' AS "check",
               table_name || ': ' || coalesce(column_name || ' – ', '') || reason AS detail,
               count(*) AS "count"
        FROM quarantine GROUP BY ALL ORDER BY detail
        """
    ).df()


def data_quality(
    con: duckdb.DuckDBPyConnection,
    fills: pd.DataFrame,
    outside: pd.DataFrame,
    month: ReportMonth,
    unknown_total: int,
) -> pd.DataFrame:
    """Rows set aside at ingest (by table, column and reason) and the engine's own
    warnings: unknown due dates (`fills` holds the month's fills, `unknown_total` counts
    all to the cut-off), overfilled reservoirs, reports outside an episode,
    left-truncated episodes."""
    unknown = fills["status"] == "unknown"
    this = _in_month(fills["fill_date"], month)
    eps = episodes(con, month.as_of)
    checks = [
        ("unknown due date", "fills dated in the month", int((unknown & this).sum())),
        ("unknown due date", "all fills to the cut-off", int(unknown_total)),
        ("overfilled", "fills in the month above the reservoir size", int((fills["overfilled"] & this).sum())),
        ("outside episode", "reports in the month outside any therapy episode", int(len(outside))),
        ("left-truncated", "episodes that started before the data", int(eps["left_truncated"].sum())),
    ]  # fmt: skip
    engine = pd.DataFrame(checks, columns=["check", "detail", "count"])
    frame = pd.concat([_quarantine(con), engine], ignore_index=True)
    frame["count"] = frame["count"].astype("int64")
    return frame


def funnel_with_total(table: pd.DataFrame) -> pd.DataFrame:
    """The funnel table plus an 'all sites' row holding the pooled count and rate."""
    if table.empty:
        return table
    total = {
        "group": "all sites",
        "reports": int(table["reports"].sum()),
        "pump_days": int(table["pump_days"].sum()),
        "rate_per_1000": float(table["pooled_rate_per_1000"].iloc[0]),
        "pooled_rate_per_1000": float(table["pooled_rate_per_1000"].iloc[0]),
        "signal": "",
    }
    out = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    return out.astype({"reports": "int64", "pump_days": "int64"})
