"""The engine's working tables, built set-based in DuckDB SQL (sql/*.sql).

`prepare(con, as_of, config)` builds, as temp tables on the connection:

* `pq_visits`   every visit to as_of, ordered, with values in force and its episode
* `pq_episodes` therapy episodes (implant -> explant/discharge, or open; left-truncated flag)
* `pq_fill_base`, `pq_fill_segments`, `pq_fill_volume`, `pq_refills`  fills, due and
  empty dates, statuses
* `pq_exposure` pump-days per patient, month and group values in force
* `pq_reports`  complication reports with their episode, group values and event
  (reports of one code chained within `event_merge_days` are one event)
* `pq_procedures` surgical procedures with their outcome windows (sql/09_procedures.sql)
* `pq_pumps`, `pq_dose_flags`, `pq_open_fills`  pump periods with battery end of life,
  dose-safety flags, the fills waiting for a refill: built only when asked for
  (analytics.engine.on_demand), stored by ingest

Every figure of the product is computed from these tables, so the CLI, the
dashboard and the report cannot drift apart.

Ingest stores these tables for the data's end and the default configuration
(`build_cache`). The same cut-off reads them as they are; an earlier cut-off (a
monthly report) reuses every row a later visit cannot change and computes only the
fills still open then (sql/reuse_open_fills.sql: from the visits of their fill groups
alone, sql/reuse_fill_visits.sql) and the pump-days of its month (`_compute` with
reuse, sql/reuse.sql; the reports and procedures are the stored ones as known then);
any other configuration computes everything.
"""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from typing import Any

import duckdb
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.errors import PumpqiError
from analytics.store import check_sources, record_sources
from analytics.vocabulary import OUTCOME_WINDOWS

STAGES: tuple[str, ...] = (
    "01_visits",
    "02_episodes",
    "03_fills",
    "04_segments",
    "05_volume",
    "06_refills",
    "07_exposure",
    "08_reports",
    "09_procedures",
)
_PARAM = re.compile(r"\$([a-z_]+)")


def stage_sql(
    name: str,
    visit_order: str = "engine_visits",
    open_fills_only: str = "",
    complications: str = "complications",
    visit_ids: str = "visits",
    fill_visits: str = "pq_visits",
) -> str:
    """The SQL of a stage, its placeholders filled: the visit order it reads (01), the
    fills it keeps (03: all, or those still open at an earlier cut-off) and the visits it
    reads them from (03, 04: all, or those of the fill groups computed again), the
    reports it reads (08, 09: all, or those an incremental ingest computes again) and the
    visits they may name (08)."""
    text = (
        resources.files("analytics.engine").joinpath(f"sql/{name}.sql").read_text(encoding="utf-8")
    )
    return (
        text.replace("{visit_order}", visit_order)
        .replace("{open_fills_only}", open_fills_only)
        .replace("{complications}", complications)
        .replace("{visit_ids}", visit_ids)
        .replace("{fill_visits}", fill_visits)
    )


VISIT_ORDER_TABLE = "engine_visits"
PATIENT_KEYS_TABLE = "engine_patients"
"""Each patient's integer key (pid), kept from ingest to ingest: a patient new to the
database gets the next free keys (in patient id order), so that no earlier key, visit key
(vkey) or episode id moves (engine/incremental.py relies on it)."""
SEED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("pid", "BIGINT"),
    ("seq", "BIGINT"),
    ("close_grp", "BIGINT"),
    ("fill_grp", "BIGINT"),
    ("in_episode", "BOOLEAN"),
    ("alarm_if", "DOUBLE"),
    ("rate_if", "DOUBLE"),
    ("pump_model_if", "VARCHAR"),
    ("reservoir_if", "DOUBLE"),
    ("drug_if", "VARCHAR"),
    ("concentration_if", "DOUBLE"),
    ("dose_if", "DOUBLE"),
    ("indication_if", "VARCHAR"),
    ("clinician_if", "VARCHAR"),
)
"""The state the visit order carries on from a patient's last visit kept (sql/visit_order.sql)."""
NO_SEEDS = (
    "(SELECT "
    + ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in SEED_COLUMNS)
    + " WHERE FALSE)"
)
_PATIENTS_INLINE = (
    "(SELECT patient_id, CAST(row_number() OVER (ORDER BY patient_id) AS BIGINT) AS pid"
    " FROM (SELECT DISTINCT patient_id FROM visits))"
)


