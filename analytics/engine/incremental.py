"""Incremental upkeep of the stored engine tables after an ingest.

Ingest stores the engine tables as of the data's end (engine.tables.build_cache). After
an ingest that adds rows, only what the new rows (and the later data's end) can change
is computed again; everything else stays as it is. The result is the same, row for row,
as computing everything again (tests/test_incremental.py):

* the visit order of each patient new visits touch, from the first date they change
  (carried on from the last visit kept: sql/visit_order.sql, {seeds});
* the episodes that have visits from that date on;
* the fills of those patients from their last fill before that date, and the fills
  still waiting for a refill when the data's end moves (their status depends on it);
* the pump-days of those patients from that date's month, and of every open episode
  from the month of the day after the old data's end (a month that ended with it was
  counted whole);
* the complication reports of the patients with new visits or reports from the first
  changed date, and those naming a visit that has just arrived, where the patient has a
  report on or after that date (a report depends on nothing later than itself);
* the procedures of the patients whose reports are computed again or who have new
  visits and a surgery from the first changed date, and of those whose outcome windows
  were still open;
* the pump periods of the changed episodes, the dose flags from the first changed date,
  the fills waiting for a refill of the changed patients;
* the stored metrics counts of the months whose rows changed (engine/stored_metrics.py).

Every step runs the engine's own stage SQL on the visits it needs (a view of the stored
visit order), so there is one definition of every figure. A full computation is made
instead when there are no stored tables to start from (a new database, another engine
version), or when the new rows are a large part of the data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from analytics.config import DEFAULT
from analytics.engine import incremental_steps as steps
from analytics.engine import stored_metrics
from analytics.engine.on_demand import register_settings
from analytics.engine.tables import (
    CACHE_KEY,
    CACHE_PREFIX,
    CACHED_TABLES,
    EARLIEST,
    PATIENT_KEYS_TABLE,
    VISIT_ORDER_TABLE,
    assign_patient_keys,
    data_end,
    engine_values,
    key_for,
    rebuild_stored,
    register_config,
    stage_sql,
    stored_key,
    table_exists,
    visit_order_sql,
)
from analytics.store import record_sources, sources_match

FULL_SHARE = 0.25
"""New visit rows above this share of all visits: a full computation (it is then cheaper
than many small ones)."""


def refresh_stored(con: duckdb.DuckDBPyConnection, ingest_id: int) -> str:
    """Bring the stored engine tables up to date after ingest `ingest_id` loaded its rows
    (in the writer's transaction): incrementally when they can be, else all again.
    Returns 'incremental' or 'full'."""
    old_as_of = _incremental_start(con, ingest_id)
    if old_as_of is None:
        rebuild_stored(con)
        return "full"
    as_of = data_end(con)
    assert as_of is not None  # the stored tables exist, so visits do
    _update(con, ingest_id, old_as_of, as_of)
    return "incremental"


def _incremental_start(con: duckdb.DuckDBPyConnection, ingest_id: int) -> dt.date | None:
    """The data's end of the stored tables, when they can be brought up to date from it:
    stored for the default configuration by this engine version, from exactly the rows
    there were before this ingest, and the new rows not too many."""
    key = stored_key(con)
    needed = (VISIT_ORDER_TABLE, PATIENT_KEYS_TABLE, stored_metrics.STORED_METRICS)
    if key is None or not all(table_exists(con, t, temporary=False) for t in needed):
        return None
    date, _, rest = key.partition("|")
    old_as_of = dt.date.fromisoformat(date)
    if rest != key_for(old_as_of, DEFAULT).partition("|")[2]:
        return None
    if not all(table_exists(con, CACHE_PREFIX + t, temporary=False) for t in CACHED_TABLES):
        return None
    if not sources_match(con, before_ingest=ingest_id):
        return None
    new, total = con.execute(
        "SELECT count(*) FILTER (WHERE ingest_id = $i), count(*) FROM main.visits",
        {"i": ingest_id},
    ).fetchall()[0]
    return old_as_of if new <= FULL_SHARE * total else None


# --- the update ------------------------------------------------------------------------


def _statements(name: str) -> list[str]:
    """The statements of a SQL file (separated by `;` at a line's end), comment lines out."""
    text = "\n".join(
        line for line in stage_sql(name).splitlines() if not line.lstrip().startswith("--")
    )
    return [part for part in text.split(";\n") if part.strip()]


def _update(
    con: duckdb.DuckDBPyConnection, ingest_id: int, old_as_of: dt.date, as_of: dt.date
) -> None:
    values = engine_values(as_of, DEFAULT, EARLIEST)
    assign_patient_keys(con, ingest_id)
    changes = {"ingest": ingest_id, "old_as_of": old_as_of, "moved": as_of != old_as_of}
    for sql in _statements("incremental_changes"):
        con.execute(sql, {k: v for k, v in changes.items() if f"${k}" in sql})
    con.execute(
        "CREATE OR REPLACE TEMP TABLE inc_cutoff AS SELECT CAST(? AS DATE) AS as_of", [as_of]
    )
    register_config(con, DEFAULT)
    register_settings(con, DEFAULT)
    _read_visits(con)
    _visit_order(con, ingest_id)
    _episodes(con, values)
    _dirty_visits(con)
    steps.refills(con, values)
    steps.exposure(con, values)
    steps.reports(con, values)
    steps.procedures(con, values)
    steps.planning(con)
    stored_metrics.update(con, as_of)
    con.execute(
        "INSERT OR REPLACE INTO main.pumpqi_meta VALUES (?, ?)",
        [CACHE_KEY, key_for(as_of, DEFAULT)],
    )
    record_sources(con)
    steps.drop_working_tables(con)


_SEEDS_SQL = """
CREATE OR REPLACE TEMP TABLE inc_seeds AS
SELECT o.pid, o.vkey, o.seq, o.close_grp + CAST(o.is_close AS BIGINT) AS close_grp, o.fill_grp,
       o.in_ep AND NOT o.is_close AS in_episode, o.alarm_if, o.rate_if, o.pump_model_if,
       o.reservoir_if, o.drug_if, o.concentration_if, o.dose_if, o.indication_if, o.clinician_if
FROM inc_visits_old o JOIN inc_seed_keys k USING (vkey)
"""
"""The state after each touched patient's last visit kept (sql/visit_order.sql, {seeds}):
its place, the closes and fills counted up to and including it, whether a later visit
is in an episode, and the values in force."""


def _visit_order(con: duckdb.DuckDBPyConnection, ingest_id: int) -> None:
    """The touched patients' visits from their first changed date (inc_visits_new),
    carried on from the last visit kept, whose next visit is now the first changed one;
    the rows they replace are kept aside (inc_visits_old, with that last visit)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE inc_visits_old AS "
        "SELECT e.* FROM inc_read e "
        "JOIN inc_touched t USING (pid) LEFT JOIN inc_seed_keys k USING (pid) "
        "WHERE e.visit_date >= t.d OR e.vkey = k.vkey"
    )
    con.execute(_SEEDS_SQL)
    con.execute(
        f"DELETE FROM main.{VISIT_ORDER_TABLE} WHERE rowid IN (SELECT inc_rowid FROM inc_visits_old)"
    )
    # the visits from the first changed date: this ingest's, and those stored before
    # (found by id: usually none, unless rows arrived late)
    visits = "(SELECT * FROM main.visits WHERE ingest_id = $ingest)"
    later = con.execute(
        "SELECT count(*) FROM inc_visits_old o JOIN inc_touched t USING (pid) "
        "WHERE o.visit_date >= t.d"
    ).fetchall()[0][0]
    if later:
        visits = (
            "(SELECT * FROM main.visits WHERE ingest_id = $ingest UNION ALL "
            "SELECT * FROM main.visits WHERE ingest_id <> $ingest AND visit_id IN "
            "(SELECT o.visit_id FROM inc_visits_old o JOIN inc_touched t USING (pid) "
            "WHERE o.visit_date >= t.d))"
        )
    sql = visit_order_sql(visits=visits, seeds="inc_seeds")
    con.execute(f"CREATE OR REPLACE TEMP TABLE inc_visits_new AS {sql}", {"ingest": ingest_id})
    con.execute(f"INSERT INTO main.{VISIT_ORDER_TABLE} BY NAME SELECT * FROM inc_visits_new")
    con.execute(
        f"INSERT INTO main.{VISIT_ORDER_TABLE} BY NAME "
        "SELECT o.* EXCLUDE (inc_rowid) REPLACE (t.d AS next_visit_date) "
        "FROM inc_visits_old o JOIN inc_touched t USING (pid) WHERE o.visit_date < t.d"
    )


def _episodes(con: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> None:
    """The episodes with visits from a touched patient's first changed date on: the part
    before kept, the part from it computed by 02_episodes.sql (incremental_episodes.sql)."""
    steps.drop_engine_temps(con)
    con.execute("CREATE TEMP VIEW pq_visits AS SELECT * FROM inc_visits_new")
    steps.run(con, "02_episodes", values)
    con.execute("ALTER TABLE pq_episodes RENAME TO inc_episodes_added")
    con.execute(stage_sql("incremental_episodes"))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE inc_episode_ids AS "
        "SELECT episode_id FROM inc_old_episodes UNION SELECT episode_id FROM temp.main.pq_episodes"
    )
    steps.replace(con, "pq_episodes", "JOIN inc_episode_ids x USING (episode_id)")
    # episodes whose end moved: the stored fills before those computed again show it
    con.execute(
        "CREATE OR REPLACE TEMP TABLE inc_changed_episodes AS "
        "SELECT episode_id, end_date FROM temp.main.pq_episodes "
        "EXCEPT SELECT episode_id, end_date FROM inc_old_episodes"
    )


def _read_visits(con: duckdb.DuckDBPyConnection) -> None:
    """inc_read: every stored visit a step reads, read from the visit order once, before
    it changes (with its rowid): of each patient computed again (inc_dirty), the visits
    from the earliest date a step starts from (or the last one before it: its next visit
    is on or after that date); of those whose pump periods, reports or procedures are
    computed again, the first visit, every surgery, pump start or episode end; and the
    last dose and the last recorded pump implant date in an episode before the
    first changed date. The visits a touched patient's new visits replace (from the
    first changed date, and the last one before it) are among them."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE inc_dirty AS
        SELECT pid, min(d) AS from_date, max(dose) AS last_dose_vkey,
               max(implant) AS last_implant_vkey, bool_or(special) AS special
        FROM (
            SELECT pid, d, NULL::BIGINT AS dose, NULL::BIGINT AS implant, TRUE AS special
                FROM inc_touched
            UNION ALL SELECT pid, f, NULL, NULL, FALSE FROM inc_fill_from
            UNION ALL SELECT pid, m, NULL, NULL, FALSE FROM inc_exposure_from
            UNION ALL SELECT pid, r, NULL, NULL, TRUE FROM inc_report_from WHERE pid IS NOT NULL
            UNION ALL SELECT pid, DATE '9999-12-31', NULL, NULL, TRUE FROM inc_procedure_patients
                WHERE pid IS NOT NULL
            UNION ALL SELECT pid, DATE '9999-12-31', last_dose_vkey, last_implant_vkey, TRUE
                FROM inc_seed_keys
        ) GROUP BY pid
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE inc_read AS
        SELECT e.rowid AS inc_rowid, e.* FROM main.{VISIT_ORDER_TABLE} e JOIN inc_dirty x USING (pid)
        WHERE coalesce(e.next_visit_date, DATE '9999-12-31') >= x.from_date
           OR (x.special AND (e.seq = 1 OR (e.in_ep AND (e.is_open OR e.is_close
                                                         OR e.visit_type IN {steps.SURGERY_TYPES}))))
           OR e.vkey = x.last_dose_vkey OR e.vkey = x.last_implant_vkey
        """
    )


def _dirty_visits(con: duckdb.DuckDBPyConnection) -> None:
    """inc_visits: the visits of inc_read as the visit order has them now (each later
    step takes its own rows from it): those kept (the last one before a touched
    patient's first changed date now followed by a visit on that date) and the new
    ones (inc_visits_new: every one has its next visit, if any, on or after the date a
    step starts from)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE inc_visits AS
        SELECT e.* EXCLUDE (inc_rowid)
                   REPLACE (CASE WHEN e.vkey = k.vkey THEN t.d ELSE e.next_visit_date END
                            AS next_visit_date)
        FROM inc_read e LEFT JOIN inc_touched t USING (pid) LEFT JOIN inc_seed_keys k USING (pid)
        WHERE t.pid IS NULL OR e.visit_date < t.d
        UNION ALL BY NAME
        SELECT * FROM inc_visits_new
        """
    )
