"""The steps of an incremental ingest after the visit order and the episodes
(engine/incremental.py): each runs the engine's own stage SQL on the visits it needs,
taken from inc_visits, and replaces the stored rows those visits decide."""

from __future__ import annotations

from typing import Any

import duckdb

from analytics.engine.on_demand import build_stored_subset
from analytics.engine.stored_metrics import FACT_COLUMNS
from analytics.engine.tables import (
    CACHE_PREFIX,
    ENGINE_TABLES,
    INTERMEDIATE_TABLES,
    drop_temp,
    stage_sql,
)

SURGERY_TYPES = "('implant', 'replacement', 'revision')"


def table(name: str) -> str:
    return f"main.{CACHE_PREFIX}{name}"


_TEMPS_SQL = (
    "SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND list_contains($n, view_name) "
    "UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() "
    "WHERE temporary AND list_contains($n, table_name)"
)


def drop_engine_temps(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the engine's temp tables and views (ENGINE_TABLES: fixed names), found at once."""
    for kind, name in con.execute(_TEMPS_SQL, {"n": list(ENGINE_TABLES)}).fetchall():
        con.execute(f"DROP {kind} temp.main.{name}")


def drop_working_tables(con: duckdb.DuckDBPyConnection) -> None:
    drop_engine_temps(con)
    names = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, 'inc_')"
    ).fetchall()
    for (name,) in names:
        con.execute(f"DROP TABLE temp.main.{name}")


def visits_for(con: duckdb.DuckDBPyConnection, match: str) -> None:
    """pq_visits: the visits a step needs, `match` (a join and a filter, alias e) over
    inc_visits; pq_episodes: the stored episodes (as brought up to date)."""
    drop_engine_temps(con)
    con.execute(f"CREATE TEMP TABLE pq_visits AS SELECT e.* FROM inc_visits e {match}")
    con.execute(f"CREATE TEMP VIEW pq_episodes AS SELECT * FROM {table('pq_episodes')}")


def run(
    con: duckdb.DuckDBPyConnection, stage: str, values: dict[str, Any], **placeholders: str
) -> None:
    """Run an engine stage (sql/<stage>.sql) on the temp tables and views now on `con`."""
    sql = stage_sql(stage, **placeholders)
    con.execute(sql, {k: v for k, v in values.items() if f"${k}" in sql})


def replace(con: duckdb.DuckDBPyConnection, name: str, match: str, fact: str = "") -> None:
    """Replace the stored rows of table `name` matching `match` (alias s: a join on an
    integer key and a filter) by the rows just computed (temp `name`) that match it.
    For a `fact` table of the metrics both are kept, the old rows as inc_old_<fact> (what
    the metrics read of them), the new as inc_new_<fact> (engine/stored_metrics.py)."""
    old = f"inc_old_{fact or name}"
    picked = ", ".join(f"s.{c}" for c in FACT_COLUMNS[fact]) if fact else "NULL AS unused"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {old} AS "
        f"SELECT s.rowid AS inc_rowid, {picked} FROM {table(name)} s {match}"
    )
    con.execute(f"DELETE FROM {table(name)} WHERE rowid IN (SELECT inc_rowid FROM {old})")
    new = f"SELECT s.* FROM temp.main.{name} s {match}"
    if fact:
        con.execute(f"CREATE OR REPLACE TEMP TABLE inc_new_{fact} AS {new}")
        new = f"SELECT * FROM inc_new_{fact}"
    con.execute(f"INSERT INTO {table(name)} BY NAME {new}")


