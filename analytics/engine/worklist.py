"""The nurse's worklist as of today and the refill workload of the coming weeks
(definitions: "The worklist as of today", "Workload forecast").

Both read the open fills of the stored refills table (no next fill, episode open, due
date known) as the data knew them on its last day, and judge them against *today*:
the date the list is made (`today`, fixed for a reproducible run). A `today` earlier
than the data's end takes the data as it was known on that day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.on_demand import on_demand
from analytics.engine.selection import Selection, with_facts
from analytics.engine.tables import resolve_as_of
from analytics.vocabulary import WORKLIST_STATUS, WORKLIST_STATUSES

WORKLIST_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "site",
    "drug",
    "risk_class",
    "status",
    "status_code",
    "due_date",
    "empty_date",
    "days_to_empty",
    "days_to_due",
    "fill_date",
    "fill_visit_id",
    "pump_model",
    "data_end",
    "today",
    "data_age_days",
)
"""The columns of `pumpqi worklist`, in the list's order."""

OPEN_FILLS_SQL = """
SELECT patient_id, site, drug, pump_model, fill_date, fill_visit_id, due_date, empty_date,
       due_date + CAST($grace AS INTEGER) AS due_grace
FROM {open_fills}
WHERE due_date IS NOT NULL
"""
"""The open fills as known at the data's end (no next fill, episode open: pq_open_fills)
whose due date is known (an unknown one is on the data-quality page, not the worklist)."""

RISK_SQL = """
SELECT d.drug, min(coalesce(r.risk_class, CAST($default_risk AS INTEGER))) AS risk_class
FROM (SELECT drug, trim(lower(unnest(string_split(coalesce(drug, ''), '+')))) AS part
      FROM (SELECT DISTINCT drug FROM open_fills)) d
LEFT JOIN cfg_risk r ON r.drug = d.part
GROUP BY d.drug
"""
"""The risk class of each drug on the list: the highest class (lowest number) of its
parts; a part not configured (or no drug recorded) takes the default class."""

JUDGE_SQL = """
SELECT *,
       CASE WHEN due_grace < $data_end AND empty_date < $today THEN 'missed'
            WHEN due_grace < $data_end THEN 'overdue'
            WHEN due_grace < $today THEN 'check'
            WHEN due_date < $today THEN 'grace'
            ELSE 'due' END AS status_code,
       empty_date - CAST($today AS DATE) AS days_to_empty,
       due_date - CAST($today AS DATE) AS days_to_due
FROM open_fills
"""
"""The status on today (T) of a fill open at the data's end (D), with due + grace (G)
and empty date (E): missed when G < D and E < T; overdue when G < D otherwise; check
when D <= G < T (it fell due since the extract); grace when due < T <= G; else due."""

WORKLIST_SQL = f"""
WITH open_fills AS ({OPEN_FILLS_SQL}),
risk AS ({RISK_SQL}),
judged AS ({JUDGE_SQL}),
listed AS (
    SELECT j.*, k.risk_class,
           CASE WHEN j.status_code = 'check' THEN CAST($data_age AS INTEGER)
                ELSE abs(j.days_to_due) END AS n
    FROM judged j JOIN risk k ON k.drug IS NOT DISTINCT FROM j.drug
    WHERE j.status_code <> 'due' OR j.days_to_due <= CAST($within AS INTEGER)
)
SELECT l.patient_id, l.site, l.drug, l.risk_class,
       CASE WHEN l.status_code = 'due' AND l.days_to_due = 0 THEN 'due today'
            ELSE replace(replace(w.words, '{{n}}', CAST(l.n AS VARCHAR)),
                         '{{s}}', CASE WHEN l.n = 1 THEN '' ELSE 's' END) END AS status,
       l.status_code, l.due_date, l.empty_date, l.days_to_empty, l.days_to_due, l.fill_date,
       l.fill_visit_id, l.pump_model
FROM listed l JOIN voc_worklist w ON w.id = l.status_code
ORDER BY l.risk_class, l.days_to_empty NULLS LAST, l.days_to_due, l.patient_id, l.fill_visit_id
"""
"""The list in its order, with each row's words (vocabulary.WORKLIST_STATUSES: {n} is
the days to the due date, or the data's age for 'check')."""

WORKLOAD_SQL = f"""
WITH open_fills AS ({OPEN_FILLS_SQL}),
weeks AS (
    SELECT CAST($first_week AS DATE) + CAST(7 * k AS INTEGER) AS week_start
    FROM range(CAST($weeks AS BIGINT)) AS t(k)
),
sites AS (SELECT DISTINCT coalesce(site, 'unknown') AS site FROM open_fills),
counted AS (
    -- a due date before the first week counts in the first week
    SELECT coalesce(site, 'unknown') AS site,
           CAST($first_week AS DATE)
               + CAST(7 * ((greatest(due_date, CAST($first_week AS DATE))
                            - CAST($first_week AS DATE)) // 7) AS INTEGER) AS week_start,
           count(*) AS refills_due,
           count(*) FILTER (WHERE due_date < CAST($today AS DATE)) AS overdue
    FROM open_fills
    WHERE due_date < CAST($first_week AS DATE) + CAST(7 * $weeks AS INTEGER)
    GROUP BY ALL
)
SELECT w.week_start, w.week_start + 6 AS week_end, s.site,
       coalesce(c.refills_due, 0) AS refills_due, coalesce(c.overdue, 0) AS overdue
FROM weeks w CROSS JOIN sites s
LEFT JOIN counted c ON c.week_start = w.week_start AND c.site = s.site
ORDER BY w.week_start, s.site
"""


