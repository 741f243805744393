"""Battery end of life: the replacement plan of the pumps in place and the measure
"replaced before end of life" (definitions: "Battery end of life").

Both read pq_pumps (sql/09_pumps.sql): one row per pump period with its implant date,
model, end-of-life date (implant date + the model's battery life) and elective-
replacement warning date (end of life - the eri_warning_days setting).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.metrics import group_expr
from analytics.engine.on_demand import on_demand
from analytics.engine.selection import Selection, with_facts
from analytics.engine.tables import resolve_as_of

PLAN_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "site",
    "pump_model",
    "drug",
    "battery_status",
    "implant_date",
    "implant_source",
    "eri_date",
    "eol_date",
    "eol_month",
    "days_to_eri",
    "days_to_eol",
    "data_end",
    "today",
)

PLAN_SQL = """
SELECT patient_id, site, pump_model, drug,
       CASE WHEN eol_date <= CAST($today AS DATE) THEN 'past_eol'
            WHEN eri_date <= CAST($today AS DATE) THEN 'eri'
            ELSE 'eol_soon' END AS battery_status,
       implant_date, implant_source, eri_date, eol_date, strftime(eol_date, '%Y-%m') AS eol_month,
       eri_date - CAST($today AS DATE) AS days_to_eri, eol_date - CAST($today AS DATE) AS days_to_eol
FROM {pumps}
WHERE end_date IS NULL AND eol_date IS NOT NULL AND eol_date <= CAST($horizon AS DATE)
ORDER BY eol_date, patient_id
"""
"""The pumps in place on the data's last day (the episode's current pump) whose end of
life falls by the horizon, those already past it included."""

PLAN_COUNTS_SQL = """
WITH months AS (
    SELECT CAST(m AS DATE) AS month_start
    FROM generate_series(date_trunc('month', CAST($today AS DATE)),
                         date_trunc('month', CAST($horizon AS DATE)), INTERVAL 1 MONTH) AS t(m)
),
sites AS (
    SELECT DISTINCT coalesce(site, 'unknown') AS site FROM {pumps}
    WHERE end_date IS NULL AND eol_date IS NOT NULL
),
counted AS (
    -- an end of life already passed counts in today's month
    SELECT coalesce(site, 'unknown') AS site,
           CAST(date_trunc('month', greatest(eol_date, CAST($today AS DATE))) AS DATE) AS month_start,
           count(*) AS pumps, count(*) FILTER (WHERE eol_date <= CAST($today AS DATE)) AS past_eol
    FROM {pumps}
    WHERE end_date IS NULL AND eol_date IS NOT NULL AND eol_date <= CAST($horizon AS DATE)
    GROUP BY ALL
)
SELECT strftime(m.month_start, '%Y-%m') AS month, s.site,
       coalesce(c.pumps, 0) AS pumps, coalesce(c.past_eol, 0) AS past_eol
FROM months m CROSS JOIN sites s
LEFT JOIN counted c ON c.month_start = m.month_start AND c.site = s.site
ORDER BY month, s.site
"""

REPLACED_SQL = """
SELECT coalesce({g}, 'unknown') AS "group",
       count(*) AS pumps_reached_eol,
       count(*) FILTER (WHERE end_reason IN ('replacement', 'implant') AND end_date < eol_date)
           AS replaced_before_eol
FROM {pumps}
WHERE eol_date <= CAST($as_of AS DATE)
  AND NOT coalesce(end_reason IN ('explant', 'discharge') AND end_date < eol_date, FALSE)
GROUP BY ALL
ORDER BY "group"
"""


def _today_as_of(con: duckdb.DuckDBPyConnection, today: dt.date, config: Config) -> dt.date:
    """pq_pumps for a list made on `today`: as of the data's end, or of `today` if earlier."""
    end = resolve_as_of(con, None)
    return on_demand(con, "pq_pumps", min(end, today), config)


def _horizon(today: dt.date, months: int) -> dt.date:
    """`today` + `months` calendar months (the last day of a shorter month when needed)."""
    ts = pd.Timestamp(today) + pd.DateOffset(months=months)
    return dt.date(ts.year, ts.month, ts.day)


def battery_plan(
    con: duckdb.DuckDBPyConnection,
    today: dt.date | None = None,
    months: int = 12,
    config: Config = DEFAULT,
    selection: Selection = (),
) -> pd.DataFrame:
    """The pumps in place (open episodes) whose battery reaches its end of life within
    `months` months of `today` (default: the date it is run), or already has: soonest
    first, with the elective-replacement warning date. Pumps of models without a battery
    life in the configuration, or whose implant date is unknown, have no date and are
    not listed."""
    today = dt.date.today() if today is None else today
    as_of = _today_as_of(con, today, config)
    sql, chosen = with_facts(PLAN_SQL, selection)
    df = con.execute(sql, {"today": today, "horizon": _horizon(today, months), **chosen}).df()
    df["data_end"] = pd.Timestamp(as_of)
    df["today"] = pd.Timestamp(today)
    for col in ("days_to_eri", "days_to_eol"):
        df[col] = df[col].astype("int64")
    return df[list(PLAN_COLUMNS)]


def battery_plan_counts(
    con: duckdb.DuckDBPyConnection,
    today: dt.date | None = None,
    months: int = 12,
    config: Config = DEFAULT,
    selection: Selection = (),
) -> pd.DataFrame:
    """Pumps reaching end of life per month (of the end-of-life date) and site, from
    today's month to the horizon's; pumps already past it are counted in today's month
    (`past_eol` says how many). Every month and every site with a dated pump in place."""
    today = dt.date.today() if today is None else today
    _today_as_of(con, today, config)
    sql, chosen = with_facts(PLAN_COUNTS_SQL, selection)
    df = con.execute(sql, {"today": today, "horizon": _horizon(today, months), **chosen}).df()
    for col in ("pumps", "past_eol"):
        df[col] = df[col].astype("int64")
    return df


def replaced_before_eol(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    by: str | None = None,
    config: Config = DEFAULT,
    selection: Selection = (),
) -> pd.DataFrame:
    """Pumps replaced before their battery's end of life, as of `as_of` (default: the
    data's end), overall or by group (`by`: site, drug, pump_model, indication).

    Numerator: pumps that reached end of life by as_of and were replaced (a replacement,
    or an implant during the episode) on a date before it. Denominator: pumps whose
    end-of-life date is on or before as_of. Excluded: pumps explanted or discharged
    before their end of life (they never reached it), pumps without an end-of-life
    date (model without a battery life, implant date unknown). Proportion empty when
    the denominator is 0.
    """
    g = group_expr(by)
    as_of = on_demand(con, "pq_pumps", as_of, config)
    sql, chosen = with_facts(REPLACED_SQL.replace("{g}", g), selection)
    df = con.execute(sql, {"as_of": as_of, **chosen}).df()
    if df.empty and by is None:  # the measure is 0 of 0, not missing
        df = pd.DataFrame({"group": ["all"], "pumps_reached_eol": [0], "replaced_before_eol": [0]})
    for col in ("pumps_reached_eol", "replaced_before_eol"):
        df[col] = df[col].astype("int64")
    den = df["pumps_reached_eol"].where(df["pumps_reached_eol"] > 0)
    df["proportion"] = df["replaced_before_eol"] / den
    return df
