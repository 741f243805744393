"""What validation tells about the rows it sets aside, and what ingest keeps of them.

* **Every fault of a row**: staging lists, for each faulty column of a row, its first
  failing check (analytics.ingest.validation); a duplicate, a conflicting id or a
  record with the wrong number of fields is one fault of the whole row.
* **Unknown values teach**: an enum cell that is not one of the column's values gets the
  closest allowed values ("did you mean `spasticity`?", Jaro-Winkler similarity of at
  least HINT_SIMILARITY, at most HINT_MAX of them), or else the allowed values (the
  column's list when it is short, `pumpqi contract` otherwise). Only allowed values are
  ever named, never the cell.
* **A row is quarantined once**: `validate` prints one line per fault; the quarantine
  table keeps one record per row, with every faulty column and reason. A row whose
  content (its cells as stored in quarantine) was quarantined by an earlier ingest is
  counted as already in quarantine and not stored again; a file holding a content k
  times where quarantine holds it m times stores it k - m more times.

Everything here is SQL over the staged table `stage_<table>` and the registered views
`raw_<table>` (the cells as read) and `malformed_rows` (records with the wrong number of
fields), on the faulty rows only.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.ingest.contract import Table
from analytics.ingest.readers import LINE, RawTable
from analytics.ingest.validation import lit, q, raw_row_sql

UNKNOWN_VALUE = "unknown value"
HINT_SIMILARITY = 0.85
"""Jaro-Winkler similarity from which an allowed value is offered as "did you mean"."""
HINT_MAX = 3
LIST_ALLOWED_UP_TO = 12
"""An enum with at most this many values lists them when no value is close."""

STATUS_REASONS: dict[str, str] = {
    "conflict": "conflicting duplicate id (rows with this id differ in content)",
    "conflict_db": "conflicting duplicate id (differs from the row loaded by an earlier ingest)",
    "duplicate": "duplicate (exact copy of an earlier row of this file)",
}
"""The reason of a row set aside as a whole (its status in the staged table)."""


def allowed_text(values: tuple[str, ...]) -> str:
    """What an unknown value is told when no allowed value is close."""
    if len(values) <= LIST_ALLOWED_UP_TO:
        return " (allowed: " + ", ".join(values) + ")"
    return f" (none close; `pumpqi contract` lists the {len(values)} allowed values)"


def _enums(table: Table) -> list[tuple[str, tuple[str, ...]]]:
    return [(c.name, c.values) for c in table.columns if c.kind == "enum"]


def _allowed_rows(table: Table) -> str:
    """The allowed values of every enum column as an inline table (contract values)."""
    rows = [f"({lit(name)}, {lit(v)})" for name, values in _enums(table) for v in values]
    if not rows:
        return "SELECT NULL::VARCHAR AS column_name, NULL::VARCHAR AS value WHERE false"
    return f"SELECT * FROM (VALUES {', '.join(rows)}) AS a(column_name, value)"


def _cell_faults_sql(table: Table) -> str:
    """CTEs `cell` (one row per faulty cell: line, ord, column_name, reason with its hint)
    over the rows of `stage_<table>` with status 'fault'."""
    enums = _enums(table)
    enum_cols = "".join(f", {q(name)}" for name, _ in enums)
    bad = (
        "CASE f[1] " + " ".join(f"WHEN {lit(n)} THEN {q(n)}" for n, _ in enums) + " END"
        if enums
        else "NULL::VARCHAR"
    )
    fallback = (
        "CASE c.column_name "
        + " ".join(f"WHEN {lit(n)} THEN {lit(allowed_text(v))}" for n, v in enums)
        + " ELSE '' END"
        if enums
        else "''"
    )
    return f"""
        unnested AS (
            SELECT source_line AS line, generate_subscripts(faults, 1) AS ord,
                   unnest(faults) AS f{enum_cols}
            FROM stage_{table.name} WHERE status = 'fault'),
        raw_cell AS (
            SELECT line, ord, f[1] AS column_name, f[2] AS reason,
                   CASE WHEN f[2] = {lit(UNKNOWN_VALUE)} THEN {bad} END AS bad_value
            FROM unnested),
        allowed AS ({_allowed_rows(table)}),
        scored AS (
            SELECT b.column_name, b.bad_value, a.value,
                   jaro_winkler_similarity(b.bad_value, a.value) AS score
            FROM (SELECT DISTINCT column_name, bad_value FROM raw_cell
                  WHERE bad_value IS NOT NULL) AS b
            JOIN allowed AS a USING (column_name)),
        hint AS (
            SELECT column_name, bad_value,
                   string_agg('`' || value || '`', ' or ' ORDER BY score DESC, value) AS names
            FROM (SELECT *, row_number() OVER (PARTITION BY column_name, bad_value
                                               ORDER BY score DESC, value) AS k
                  FROM scored WHERE score >= {HINT_SIMILARITY})
            WHERE k <= {HINT_MAX}
            GROUP BY ALL),
        cell AS (
            SELECT c.line, c.ord, c.column_name,
                   CASE WHEN c.bad_value IS NULL THEN c.reason
                        WHEN h.names IS NOT NULL
                            THEN c.reason || ' (did you mean ' || h.names || '?)'
                        ELSE c.reason || {fallback} END AS reason
            FROM raw_cell AS c LEFT JOIN hint AS h USING (column_name, bad_value))
    """


def _status_reason_sql() -> str:
    whens = " ".join(f"WHEN {lit(s)} THEN {lit(r)}" for s, r in STATUS_REASONS.items())
    return f"CASE status {whens} END"


def _whole_row_faults_sql(table: Table) -> str:
    """Rows set aside as a whole: (line, ord, column_name, reason)."""
    statuses = ", ".join(lit(s) for s in STATUS_REASONS)
    return f"""
        SELECT source_line AS line, 1 AS ord,
               CASE WHEN status LIKE 'conflict%' THEN {lit(table.id_column)} END AS column_name,
               {_status_reason_sql()} AS reason
        FROM stage_{table.name} WHERE status IN ({statuses})
    """


def fault_frame(con: duckdb.DuckDBPyConnection, table: Table, raw: RawTable) -> pd.DataFrame:
    """One row per fault (file, line, column, reason), by line: what `validate` prints.

    A row with several faulty columns has one line per column, in contract order.
    Unregisters `raw_<table>` (the file's cells) when done."""
    con.register("malformed_rows", raw.malformed)
    try:
        return con.execute(
            f"""
            WITH {_cell_faults_sql(table)}
            SELECT {lit(table.name)} AS table_name, $file AS source_file, line, column_name,
                   reason
            FROM (SELECT * FROM cell
                  UNION ALL {_whole_row_faults_sql(table)}
                  UNION ALL SELECT {LINE}, 1, NULL, reason FROM malformed_rows)
            ORDER BY line, ord
            """,
            {"file": raw.path.name},
        ).df()
    finally:
        con.unregister("malformed_rows")
        con.unregister(f"raw_{table.name}")


QUARANTINE_FRAME_COLUMNS: dict[str, str] = {
    "table_name": "object",
    "source_file": "object",
    "line": "int64",
    "column_name": "object",
    "reason": "object",
    "raw_row": "object",
    "already": "bool",
}
"""The columns of quarantine_frame and their types."""


def _set_aside(con: duckdb.DuckDBPyConnection, table: Table) -> int:
    """The number of staged rows of `table` neither new nor already loaded."""
    return int(
        con.execute(
            f"SELECT count(*) FROM stage_{table.name} WHERE status NOT IN ('new', 'present')"
        ).fetchall()[0][0]
    )


def quarantine_frame(
    con: duckdb.DuckDBPyConnection, table: Table, raw: RawTable, stored: bool = False
) -> pd.DataFrame:
    """One record per quarantined row, by line: the quarantine table's columns plus
    `already` (the row's content is in quarantine from an earlier ingest).

    column_name lists the row's faulty columns (", "); reason is the fault's reason, or
    for several, each column with its reason ("; "). `stored`: compare with the
    database's quarantine table (`con` sees the database); False: nothing is already.
    Unregisters `raw_<table>` (the file's cells) when done. With no row set aside, the
    empty frame is made at once (the query below costs about 0.15 s even then)."""
    if raw.malformed.num_rows == 0 and not _set_aside(con, table):
        con.unregister(f"raw_{table.name}")
        return pd.DataFrame(
            {name: pd.Series(dtype=dtype) for name, dtype in QUARANTINE_FRAME_COLUMNS.items()}
        )
    present = set(raw.data.column_names)
    earlier = (
        "SELECT raw_row, count(*) AS n FROM quarantine WHERE table_name = $table GROUP BY raw_row"
        if stored
        else "SELECT NULL::VARCHAR AS raw_row, 0 AS n WHERE false"
    )
    con.register("malformed_rows", raw.malformed)
    try:
        return con.execute(
            f"""
            WITH {_cell_faults_sql(table)},
            faults AS (SELECT * FROM cell UNION ALL {_whole_row_faults_sql(table)}),
            per_row AS (
                SELECT line, string_agg(column_name, ', ' ORDER BY ord) AS column_name,
                       CASE WHEN count(*) = 1 THEN min(reason)
                            ELSE string_agg(column_name || ': ' || reason, '; ' ORDER BY ord)
                       END AS reason
                FROM faults GROUP BY line),
            quarantined AS (
                SELECT p.line, p.column_name, p.reason,
                       {raw_row_sql(present, "r", table)} AS raw_row
                FROM per_row AS p JOIN {q("raw_" + table.name)} AS r ON r.{LINE} = p.line
                UNION ALL
                SELECT {LINE}, NULL, reason, raw FROM malformed_rows),
            numbered AS (
                SELECT *, row_number() OVER (PARTITION BY raw_row ORDER BY line) AS copy_no
                FROM quarantined),
            earlier AS ({earlier})
            SELECT $table AS table_name, $file AS source_file, line, column_name, reason,
                   raw_row, copy_no <= coalesce(earlier.n, 0) AS already
            FROM numbered LEFT JOIN earlier USING (raw_row)
            ORDER BY line
            """,
            {"file": raw.path.name, "table": table.name},
        ).df()
    finally:
        con.unregister("malformed_rows")
        con.unregister(f"raw_{table.name}")