def as_of_for_today(
    con: duckdb.DuckDBPyConnection, today: dt.date, config: Config = DEFAULT
) -> dt.date:
    """Prepare the engine tables for a list made on `today`: as of the data's end, or as
    of `today` when it is earlier (the data as known on that day). Returns that as_of."""
    end = resolve_as_of(con, None)
    return on_demand(con, "pq_open_fills", min(end, today), config)


def _register_tables(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """The risk classes (configuration) and the status words (vocabulary) as temp tables."""
    frames = {
        "cfg_risk": pd.DataFrame(
            {
                "drug": [d.lower() for d in config.risk_class],
                "risk_class": [int(v) for v in config.risk_class.values()],
            }
        ),
        "voc_worklist": pd.DataFrame(
            {"id": [s.id for s in WORKLIST_STATUSES], "words": [s.words for s in WORKLIST_STATUSES]}
        ),
    }
    for name, frame in frames.items():
        con.register(f"{name}_frame", frame)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_frame")
        con.unregister(f"{name}_frame")


def _listed(
    con: duckdb.DuckDBPyConnection, today: dt.date | None, within: int | None, config: Config
) -> dict[str, Any]:
    """Prepare the open fills and the lookup tables; the parameters of WORKLIST_SQL."""
    today = dt.date.today() if today is None else today
    as_of = as_of_for_today(con, today, config)
    _register_tables(con, config)
    return {
        "grace": config.grace_days,
        "default_risk": config.default_risk_class,
        "data_end": as_of,
        "today": today,
        "within": config.worklist_days if within is None else int(within),
        "data_age": (today - as_of).days,
    }


def worklist(
    con: duckdb.DuckDBPyConnection,
    today: dt.date | None = None,
    within: int | None = None,
    config: Config = DEFAULT,
    selection: Selection = (),
) -> pd.DataFrame:
    """The refill worklist on `today` (default: the date it is run), most at risk first.

    Rows: the open fills at the data's end (no next fill, episode open, due date known)
    that have run dry (computed), whose alarm date has passed, that may have fallen due
    since the data's end ("check"), that are within their grace days, or that are due
    within `within` days (default: the worklist_days setting). Order: risk class of the
    drug (a mixture: the highest class of its parts), then days to the empty date (an
    unknown empty date after the known ones), then days to the due date.
    """
    params = _listed(con, today, within, config)
    sql, chosen = with_facts(WORKLIST_SQL, selection)
    df = con.execute(sql, {**params, **chosen}).df()
    as_of, today, age = params["data_end"], params["today"], params["data_age"]
    df["data_end"] = pd.Timestamp(as_of)
    df["today"] = pd.Timestamp(today)
    df["data_age_days"] = age
    for col in ("risk_class", "days_to_due", "data_age_days"):
        df[col] = df[col].astype("int64")
    df["days_to_empty"] = df["days_to_empty"].astype("Int64")
    return df[list(WORKLIST_COLUMNS)].reset_index(drop=True)


def worklist_counts(
    con: duckdb.DuckDBPyConnection,
    today: dt.date | None = None,
    within: int | None = None,
    config: Config = DEFAULT,
    selection: Selection = (),
) -> pd.DataFrame:
    """Fills on the worklist by site and status (counts only, for shared packs): every
    site with an open fill and every worklist status, zeros included."""
    listed = _listed(con, today, within, config)
    sql, chosen = with_facts(
        "SELECT coalesce(site, 'unknown') AS site, status_code, count(*) AS fills "
        f"FROM ({WORKLIST_SQL}) GROUP BY ALL",
        selection,
    )
    found = con.execute(sql, {**listed, **chosen}).df()
    sql, chosen = with_facts(
        f"SELECT DISTINCT coalesce(site, 'unknown') AS site FROM ({OPEN_FILLS_SQL}) ORDER BY 1",
        selection,
    )
    sites = con.execute(sql, {"grace": config.grace_days, **chosen}).df()["site"]
    grid = pd.MultiIndex.from_product(
        [list(sites), [s.id for s in WORKLIST_STATUSES]], names=["site", "status_code"]
    )
    counts = (
        found.set_index(["site", "status_code"])["fills"].reindex(grid, fill_value=0).reset_index()
    )
    counts["status"] = counts["status_code"].map(lambda c: WORKLIST_STATUS[c].label)
    counts["fills"] = counts["fills"].astype("int64")
    return counts[["site", "status", "status_code", "fills"]]


def workload(
    con: duckdb.DuckDBPyConnection,
    today: dt.date | None = None,
    weeks: int = 8,
    config: Config = DEFAULT,
    selection: Selection = (),
) -> pd.DataFrame:
    """Refills due per week (Monday to Sunday) and site for `weeks` weeks from the week
    holding `today`, from the due dates of the open fills at the data's end. A fill due
    before the first week (overdue, ran dry) is counted in the first week; `overdue`
    counts the fills of the row whose due date is before today. Only each pump's next
    refill is counted (not the ones after it). Every site with an open fill, every week."""
    today = dt.date.today() if today is None else today
    as_of_for_today(con, today, config)
    first_week = today - dt.timedelta(days=today.weekday())
    params = {
        "grace": config.grace_days,
        "first_week": first_week,
        "weeks": int(weeks),
        "today": today,
    }
    sql, chosen = with_facts(WORKLOAD_SQL, selection)
    df = con.execute(sql, {**params, **chosen}).df()
    for col in ("refills_due", "overdue"):
        df[col] = df[col].astype("int64")
    return df