def visit_order_sql(
    patients: str = PATIENT_KEYS_TABLE, visits: str = "visits", seeds: str = NO_SEEDS
) -> str:
    """sql/visit_order.sql for these patient keys, visits and seeds (a full build: every
    visit, no seed)."""
    return (
        stage_sql("visit_order")
        .replace("{patients}", patients)
        .replace("{visits}", visits)
        .replace("{seeds}", seeds)
    )


def assign_patient_keys(con: duckdb.DuckDBPyConnection, ingest_id: int | None = None) -> None:
    """Give every patient of the visits table (of ingest `ingest_id` only: the others have
    keys) without a key the next free ones, in patient id order (in the caller's
    transaction): on an empty map, keys 1..n in patient id order."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS main.{PATIENT_KEYS_TABLE} "
        "(patient_id VARCHAR NOT NULL, pid BIGINT NOT NULL)"
    )
    con.execute(
        f"""
        INSERT INTO main.{PATIENT_KEYS_TABLE}
        SELECT patient_id,
               (SELECT coalesce(max(pid), 0) FROM main.{PATIENT_KEYS_TABLE})
                   + row_number() OVER (ORDER BY patient_id)
        FROM (SELECT DISTINCT patient_id FROM main.visits
              WHERE ($ingest IS NULL OR ingest_id = $ingest)
                AND patient_id NOT IN (SELECT patient_id FROM main.{PATIENT_KEYS_TABLE}))
        """,
        {"ingest": ingest_id},
    )


def build_visit_order(con: duckdb.DuckDBPyConnection) -> None:
    """Store the as_of-independent visit order in the database (called by ingest, in its
    transaction), so that every later `prepare` only filters it."""
    assign_patient_keys(con)
    con.execute(f"CREATE OR REPLACE TABLE {VISIT_ORDER_TABLE} AS {visit_order_sql()}")


def visit_order_source(con: duckdb.DuckDBPyConnection) -> str:
    """engine_visits when the database has it, else a temp table computed now."""
    if table_exists(con, VISIT_ORDER_TABLE, temporary=False):
        return VISIT_ORDER_TABLE
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE pq_visit_order AS {visit_order_sql(_PATIENTS_INLINE)}"
    )
    return "pq_visit_order"


def data_end(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The latest visit or report date in the database (the default as_of)."""
    row = con.execute(
        "SELECT greatest((SELECT max(visit_date) FROM visits), (SELECT max(report_date) FROM complications))"
    ).fetchall()
    value = row[0][0] if row else None
    return value if isinstance(value, dt.date) else None


def resolve_as_of(con: duckdb.DuckDBPyConnection, as_of: dt.date | None) -> dt.date:
    if as_of is not None:
        return as_of
    end = data_end(con)
    if end is None:
        raise PumpqiError("the database holds no visits yet; ingest a visits file first")
    return end


