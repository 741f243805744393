"""Engine tables built only when a figure asks for them (tables.ON_DEMAND_TABLES):

* `pq_pumps`       one row per pump period: implant date, model, battery end of life
                   (sql/09_pumps.sql; settings battery_life_months, eri_warning_days)
* `pq_dose_flags`  one row per visit and dose-safety rule broken (sql/10_dose_flags.sql;
                   settings dose_max_mg_day, concentration_max_mg_ml, dose_step_up_pct)
* `pq_open_fills`  the fills waiting for a refill (no next fill, episode open), read by
                   the worklist and the workload forecast (sql/11_open_fills.sql)

Ingest stores them for the data's end and the default configuration beside the other
engine tables (`store_on_demand`); `prepare` then shows them as views. For any other
cut-off or configuration, `on_demand` builds them from pq_visits and pq_episodes the
first time they are read, and applies the filters `narrow` recorded since.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.tables import (
    CACHE_PREFIX,
    NARROWED,
    ON_DEMAND_TABLES,
    prepare,
    stage_sql,
    temp_exists,
)
from analytics.errors import PumpqiError
from analytics.vocabulary import DIMENSIONS

STAGES: dict[str, str] = {
    "pq_pumps": "09_pumps",
    "pq_dose_flags": "10_dose_flags",
    "pq_open_fills": "11_open_fills",
}
"""The SQL file of each on-demand table (tables.ON_DEMAND_TABLES, in that order)."""
_FILTER_COLUMNS = frozenset(d.column for d in DIMENSIONS)


def register_settings(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """The settings the stages read, as temp tables cfg_battery and cfg_dose_max."""
    drugs = sorted(set(config.dose_max_mg_day) | set(config.concentration_max_mg_ml))
    frames = {
        "cfg_battery": pd.DataFrame(
            {
                "pattern": [p.lower() for p in config.battery_life_months],
                "months": [int(v) for v in config.battery_life_months.values()],
            }
        ),
        "cfg_dose_max": pd.DataFrame(
            {
                "drug": pd.Series([d.lower() for d in drugs], dtype=object),
                "dose_max": pd.Series([config.dose_max_mg_day.get(d) for d in drugs], dtype=float),
                "concentration_max": pd.Series(
                    [config.concentration_max_mg_ml.get(d) for d in drugs], dtype=float
                ),
            }
        ),
    }
    for name, frame in frames.items():
        con.register(f"{name}_frame", frame)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_frame")
        con.unregister(f"{name}_frame")


def _values(config: Config) -> dict[str, Any]:
    return {"eri_days": config.eri_warning_days, "step_up_pct": float(config.dose_step_up_pct)}


def _build(con: duckdb.DuckDBPyConnection, table: str, config: Config, store: bool) -> None:
    sql = stage_sql(STAGES[table])
    if store:
        sql = sql.replace(f"TEMP TABLE {table} AS", f"TABLE main.{CACHE_PREFIX}{table} AS")
    values = _values(config)
    con.execute(sql, {k: v for k, v in values.items() if f"${k}" in sql})
    if store:
        con.execute(f"CREATE TEMP VIEW {table} AS SELECT * FROM main.{CACHE_PREFIX}{table}")


def build_stored_subset(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Build the on-demand `table` (default configuration, settings registered) as a temp
    table from the pq_visits / pq_refills on `con`: an incremental ingest's rows to replace."""
    _build(con, table, DEFAULT, store=False)


def store_on_demand(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    """Store every on-demand table for the engine tables just computed on `con` (ingest's
    `build_cache`, default configuration, in its transaction)."""
    register_settings(con, DEFAULT)
    for table in ON_DEMAND_TABLES:
        _build(con, table, DEFAULT, store=True)


def on_demand(
    con: duckdb.DuckDBPyConnection,
    table: str,
    as_of: dt.date | None = None,
    config: Config = DEFAULT,
) -> dt.date:
    """`prepare(con, as_of, config)`, then make sure the on-demand `table` exists for that
    cut-off and configuration: the stored one, or built now (and narrowed by the filters
    applied since `prepare`). Returns the as_of used."""
    if table not in STAGES:
        raise ValueError(f"not an on-demand table: {table!r}")
    as_of = prepare(con, as_of, config)
    if temp_exists(con, table):
        return as_of
    register_settings(con, config)
    _build(con, table, config, store=False)
    if temp_exists(con, NARROWED):
        for column, value, unknown in con.execute(f"SELECT * FROM {NARROWED}").fetchall():
            if column not in _FILTER_COLUMNS:  # written by `narrow` from its allow-list
                raise PumpqiError("internal: unexpected filter column")
            _narrow_one(con, table, str(column), str(value), str(unknown))
    return as_of


def _narrow_one(
    con: duckdb.DuckDBPyConnection, table: str, column: str, value: str, unknown: str
) -> None:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}__narrow AS SELECT * FROM {table} "
        f"WHERE coalesce({column}, $unknown) = $value",
        {"value": value, "unknown": unknown},
    )
    con.execute(f"DROP TABLE temp.main.{table}")
    con.execute(f"ALTER TABLE {table}__narrow RENAME TO {table}")
