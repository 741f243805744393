"""Monthly metrics (the `pumpqi metrics` table), by month and optionally by group.

All counts come from the engine tables (analytics.engine.tables), so the same month gives
the same numbers in the CLI, the dashboard and the report.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping

import duckdb
import numpy as np
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.intervals import garwood
from analytics.engine.selection import Selection, with_facts
from analytics.engine.tables import (
    CACHE_PREFIX,
    EARLIEST,
    prepare,
    reused_from,
    table_exists,
    uses_stored_tables,
)
from analytics.errors import PumpqiError
from analytics.vocabulary import COUNT_UNITS, DEFAULT_COUNT_UNIT, DIMENSIONS, DUE_STATUS_IDS

GROUP_COLUMNS: dict[str, str] = {
    "all": "'all'",
    **{d.id: d.column for d in DIMENSIONS if d.by},
}
"""The allowed `--by` values and the engine column each groups on (a fixed allow-list)."""

COUNT_COLUMNS: tuple[str, ...] = (
    "active_patients",
    "pump_days",
    "fills",
    "refills_due",
    *DUE_STATUS_IDS,
    "complications",
    "refill_errors",
    "percutaneous_refills",
)
"""The integer columns of the metrics table (counts, and pump-days). `complications`
counts events or reports (`count_unit`); `refill_errors` always counts reports."""

STORED_COUNT_COLUMNS: tuple[str, ...] = (
    *(c for c in COUNT_COLUMNS if c != "complications"),
    "complication_events",
    "complication_reports",
)
"""The counts stored per month and group: complications both per event and per report,
so that either unit is answered at once."""
UNIT_COLUMNS: dict[str, str] = {"event": "complication_events", "report": "complication_reports"}

METRIC_COLUMNS: tuple[str, ...] = (
    "month",
    "group",
    "active_patients",
    "pump_days",
    "fills",
    "refills_due",
    *DUE_STATUS_IDS,
    "on_time_rate",
    "complications",
    "count_unit",
    "complication_rate_per_1000",
    "rate_ci_low",
    "rate_ci_high",
    "refill_errors",
    "percutaneous_refills",
    "refill_error_rate_per_10000",
    "refill_error_rate_per_100",
)

MONTHS_SQL = """
    SELECT CAST(m AS DATE) AS month_start
    FROM generate_series(
        (SELECT min(month_start) FROM pq_exposure WHERE pump_days > 0),
        date_trunc('month', CAST($as_of AS DATE)), INTERVAL 1 MONTH) AS t(m)
    WHERE m BETWEEN $first AND $last