def _params(sql: str, values: dict[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in set(_PARAM.findall(sql))}


CALENDAR_END = dt.date.max
"""The last day a date can hold (9999-12-31, as in Python and Excel): a reservoir that
would reach its alarm or run dry only after it never does (sql/05_volume.sql)."""
ZICONOTIDE_VIAL_TOLERANCE_MG_ML = 1e-6
"""A ziconotide concentration within this of a supplied vial strength (0.001 mcg/mL)
is that strength: undiluted (sql/03_fills.sql)."""


def register_config(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    caps = pd.DataFrame(
        {
            "drug": list(config.stability_caps),
            "cap_days": [int(v) for v in config.stability_caps.values()],
        }
    )
    alarms = pd.DataFrame(
        {
            "pattern": [p.lower() for p in config.model_alarm_ml],
            "alarm_ml": list(config.model_alarm_ml.values()),
        }
    )
    vials = pd.DataFrame({"mg_ml": pd.Series(config.ziconotide_vial_mg_ml, dtype="float64")})
    # the surgical outcome windows (vocabulary): one row per window and code
    windows = pd.DataFrame(
        [(w.id, code, w.days) for w in OUTCOME_WINDOWS for code in w.codes],
        columns=["window_id", "complication", "days"],
    )
    for name, frame in (
        ("cfg_caps", caps),
        ("cfg_model_alarm", alarms),
        ("cfg_zico_vials", vials),
        ("cfg_outcome_windows", windows),
    ):
        con.register(f"{name}_frame", frame)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_frame")
        con.unregister(f"{name}_frame")


ON_DEMAND_TABLES: tuple[str, ...] = ("pq_pumps", "pq_dose_flags", "pq_open_fills")
"""Read only by the planning figures: stored by ingest for the data's end, otherwise
built when first asked for (analytics.engine.on_demand), so that other cut-offs' figures
(a monthly report) do not pay for them."""
NARROWED = "pq_narrowed"
"""The filters `narrow` applied since `prepare` (for on-demand tables built later)."""

ENGINE_TABLES: tuple[str, ...] = (
    "pq_visits",
    "pq_episodes",
    "pq_fill_base",
    "pq_fill_segments",
    "pq_fill_volume",
    "pq_refills",
    "pq_exposure",
    "pq_reports",
    "pq_procedures",
    *ON_DEMAND_TABLES,
)
INTERMEDIATE_TABLES: tuple[str, ...] = ("pq_fill_segments", "pq_fill_volume", "pq_fill_base")
"""Needed only to compute pq_refills: dropped once it is built, so that the later stages
have the memory (DuckDB spills to disk beyond its limit)."""
CACHED_TABLES: tuple[str, ...] = (
    "pq_episodes",
    "pq_refills",
    "pq_exposure",
    "pq_reports",
    "pq_procedures",
    *ON_DEMAND_TABLES,
)
"""What ingest stores for the data's end (pq_visits is then engine_visits itself, and
the fill intermediates are needed only to compute pq_refills)."""
FILTERED_TABLES: tuple[str, ...] = ("pq_refills", "pq_exposure", "pq_reports", "pq_procedures")
"""Tables the dashboard narrows to a filter (analytics.figures, via `narrow`)."""
CACHE_PREFIX = "engine_cache_"
CACHE_KEY = "engine_cache_key"


ENGINE_VERSION = 7
"""Raised whenever the engine tables change shape or meaning: stored tables of another
version are never read (they are computed afresh until the next ingest or upgrade)."""


def key_for(as_of: dt.date, config: Config) -> str:
    return f"{as_of.isoformat()}|{config.digest()}|e{ENGINE_VERSION}"


def drop_temp(con: duckdb.DuckDBPyConnection, name: str) -> None:
    kinds = con.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = $n AND temporary "
        "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = $n AND temporary",
        {"n": name},
    ).fetchall()
    for (kind,) in kinds:
        con.execute(f"DROP {kind} temp.main.{name}")


def stored_key(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        row = con.execute(
            "SELECT value FROM main.pumpqi_meta WHERE key = ?", [CACHE_KEY]
        ).fetchall()
    except duckdb.CatalogException:
        return None
    return str(row[0][0]) if row else None


def build_cache(con: duckdb.DuckDBPyConnection) -> None:
    """Store the engine tables for the data's end and the default configuration in the
    database (called by ingest, in its transaction): the usual question, "as of now,
    with our settings", is then answered without recomputing."""
    con.execute("DELETE FROM main.pumpqi_meta WHERE key = ?", [CACHE_KEY])
    if not con.execute("SELECT count(*) FROM visits").fetchall()[0][0]:
        return  # nothing to compute yet (every row quarantined, or complications only)
    as_of = resolve_as_of(con, None)
    _compute(con, as_of, DEFAULT, store=True)
    from analytics.engine.on_demand import store_on_demand

    store_on_demand(con, as_of)
    con.execute(
        "INSERT OR REPLACE INTO main.pumpqi_meta VALUES (?, ?)",
        [CACHE_KEY, key_for(as_of, DEFAULT)],
    )
    record_sources(con)  # the rows they came from, checked before they are served


def rebuild_stored(con: duckdb.DuckDBPyConnection) -> None:
    """Store the visit order, the engine tables and the metrics counts as of the data's
    end (ingest and `pumpqi upgrade`, inside the writer's transaction)."""
    from analytics.engine.metrics import store_metrics

    build_visit_order(con)
    build_cache(con)
    store_metrics(con)


def _use_cache(con: duckdb.DuckDBPyConnection) -> None:
    for name in (*ENGINE_TABLES, NARROWED):
        drop_temp(con, name)
    # at the data's end every visit is known: pq_visits is the stored visit order itself
    con.execute(f"CREATE TEMP VIEW pq_visits AS SELECT * FROM main.{VISIT_ORDER_TABLE}")
    for name in CACHED_TABLES:
        con.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM main.{CACHE_PREFIX}{name}")


def narrow(con: duckdb.DuckDBPyConnection, column: str, value: str, unknown: str) -> None:
    """Keep only the rows of FILTERED_TABLES whose `column` (from the caller's fixed
    allow-list) equals `value` (bound), a missing value counting as `unknown`: the
    dashboard's filters. Works on stored views and computed tables alike; on-demand
    tables are narrowed now when present, else when built (NARROWED)."""
    con.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {NARROWED} (col VARCHAR, val VARCHAR, unk VARCHAR)"
    )
    con.execute(f"INSERT INTO {NARROWED} VALUES (?, ?, ?)", [column, value, unknown])
    present = [t for t in ON_DEMAND_TABLES if temp_exists(con, t)]
    for name in (*FILTERED_TABLES, *present):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name}__narrow AS SELECT * FROM {name} "
            f"WHERE coalesce({column}, $unknown) = $value",
            {"value": value, "unknown": unknown},
        )
        drop_temp(con, name)
        con.execute(f"ALTER TABLE {name}__narrow RENAME TO {name}")
    # filtered: no stored figure applies
    con.execute("UPDATE pq_prepared SET stored = FALSE, reused_from = NULL")


