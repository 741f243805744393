"""The stored metrics counts (engine_cache_metrics) brought up to date after an
incremental ingest (engine/incremental.py), for every `--by` value.

Every count of a month and group is a sum over rows: fills by fill date, fills due by
due date, pump-days by month, reports by report date, and active patients, a count of
distinct patients. The incremental ingest replaces, for each patient it computes again,
all of that patient's rows from some date on (so all of its rows of any month it
touches): the rows it took out (inc_old_<fact>) and put in (inc_new_<fact>) are counted
with the metrics table's own SQL (metrics.counts_sql), and the difference is added to
the stored counts. Distinct patients add up too: the patients counted again in a month
are a group of their own, all of whose rows of that month were replaced.

A month new to the table's range (the new data's end's month) is counted from all its
rows. The table holds every group in every month of its range (zeros where a group had
nothing): a new group gets its zero rows, a group no longer in the data loses its rows.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from analytics.engine.metrics import (
    FIRST_MONTH,
    GROUP_COLUMNS,
    GROUPS_SQL,
    LAST_MONTH,
    MONTHS_SQL,
    STORED_COUNT_COLUMNS,
    STORED_METRICS,
    counts_sql,
    group_expr,
)
from analytics.engine.selection import FACT_TABLES
from analytics.engine.tables import CACHE_PREFIX, drop_temp

FACTS: tuple[str, ...] = tuple(FACT_TABLES)
"""refills, exposure, reports: named {refills} ... in the metrics SQL."""
_DIMS = tuple(c for c in GROUP_COLUMNS.values() if c != "'all'")
FACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "refills": ("fill_date", "due_date", "status", "fill_type", *_DIMS),
    "exposure": ("month_start", "patient_id", "pump_days", *_DIMS),
    "reports": ("report_date", "in_episode", "event_start", "category", *_DIMS),
}
"""What the metrics SQL reads of each fact table (its counts and groups)."""
_UNBOUNDED = {"first": FIRST_MONTH, "last": LAST_MONTH, "last_day": dt.date(9999, 12, 31)}
_MONTH_OF_ROW = "CAST(strptime(s.month || '-01', '%Y-%m-%d') AS DATE)"
"""The first day of a stored row's month ('YYYY-MM')."""


def _stored(fact: str) -> str:
    return f"main.{CACHE_PREFIX}{FACT_TABLES[fact]}"


def _groups_of(con: duckdb.DuckDBPyConnection, name: str, facts: dict[str, str]) -> None:
    """Temp table `name` (by_column, grp): the groups of each --by in `facts` (fact ->
    table), as the metrics table takes them."""
    parts, params = [], {}
    for by in GROUP_COLUMNS:
        sql = GROUPS_SQL.replace("{g}", group_expr(by))
        for fact, table in facts.items():
            sql = sql.replace("{" + fact + "}", table)
        parts.append(f"SELECT CAST($by_{by} AS VARCHAR) AS by_column, grp FROM ({sql})")
        params[f"by_{by}"] = by
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {' UNION ALL '.join(parts)}", params)


