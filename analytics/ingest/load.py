"""Validate contract files and load them into the DuckDB file in one transaction.

Rows in = rows loaded + rows already present + rows quarantined, always.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from analytics import store
from analytics.engine.incremental import refresh_stored
from analytics.errors import FileFault, SchemaVersionError
from analytics.ingest import fingerprint
from analytics.ingest.columns import check_columns
from analytics.ingest.contract import FILE_COLUMNS, TABLES, Table
from analytics.ingest.identifiers import VALUE_PATTERNS, ZIP5, sql_full_match_any
from analytics.ingest.patient_ids import flag_rows
from analytics.ingest.quarantine import fault_frame, quarantine_frame
from analytics.ingest.readers import RawTable, read_table_file, spaceless_columns
from analytics.ingest.systematic import check_systematic
from analytics.ingest.validation import (
    category_sql,
    content_hash_sql,
    content_row_sql,
    lit,
    q,
    staging_sql,
)

Progress = Callable[[str], None]
FILE_COLUMN_NAMES = tuple(c.name for c in FILE_COLUMNS)


@dataclass(frozen=True)
class TableResult:
    """What one file did: the counts printed after each ingest."""

    table: str
    file: str
    rows_read: int
    rows_loaded: int
    rows_already_present: int
    rows_quarantined: int
    skipped_same_file: bool = False
    rows_already_quarantined: int = 0
    """Of rows_quarantined: rows whose content an earlier ingest quarantined (not stored
    again)."""

    def line(self) -> str:
        if self.skipped_same_file:
            return f"{self.table}: {self.file} was ingested before (same content hash); nothing changed"
        already = (
            f" ({self.rows_already_quarantined} of them already in quarantine)"
            if self.rows_already_quarantined
            else ""
        )
        return (
            f"{self.table}: {self.file}: {self.rows_read} read = {self.rows_loaded} loaded"
            f" + {self.rows_already_present} already present + {self.rows_quarantined}"
            f" quarantined{already}"
        )


def _noop(_: str) -> None:
    return None


# --- file-level checks --------------------------------------------------------------


def check_identifier_values(
    con: duckdb.DuckDBPyConnection, raw: RawTable, view: str, ignored: list[str]
) -> None:
    """Refuse a column any of whose cells is entirely an SSN, phone number or e-mail address,
    or an ignored column of ZIP codes.

    Counts only: no value is ever fetched, so none can be echoed. One combined pattern per
    column in a single scan; the kind of identifier is looked up only for a column that hit.
    """
    label = raw.path.name
    patterns = {
        name: VALUE_PATTERNS for name in raw.columns if name not in ("notes", *FILE_COLUMN_NAMES)
    }
    checks = [
        f"bool_or(CASE WHEN {_may_match(name)} THEN regexp_full_match({q(name)}, {lit(combined_pattern(pats))}) END)"
        for name, pats in patterns.items()
    ]
    checks += [
        f"avg(CASE WHEN regexp_full_match(trim({q(name)}), {lit(ZIP5)}) THEN 1.0 ELSE 0.0 END)"
        f" FILTER (WHERE NULLIF(trim({q(name)}), '') IS NOT NULL)"
        for name in ignored
    ]
    if not checks:
        return
    row = con.execute(f"SELECT {', '.join(checks)} FROM {q(view)}").fetchall()[0]
    for (name, pats), hit in zip(patterns.items(), row, strict=False):
        if hit:
            kind = con.execute(
                f"SELECT max({sql_full_match_any(q(name), pats)}) FROM {q(view)}"
            ).fetchall()[0][0]
            what = (
                "patient_id must be a pseudonym"
                if name == "patient_id"
                else "values look like a direct identifier"
            )
            raise FileFault(label, f"{what} ({kind})", name)
    for name, share in zip(ignored, row[len(patterns) :], strict=True):
        if share is not None and share >= 0.8:
            raise FileFault(label, "values look like ZIP codes (a direct identifier)", name)


def _may_match(name: str) -> str:
    """A cheap test every cell matching VALUE_PATTERNS passes, so the regular expression
    runs on few cells: an e-mail address has an @; an SSN (11 characters) and a phone
    number (12 or more) have 11 or more and a dash, dot or space between their digit
    groups. (Record numbers and names in patient_id: analytics.ingest.patient_ids.)"""
    # strlen (bytes, read off the string's header) >= length (characters): still a superset
    c = q(name)
    return (
        f"(contains({c}, '@') OR (strlen({c}) >= 11"
        f" AND (contains({c}, '-') OR contains({c}, ' ') OR contains({c}, '.'))))"
    )


def combined_pattern(patterns: dict[str, str]) -> str:
    """One RE2 alternation of several patterns (each in its own group, flags kept local)."""
    return r"\s*(?:" + "|".join(f"(?:{p})" for p in patterns.values()) + r")\s*"


# --- staging, duplicates and loading -------------------------------------------------


def stage_table(
    con: duckdb.DuckDBPyConnection, raw: RawTable, table: Table, today: dt.date
) -> None:
    """Create temp table `stage_<table>` with typed rows, faults, ids and row status.

    `status`: 'fault' (every fault of the row in `faults`), 'new', 'duplicate',
    'conflict', and later 'present' (identical row already in the database) or
    'conflict_db'.
    """
    view = f"raw_{table.name}"
    con.register(view, raw.data)  # stays registered for quarantine_frame
    present = set(raw.data.column_names)
    flagged = flag_rows(con, raw, view, f"flagged_ids_{table.name}")  # or refuse the file
    typed = staging_sql(table, view, present, flagged, spaceless_columns(raw.data))
    hash_expr = content_hash_sql(table)
    idc = q(table.id_column)
    # the content hash only where an id is missing (coalesce evaluates it for those rows)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stage_{table.name} AS
        WITH typed AS ({typed})
        SELECT * EXCLUDE ({idc}), {idc} IS NULL AS id_derived,
               coalesce({idc}, {lit(table.id_prefix)} || '-' || substr({hash_expr}, 1, 20)) AS {idc},
               CASE WHEN faults IS NULL THEN 'new' ELSE 'fault' END AS status
        FROM typed
        """,
        {"today": today},
    )
    if flagged is not None:
        con.execute(f"DROP TABLE {flagged}")
    # Ids seen more than once (usually none): all copies differ -> conflict; identical
    # copies -> the first line loads, the others are duplicates. An aggregate, not a sort.
    con.execute(
        f"""
        UPDATE stage_{table.name} AS s
        SET status = CASE WHEN d.conflict THEN 'conflict'
                          WHEN s.source_line > d.first_line THEN 'duplicate' ELSE 'new' END
        FROM (SELECT {idc} AS id, count(DISTINCT {content_row_sql(table)}) > 1 AS conflict,
                     min(source_line) AS first_line
              FROM stage_{table.name}
              WHERE status = 'new' AND {idc} IN (
                  -- first the ids seen twice, counted alone (cheap), then their details
                  SELECT {idc} FROM stage_{table.name} WHERE status = 'new'
                  GROUP BY {idc} HAVING count(*) > 1)
              GROUP BY {idc}) AS d
        WHERE s.{idc} = d.id AND s.status = 'new'
        """
    )