OPEN_FILLS_ONLY = "AND vkey IN (SELECT fkey FROM pq_reopen)"
"""The fills an earlier cut-off can change (sql/reuse_open_fills.sql), from the stored
figures: the only ones `_compute(..., reuse=True)` computes again."""
REUSE_FILL_TABLES: tuple[str, ...] = ("pq_reopen", "pq_fill_visits")
"""Built before the fill stages for an earlier cut-off (sql/reuse_open_fills.sql,
sql/reuse_fill_visits.sql): the fills computed again and the visits of their fill
groups, which the fill stages then read instead of every visit."""
EARLIEST = dt.date(1, 1, 1)
REUSED_TABLES: tuple[str, ...] = ("pq_refills", "pq_exposure")
"""Computed only in part for an earlier cut-off, then completed by reuse.sql."""


def engine_values(as_of: dt.date, config: Config, exposure_from: dt.date) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "grace": config.grace_days,
        "early": config.early_days,
        "residual_tol": config.residual_tolerance_ml,
        "default_alarm": config.default_alarm_ml,
        "default_cap": config.default_cap_days,
        "zico_first_cap": config.ziconotide_first_fill_cap_days,
        "zico_undiluted_cap": config.ziconotide_undiluted_cap_days,
        "zico_vial_tol": ZICONOTIDE_VIAL_TOLERANCE_MG_ML,
        "event_merge": config.event_merge_days,
        "exposure_from": exposure_from,
        "calendar_end": CALENDAR_END,
    }


def _compute(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    config: Config,
    reuse: bool = False,
    store: bool = False,
) -> None:
    """Run the stages for as_of. With `reuse` (stored figures of a later date and the same
    configuration exist), only what a later visit can change is computed: the fills
    still open at as_of, the pump-days of as_of's month; reuse.sql adds the rest. With
    `store`, the CACHED_TABLES are written straight into the database (no second copy)."""
    register_config(con, config)
    exposure_from = as_of.replace(day=1) if reuse else EARLIEST
    values = engine_values(as_of, config, exposure_from)
    source = visit_order_source(con)
    for name in (
        *ENGINE_TABLES,
        NARROWED,
        *(f"{t}_open" for t in REUSED_TABLES),
        *REUSE_FILL_TABLES,
    ):
        drop_temp(con, name)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE pq_cutoff AS "
        "SELECT CAST($as_of AS DATE) AS as_of, CAST($exposure_from AS DATE) AS exposure_from",
        {"as_of": as_of, "exposure_from": exposure_from},
    )
    last_visit = con.execute(f"SELECT max(visit_date) FROM {source}").fetchall()[0][0]
    for name in STAGES:
        if name == "01_visits" and last_visit is not None and last_visit <= as_of:
            # every visit is known by as_of: pq_visits is the visit order itself, uncopied
            con.execute(f"CREATE TEMP VIEW pq_visits AS SELECT * FROM {source}")
            continue
        if reuse and name in ("08_reports", "09_procedures"):
            continue  # stored reports and procedures, as known at as_of (reuse.sql)
        if reuse and name == "03_fills":
            for table_sql in ("reuse_open_fills", "reuse_fill_visits"):
                sql = stage_sql(table_sql, visit_order=source)
                con.execute(sql, _params(sql, values))
        sql = stage_sql(
            name,
            visit_order=source,
            open_fills_only=OPEN_FILLS_ONLY if reuse else "",
            fill_visits="pq_fill_visits" if reuse else "pq_visits",
        )
        stored = [t for t in CACHED_TABLES if f"TEMP TABLE {t} AS" in sql] if store else []
        for table in stored:
            sql = sql.replace(f"TEMP TABLE {table} AS", f"TABLE main.{CACHE_PREFIX}{table} AS")
        con.execute(sql, _params(sql, values))
        for table in stored:
            con.execute(f"CREATE TEMP VIEW {table} AS SELECT * FROM main.{CACHE_PREFIX}{table}")
        if name == "06_refills":
            for table in (*INTERMEDIATE_TABLES, *REUSE_FILL_TABLES):
                drop_temp(con, table)
    if reuse:
        for name in REUSED_TABLES:
            con.execute(f"ALTER TABLE {name} RENAME TO {name}_open")
        con.execute(stage_sql("reuse"))  # several statements, no parameters