def _groups(con: duckdb.DuckDBPyConnection) -> None:
    """inc_groups: the groups of each --by now (those stored, those of the new rows, less
    those only the replaced rows had and no row has any more)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE inc_old_groups AS "
        f'SELECT DISTINCT by_column, "group" AS grp FROM main.{STORED_METRICS}'
    )
    if not con.execute("SELECT count(*) FROM inc_old_groups").fetchall()[0][0]:
        # no month stored before: the groups are not in the table
        _groups_of(con, "inc_groups", {f: _stored(f) for f in FACTS})
        return
    _groups_of(con, "inc_added", {f: f"inc_new_{f}" for f in FACTS})
    _groups_of(con, "inc_removed", {f: f"inc_old_{f}" for f in FACTS})
    con.execute(
        "CREATE OR REPLACE TEMP TABLE inc_maybe_gone AS "
        "SELECT * FROM inc_removed EXCEPT SELECT * FROM inc_added"
    )
    gone = "SELECT * FROM inc_maybe_gone WHERE FALSE"
    if con.execute("SELECT count(*) FROM inc_maybe_gone").fetchall()[0][0]:
        _groups_of(con, "inc_still", {f: _stored(f) for f in FACTS})
        gone = "SELECT * FROM inc_maybe_gone EXCEPT SELECT * FROM inc_still"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE inc_groups AS "
        f"(SELECT * FROM inc_old_groups UNION SELECT * FROM inc_added) EXCEPT ({gone})"
    )


def _counts(
    con: duckdb.DuckDBPyConnection, name: str, facts: dict[str, str], as_of: dt.date
) -> None:
    """Temp table `name`: the metrics counts of every --by over `facts` (fact -> table),
    for the months of inc_months and the groups of inc_groups."""
    parts = []
    for by in GROUP_COLUMNS:
        sql = counts_sql(
            by,
            months="SELECT month_start FROM inc_months",
            groups=f"SELECT grp FROM inc_groups WHERE by_column = $by_{by}",
        )
        for fact, table in facts.items():
            sql = sql.replace("{" + fact + "}", table)
        parts.append(f"SELECT CAST($by_{by} AS VARCHAR) AS by_column, * FROM ({sql})")
    sql = f"CREATE OR REPLACE TEMP TABLE {name} AS {' UNION ALL '.join(parts)}"
    params = {"as_of": as_of, **_UNBOUNDED, **{f"by_{by}": by for by in GROUP_COLUMNS}}
    con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})


def update(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    """Bring engine_cache_metrics up to date with the stored engine tables (as of `as_of`,
    the data's end), from the rows the incremental ingest replaced."""
    for fact in FACTS:  # the metrics SQL's names for the fact tables, as stored now
        drop_temp(con, FACT_TABLES[fact])
        con.execute(f"CREATE TEMP VIEW {FACT_TABLES[fact]} AS SELECT * FROM {_stored(fact)}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE inc_range AS {MONTHS_SQL}",
        {"as_of": as_of, "first": FIRST_MONTH, "last": LAST_MONTH},
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE inc_new_months AS SELECT month_start FROM inc_range "
        f"EXCEPT SELECT DISTINCT {_MONTH_OF_ROW} FROM main.{STORED_METRICS} s"
    )
    _groups(con)
    # months already stored: the counts of the rows put in less those of the rows taken out
    con.execute(
        "CREATE OR REPLACE TEMP TABLE inc_months AS "
        "SELECT month_start FROM inc_range EXCEPT SELECT month_start FROM inc_new_months"
    )
    _counts(con, "inc_counts_out", {f: f"inc_old_{f}" for f in FACTS}, as_of)
    _counts(con, "inc_counts_in", {f: f"inc_new_{f}" for f in FACTS}, as_of)
    changed = ", ".join(f"coalesce(s.{c}, 0) + i.{c} - o.{c} AS {c}" for c in STORED_COUNT_COLUMNS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE inc_metrics AS
        SELECT i.by_column, i.month, i."group", {changed}
        FROM inc_counts_in i
        JOIN inc_counts_out o USING (by_column, month, "group")
        LEFT JOIN main.{STORED_METRICS} s USING (by_column, month, "group")
        """
    )
    # months new to the range: counted from all their rows (first narrowed by the first
    # new month, a plain comparison, before the month of each row is worked out)
    first_new = con.execute("SELECT min(month_start) FROM inc_new_months").fetchall()[0][0]
    in_new = "IN (SELECT month_start FROM inc_new_months)"
    month_of = {
        "refills": "WHERE (fill_date >= $first_new OR due_date >= $first_new) AND "
        f"(CAST(date_trunc('month', fill_date) AS DATE) {in_new} "
        f"OR CAST(date_trunc('month', due_date) AS DATE) {in_new})",
        "exposure": f"WHERE month_start >= $first_new AND month_start {in_new}",
        "reports": "WHERE report_date >= $first_new AND "
        f"CAST(date_trunc('month', report_date) AS DATE) {in_new}",
    }
    for fact in FACTS:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE inc_month_{fact} AS "
            f"SELECT {', '.join(FACT_COLUMNS[fact])} FROM {_stored(fact)} {month_of[fact]}",
            {"first_new": first_new or dt.date.max},
        )
    con.execute("CREATE OR REPLACE TEMP TABLE inc_months AS SELECT * FROM inc_new_months")
    _counts(con, "inc_counts_new_months", {f: f"inc_month_{f}" for f in FACTS}, as_of)
    con.execute(f"DELETE FROM main.{STORED_METRICS}")
    con.execute(
        f"INSERT INTO main.{STORED_METRICS} BY NAME "
        "SELECT * FROM inc_metrics UNION ALL SELECT * FROM inc_counts_new_months"
    )
    for fact in FACTS:
        drop_temp(con, FACT_TABLES[fact])