"""
"""The months of the metrics table: from the first with pump-days to the cut-off's."""
GROUPS_SQL = """
    -- every group of the data, in every month of the range (zeros where it had nothing)
    SELECT DISTINCT coalesce({g}, 'unknown') AS grp FROM {exposure} WHERE pump_days > 0
    UNION SELECT DISTINCT coalesce({g}, 'unknown') FROM {refills}
    UNION SELECT DISTINCT coalesce({g}, 'unknown') FROM {reports} WHERE in_episode
"""
"""The groups of the metrics table."""
EXPOSURE_COUNTS = """
    SELECT month_start, coalesce({g}, 'unknown') AS grp,
           count(DISTINCT patient_id) AS active_patients, sum(pump_days) AS pump_days
    FROM {exposure} WHERE pump_days > 0 AND month_start BETWEEN $first AND $last GROUP BY ALL
"""
"""Active patients and pump-days per month and group."""
_METRICS_SQL = """
WITH months AS ({months}),
exposure AS ({exposure_counts}),
fills AS (
    SELECT CAST(date_trunc('month', fill_date) AS DATE) AS month_start, coalesce({g}, 'unknown') AS grp,
           count(*) AS fills, count(*) FILTER (WHERE fill_type = 'refill') AS percutaneous_refills
    FROM {refills} WHERE fill_date BETWEEN $first AND $last_day GROUP BY ALL
),
due AS (
    SELECT CAST(date_trunc('month', due_date) AS DATE) AS month_start, coalesce({g}, 'unknown') AS grp,
           count(*) AS refills_due,
           {due_counts}
    FROM {refills}
    WHERE status IN ({due_list}) AND due_date BETWEEN $first AND $last_day
    GROUP BY ALL
),
reports AS (
    SELECT CAST(date_trunc('month', report_date) AS DATE) AS month_start, coalesce({g}, 'unknown') AS grp,
           -- an event counts in the month (and group) of its first report only
           count(*) FILTER (WHERE event_start) AS complication_events,
           count(*) AS complication_reports,
           count(*) FILTER (WHERE category = 'refill error') AS refill_errors
    FROM {reports} WHERE in_episode AND report_date BETWEEN $first AND $last_day GROUP BY ALL
),
groups AS ({groups})
SELECT strftime(m.month_start, '%Y-%m') AS month, g.grp AS "group",
       coalesce(e.active_patients, 0) AS active_patients, coalesce(e.pump_days, 0) AS pump_days,
       coalesce(f.fills, 0) AS fills, coalesce(d.refills_due, 0) AS refills_due,
       {due_columns},
       coalesce(r.refill_errors, 0) AS refill_errors,
       coalesce(f.percutaneous_refills, 0) AS percutaneous_refills,
       coalesce(r.complication_events, 0) AS complication_events,
       coalesce(r.complication_reports, 0) AS complication_reports
FROM months m CROSS JOIN groups g
LEFT JOIN exposure e ON e.month_start = m.month_start AND e.grp = g.grp
LEFT JOIN fills f ON f.month_start = m.month_start AND f.grp = g.grp
LEFT JOIN due d ON d.month_start = m.month_start AND d.grp = g.grp
LEFT JOIN reports r ON r.month_start = m.month_start AND r.grp = g.grp
ORDER BY month, "group"
"""
_METRICS_SQL = (
    _METRICS_SQL.replace(
        "{due_counts}",
        ", ".join(f"count(*) FILTER (WHERE status = '{s}') AS {s}" for s in DUE_STATUS_IDS),
    )
    .replace("{due_list}", ", ".join(f"'{s}'" for s in DUE_STATUS_IDS))
    .replace("{due_columns}", ", ".join(f"coalesce(d.{s}, 0) AS {s}" for s in DUE_STATUS_IDS))
)
"""The status columns come from the vocabulary (fixed ids, never user input)."""


def counts_sql(
    by: str | None,
    months: str = MONTHS_SQL,
    groups: str = GROUPS_SQL,
    exposure_counts: str = EXPOSURE_COUNTS,
) -> str:
    """The SQL of the metrics counts grouped by `by` (allow-list), for these months and
    groups (default: every month from the first with pump-days to the cut-off's, every
    group of the data) and these exposure counts (default: from the exposure table),
    facts still named {refills}, {exposure}, {reports} (with_facts)."""
    return (
        _METRICS_SQL.replace("{months}", months)
        .replace("{groups}", groups)
        .replace("{exposure_counts}", exposure_counts)
        .replace("{g}", group_expr(by))
    )


FIRST_MONTH = EARLIEST
LAST_MONTH = dt.date(9999, 12, 1)


def group_expr(by: str | None, allowed: Mapping[str, str] = GROUP_COLUMNS) -> str:
    """The engine column for a `--by` value, from a fixed allow-list only ('all' or None:
    one group)."""
    key = by or "all"
    if key == "all":
        return "'all'"
    if key not in allowed:
        names = ", ".join(k for k in allowed if k != "all")
        raise PumpqiError(f"--by: '{by}' is not one of {names}")
    return allowed[key]