def refills(con: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> None:
    """Fills from inc_fill_from; a stored fill before them whose episode's end moved
    shows the new end (its status, decided by its next fill, does not change)."""
    visits_for(con, "JOIN inc_fill_from x USING (pid) WHERE e.visit_date >= x.f")
    for stage in ("03_fills", "04_segments", "05_volume", "06_refills"):
        run(con, stage, values)
    for name in INTERMEDIATE_TABLES:
        drop_temp(con, name)
    replace(
        con,
        "pq_refills",
        "JOIN inc_fill_from x ON x.pid = s.fkey // 1000000 WHERE s.fill_date >= x.f",
        fact="refills",
    )
    con.execute(
        f"UPDATE {table('pq_refills')} r SET episode_end = e.end_date "
        "FROM inc_changed_episodes e "
        "WHERE r.episode_id = e.episode_id AND r.episode_end IS DISTINCT FROM e.end_date"
    )


def exposure(con: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> None:
    """Pump-days from inc_exposure_from's month: the runs of visits reaching into it."""
    visits_for(
        con,
        "JOIN inc_exposure_from x USING (pid) "
        "WHERE coalesce(e.next_visit_date, (SELECT as_of + 1 FROM inc_cutoff)) > x.m",
    )
    run(con, "07_exposure", values)
    replace(
        con,
        "pq_exposure",
        "JOIN inc_exposure_from x ON x.pid = s.episode_id // 1000000 WHERE s.month_start >= x.m",
        fact="exposure",
    )


_NAMED_FOUND_SQL = """
CREATE OR REPLACE TEMP TABLE inc_named_found AS
SELECT DISTINCT r.visit_id
FROM inc_reports r
WHERE r.visit_id IS NOT NULL AND (
    EXISTS (SELECT 1 FROM main.engine_cache_pq_reports s
            WHERE s.report_id = r.report_id AND s.visit_id = r.visit_id AND NOT s.unknown_visit)
    OR EXISTS (SELECT 1 FROM inc_visits v WHERE v.visit_id = r.visit_id))
"""
"""The visits the reports computed again name that are known to exist without reading
every visit: named by the same report when it was stored (rows are never changed or
removed), or among the visits read (every new visit is)."""

_NAMED_REST_SQL = """
CREATE OR REPLACE TEMP TABLE inc_named_rest AS
SELECT visit_id FROM inc_reports WHERE visit_id IS NOT NULL
EXCEPT SELECT visit_id FROM inc_named_found
"""
"""The other named visits: looked up among all visits (usually none are left)."""


def _named_visits(con: duckdb.DuckDBPyConnection) -> str:
    """inc_named_found: the visits that exist among those inc_reports name (08_reports's
    {visit_ids}: a report naming another visit names an unknown visit)."""
    con.execute(_NAMED_FOUND_SQL)
    con.execute(_NAMED_REST_SQL)
    if con.execute("SELECT count(*) FROM inc_named_rest").fetchall()[0][0]:
        con.execute(
            "INSERT INTO inc_named_found SELECT visit_id FROM main.visits "
            "WHERE visit_id IN (SELECT visit_id FROM inc_named_rest)"
        )
    return "inc_named_found"


def reports(con: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> None:
    """Reports from inc_report_from's date: read with the visits from the last one
    before it (the values in force then) and every surgery (the latest before a report),
    and every report of the patient (an event chains from earlier reports)."""
    visits_for(
        con,
        "JOIN inc_report_from x USING (pid) "
        "WHERE coalesce(e.next_visit_date, DATE '9999-12-31') >= x.r "
        f"OR (e.in_ep AND e.visit_type IN {SURGERY_TYPES})",
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE inc_reports AS "
        "SELECT c.* FROM main.complications c JOIN inc_report_from x USING (patient_id)"
    )
    run(con, "08_reports", values, complications="inc_reports", visit_ids=_named_visits(con))
    replace(
        con,
        "pq_reports",
        "JOIN inc_report_from x USING (patient_id) WHERE s.report_date >= x.r",
        fact="reports",
    )


def procedures(con: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> None:
    """Every procedure of inc_procedure_patients, with their reports."""
    visits_for(
        con,
        f"JOIN inc_procedure_patients x USING (pid) WHERE e.in_ep AND e.visit_type IN {SURGERY_TYPES}",
    )
    complications = (
        "(SELECT c.* FROM main.complications c JOIN inc_procedure_patients x USING (patient_id))"
    )
    run(con, "09_procedures", values, complications=complications)
    replace(con, "pq_procedures", "JOIN inc_procedure_patients x USING (patient_id)")


def planning(con: duckdb.DuckDBPyConnection) -> None:
    """Pump periods from inc_pump_from, the last one started before the first changed
    date: read with every pump start (they number the periods), every episode end (a
    period ended before that date keeps its end), the last visit before that date and
    those after it (the last visit of a period still open then is among them), and the
    last implant date recorded in an episode before it (the latest in the period is
    that or a later one);
    dose flags from the first changed date (with the last dose before it: a step is
    measured from it), the fills waiting for a refill of the patients in inc_fill_from."""
    visits_for(
        con,
        "JOIN inc_touched t USING (pid) LEFT JOIN inc_seed_keys s USING (pid) "
        "WHERE e.visit_date >= t.d OR e.vkey = s.vkey OR e.vkey = s.last_implant_vkey "
        "OR (e.in_ep AND (e.is_open OR e.is_close OR e.visit_type = 'replacement'))",
    )
    build_stored_subset(con, "pq_pumps")
    replace(
        con,
        "pq_pumps",
        "JOIN inc_pump_from x ON x.pid = s.episode_id // 1000000 WHERE s.start_date >= x.p",
    )
    visits_for(
        con,
        "JOIN inc_touched t USING (pid) LEFT JOIN inc_seed_keys d USING (pid) "
        "WHERE e.visit_date >= t.d OR e.vkey = d.last_dose_vkey",
    )
    build_stored_subset(con, "pq_dose_flags")
    replace(
        con,
        "pq_dose_flags",
        "JOIN inc_touched t ON t.pid = s.vkey // 1000000 WHERE s.visit_date >= t.d",
    )
    # a fill waiting for a refill has no next fill: it is among those computed again
    # (the fills before them have one), as they are stored now
    drop_engine_temps(con)
    con.execute("CREATE TEMP VIEW pq_refills AS SELECT * FROM inc_new_refills")
    build_stored_subset(con, "pq_open_fills")
    replace(con, "pq_open_fills", "JOIN inc_fill_from x ON x.pid = s.episode_id // 1000000")