def mark_present(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Compare new rows with the database: identical = present, same id else = conflict.
    `con` sees the database as it was before this ingest, perhaps of an older schema."""
    idc = q(table.id_column)
    stored = {
        str(r[0])
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND NOT internal",
            [table.name],
        ).fetchall()
    }
    missing = frozenset(table.names) - stored
    con.execute(
        f"""
        UPDATE stage_{table.name} AS s
        SET status = CASE WHEN {content_row_sql(table, "s")} IS NOT DISTINCT FROM {content_row_sql(table, "t", missing)}
                          THEN 'present' ELSE 'conflict_db' END
        FROM {table.name} AS t
        WHERE s.{idc} = t.{idc} AND s.status IN ('new', 'duplicate')
        """
    )


def _counts(con: duckdb.DuckDBPyConnection, table: Table, raw: RawTable) -> tuple[int, int, int]:
    rows = con.execute(
        f"""SELECT count(*) FILTER (WHERE status = 'new'),
                   count(*) FILTER (WHERE status = 'present'),
                   count(*) FILTER (WHERE status NOT IN ('new', 'present'))
            FROM stage_{table.name}"""
    ).fetchall()[0]
    return int(rows[0]), int(rows[1]), int(rows[2]) + raw.malformed.num_rows


INSERT_BATCH_ROWS = 1 << 17


def _insert(
    con: duckdb.DuckDBPyConnection,
    stage: duckdb.DuckDBPyConnection,
    table: Table,
    file_label: str,
    ingest_id: int,
) -> None:
    """Insert the staged new rows (on `stage`) into `table` (on the writer `con`),
    streamed as Arrow batches: the staged table is never copied whole."""
    cols = ", ".join(q(c.name) for c in table.columns)
    derived = ""
    derived_cols = ""
    if table.name == "complications":
        derived, derived_cols = f", {category_sql('complication')} AS category", ", category"
    rows = stage.sql(
        f"SELECT {cols}{derived}, id_derived, source_line"
        f" FROM stage_{table.name} WHERE status = 'new'"
    ).to_arrow_reader(INSERT_BATCH_ROWS)
    con.register("staged_new_rows", rows)
    try:
        con.execute(
            f"""
            INSERT INTO {table.name} ({cols}{derived_cols},
                                      id_derived, source_file, source_line, ingest_id)
            SELECT {cols}{derived_cols}, id_derived, $file,
                   source_line, $ingest
            FROM staged_new_rows
            """,
            {"file": file_label, "ingest": ingest_id},
        )
    finally:
        con.unregister("staged_new_rows")


# --- public entry points -------------------------------------------------------------


def _read_all(
    files: dict[str, Path | None], ignore: Sequence[str], progress: Progress
) -> dict[str, RawTable]:
    """Read every file and make all file-level checks before anything is written."""
    out: dict[str, RawTable] = {}
    for name, path in files.items():
        if path is None:
            continue
        progress(f"reading {Path(path).name}")
        raw = read_table_file(Path(path), name)
        ignored = check_columns(raw, TABLES[name], ignore)
        con = store.memory_connection()
        try:
            con.register("raw_check", raw.data)
            check_identifier_values(con, raw, "raw_check", ignored)
        finally:
            con.close()
        out[name] = raw
    return out


def validate_files(
    visits: Path,
    complications: Path | None = None,
    ignore: Sequence[str] = (),
    today: dt.date | None = None,
    progress: Progress = _noop,
) -> tuple[list[TableResult], pd.DataFrame]:
    """Check files against the contract without loading them: counts and row faults."""
    today = today or dt.date.today()
    raws = _read_all({"visits": visits, "complications": complications}, ignore, progress)
    fingerprint.check_same_key(_fingerprints(raws))
    con = store.memory_connection()
    try:
        results, frames = [], []
        for name, raw in raws.items():
            table = TABLES[name]
            progress(f"validating {raw.path.name}")
            stage_table(con, raw, table, today)
            check_systematic(con, table, raw)
            new, present, bad = _counts(con, table, raw)
            results.append(TableResult(name, raw.path.name, raw.rows_read, new, present, bad))
            frames.append(fault_frame(con, table, raw))
        faults = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return results, faults
    finally:
        con.close()


def ingest_files(
    db: Path,
    visits: Path,
    complications: Path | None = None,
    ignore: Sequence[str] = (),
    today: dt.date | None = None,
    progress: Progress = _noop,
) -> list[TableResult]:
    """Validate and load into `db` in one transaction (see store.writer)."""
    today = today or dt.date.today()
    raws = _read_all({"visits": visits, "complications": complications}, ignore, progress)
    done = _already_ingested(db, raws)
    results: list[TableResult] = [
        TableResult(n, raws[n].path.name, raws[n].rows_read, 0, 0, 0, skipped_same_file=True)
        for n in done
    ]
    # taken out of `raws`, so that loading can let go of each file's text when done
    todo = {n: raws.pop(n) for n in list(raws) if n not in done}
    if not todo:
        return results
    fingerprints = _fingerprints(todo)
    with store.writer(db) as con:
        fingerprint.check_and_store(con, fingerprints)
        ingest_id = int(
            con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingest_log").fetchall()[0][0]
        )
        now = dt.datetime.now().replace(microsecond=0)
        # Staging runs on a second connection to the same database, in autocommit: it
        # writes only its own temp tables and reads the tables as they were before this
        # ingest. Inside the writer's transaction, a dropped staging table and the file's
        # text would be kept to its end (for a rollback) and take the memory the engine
        # needs; here they are freed when dropped. Every change to the database is still
        # made by `con`, in its one transaction.
        stage = con.cursor()
        try:
            results += _load_files(con, stage, todo, today, ingest_id, now, progress)
        finally:
            stage.close()
        progress("ordering visits and computing the figures as of the data's end")
        refresh_stored(con, ingest_id)
    return results


def _load_files(
    con: duckdb.DuckDBPyConnection,
    stage: duckdb.DuckDBPyConnection,
    todo: dict[str, RawTable],
    today: dt.date,
    ingest_id: int,
    now: dt.datetime,
    progress: Progress,
) -> list[TableResult]:
    """Stage (on `stage`), check against the database and load (on `con`) each file.

    Each file is taken out of `todo` and its text let go once its quarantined rows are
    copied, before the new rows are loaded (the largest step)."""
    results: list[TableResult] = []
    for name in list(todo):
        raw = todo.pop(name)
        table = TABLES[name]
        label, rows_read, sha256 = raw.path.name, raw.rows_read, raw.sha256
        progress(f"validating {label}")
        stage_table(stage, raw, table, today)
        check_systematic(stage, table, raw)
        mark_present(stage, table)
        qdf = quarantine_frame(stage, table, raw, stored=True)
        new, present, bad = _counts(stage, table, raw)
        already = int(qdf["already"].sum())
        del raw  # the file's text: only quarantined rows needed it
        pa.default_memory_pool().release_unused()
        progress(f"loading {label}")
        _insert(con, stage, table, label, ingest_id)
        con.register("q_new", qdf)
        con.execute(
            "INSERT INTO quarantine SELECT $i, table_name, source_file, line, column_name,"
            " reason, raw_row FROM q_new WHERE NOT already",
            {"i": ingest_id},
        )
        con.unregister("q_new")
        res = TableResult(
            name, label, rows_read, new, present, bad, rows_already_quarantined=already
        )
        assert res.rows_read == new + present + bad, "row accounting broke"
        con.execute(
            "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ingest_id,
                name,
                label,
                sha256,
                rows_read,
                new,
                present,
                bad,
                now,
                store.package_version(),
            ],
        )
        results.append(res)
        stage.execute(f"DROP TABLE stage_{table.name}")
    return results


def _fingerprints(raws: dict[str, RawTable]) -> dict[str, tuple[str, str | None]]:
    """Table -> (file name, key fingerprint or None) of each file (see ingest.fingerprint)."""
    return {n: (r.path.name, fingerprint.file_fingerprint(r)) for n, r in raws.items()}


def _already_ingested(db: Path, raws: dict[str, RawTable]) -> set[str]:
    if not Path(db).exists():
        return set()
    try:
        with store.reader(db) as con:
            rows = con.execute(
                "SELECT DISTINCT table_name, content_hash FROM ingest_log"
            ).fetchall()
    except SchemaVersionError:
        # an older schema (the writer migrates it): no file is skipped, and rows loaded
        # before count as already present
        return set()
    seen = {(t, h) for t, h in rows}
    return {n for n, r in raws.items() if (n, r.sha256) in seen}