def _month_bound(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        dt.date.fromisoformat(value + "-01")
    except ValueError:
        raise PumpqiError(f"{option}: '{value}' is not a month (YYYY-MM)") from None
    return value


STORED_METRICS = f"{CACHE_PREFIX}metrics"
"""The metrics table for every `--by` value, stored by ingest beside the engine tables
for the data's end (`store_metrics`): the dashboard's and the CLI's usual question."""
_STORED_SQL = f"""
SELECT month, "group", {", ".join(STORED_COUNT_COLUMNS)} FROM main.{STORED_METRICS}
WHERE by_column = $by AND month BETWEEN strftime($first, '%Y-%m') AND strftime($last, '%Y-%m')
ORDER BY month, "group"
"""


def store_metrics(con: duckdb.DuckDBPyConnection) -> None:
    """Store the counts of the metrics table for every `--by` value as of the stored
    engine tables (called by ingest, in its transaction, after `engine.build_cache`)."""
    con.execute(f"DROP TABLE IF EXISTS main.{STORED_METRICS}")
    if not con.execute("SELECT count(*) FROM visits").fetchall()[0][0]:
        return
    as_of = prepare(con)
    # one part per --by value, each named by a bound parameter ($by_site = 'site', ...)
    parts = [
        f"SELECT CAST($by_{by} AS VARCHAR) AS by_column, * FROM ({with_facts(counts_sql(by))[0]})"
        for by in GROUP_COLUMNS
    ]
    params = {f"by_{by}": by for by in GROUP_COLUMNS}
    bounds = {"first": FIRST_MONTH, "last": LAST_MONTH, "last_day": dt.date(9999, 12, 31)}
    con.execute(
        f"CREATE TABLE main.{STORED_METRICS} AS {' UNION ALL '.join(parts)}",
        {"as_of": as_of, **bounds, **params},
    )


REUSED_EXPOSURE_COUNTS = f"""
    -- the months before $reused_from: the exposure rows are the stored ones (the engine
    -- tables were completed from them for an earlier cut-off), so their counts are the
    -- stored counts, made by EXPOSURE_COUNTS from those same rows
    SELECT CAST(strptime(month, '%Y-%m') AS DATE) AS month_start, "group" AS grp,
           active_patients, pump_days
    FROM main.{STORED_METRICS}
    WHERE by_column = $by AND pump_days > 0
      AND month < strftime(CAST($reused_from AS DATE), '%Y-%m')
      AND month BETWEEN strftime($first, '%Y-%m') AND strftime($last, '%Y-%m')
    UNION ALL
    SELECT month_start, coalesce({{g}}, 'unknown') AS grp,
           count(DISTINCT patient_id) AS active_patients, sum(pump_days) AS pump_days
    FROM {{exposure}}
    WHERE pump_days > 0 AND month_start >= CAST($reused_from AS DATE)
      AND month_start BETWEEN $first AND $last
    GROUP BY ALL
"""
"""EXPOSURE_COUNTS for engine tables completed from the stored ones (tables.reused_from):
only the cut-off's month is counted again (counting distinct patients over every month
is most of the metrics table's cost)."""


def _has_stored_metrics(con: duckdb.DuckDBPyConnection) -> bool:
    return uses_stored_tables(con) and table_exists(con, STORED_METRICS, temporary=False)


def _counts(
    con: duckdb.DuckDBPyConnection,
    by: str | None,
    bounds: Mapping[str, object],
    selection: Selection,
) -> pd.DataFrame:
    """The metrics counts computed from the engine tables (for an earlier cut-off, the
    stored counts of the months before its own for active patients and pump-days)."""
    reused = reused_from(con) if not selection else None
    if reused is not None and table_exists(con, STORED_METRICS, temporary=False):
        sql, params = with_facts(counts_sql(by, exposure_counts=REUSED_EXPOSURE_COUNTS))
        params = {**params, "by": by or "all", "reused_from": reused}
    else:
        sql, params = with_facts(counts_sql(by), selection)
    return con.execute(sql, {**bounds, **params}).df()


def monthly_metrics(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    by: str | None = None,
    month_from: str | None = None,
    month_to: str | None = None,
    config: Config = DEFAULT,
    level: float = 0.95,
    selection: Selection = (),
    per: str = DEFAULT_COUNT_UNIT,
) -> pd.DataFrame:
    """The `metrics` table: one row per month (and group), of the selected groups. See
    each rate function.

    `per`: what `complications` and its rate count, "event" (default: reports of one
    patient and code chained within `event_merge_days` are one event, counted in the
    month and group of its first report) or "report"; the `count_unit` column says which.
    `refill_errors` always counts reports.

    Read from the stored counts when the engine tables are the stored ones (same as_of,
    same configuration) and nothing is selected, else computed; the two are the same
    figures."""
    unit = count_unit(per)
    as_of = prepare(con, as_of, config)
    group_expr(by)  # an unknown --by is refused before anything is read
    lo, hi = _month_bound(month_from, "--from"), _month_bound(month_to, "--to")
    first = dt.date.fromisoformat(lo + "-01") if lo else FIRST_MONTH
    last = dt.date.fromisoformat(hi + "-01") if hi else LAST_MONTH
    if not selection and _has_stored_metrics(con):
        df = con.execute(_STORED_SQL, {"by": by or "all", "first": first, "last": last}).df()
    else:
        last_day = last.replace(day=calendar.monthrange(last.year, last.month)[1])
        bounds = {"as_of": as_of, "first": first, "last": last, "last_day": last_day}
        df = _counts(con, by, bounds, selection)
    df["complications"] = df[UNIT_COLUMNS[unit]]
    df["count_unit"] = unit
    for col in COUNT_COLUMNS:
        df[col] = df[col].astype("int64")
    return add_rates(df, level)[list(METRIC_COLUMNS)]


def add_rates(counts: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """The metrics table's rates from its counts (one row per month and group, or sums
    over a period): the one place a count becomes a rate."""
    df = counts.copy()
    df["on_time_rate"] = on_time_rate(df["on_time"], df["refills_due"])
    rate, ci_lo, ci_hi = complication_rate(df["complications"], df["pump_days"], level)
    df["complication_rate_per_1000"], df["rate_ci_low"], df["rate_ci_high"] = rate, ci_lo, ci_hi
    df["refill_error_rate_per_10000"] = refill_error_rate_per_10000(
        df["refill_errors"], df["percutaneous_refills"]
    )
    df["refill_error_rate_per_100"] = refill_error_rate(df["refill_errors"], df["fills"])
    return df


def count_unit(per: str | None) -> str:
    """'event' or 'report' (None: the default, per event); anything else is refused."""
    unit = per or DEFAULT_COUNT_UNIT
    if unit not in COUNT_UNITS:
        raise PumpqiError(f"--per: '{per}' is not one of {', '.join(COUNT_UNITS)}")
    return unit


def _ratio(num: pd.Series, den: pd.Series, multiplier: float = 1.0) -> pd.Series:
    n = num.to_numpy(dtype=float)
    d = den.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(d > 0, n / np.where(d > 0, d, 1.0) * multiplier, np.nan)
    return pd.Series(out, index=num.index)


def on_time_rate(on_time: pd.Series, refills_due: pd.Series) -> pd.Series:
    """On-time refill rate. Numerator: fills due in the month (by due date) refilled by
    due + grace. Denominator: refills due = on_time + late + missed + overdue. Excluded:
    pending, not_due and unknown (shown separately). Empty when nothing was due."""
    return _ratio(on_time, refills_due)


def complication_rate(
    complications: pd.Series, pump_days: pd.Series, level: float = 0.95
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Complications per 1,000 pump-days with an exact Poisson (Garwood) interval.
    Numerator: complication events (by default: counted in the period of their first
    report) or reports dated in the period, inside a therapy episode (start <= date <=
    end; an event's episode is its first report's). Denominator: pump-days in the period.
    Excluded: reports outside any episode (trials, after explant), counted separately.
    Empty when there were no pump-days."""
    rate, lo, hi = garwood(complications.to_numpy(), pump_days.to_numpy(), 1000.0, level)
    idx = complications.index
    return pd.Series(rate, index=idx), pd.Series(lo, index=idx), pd.Series(hi, index=idx)


def refill_error_rate_per_10000(
    refill_errors: pd.Series, percutaneous_refills: pd.Series
) -> pd.Series:
    """Refill-error rate per 10,000 percutaneous refills. Numerator: reports (not events:
    each error is its own) in the category `refill error` (pocket fill, programming
    error, overfill) dated in the period inside an episode. Denominator: fills of visit
    type `refill` dated in the period (an implant's or replacement's first fill is
    surgical, not percutaneous; a volume added at another visit is not a refill visit).
    Empty when there were no such refills. Rare: chart it as refills between errors
    (analytics.engine.refill_errors), not as a monthly rate."""
    return _ratio(refill_errors, percutaneous_refills, 10000.0)


def refill_error_rate(refill_errors: pd.Series, fills: pd.Series) -> pd.Series:
    """Deprecated (kept one release): use `refill_error_rate_per_10000`.

    Refill-error rate per 100 fills. Numerator: reports in the category `refill error`
    (pocket fill, programming error, overfill) inside an episode. Denominator: fills dated
    in the period, whatever their status. Empty when there were no fills."""
    return _ratio(refill_errors, fills, 100.0)