def _can_reuse(con: duckdb.DuckDBPyConnection, as_of: dt.date, config: Config) -> bool:
    """Stored figures exist for a later date and the same configuration (and the rows
    they came from are still there: see store.check_sources)."""
    stored = stored_key(con)
    if stored is None or not check_sources(con):
        return False
    date, _, rest = stored.partition("|")
    return rest == key_for(as_of, config).partition("|")[2] and as_of < dt.date.fromisoformat(date)


def prepare(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None, config: Config = DEFAULT
) -> dt.date:
    """Build the engine tables for `as_of` (default: the data's end); return the as_of used.

    Rebuilt only when as_of or the configuration changed since the last call on `con`;
    taken from the database's stored tables when they were made for the same as_of and
    configuration (see `build_cache`), and completed from them for an earlier as_of
    (only the fills still open then and the pump-days of its month are computed).
    """
    as_of = resolve_as_of(con, as_of)
    key = key_for(as_of, config)
    if table_exists(con, "pq_prepared", temporary=True):
        done = con.execute("SELECT key FROM pq_prepared").fetchall()
        if done and done[0][0] == key:
            return as_of
    stored = stored_key(con) == key and check_sources(con)
    reused = False
    if stored:
        _use_cache(con)
    else:
        reused = _can_reuse(con, as_of, config)
        _compute(con, as_of, config, reuse=reused)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE pq_prepared AS "
        "SELECT CAST(? AS VARCHAR) AS key, CAST(? AS BOOLEAN) AS stored, "
        "CAST(? AS DATE) AS reused_from",
        [key, stored, as_of.replace(day=1) if reused else None],
    )
    return as_of


def uses_stored_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the engine tables on `con` are the database's stored ones, unfiltered:
    then figures stored beside them (analytics.engine.metrics) can be read instead of computed."""
    if not table_exists(con, "pq_prepared", temporary=True):
        return False
    row = con.execute("SELECT stored FROM pq_prepared").fetchall()
    return bool(row and row[0][0])


def reused_from(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The cut-off's month when the engine tables on `con` were completed from the stored
    ones for an earlier cut-off (`_compute` with reuse), unfiltered: the pump-days of the
    months before it are then the stored rows themselves (sql/reuse.sql), so figures
    stored beside them for those months can be read instead of computed. Else None."""
    if not table_exists(con, "pq_prepared", temporary=True):
        return None
    row = con.execute("SELECT reused_from FROM pq_prepared").fetchall()
    value = row[0][0] if row else None
    return value if isinstance(value, dt.date) else None


def temp_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether a temp table or view of that name exists on the connection."""
    found = con.execute(
        "SELECT (SELECT count(*) FROM duckdb_views() WHERE view_name = $n AND temporary) "
        "+ (SELECT count(*) FROM duckdb_tables() WHERE table_name = $n AND temporary)",
        {"n": name},
    ).fetchall()
    return bool(found[0][0])


def table_exists(con: duckdb.DuckDBPyConnection, name: str, temporary: bool) -> bool:
    """Whether a (temp or database) table exists: asked, not tried, since a failed
    statement would abort an ingest's transaction."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary = ?",
        [name, temporary],
    ).fetchall()
    return bool(found[0][0])
